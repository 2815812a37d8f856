"""Indonesian (and English) formatting of numbers, percentages and dates for messages."""

from __future__ import annotations

import html
import math
from datetime import date, datetime, tzinfo

_DAYS = {
    "id": ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
_MONTHS = {
    "id": ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


def number(value: int, language: str = "id") -> str:
    """1234567 -> '1.234.567' (id) or '1,234,567' (en)."""
    text = f"{value:,}"
    return text.replace(",", ".") if language == "id" else text


def whole(value: float, language: str = "id") -> str:
    """A count with a fraction (the median of an officer's days) as the whole number nearest
    to it, a half up: 12.5 -> '13'."""
    return number(math.floor(value + 0.5), language)


def percent(done: int, target: int, language: str = "id") -> str:
    """Progress as a percentage with one decimal: '82,3%'; '-' when there is no target."""
    if target <= 0:
        return "-"
    text = f"{100 * done / target:.1f}%"
    return text.replace(".", ",") if language == "id" else text


def day(value: date, language: str = "id") -> str:
    """'Senin, 17 Okt 2022'; in Indonesian for a language without its own names here."""
    days, months = _DAYS.get(language, _DAYS["id"]), _MONTHS.get(language, _MONTHS["id"])
    return f"{days[value.weekday()]}, {value.day} {months[value.month - 1]} {value.year}"


def short_day(value: date, language: str = "id") -> str:
    """'Sen, 17 Okt'."""
    days, months = _DAYS.get(language, _DAYS["id"]), _MONTHS.get(language, _MONTHS["id"])
    return f"{days[value.weekday()][:3]}, {value.day} {months[value.month - 1]}"


def esc(value: object) -> str:
    """Escape anything a user typed before it goes into an HTML message."""
    return html.escape(str(value), quote=False)


def time_of_day(moment: datetime, tz: tzinfo | None = None, language: str = "id") -> str:
    """'17.05 WIB' (id) or '17:05 WIB' (en): the time in `tz` (the deployment's zone) with the
    zone's abbreviation (WIB, WITA or WIT for Asia/Jakarta, Asia/Makassar, Asia/Jayapura)."""
    local = moment.astimezone(tz) if tz is not None else moment
    separator = "." if language == "id" else ":"
    zone = local.strftime("%Z")
    return f"{local:%H}{separator}{local:%M} {zone}".rstrip()


_AT = {"id": "pukul", "en": "at"}


def day_time(moment: datetime, tz: tzinfo | None = None, language: str = "id", *,
             short: bool = False) -> str:
    """'Senin, 17 Okt 2022 pukul 19.30 WIB' ('Sen, 17 Okt pukul 19.30 WIB' when `short`): the
    day and the time in `tz`, with the zone, as every text that shows a time writes it."""
    local = moment.astimezone(tz) if tz is not None else moment
    shown = short_day(local.date(), language) if short else day(local.date(), language)
    return f"{shown} {_AT.get(language, _AT['id'])} {time_of_day(local, tz, language)}"
