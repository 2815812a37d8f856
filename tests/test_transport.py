"""The bot's HTTP transport: one connection per lane, cheaper checks of idle sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

from bot.app import build_application, start_application, stop_application
from bot.localapi import LocalBotApi
from bot.transport import SocketBackend, transport
from tests.support import eventually, make_settings


async def _tcp_server(on_client) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_an_idle_socket_reads_readable_once_the_server_closes_it() -> None:
    close = asyncio.Event()

    async def on_client(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await close.wait()
        writer.close()

    server, port = await _tcp_server(on_client)
    async with server:
        stream = await SocketBackend().connect_tcp("127.0.0.1", port)
        try:
            assert stream.get_extra_info("is_readable") is False
            assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)  # passed on
            close.set()
            await eventually(lambda: stream.get_extra_info("is_readable"))
        finally:
            await stream.aclose()
        assert stream.get_extra_info("is_readable") is True  # closed: as httpcore says


async def test_the_stream_reads_and_writes_through() -> None:
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write((await reader.readexactly(4)).upper())
        await writer.drain()
        writer.close()

    server, port = await _tcp_server(on_client)
    async with server:
        stream = await SocketBackend().connect_tcp("127.0.0.1", port, timeout=5)
        try:
            await stream.write(b"ping", timeout=5)
            assert await stream.read(4, timeout=5) == b"PING"
            await eventually(lambda: stream.get_extra_info("is_readable"))
        finally:
            await stream.aclose()


def test_a_proxy_in_the_environment_leaves_the_transport_to_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert transport(4) is not None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert transport(4) is None


class _SlowApi:
    """An HTTP server whose answers wait until released; counts requests in flight."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        self.answered = 0
        self.url = ""

    async def handle(self, _request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        self.answered += 1
        return web.json_response({"ok": True, "result": True})


@asynccontextmanager
async def _server(handle: Callable[[web.Request], Awaitable[web.Response]]) -> AsyncIterator[str]:
    """A local HTTP server answering every POST with `handle`; the URL of its getMe."""
    app = web.Application()
    app.router.add_post("/{method}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/getMe"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def _request(connections: int, *, pool_timeout: float = 10) -> AsyncIterator[HTTPXRequest]:
    """A PTB request on `transport(connections)`, initialized."""
    own = transport(connections)
    assert own is not None
    request = HTTPXRequest(read_timeout=5, pool_timeout=pool_timeout,
                           httpx_kwargs={"transport": own})
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


@asynccontextmanager
async def _slow_api(connections: int, *,
                    pool_timeout: float = 10) -> AsyncIterator[tuple[_SlowApi, HTTPXRequest]]:
    """The slow server, and a request on `transport(connections)` to send to it."""
    server = _SlowApi()
    async with _server(server.handle) as url, _request(connections,
                                                       pool_timeout=pool_timeout) as request:
        server.url = url
        try:
            yield server, request
        finally:
            server.release.set()


async def test_requests_beyond_the_connections_wait_for_a_free_one() -> None:
    async with _slow_api(2) as (server, request):
        calls = [asyncio.create_task(request.do_request(server.url, "POST")) for _ in range(5)]
        await eventually(lambda: server.in_flight == 2)
        server.release.set()
        answers = await asyncio.gather(*calls)
        assert [status for status, _ in answers] == [200] * 5
        assert json.loads(answers[0][1]) == {"ok": True, "result": True}
        assert server.most_in_flight == 2  # never more than the connections at once


async def test_a_request_that_finds_no_free_connection_in_time_is_not_sent() -> None:
    async with _slow_api(1, pool_timeout=0.05) as (server, request):
        first = asyncio.create_task(request.do_request(server.url, "POST"))
        await eventually(lambda: server.in_flight == 1)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await request.do_request(server.url, "POST")
        server.release.set()
        assert (await first)[0] == 200
        assert server.answered == 1  # the refused one never reached the server
        assert (await request.do_request(server.url, "POST"))[0] == 200


async def test_a_failed_or_abandoned_request_frees_its_connection() -> None:
    async with _slow_api(1, pool_timeout=1) as (server, request):
        with pytest.raises(NetworkError):  # nobody listens there: the connection fails
            await request.do_request("http://127.0.0.1:9/getMe", "POST")
        waiting = asyncio.create_task(request.do_request(server.url, "POST"))
        await eventually(lambda: server.in_flight == 1)
        waiting.cancel()  # the caller gives up while the answer is awaited
        with pytest.raises(asyncio.CancelledError):
            await waiting
        server.release.set()
        # With one connection, each of these needs the ones before to have let it go.
        for _ in range(3):
            assert (await request.do_request(server.url, "POST"))[0] == 200


async def test_the_bot_talks_to_the_bot_api_through_the_socket_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: LocalBotApi
) -> None:
    opened: list[int] = []
    connect = SocketBackend.connect_tcp

    async def counting(self: SocketBackend, host: str, port: int, *args: Any,
                       **kwargs: Any) -> Any:
        opened.append(port)
        return await connect(self, host, port, *args, **kwargs)

    monkeypatch.setattr(SocketBackend, "connect_tcp", counting)
    app = build_application(make_settings(tmp_path, api))
    await start_application(app, poll_timeout=0)
    try:
        user = api.user(4242)
        await user.send("/start")
        await user.wait_for(lambda _message: True, timeout=10)  # answered: it went out
    finally:
        await stop_application(app)
    assert opened and set(opened) == {urlsplit(api.base_url).port}


async def test_a_quiet_bot_keeps_reusing_one_connection() -> None:
    ports: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        assert request.transport is not None
        ports.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"ok": True, "result": True})

    async with _server(handle) as url, _request(4) as request:
        for _ in range(6):  # one after another: each finds the last one's lane free
            assert (await request.do_request(url, "POST"))[0] == 200
    assert len(set(ports)) == 1  # one connection (one client port), not one per lane
