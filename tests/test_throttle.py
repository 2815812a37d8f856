"""The gate's per-chat windows (handlers/throttle.py), with plain times."""

from __future__ import annotations

from datetime import timedelta

from handlers.throttle import ChatWindows
from tests.support import at

T0 = at(17)
MS = timedelta(milliseconds=1)
INTERVAL = timedelta(minutes=5)


def windows(**kwargs: object) -> ChatWindows:
    values: dict[str, object] = {"updates_per_second": 5, "hint_interval": INTERVAL}
    values.update(kwargs)
    return ChatWindows(**values)  # type: ignore[arg-type]


def test_more_than_the_limit_within_a_second_is_a_flood() -> None:
    w = windows()
    assert [w.arrived(1, T0 + i * 100 * MS) for i in range(7)] == [False] * 5 + [True] * 2
    assert not w.arrived(2, T0 + 600 * MS)  # another chat is not
    assert w.flooded == 2


def test_a_flood_ends_once_the_chat_slows_down() -> None:
    w = windows()
    for i in range(20):  # 50 a second: every update beyond the fifth is dropped
        w.arrived(1, T0 + i * 20 * MS)
    assert w.arrived(1, T0 + 400 * MS)
    # Arrivals are counted, dropped or not: a second after the flood the chat is calm again.
    assert not w.arrived(1, T0 + 1400 * MS + MS)
    # Five a second, evenly, never floods.
    w = windows()
    assert not any(w.arrived(1, T0 + i * 200 * MS) for i in range(50))


def test_no_limit_when_zero() -> None:
    w = windows(updates_per_second=0)
    assert not any(w.arrived(1, T0) for _ in range(100))


def test_a_hint_once_per_interval_and_kind() -> None:
    w = windows()
    assert w.may_hint(1, "not_registered", T0)
    assert not w.may_hint(1, "not_registered", T0 + INTERVAL - MS)
    assert w.may_hint(1, "edit_ignored", T0 + MS)  # another kind
    assert w.may_hint(2, "not_registered", T0)  # another chat
    assert w.may_hint(1, "not_registered", T0 + INTERVAL)


def test_alone_only_when_no_hint_at_all_lately() -> None:
    w = windows()
    assert w.may_hint(1, "not_registered", T0)
    assert not w.may_hint(1, "too_many_updates", T0 + MS, alone=True)
    assert w.may_hint(2, "too_many_updates", T0, alone=True)
    assert w.may_hint(1, "too_many_updates", T0 + INTERVAL, alone=True)


def test_a_hint_that_was_not_sent_may_be_tried_again() -> None:
    w = windows()
    assert w.may_hint(1, "group_hint", T0)
    assert w.hinted(1, "group_hint", T0 + MS) and not w.hinted(1, "edit_ignored", T0 + MS)
    w.forget(1, "group_hint")
    assert not w.hinted(1, "group_hint", T0 + MS)
    assert w.may_hint(1, "group_hint", T0 + MS)
    assert not w.hinted(1, "group_hint", T0 + MS + INTERVAL)


def test_a_clock_set_back_counts_as_a_new_start() -> None:
    w = windows()
    assert w.may_hint(1, "not_registered", T0)
    assert w.may_hint(1, "not_registered", T0 - timedelta(hours=1))
    for _ in range(6):
        w.arrived(2, T0)
    assert not w.arrived(2, T0 - timedelta(hours=1))


def test_chats_are_forgotten_when_they_no_longer_matter() -> None:
    w = windows()
    for chat in range(1000):
        w.arrived(chat, T0)
        w.may_hint(chat, "not_registered", T0)
    assert len(w) == 1000
    w.arrived(5000, T0 + 2 * timedelta(seconds=1))  # the others' updates are past now
    w.may_hint(5000, "not_registered", T0 + INTERVAL)  # and so are their hints
    assert len(w) == 1


def test_at_most_max_chats_are_kept() -> None:
    w = windows(max_chats=100)
    for chat in range(1000):
        w.arrived(chat, T0)
        w.may_hint(chat, "not_registered", T0)
    assert len(w) == 100
    assert w.may_hint(999, "not_registered", T0) is False  # the latest are kept
