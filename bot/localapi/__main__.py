"""Standalone run: ``python -m bot.localapi --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from bot.localapi.server import LocalBotApi


async def _serve(port: int, token: str, bot_username: str) -> None:
    api = LocalBotApi(token, port=port, bot_username=bot_username)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    async with api:
        print(f"base_url      {api.base_url}", flush=True)
        print(f"base_file_url {api.base_file_url}", flush=True)
        print(
            f"inject: curl -d '{{\"user_id\": 1001, \"text\": \"/start\"}}' "
            f"-H 'Content-Type: application/json' http://127.0.0.1:{api.port}/control/send",
            flush=True,
        )
        await stopped.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local fake Telegram Bot API server (127.0.0.1).")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--bot-username", default="regsosek_test_bot")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    asyncio.run(_serve(args.port, args.token, args.bot_username))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
