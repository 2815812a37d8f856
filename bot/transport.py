"""The HTTP transport of the bot's Bot API requests: httpx, made cheaper per request.

The bot handles up to `CONCURRENT_UPDATES` updates side by side, and their replies share
`TELEGRAM_CONNECTIONS` connections. In one httpx connection pool (httpcore), two costs grow
with those numbers:

* Each time a request starts or ends, the pool walks all its connections, and for each one
  all of them again, and all the requests waiting for one. Here each connection has a pool of
  its own (`Lanes`): a request takes a free lane, or waits for one outside httpx.
* On each of those walks, every idle connection is asked whether the server has closed its
  socket. With anyio's streams, each question builds a fresh table of the socket's attributes,
  a `getpeername` system call included, and then a new poll object. Here each connection
  looks its socket up and registers it with a poll object once, when it opens
  (`SocketBackend`), and the question is a single `poll`.

In `bench/flow.py` (32 updates in flight, 8 connections) the two cost about 0.4 ms of CPU per
update, a tenth of the whole. Everything else (HTTP/1.1, TLS, timeouts, keep-alive) is httpx
and httpcore as they are.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any
from urllib.request import getproxies

import httpcore
import httpx


class SocketStream(httpcore.AsyncNetworkStream):
    """A network stream that knows its socket: `is_readable` is one poll, nothing more."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")
        self._poll = select.poll()
        if self._socket is not None:
            self._poll.register(self._socket, select.POLLIN)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return SocketStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # a closed socket counts as readable, as in httpcore
            return self._socket is None or self._socket.fileno() < 0 or bool(self._poll.poll(0))
        return self._stream.get_extra_info(info)


class SocketBackend(httpcore.AsyncNetworkBackend):
    """httpcore's anyio backend, whose streams are `SocketStream`s."""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return SocketStream(await self._backend.connect_tcp(
            host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return SocketStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _Released(httpx.AsyncByteStream):
    """A response body that frees its lane once closed (httpx closes every response)."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class Lanes(httpx.AsyncBaseTransport):
    """`count` one-connection transports; a request takes a free one, or waits for one up to
    its pool timeout (then httpx's `PoolTimeout`: the request was not sent).

    The lane freed last is taken first, so that a quiet bot keeps reusing one warm connection
    instead of reopening (TCP and TLS) connections that idled past their keep-alive."""

    def __init__(self, count: int, make_lane: Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._lanes = [make_lane() for _ in range(count)]
        self._free: asyncio.LifoQueue[httpx.AsyncBaseTransport] = asyncio.LifoQueue()
        for lane in self._lanes:
            self._free.put_nowait(lane)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        wait = request.extensions.get("timeout", {}).get("pool")
        try:
            async with asyncio.timeout(wait):
                lane = await self._free.get()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection", request=request) from None
        try:
            response = await lane.handle_async_request(request)
        except BaseException:
            self._free.put_nowait(lane)
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Released(response.stream, lambda: self._free.put_nowait(lane))
        return response

    async def aclose(self) -> None:
        for lane in self._lanes:
            await lane.aclose()


def _lane(tls: ssl.SSLContext) -> httpx.AsyncBaseTransport:
    """One connection, on `SocketBackend` where httpx lets its pool be replaced."""
    plain = httpx.AsyncHTTPTransport(verify=tls, limits=httpx.Limits(max_connections=1))
    if not hasattr(select, "poll") or not isinstance(  # Windows, or another httpx
            getattr(plain, "_pool", None), httpcore.AsyncConnectionPool):
        return plain
    # httpx takes no network backend: its pool is replaced by an equal one that has it.
    plain._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls,
        max_connections=1,
        keepalive_expiry=httpx.Limits(max_connections=1).keepalive_expiry,
        network_backend=SocketBackend(),
    )
    return plain


def transport(connections: int) -> httpx.AsyncBaseTransport | None:
    """The transport of `connections` lanes; None (httpx builds its own transport, with one
    pool of `connections`) when the environment names a proxy (`HTTPS_PROXY` ...): httpx
    honours those only for a transport of its own."""
    if any(scheme != "no" for scheme in getproxies()):
        return None
    tls = httpx.create_ssl_context()  # one for all: each costs about 20 ms to load
    return Lanes(connections, lambda: _lane(tls))
