import pytest

from db.phone import normalize_phone


@pytest.mark.parametrize(
    "raw",
    [
        "0812-3456-789",
        "+62 812 3456 789",
        "62812345678 9",
        "812.3456.789",
        "(0812) 3456 789",
        " 0812 3456 789 ",
        812345678_9,
        62_812_345_6789,
    ],
)
def test_accepted_forms(raw: str | int) -> None:
    assert normalize_phone(raw) == "628123456789"


def test_length_bounds() -> None:
    assert normalize_phone("081234567") == "6281234567"
    assert normalize_phone("+62 8123 4567 89012") == "628123456789012"
    with pytest.raises(ValueError, match="terlalu pendek"):
        normalize_phone("08123456")
    with pytest.raises(ValueError, match="terlalu panjang"):
        normalize_phone("+62 8123 4567 890123")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "nomor HP kosong"),
        ("   ", "nomor HP kosong"),
        ("+1 202 555 0100", 'nomor HP "+1 202 555 0100" bukan nomor Indonesia (harus +62)'),
        ("0812-3456-78x", 'nomor HP "0812-3456-78x" mengandung karakter selain angka'),
        ("0812/3456/789", 'nomor HP "0812/3456/789" mengandung karakter selain angka'),
        ("021-5550-1234", 'nomor HP "021-5550-1234" bukan nomor seluler Indonesia'),
        ("6221555012", 'nomor HP "6221555012" bukan nomor seluler Indonesia'),
        ("0812-345", 'nomor HP "0812-345" terlalu pendek (contoh: 0812-3456-789)'),
        ("0812 3456 7890 1234", 'nomor HP "0812 3456 7890 1234" terlalu panjang'),
        (21555012, 'nomor HP "21555012" bukan nomor seluler Indonesia'),
        (
            "8,12346E+10",
            'nomor HP "8,12346E+10" tertulis sebagai angka ilmiah Excel; '
            "format kolom sebagai Teks lalu ketik ulang nomornya",
        ),
    ],
)
def test_rejected(raw: str | int, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        normalize_phone(raw)
    assert str(excinfo.value).startswith(message)
