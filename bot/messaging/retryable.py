"""Which failed Bot API requests surely delivered nothing, and so may be sent again.

A request whose answer did not come in time (a read timeout), or whose connection broke
after it was written, may have been carried out all the same: Telegram can deliver a message
and answer too late. Sending it again could deliver it twice, so only these are retried:

- no connection was made: a connect timeout, a refused or failed connection
  (`httpx.ConnectTimeout`, `httpx.ConnectError`), or no free connection in the pool
  (`httpx.PoolTimeout`, also raised by `bot.transport.Lanes`): the request never left;
- an error answer of the Bot API (in practice a 5xx; PTB raises the 4xx it knows as
  `BadRequest`, `Forbidden`, `InvalidToken` and `Conflict`, and a 429 as `RetryAfter`):
  Telegram answered, and it did not deliver.

Everything else (read and write timeouts, a connection closed without an answer, an unknown
error of the HTTP library) is not retried.

How they are told apart: PTB raises `TimedOut` for read, write, connect and pool timeouts
alike, and `NetworkError` both for other failures of the connection and for error answers.
Its documentation of `NetworkError` says that the original exception of the networking
backend is the exception's `__cause__`: `HTTPXRequest` raises `from` the httpx exception, and
an error answer has no httpx cause. That cause is the public way to tell the cases apart; the
exception's message (such as "Pool timeout: ...") is not relied on.
"""

from __future__ import annotations

import httpx
from telegram.error import BadRequest, Conflict, NetworkError, TelegramError, TimedOut

# The httpx errors raised before any byte of the request was sent.
_NEVER_SENT = (httpx.ConnectTimeout, httpx.ConnectError, httpx.PoolTimeout)


def retryable(exc: NetworkError) -> bool:
    """Whether the request that failed with `exc` surely delivered nothing and is worth
    sending again (see the module docstring)."""
    if isinstance(exc, BadRequest | Conflict):  # refused: the same request fails again
        return False
    cause = exc.__cause__
    if isinstance(cause, httpx.HTTPError):  # the connection failed: before or after sending?
        return isinstance(cause, _NEVER_SENT)
    if isinstance(exc, TimedOut):  # a timeout without its cause: when it happened is unknown
        return False
    # An error answer: no cause, or (an HTML page of a proxy instead of JSON) the error of
    # parsing it. Any other cause is an unknown failure inside the HTTP library.
    return cause is None or isinstance(cause, TelegramError)
