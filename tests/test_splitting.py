"""Splitting long HTML messages: line boundaries first, every piece valid on its own."""

from __future__ import annotations

import re

import pytest

from bot.present.splitting import split_message

_TAG = re.compile(r"<(/?)([a-z-]+)[^<>]*>")
_ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def assert_valid_html(piece: str) -> None:
    """Tags close in order, and no tag or entity is cut."""
    stack: list[str] = []
    for match in _TAG.finditer(piece):
        closing, name = match.groups()
        if closing:
            assert stack and stack.pop() == name, piece
        else:
            stack.append(name)
    assert not stack, piece
    without_tags = _TAG.sub("", piece)
    assert "<" not in without_tags and ">" not in without_tags, piece
    assert "&" not in _ENTITY.sub("", without_tags), piece


def visible(piece: str) -> str:
    return _TAG.sub("", piece)


def test_short_text_is_unchanged() -> None:
    text = "<b>Rekap harian</b>\nTebingtinggi: 1.234 ruta &amp; 4.321 jiwa"
    assert split_message(text) == [text]
    assert split_message("x" * 4096) == ["x" * 4096]


def test_blank_text_gives_nothing_to_send() -> None:
    assert split_message("") == []
    assert split_message(" \n\n<b> </b>") == []


def test_many_lines_split_at_line_boundaries() -> None:
    lines = [f"{i}. <b>PPL {i}</b> — {i * 3} ruta &amp; {i} kendala" for i in range(400)]
    text = "\n".join(lines)
    pieces = split_message(text, limit=500)
    assert len(pieces) > 1
    assert all(len(piece) <= 500 for piece in pieces)
    assert "\n".join(pieces) == text
    for piece in pieces:
        assert set(piece.split("\n")) <= set(lines)
        assert_valid_html(piece)


def test_pieces_are_filled_greedily() -> None:
    text = "\n".join(["a" * 40] * 5)  # 204 characters
    assert [len(p) for p in split_message(text, limit=100)] == [81, 81, 40]


def test_overlong_line_with_bold_across_the_cut() -> None:
    words = [f"kata{i:02}" for i in range(40)]
    text = "Judul\n<b>" + " ".join(words) + "</b> selesai"
    pieces = split_message(text, limit=100)
    assert all(len(piece) <= 100 for piece in pieces)
    for piece in pieces:
        assert_valid_html(piece)
    bold = [p for p in pieces if "kata" in p]
    assert len(bold) >= 3
    assert bold[0].endswith("</b>") and bold[1].startswith("<b>") and bold[1].endswith("</b>")
    rejoined = " ".join(visible(p) for p in pieces[1:])
    assert rejoined.split() == [*words, "selesai"]
    assert pieces[0] == "Judul"  # the long line starts a new piece


def test_cut_is_at_the_last_space_that_fits() -> None:
    pieces = split_message("aaa bbb ccc ddd", limit=8)
    assert pieces == ["aaa bbb", "ccc ddd"]


def test_never_splits_inside_an_entity() -> None:
    text = "x" * 95 + "&amp;" + "y" * 50  # no space: a hard cut, which lands before &amp;
    pieces = split_message(text, limit=98)
    assert pieces == ["x" * 95, "&amp;" + "y" * 50]
    for piece in split_message("Tom&amp;Jerry " * 50, limit=64):
        assert_valid_html(piece)


def test_never_cuts_at_a_space_inside_a_tag() -> None:
    text = 'kata <a href="https://contoh.id/a b">' + "t" * 40 + "</a>"
    pieces = split_message(text, limit=50)
    assert pieces[0] == "kata"
    assert all(len(piece) <= 50 for piece in pieces)
    for piece in pieces[1:]:
        assert piece.startswith('<a href="https://contoh.id/a b">')
        assert_valid_html(piece)


def test_nested_tags_are_reopened_in_order() -> None:
    text = "<b><i>" + " ".join(["miring"] * 30) + "</i></b>"
    pieces = split_message(text, limit=80)
    for piece in pieces:
        assert piece.startswith("<b><i>") and piece.endswith("</i></b>")
        assert len(piece) <= 80


def test_block_spanning_lines_is_closed_and_reopened() -> None:
    rows = [f"PPL {i:03}  {i * 7:>5}" for i in range(60)]
    text = "<pre>" + "\n".join(rows) + "</pre>"
    pieces = split_message(text, limit=300)
    assert len(pieces) > 1
    for piece in pieces:
        assert len(piece) <= 300
        assert piece.startswith("<pre>") and piece.endswith("</pre>")
        assert_valid_html(piece)
    assert "\n".join(visible(p) for p in pieces) == visible(text)


def test_emoji_are_counted_as_characters() -> None:
    text = "🙂" * 10_000
    pieces = split_message(text)
    assert [len(p) for p in pieces] == [4096, 4096, 1808]
    assert "".join(pieces) == text
    spaced = " ".join(["✅🙂"] * 3000)
    assert all(len(p) <= 4096 for p in split_message(spaced))


def test_a_tag_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        split_message('<a href="https://contoh.id/' + "x" * 200 + '">tautan</a>', limit=100)
