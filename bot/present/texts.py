"""Every text a user sees, from one catalog per language: `catalog/<language>.toml` beside
this module (`id` is Indonesian, the reference; `en` English). Templates are HTML.

A catalog is flat TOML, `key = "text"`; the keys are the ones the code asks for. A language is
a catalog file: `languages()` lists those present, and `LANGUAGE` in the settings picks one.
A text missing from a catalog, or one whose {placeholders} differ from the Indonesian text, is
taken from the Indonesian catalog (with a warning in the log); tests/test_catalogs.py keeps
that from being shipped. `Texts(language, directory=...)` reads catalogs from another folder
first (a catalog not there comes from the built-in folder).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from string import Formatter
from types import MappingProxyType

from bot.present.formatting import esc

log = logging.getLogger(__name__)

CATALOG_DIR = Path(__file__).with_name("catalog")
DEFAULT_LANGUAGE = "id"


class Raw(str):
    """A value that is already HTML (built from escaped parts) and must not be escaped again."""


def _folders(directory: str | Path | None) -> list[Path]:
    return [CATALOG_DIR] if directory is None else [Path(directory), CATALOG_DIR]


def languages(directory: str | Path | None = None) -> list[str]:
    """The languages with a catalog, sorted: those in `directory` and the built-in ones."""
    return sorted({path.stem for folder in _folders(directory) for path in folder.glob("*.toml")})


def catalog_path(language: str, directory: str | Path | None = None) -> Path:
    for folder in _folders(directory):
        path = folder / f"{language}.toml"
        if path.is_file():
            return path
    known = ", ".join(languages(directory))
    raise LookupError(f"no text catalog {language}.toml (languages: {known})")


@cache
def _read(path: Path) -> Mapping[str, str]:
    with path.open("rb") as file:
        texts = tomllib.load(file)
    for key, text in texts.items():
        if not isinstance(text, str):
            raise ValueError(f"{path}: {key} is not a text (write it as key = \"...\")")
    return MappingProxyType(texts)


def read_catalog(language: str, directory: str | Path | None = None) -> Mapping[str, str]:
    """One catalog as written, without the Indonesian texts for what it lacks."""
    return _read(catalog_path(language, directory).resolve())


def placeholders(text: str) -> set[str]:
    """The {fields} of a template; ValueError if it is not a valid template."""
    return {field for _, field, _, _ in Formatter().parse(text) if field is not None}


@cache
def _catalog(language: str, directory: Path | None) -> Mapping[str, str]:
    default = read_catalog(DEFAULT_LANGUAGE, directory)
    if language == DEFAULT_LANGUAGE:
        return default
    own = read_catalog(language, directory)
    texts = dict(default)
    missing = [key for key in default if key not in own]
    unknown, mismatched = [], []
    for key, text in own.items():
        if key not in default:
            unknown.append(key)
            continue
        try:
            same = placeholders(text) == placeholders(default[key])
        except ValueError:
            same = False
        if same:
            texts[key] = text
        else:
            mismatched.append(key)
    for problem, keys in (
        ("missing, the Indonesian text is used", missing),
        ("with other placeholders than the Indonesian text, which is used", mismatched),
        ("unknown, ignored", unknown),
    ):
        if keys:
            log.warning("texts %s.toml: %d %s: %s", language, len(keys), problem, ", ".join(keys))
    return MappingProxyType(texts)


def catalog(language: str, directory: str | Path | None = None) -> Mapping[str, str]:
    """Every text of a language, the Indonesian one where the catalog has none (or a wrong one)."""
    return _catalog(language, None if directory is None else Path(directory).resolve())


def __getattr__(name: str) -> Mapping[str, str]:
    """`ID` and `EN`: the Indonesian and English catalogs as written."""
    if name in ("ID", "EN"):
        return read_catalog(name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Texts:
    """Texts of one language; every argument is HTML-escaped unless it is `Raw`."""

    def __init__(
        self, language: str = DEFAULT_LANGUAGE, directory: str | Path | None = None
    ) -> None:
        self.language = language
        self._catalog = catalog(language, directory)

    def __call__(self, key: str, **values: object) -> str:
        for name, value in values.items():  # a fresh dict of this call's own
            if not isinstance(value, Raw):
                values[name] = esc(value)
        return self._catalog[key].format_map(values)
