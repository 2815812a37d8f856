"""The text catalogs (bot/present/catalog/*.toml): the same keys and placeholders in every
language, no text the code never asks for, and a new language is one more catalog file."""

from __future__ import annotations

import ast
import logging
import re
from datetime import date
from pathlib import Path
from string import Formatter

import pytest

from bot.present import formatting as fmt
from bot.present.texts import (
    DEFAULT_LANGUAGE,
    Raw,
    Texts,
    catalog,
    catalog_path,
    languages,
    read_catalog,
)
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("bot", "handlers", "conversations", "db")
OTHER_LANGUAGES = [lang for lang in languages() if lang != DEFAULT_LANGUAGE]

# Keys the code builds from a prefix and a value, e.g. t(f"problem_status_{status}"). A key
# with one of these prefixes counts as used when the rest of it is a string literal in the code
# (the status "open", the role "PPL", ...). Each prefix must start an f-string in the code.
DYNAMIC_PREFIXES = (
    "role_",  # the officer's role (registration)
    "cmd_",  # the command menu
    "izin_",  # the reasons for a day off
    "digest_status_",  # an officer's day in a digest
    "digest_flag_",  # the quality flags
    "digest_level_",  # what the admin digest lists (kecamatan, kabupaten/kota, province)
    "digest_scope_",  # what its total covers
    "problem_cat_",  # the categories of a field problem
    "problem_status_",  # the status of a field problem
    "bc_aud_",  # the audience of an announcement
    "bc_aud_role_",  # an audience of one role
    "bc_role_",  # the role of an announcement's sender
    "bc_status_",  # the delivery status of a recipient
    "flow_name_",  # a multi-step flow (its ConversationHandler name)
)


def fields(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field is not None}


def code_strings() -> tuple[set[str], set[str]]:
    """Every string literal in the code, and the literal starts of its f-strings."""
    literals: set[str] = set()
    prefixes: set[str] = set()
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.JoinedStr):
                    first = node.values[0] if node.values else None
                    if isinstance(first, ast.Constant) and len(node.values) > 1:
                        prefixes.add(first.value)
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    literals.add(node.value)
    return literals, prefixes


def test_there_is_another_language_than_indonesian() -> None:
    assert DEFAULT_LANGUAGE in languages()
    assert "en" in OTHER_LANGUAGES


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_catalog_has_the_keys_of_the_indonesian_one(language: str) -> None:
    keys, reference = set(read_catalog(language)), set(read_catalog(DEFAULT_LANGUAGE))
    assert not reference - keys, f"missing in {language}.toml"
    assert not keys - reference, f"in {language}.toml but not in {DEFAULT_LANGUAGE}.toml"


@pytest.mark.parametrize("language", languages())
def test_placeholders_are_those_of_the_indonesian_text(language: str) -> None:
    texts, reference = read_catalog(language), read_catalog(DEFAULT_LANGUAGE)
    differ = {
        key: (sorted(fields(text)), sorted(fields(reference[key])))
        for key, text in texts.items()
        if key in reference and fields(text) != fields(reference[key])
    }
    assert not differ, f"{language}.toml: (placeholders, Indonesian placeholders) {differ}"


def test_every_dynamic_prefix_is_built_in_the_code() -> None:
    _, prefixes = code_strings()
    assert not set(DYNAMIC_PREFIXES) - prefixes, "no f-string starts with these: drop them"


def test_every_text_is_used_by_the_code() -> None:
    literals, _ = code_strings()

    def used(key: str) -> bool:
        return key in literals or any(
            key.startswith(prefix) and key.removeprefix(prefix) in literals
            for prefix in DYNAMIC_PREFIXES
        )

    unused = [key for key in read_catalog(DEFAULT_LANGUAGE) if not used(key)]
    assert not unused, "texts no code asks for: remove them from every catalog"


def test_every_language_is_a_valid_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("LANGUAGE", raising=False)
    for language in languages():
        assert load_settings(language=language).language == language


JAVANESE = {  # as written in the TOML file
    "welcome": (
        r"Sugeng rawuh, Bapak/Ibu <b>{name}</b>.\n"
        "Akun panjenengan kasambung minangka {role}."
    ),
    "no_flow": "Boten wonten proses ingkang saweg mlampah.",
}


@pytest.fixture
def jv_dir(tmp_path: Path) -> Path:
    """A Javanese catalog in a folder of its own: the Indonesian one with two texts
    translated, `cancelled` left out and `already_linked` with a wrong placeholder."""
    lines = []
    for line in catalog_path(DEFAULT_LANGUAGE).read_text(encoding="utf-8").splitlines():
        key = line.partition(" = ")[0]
        if key in JAVANESE:
            line = f'{key} = "{JAVANESE[key]}"'
        elif key == "cancelled":
            continue
        elif key == "already_linked":
            line = 'already_linked = "Akun panjenengan sampun kasambung minangka {nama}."'
        lines.append(line)
    (tmp_path / "jv.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_a_third_language_is_one_more_catalog(
    jv_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert "jv" in languages(jv_dir) and "jv" not in languages()
    with caplog.at_level(logging.WARNING, logger="bot.present.texts"):
        jv = Texts("jv", directory=jv_dir)
    assert jv.language == "jv"
    assert jv("welcome", name="Sri & Tono", role=Raw("<i>PPL</i>")) == (
        "Sugeng rawuh, Bapak/Ibu <b>Sri &amp; Tono</b>.\n"
        "Akun panjenengan kasambung minangka <i>PPL</i>."
    )
    assert jv("no_flow") == JAVANESE["no_flow"]
    assert fmt.day(date(2022, 10, 17), jv.language) == "Senin, 17 Okt 2022"
    # What the catalog lacks, or gets wrong, comes from Indonesian, with a warning.
    indonesian = Texts("id")
    assert jv("cancelled") == indonesian("cancelled")
    assert jv("already_linked", name="Sri", role="PPL") == indonesian(
        "already_linked", name="Sri", role="PPL"
    )
    assert set(catalog("jv", jv_dir)) == set(catalog(DEFAULT_LANGUAGE))
    warnings = caplog.text
    assert "jv.toml: 1 missing" in warnings and "cancelled" in warnings
    assert "already_linked" in warnings
    # The built-in catalogs are still there beside it; a language without a catalog is not.
    assert Texts("en", directory=jv_dir)("no_flow") == Texts("en")("no_flow")
    with pytest.raises(LookupError, match="jv.toml"):
        Texts("jv")


def test_indonesian_texts_address_the_user_as_bapak_ibu() -> None:
    """One address form: "Bapak/Ibu", never "Anda" beside it (docs/TEXTS.md)."""
    offending = [key for key, text in read_catalog("id").items()
                 if re.search(r"\bAnda\b", text)]
    assert offending == []
