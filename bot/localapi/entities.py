"""Message entities: Telegram's HTML parse mode, trimming, and the leading bot command."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.localapi.protocol import JSONDict

_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class EntityParseError(ValueError):
    """Text is not valid Telegram HTML; the message is the part after "can't parse entities: "."""


_HTML_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "a": "text_link", "code": "code", "pre": "pre", "tg-spoiler": "spoiler", "span": "spoiler",
    "blockquote": "blockquote",
}
_NAMED_CHAR_REFS = {"amp": "&", "lt": "<", "gt": ">", "quot": '"'}
_CHAR_REF = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-z]{2,4}));")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8", "surrogatepass"))


class _Offset:
    """The byte offset of a position, worked out only if an error message shows it."""

    def __init__(self, source: str, index: int) -> None:
        self._source, self._index = source, index

    def __str__(self) -> str:
        return str(_byte_offset(self._source, self._index))


def _read_char_ref(source: str, index: int) -> tuple[str, int]:
    """Decode the character reference starting at ``source[index] == "&"``."""
    match = _CHAR_REF.match(source, index)
    if match:
        if match[3]:
            char = _NAMED_CHAR_REFS.get(match[3])
        else:
            code = int(match[1]) if match[1] else int(match[2], 16)
            valid = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
            char = chr(code) if valid else None
        if char is not None:
            return char, match.end()
    raise EntityParseError(f'Unescaped "&" at byte offset {_byte_offset(source, index)}')


def _unescape(source: str, start: int, end: int) -> str:
    out: list[str] = []
    index = start
    while index < end:
        if source[index] == "&":
            char, index = _read_char_ref(source, index)
            out.append(char)
        else:
            out.append(source[index])
            index += 1
    return "".join(out)


@dataclass
class _OpenTag:
    name: str
    offset: int  # UTF-16 offset in the parsed text
    attrs: dict[str, str]
    language: str | None = None  # of a <pre>, from a nested <code class="language-...">


def _is_tag_name_char(char: str) -> bool:
    return not char.isspace() and char != ">"


class _HtmlParser:
    """Telegram's HTML parse mode: strict tag set, balanced tags, escaped ``&``."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JSONDict] = []

    def parse(self) -> tuple[str, list[JSONDict]]:
        source = self.source
        while self.pos < len(source):
            char = source[self.pos]
            if char == "&":
                char, self.pos = _read_char_ref(source, self.pos)
                self._emit(char)
            elif char != "<":
                # The whole run of plain text up to the next tag or entity, in one piece.
                end = len(source)
                for stop in (source.find("<", self.pos), source.find("&", self.pos)):
                    if stop != -1:
                        end = min(end, stop)
                self._emit(source[self.pos : end])
                self.pos = end
            elif source.startswith("</", self.pos):
                self._end_tag()
            else:
                self._start_tag()
        if self.stack:
            name = self.stack[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.out), self.entities

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.offset += _utf16_len(text)

    def _scan(self, accept: Callable[[str], bool]) -> str:
        """Advance over the characters ``accept`` allows; the text passed over."""
        start = self.pos
        while self.pos < len(self.source) and accept(self.source[self.pos]):
            self.pos += 1
        return self.source[start : self.pos]

    def _skip_spaces(self) -> None:
        self._scan(str.isspace)

    def _at_end(self) -> bool:
        return self.pos >= len(self.source)

    def _start_tag(self) -> None:
        at = _Offset(self.source, self.pos)
        self.pos += 1
        name = self._scan(_is_tag_name_char).lower()
        if self._at_end():
            raise EntityParseError(f"Unclosed start tag at byte offset {at}")
        if name not in _HTML_ENTITY_TYPES:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {at}')
        attrs = self._attributes(name, at)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        self.stack.append(_OpenTag(name, self.offset, attrs))

    def _attributes(self, tag: str, at: _Offset) -> dict[str, str]:
        source, attrs = self.source, dict[str, str]()
        while True:
            self._skip_spaces()
            if self._at_end():
                raise EntityParseError(f"Unclosed start tag at byte offset {at}")
            if source[self.pos] == ">":
                self.pos += 1
                return attrs
            attr = self._scan(lambda char: char.isalnum() or char in "-_").lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {at}'
                )
            self._skip_spaces()
            if self._at_end() or source[self.pos] != "=":
                attrs[attr] = ""
                continue
            self.pos += 1
            self._skip_spaces()
            if self._at_end():
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {at}')
            quote = source[self.pos]
            if quote in "'\"":
                close = source.find(quote, self.pos + 1)
                if close < 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {at}")
                attrs[attr] = _unescape(source, self.pos + 1, close)
                self.pos = close + 1
            else:
                value = self._scan(lambda char: char.isalnum() or char in ".-")
                if not value:
                    offset = _byte_offset(source, self.pos)
                    raise EntityParseError(f"Unexpected end of name token at byte offset {offset}")
                attrs[attr] = value

    def _end_tag(self) -> None:
        at = _Offset(self.source, self.pos)
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {at}")
        self.pos += 2
        name = self._scan(_is_tag_name_char).lower()
        self._skip_spaces()
        if self._at_end() or self.source[self.pos] != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {at}")
        self.pos += 1
        tag = self.stack.pop()
        if name and name != tag.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {at}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        self._close(tag)

    def _close(self, tag: _OpenTag) -> None:
        length = self.offset - tag.offset
        entity: JSONDict = {"type": _HTML_ENTITY_TYPES[tag.name], "offset": tag.offset}
        if tag.name == "a":
            if not tag.attrs.get("href"):
                return
            entity["url"] = tag.attrs["href"]
        elif tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            language = tag.attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1].language = language.removeprefix("language-")
                return
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        if length > 0:
            entity["length"] = length
            self.entities.append(entity)


def parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Plain text and message entities (UTF-16 offsets) of a Telegram-HTML text.

    Stricter than Telegram in one respect: a bare ``&`` that does not start
    ``&amp;``/``&lt;``/``&gt;``/``&quot;`` or a numeric reference is rejected.
    """
    return _HtmlParser(source).parse()


def trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip surrounding whitespace like Telegram does, keeping the entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = _utf16_len(text[: len(text) - len(text.lstrip())])
    size = _utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def command_entities(text: str) -> list[JSONDict]:
    match = _LEADING_COMMAND.match(text)
    return [{"type": "bot_command", "offset": 0, "length": match.end()}] if match else []
