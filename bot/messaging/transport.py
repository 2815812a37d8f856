"""The HTTP client of the bot's Bot API requests: a python-telegram-bot `BaseRequest` on aiohttp.

The bot handles up to `CONCURRENT_UPDATES` updates side by side, and their replies share
`TELEGRAM_CONNECTIONS` connections. In that situation python-telegram-bot's own
`HTTPXRequest` costs about 6 ms of CPU per update in `bench/flow.py`, this request about 2.5
(see `bench/README.md`); aiohttp, a dependency already, is used through its public API only.

A request first waits for one of the connections, up to its pool timeout: past it, `TimedOut`
("Pool timeout"), and the request was not sent.

Proxies come from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`), read when the
request is initialized (`NO_PROXY` when a host is first asked for), as httpx reads them when
its client is built. aiohttp's own `trust_env=True` would read them (and `~/.netrc`) again on
every request, in two round trips to a worker thread: that made a request to the local Bot API
take three times as long.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any, cast
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

POOL_TIMEOUT = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


def _given(value: object, default: float | None) -> float | None:
    """A timeout passed to `do_request`, or the request's own when none was."""
    return default if value is BaseRequest.DEFAULT_NONE else cast(float | None, value)


def env_proxy(url: str, proxies: dict[str, str]) -> dict[str, Any]:
    """aiohttp's request arguments that send `url` through its proxy among `proxies`
    (`urllib.request.getproxies()`: scheme -> proxy URL); none when `NO_PROXY` exempts its
    host, or no proxy is named. aiohttp takes plain HTTP proxies only (it tunnels HTTPS
    through them); their credentials go in a header."""
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme)
    if not proxy or (parts.hostname and proxy_bypass(parts.hostname)):
        return {}
    found = urlsplit(proxy if "://" in proxy else f"http://{proxy}")  # host:port: as httpx
    if found.scheme != "http":
        log.warning("%s proxies are not supported: ignored", found.scheme.upper())
        return {}
    bare = urlunsplit((found.scheme, found.netloc.rpartition("@")[2], found.path, "", ""))
    if found.username is None:
        return {"proxy": bare}
    login = f"{unquote(found.username)}:{unquote(found.password or '')}".encode()
    header = {"Proxy-Authorization": "Basic " + base64.b64encode(login).decode("ascii")}
    # HTTPS: for the proxy alone, on the request that opens the tunnel; HTTP: on the request.
    return {"proxy": bare, "proxy_headers" if parts.scheme == "https" else "headers": header}


class AiohttpRequest(BaseRequest):
    """`connections` keep-alive connections, shared by all requests; timeouts in seconds, as in
    `HTTPXRequest` (None: no limit): waiting for a free connection, opening one, and waiting
    for each part of the answer once the request is sent.

    aiohttp has no write timeout, so the write timeouts python-telegram-bot passes are not
    used: a request without a file fits in the socket's buffer at once, and an upload is
    not cut short however slow the network."""

    def __init__(
        self,
        connections: int,
        *,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._free: asyncio.Semaphore | None = None  # one unit per connection not in use
        self._proxies: dict[str, str] = {}
        self._proxy_of: dict[tuple[str, str], dict[str, Any]] = {}  # by scheme and host

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )
            self._free = asyncio.Semaphore(self._connections)
            self._proxies = {scheme: url for scheme, url in getproxies().items()
                             if scheme in ("http", "https")}
            self._proxy_of = {}

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,  # not used: see the class
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session, free = self._session, self._free
        if session is None or session.closed or free is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        data: aiohttp.FormData | dict[str, str] | None = (
            request_data.json_parameters if request_data else None)
        if files:
            data = aiohttp.FormData(data or {})
            for name, (filename, content, mimetype) in files.items():
                data.add_field(name, content, filename=filename, content_type=mimetype)
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=_given(connect_timeout, self._connect_timeout),
            sock_read=_given(read_timeout, self._read_timeout),
        )
        try:
            async with asyncio.timeout(_given(pool_timeout, self._pool_timeout)):
                await free.acquire()
        except TimeoutError:
            raise TimedOut(POOL_TIMEOUT) from None
        via = self._proxy(url) if self._proxies else {}
        try:
            async with session.request(method, url, data=data, timeout=timeout,
                                       **via) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
        finally:
            free.release()

    def _proxy(self, url: str) -> dict[str, Any]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._proxy_of:
            self._proxy_of[key] = env_proxy(url, self._proxies)
        return self._proxy_of[key]
