"""The daily report form: which numbers an officer reports, with limits and cross-field rules."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, model_validator


class FormField(BaseModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_id: str
    label_en: str
    unit_id: str
    unit_en: str
    min: int = 0
    max: int = Field(gt=0)

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_id

    def unit(self, language: str) -> str:
        return self.unit_en if language == "en" else self.unit_id


class FormRule(BaseModel):
    greater_or_equal: tuple[str, str]


class FormDefinition(BaseModel):
    fields: list[FormField] = Field(min_length=1)
    progress_field: str
    rules: list[FormRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> FormDefinition:
        keys = [f.key for f in self.fields]
        if len(set(keys)) != len(keys):
            raise ValueError("field keys must be unique")
        if self.progress_field not in keys:
            raise ValueError(f"progress_field {self.progress_field!r} is not a field")
        for rule in self.rules:
            for key in rule.greater_or_equal:
                if key not in keys:
                    raise ValueError(f"rule names unknown field {key!r}")
        for f in self.fields:
            if f.min > f.max:
                raise ValueError(f"field {f.key!r}: min is above max")
        return self

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.fields]

    def field(self, key: str) -> FormField:
        return next(f for f in self.fields if f.key == key)

    def broken_rule(self, values: dict[str, int]) -> FormRule | None:
        """The first cross-field rule that the (possibly partial) values break."""
        for rule in self.rules:
            big, small = rule.greater_or_equal
            if big in values and small in values and values[big] < values[small]:
                return rule
        return None


class FormError(Exception):
    """The form definition file cannot be read or is invalid; the message names the problem."""


def load_form(path: Path | None = None) -> FormDefinition:
    """Load and validate a form definition (TOML); the shipped default when `path` is None."""
    try:
        if path is None:
            text = resources.files(__package__).joinpath("default.toml").read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return FormDefinition.model_validate(tomllib.loads(text))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in exc.errors()
        )
        raise FormError(f"form definition {path or 'default'} is invalid: {problems}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FormError(f"form definition {path or 'default'} is invalid: {exc}") from None
