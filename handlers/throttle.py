"""What the access gate remembers of each chat, to answer floods and strangers sparingly.

- A chat that sends more than `updates_per_second` updates within one second is flooding:
  the gate drops its updates until it slows down (`arrived`).
- A hint (the registration hint, the group hint, "edit ignored", the flood notice) goes to a
  chat at most once per `hint_interval` (`may_hint`); whether a chat got one lately
  (`hinted`) lets the gate drop a told stranger's next updates before any database work.

Times are those of the injected clock (`context.clock.now()`), so tests move them by hand and
never sleep; a clock set back counts as a new start. The state lives in memory, in this
process only, and stays small: a chat is forgotten as soon as it no longer matters (its last
update more than a second ago; its last hint more than `hint_interval` ago), and at most
`max_chats` chats are kept in each table, the least recently seen going first. A restart
forgets everything, which costs at most one more hint per chat.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

SECOND = timedelta(seconds=1)
MAX_CHATS = 10_000

V = TypeVar("V")


class ChatWindows:
    def __init__(
        self, *, updates_per_second: int, hint_interval: timedelta, max_chats: int = MAX_CHATS
    ) -> None:
        self.updates_per_second = updates_per_second  # 0: no limit
        self.hint_interval = hint_interval
        self._max_chats = max_chats
        # chat -> arrival times of its last updates (at most updates_per_second + 1),
        # least recently seen chat first
        self._arrivals: OrderedDict[int, deque[datetime]] = OrderedDict()
        # chat -> {hint kind: when it was sent}, least recently hinted chat first
        self._hints: OrderedDict[int, dict[str, datetime]] = OrderedDict()
        self.flooded = 0  # updates found flooding since the start

    def __len__(self) -> int:
        """Chats remembered (both tables), for tests and logs."""
        return len(self._arrivals.keys() | self._hints.keys())

    def arrived(self, chat_id: int, now: datetime) -> bool:
        """Count an update of `chat_id`; True when the chat is flooding: more than
        `updates_per_second` of its updates (this one included) within the last second."""
        limit = self.updates_per_second
        if limit <= 0:
            return False
        _forget(self._arrivals, lambda stamps: _recent(stamps[-1], now, SECOND))
        stamps = self._arrivals.pop(chat_id, None)
        if stamps is None or not _recent(stamps[-1], now, SECOND):
            stamps = deque(maxlen=limit + 1)
        stamps.append(now)
        self._arrivals[chat_id] = stamps
        _cap(self._arrivals, self._max_chats)
        if len(stamps) > limit and _recent(stamps[0], now, SECOND):
            self.flooded += 1
            return True
        return False

    def may_hint(self, chat_id: int, kind: str, now: datetime, *, alone: bool = False) -> bool:
        """True when the chat got no `kind` hint within the interval (none at all, with
        `alone`); the hint is then taken as sent (`forget` undoes it)."""
        interval = self.hint_interval
        _forget(self._hints, lambda sent: any(_recent(t, now, interval) for t in sent.values()))
        sent = self._hints.get(chat_id, {})
        recent = [k for k, t in sent.items() if _recent(t, now, interval)]
        if kind in recent or (alone and recent):
            return False
        sent = {k: sent[k] for k in recent}
        sent[kind] = now
        self._hints.pop(chat_id, None)
        self._hints[chat_id] = sent
        _cap(self._hints, self._max_chats)
        return True

    def hinted(self, chat_id: int, kind: str, now: datetime) -> bool:
        """The chat got the `kind` hint within the interval."""
        sent = self._hints.get(chat_id, {}).get(kind)
        return sent is not None and _recent(sent, now, self.hint_interval)

    def forget(self, chat_id: int, kind: str) -> None:
        """The `kind` hint no longer counts for the chat (it could not be sent, or the chat
        is registering): its next update is looked at again, and may get it again."""
        sent = self._hints.get(chat_id)
        if sent is not None:
            sent.pop(kind, None)


def _forget(table: OrderedDict[int, V], still_useful: Callable[[V], bool]) -> None:
    """Drop the least recently touched chats while they no longer matter."""
    while table:
        chat_id, value = next(iter(table.items()))
        if still_useful(value):
            return
        del table[chat_id]


def _cap(table: OrderedDict[int, V], max_chats: int) -> None:
    while len(table) > max_chats:
        table.popitem(last=False)


def _recent(moment: datetime, now: datetime, span: timedelta) -> bool:
    """`moment` lies within `span` before `now` (a moment after `now`: the clock was set
    back, and it counts as long ago)."""
    return now - span < moment <= now
