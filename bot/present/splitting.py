"""Split a long HTML-formatted message into pieces Telegram accepts, each valid on its own."""

from __future__ import annotations

import re
from collections.abc import Iterable

TELEGRAM_LIMIT = 4096

# A tag, an entity (&amp; &#38; &#x26;) or a single character: never cut inside the first two.
_TOKEN = re.compile(r"<[^<>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);|.", re.DOTALL)
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][\w-]*)")
_ANY_TAG = re.compile(r"<[^<>]*>")

Stack = tuple[tuple[str, str], ...]
"""The open tags, outermost first, each as (name, opening tag as written)."""


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters (counted raw, before entity parsing).

    Text that fits is returned unchanged. Otherwise it is split between lines, so that
    "\\n".join(pieces) == text as long as no tag stays open across a split and no line is
    longer than the limit. A longer line is cut at its last space that fits (the space is
    dropped), or anywhere outside a tag or entity when there is none. Tags open at a split
    are closed at the end of the piece and reopened at the start of the next one. Pieces
    without visible text are left out (Telegram refuses empty messages), so blank text
    gives []. ValueError when a single tag cannot fit at all.
    """
    if not _ANY_TAG.sub("", text).strip():
        return []
    if len(text) <= limit:
        return [text]
    chunks = _Chunks(limit)
    for line in text.split("\n"):
        chunks.add(line)
    chunks.flush()
    return [piece for piece in chunks.done if _ANY_TAG.sub("", piece).strip()]


class _Chunks:
    """Lines gathered greedily into pieces, with the tags open at each piece's edges."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.done: list[str] = []
        self.head: Stack = ()  # open where the current piece starts
        self.tail: Stack = ()  # open after the current piece's lines
        self.lines: list[str] = []
        self.size = 0  # len("\n".join(self.lines))

    def fits(self, size: int, tail: Stack) -> bool:
        return len(_opening(self.head)) + size + len(_closing(tail)) <= self.limit

    def add(self, line: str) -> None:
        tail = _advance(self.tail, _TOKEN.findall(line))
        size = self.size + len(line) + (1 if self.lines else 0)
        if not self.fits(size, tail):
            self.flush()
            if not self.fits(len(line), tail):
                self._cut(line)
                return
            size = len(line)
        self.lines.append(line)
        self.size = size
        self.tail = tail

    def flush(self) -> None:
        if self.lines:
            self.done.append(_opening(self.head) + "\n".join(self.lines) + _closing(self.tail))
        self.head = self.tail
        self.lines = []
        self.size = 0

    def _cut(self, line: str) -> None:
        """Pieces of an overlong line; the last one stays open for the next lines."""
        tokens = _TOKEN.findall(line)
        start = 0
        while True:
            rest = "".join(tokens[start:])
            tail = _advance(self.head, tokens[start:])
            if self.fits(len(rest), tail):
                self.lines, self.size, self.tail = [rest], len(rest), tail
                return
            end, stack, skip = self._cut_point(tokens, start)
            piece = "".join(tokens[start:end])
            self.done.append(_opening(self.head) + piece + _closing(stack))
            self.head = stack
            start = end + skip

    def _cut_point(self, tokens: list[str], start: int) -> tuple[int, Stack, int]:
        """Where to end the piece starting at `start`: (end, tags open there, tokens to skip)."""
        budget = self.limit - len(_opening(self.head))
        length = 0
        stack = self.head
        space: tuple[int, Stack, int] | None = None
        hard: tuple[int, Stack, int] | None = None
        for index in range(start, len(tokens)):
            token = tokens[index]
            if token == " " and index > start and length + len(_closing(stack)) <= budget:
                space = (index, stack, 1)
            stack = _advance(stack, [token])
            length += len(token)
            if length > budget:
                break
            if length + len(_closing(stack)) <= budget:
                hard = (index + 1, stack, 0)
        best = space or hard
        if best is None:
            raise ValueError(f"cannot fit {tokens[start][:40]!r}… into {self.limit} characters")
        return best


def _advance(stack: Stack, tokens: Iterable[str]) -> Stack:
    """The open tags after `tokens`; a closing tag closes the latest tag of its name."""
    result = list(stack)
    for token in tokens:
        match = _TAG.match(token) if token.startswith("<") else None
        if match is None:
            continue
        closing, name = match[1], match[2].lower()
        if not closing:
            result.append((name, token))
            continue
        for index in range(len(result) - 1, -1, -1):
            if result[index][0] == name:
                del result[index]
                break
    return tuple(result)


def _opening(stack: Stack) -> str:
    return "".join(tag for _, tag in stack)


def _closing(stack: Stack) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))
