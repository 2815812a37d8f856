"""How the numbers of a report read, whatever the form: "12 ruta, 14 keluarga, 51 jiwa", and
the fast path's example (`/lapor 12 14 51`), the same wherever it is shown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.present import formatting as fmt
from bot.rules.forms import FormDefinition

EXAMPLE = (12, 14, 51)
"""The fast path's example numbers, in the form's order (kept within each field's limits)."""


def values_text(form: FormDefinition, values: Mapping[str, int], language: str) -> str:
    """ "<b>12</b> ruta, <b>14</b> keluarga, <b>51</b> jiwa" (HTML): every field of the form with
    its unit (a field the report lacks, from an older form, as "-")."""
    parts = []
    for spec in form.fields:
        value = values.get(spec.key)
        shown = fmt.number(value, language) if value is not None else "-"
        parts.append(f"<b>{shown}</b> {fmt.esc(spec.unit(language))}")
    return ", ".join(parts)


def example_numbers(form: FormDefinition) -> list[int]:
    """The example's numbers for this form: 12 14 51 with the default one."""
    numbers = [min(f.max, max(f.min, n)) for f, n in zip(form.fields, EXAMPLE)]
    return numbers + [f.min for f in form.fields[len(numbers):]]


def meaning(form: FormDefinition, numbers: Sequence[object], language: str) -> str:
    """Which number is which, as plain text: "12 ruta, 14 keluarga, 51 jiwa"."""
    return ", ".join(f"{n} {f.unit(language)}"
                     for f, n in zip(form.fields, numbers, strict=True))


def fast_example(form: FormDefinition, language: str) -> tuple[str, str]:
    """The fast path's example ("12 14 51") and which number is which."""
    numbers = example_numbers(form)
    return " ".join(str(n) for n in numbers), meaning(form, numbers, language)
