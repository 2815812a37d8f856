"""The report's rules without Telegram: parsing, limits, dates, plausibility, the form file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.present.texts import Texts
from bot.rules.forms import FormError, load_form
from bot.rules.report import (
    Problem,
    check_report_date,
    check_rules,
    is_implausible,
    offered_dates,
    parse_count,
    parse_date,
)

FORM = load_form()
HOUSEHOLDS = FORM.field("households")
START, END = date(2022, 10, 15), date(2022, 11, 14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12), (" 0 ", 0), ("60", 60), ("1.2", 12),
        ("abc", "not_a_number"), ("", "not_a_number"), ("12 ruta", "not_a_number"),
        ("1e3", "not_a_number"), ("-3", "negative"), ("61", "over_max"),
        ("٣", "not_a_number"), ("99999999999", "not_a_number"),
    ],
)
def test_parse_count(text: str, expected: object) -> None:
    result = parse_count(text, HOUSEHOLDS)
    assert (result.key if isinstance(result, Problem) else result) == expected


def test_persons_may_not_be_fewer_than_families() -> None:
    assert check_rules(FORM, {"families": 20, "persons": 19}, "id").key == "rule_broken"
    assert check_rules(FORM, {"families": 20, "persons": 20}, "id") is None
    assert check_rules(FORM, {"families": 20}, "id") is None  # not both known yet


@pytest.mark.parametrize(
    ("language", "expected"),
    [("id", "Jumlah jiwa (19) lebih kecil dari jumlah keluarga (20)"),
     ("en", "The number of persons (19) is smaller than the number of families (20)")],
)
def test_a_broken_rule_names_both_numbers_and_lets_either_be_corrected(
    language: str, expected: str
) -> None:
    problem = check_rules(FORM, {"families": 20, "persons": 19}, language)
    assert problem is not None
    text = Texts(language)(problem.key, **problem.args)
    assert text.startswith(expected)
    fix = {"id": "perbaiki jiwa atau keluarga", "en": "correct the persons or the families"}
    assert fix[language] in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17/10", date(2022, 10, 17)), ("17-10-2022", date(2022, 10, 17)),
        ("17.10.22", date(2022, 10, 17)), ("2022-10-17", date(2022, 10, 17)),
        ("31/02", None), ("kemarin", None), ("17/10/2022/1", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text, today=date(2022, 10, 20)) == expected


def test_report_date_limits() -> None:
    today = date(2022, 10, 17)
    assert check_report_date(today, today, START, END) is None
    assert check_report_date(date(2022, 10, 15), today, START, END) is None
    assert check_report_date(date(2022, 10, 18), today, START, END).key == "date_in_future"
    assert check_report_date(date(2022, 10, 14), today, START, END).key == "date_outside_period"
    after = date(2022, 11, 20)
    assert check_report_date(date(2022, 11, 15), after, START, END).key == "date_outside_period"


def test_offered_dates_stay_inside_the_period() -> None:
    assert offered_dates(date(2022, 10, 17), START, END) == [date(2022, 10, 17), date(2022, 10, 16)]
    assert offered_dates(date(2022, 10, 15), START, END) == [date(2022, 10, 15)]
    assert offered_dates(date(2022, 11, 15), START, END) == [date(2022, 11, 14)]


def test_implausible_needs_history_and_factor() -> None:
    assert is_implausible(40, [10, 10], 3.0) is None  # too little history
    assert is_implausible(30, [10, 12, 8], 3.0) is None
    assert is_implausible(31, [10, 12, 8], 3.0) == 10
    assert is_implausible(0, [10, 12, 8], 3.0) is None


def test_form_file_changes_the_fields(tmp_path: Path) -> None:
    path = tmp_path / "form.toml"
    path.write_text(
        'progress_field = "buildings"\n'
        '[[fields]]\nkey = "buildings"\nlabel_id = "Bangunan"\nlabel_en = "Buildings"\n'
        'unit_id = "bangunan"\nunit_en = "buildings"\nmax = 30\n',
        encoding="utf-8",
    )
    form = load_form(path)
    assert form.keys == ["buildings"] and form.field("buildings").max == 30


def test_broken_form_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "form.toml"
    path.write_text('progress_field = "nope"\n[[fields]]\nkey = "a"\nlabel_id = "A"\n'
                    'label_en = "A"\nunit_id = "a"\nunit_en = "a"\nmax = 3\n', encoding="utf-8")
    with pytest.raises(FormError, match="progress_field"):
        load_form(path)
