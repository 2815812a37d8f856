"""Indonesian mobile numbers in one canonical form: digits only, starting with 62."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-.()]")
_DIGITS = re.compile(r"[0-9]+")
_SCIENTIFIC = re.compile(r"[0-9][eE]\+?[0-9]")
MIN_DIGITS = 10
MAX_DIGITS = 15


def normalize_phone(raw: str | int) -> str:
    """'0812-3456-789', '+62 812 3456 789', '62812…' or '812…' (Excel drops the 0) -> '62812…'.

    Raises `ValueError` with an Indonesian message when the value is not an Indonesian mobile
    number.
    """
    text = str(raw).strip()
    if not text:
        raise ValueError("nomor HP kosong")
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+"):
        if not digits.startswith("+62"):
            raise ValueError(f'nomor HP "{text}" bukan nomor Indonesia (harus +62)')
        digits = digits[1:]
    if _SCIENTIFIC.search(digits):
        raise ValueError(
            f'nomor HP "{text}" tertulis sebagai angka ilmiah Excel; '
            "format kolom sebagai Teks lalu ketik ulang nomornya"
        )
    if not _DIGITS.fullmatch(digits):
        raise ValueError(f'nomor HP "{text}" mengandung karakter selain angka')
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    if not digits.startswith("628"):
        raise ValueError(
            f'nomor HP "{text}" bukan nomor seluler Indonesia (harus diawali 08, 628 atau +628)'
        )
    if len(digits) < MIN_DIGITS:
        raise ValueError(f'nomor HP "{text}" terlalu pendek (contoh: 0812-3456-789)')
    if len(digits) > MAX_DIGITS:
        raise ValueError(f'nomor HP "{text}" terlalu panjang (contoh: 0812-3456-789)')
    return digits
