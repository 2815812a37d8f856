"""The names of provinces and kabupaten/kota (`db/data/wilayah_areas.csv`) against the national
list they were taken from."""

from __future__ import annotations

import csv
import gzip

from db.wilayah import area_names, default_file


def test_every_province_and_kabupaten_of_the_national_list_is_named_as_there() -> None:
    expected: dict[str, str] = {}
    with gzip.open(default_file(), "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            expected[row["province_code"]] = row["province_name"]
            expected[row["kabupaten_code"]] = row["kabupaten_name"]
    names = area_names()
    assert names == expected
    assert sum(len(code) == 2 for code in names) == 38
    assert sum(len(code) == 5 for code in names) == 514
    assert (names["14"], names["14.10"], names["91.71"]) == (
        "Riau", "Kabupaten Kepulauan Meranti", "Kota Jayapura")
