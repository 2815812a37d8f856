"""The bot's HTTP client (`bot.messaging.transport.AiohttpRequest`): shared connections,
timeouts, uploads, proxies from the environment."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.app import build_application, start_application, stop_application
from bot.localapi import LocalBotApi
from bot.messaging.transport import AiohttpRequest, env_proxy
from bot.metrics import InstrumentedRequest
from tests.support import eventually, make_settings

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                   "all_proxy", "NO_PROXY", "no_proxy")


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
async def _request(connections: int, *,
                   pool_timeout: float = 10) -> AsyncIterator[AiohttpRequest]:
    """An initialized request with `connections` connections."""
    request = AiohttpRequest(connections, read_timeout=5, pool_timeout=pool_timeout)
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


@asynccontextmanager
async def _slow_api(connections: int, *, pool_timeout: float = 10
                    ) -> AsyncIterator[tuple[_SlowApi, AiohttpRequest]]:
    """The slow server, and a request with `connections` connections to send to it."""
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


async def test_a_slow_answer_times_out() -> None:
    async with _slow_api(1) as (server, request):
        with pytest.raises(TimedOut):
            await request.do_request(server.url, "POST", read_timeout=0.05)
        assert server.answered == 0


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


async def test_a_request_is_refused_before_initialize_and_after_shutdown() -> None:
    request = AiohttpRequest(1)
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/getMe", "POST")
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/getMe", "POST")


async def test_the_bot_talks_to_the_bot_api_through_the_aiohttp_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: LocalBotApi
) -> None:
    methods: list[str] = []
    do_request = AiohttpRequest.do_request

    async def counting(self: AiohttpRequest, url: str, *args: Any, **kwargs: Any) -> Any:
        methods.append(url.rsplit("/", 1)[-1])
        return await do_request(self, url, *args, **kwargs)

    monkeypatch.setattr(AiohttpRequest, "do_request", counting)
    app = build_application(make_settings(tmp_path, api))
    assert isinstance(app.bot.request, InstrumentedRequest)  # counted for /metrics
    assert isinstance(app.bot.request.inner, AiohttpRequest)
    await start_application(app, poll_timeout=0)
    try:
        user = api.user(4242)
        await user.send("/start")
        await user.wait_for(lambda _message: True, timeout=10)  # answered: it went out
    finally:
        await stop_application(app)
    assert "sendMessage" in methods
    assert "getUpdates" not in methods  # polling has a request of its own


async def test_a_file_and_the_other_parameters_go_out_in_one_upload(api: LocalBotApi) -> None:
    user = api.user(4242)
    async with Bot(api.token, base_url=api.base_url, request=AiohttpRequest(2)) as bot:
        await bot.send_document(user.chat_id, b"isi berkas", filename="rekap.xlsx",
                                caption="Rekap hari ini")
    [call] = api.calls("sendDocument")
    assert call.params["caption"] == "Rekap hari ini"
    assert call.params["chat_id"] == 4242
    document = call.params["document"]
    assert (document.filename, document.data) == ("rekap.xlsx", b"isi berkas")


async def test_a_quiet_bot_keeps_reusing_one_connection() -> None:
    ports: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        assert request.transport is not None
        ports.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"ok": True, "result": True})

    async with _server(handle) as url, _request(4) as request:
        for _ in range(6):  # one after another: each finds the last one's connection free
            assert (await request.do_request(url, "POST"))[0] == 200
    assert len(set(ports)) == 1  # one connection (one client port), not one per request


async def test_a_proxy_named_in_the_environment_carries_the_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    targets: list[str] = []
    credentials: list[str | None] = []

    async def proxy(request: web.Request) -> web.Response:  # answers instead of forwarding
        targets.append(str(request.url))
        credentials.append(request.headers.get("Proxy-Authorization"))
        return web.json_response({"ok": True, "result": True})

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    async with _server(proxy) as url:
        monkeypatch.setenv("HTTP_PROXY", url.removesuffix("/getMe").replace("//", "//u:p%40@"))
        monkeypatch.setenv("NO_PROXY", "direct.invalid")
        async with _request(1) as request:
            status, _ = await request.do_request("http://api.telegram.invalid/getMe", "POST")
            with pytest.raises(NetworkError):  # exempt: tried directly, and no such host
                await request.do_request("http://direct.invalid/getMe", "POST",
                                         connect_timeout=1)
    assert status == 200
    assert targets == ["http://api.telegram.invalid/getMe"]  # the proxy got it, for that host
    assert credentials == ["Basic dTpwQA=="]  # u:p@, from the proxy's URL


async def test_https_goes_through_a_tunnel_the_proxy_opens_with_its_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heads: list[bytes] = []

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.close()  # no tunnel after all: the request fails

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://u:p%40@127.0.0.1:{port}")
    async with server, _request(1) as request:
        with pytest.raises(NetworkError):
            await request.do_request("https://api.telegram.invalid/getMe", "POST")
    [head] = heads
    assert head.startswith(b"CONNECT api.telegram.invalid:443 HTTP/1.1\r\n")
    assert b"Proxy-Authorization: Basic dTpwQA==\r\n" in head


def test_the_proxy_of_a_url_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "localhost,.internal")
    proxies = {"https": "proxy.example:3128", "http": "http://proxy.example:8080/"}
    # host:port alone is an HTTP proxy, as in httpx
    assert env_proxy("https://api.telegram.org/bot1:x/getMe", proxies) == {
        "proxy": "http://proxy.example:3128"}
    assert env_proxy("http://api.telegram.org/getMe", proxies) == {
        "proxy": "http://proxy.example:8080/"}
    assert env_proxy("https://localhost/getMe", proxies) == {}
    assert env_proxy("https://bot.internal/getMe", proxies) == {}
    assert env_proxy("https://api.telegram.org/getMe", {}) == {}
    # The credentials are for the proxy alone: on the request that opens the HTTPS tunnel.
    assert env_proxy("https://api.telegram.org/getMe",
                     {"https": "http://u:p%40@proxy.example:3128"}) == {
        "proxy": "http://proxy.example:3128",
        "proxy_headers": {"Proxy-Authorization": "Basic dTpwQA=="}}
    # aiohttp speaks to plain HTTP proxies only
    assert env_proxy("https://api.telegram.org/getMe",
                     {"https": "https://proxy.example:443"}) == {}
    assert env_proxy("https://api.telegram.org/getMe",
                     {"https": "socks5://proxy.example:1080"}) == {}
