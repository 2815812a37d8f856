"""The bot's own account: getMe, the settings answered with a plain True, and its commands."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.localapi.protocol import ApiError, JSONDict
from bot.localapi.state import ApiState

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class ProfileMixin(ApiState):
    """getMe, setMyCommands/getMyCommands/deleteMyCommands and :meth:`commands_for`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (scope JSON with sorted keys, language_code) -> commands; see commands_for().
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict] | None:
        """Commands set for that scope (default scope if None) and language, None if unset."""
        return self.commands.get((self._scope_key(scope), language_code))

    @staticmethod
    def _scope_key(scope: JSONDict | None) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    def _commands_key(self, params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope")
        if scope is not None and not isinstance(scope, dict):
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        return self._scope_key(scope), str(params.get("language_code") or "")

    async def _ok(self, _params: JSONDict) -> bool:
        return True

    async def _get_me(self, _params: JSONDict) -> JSONDict:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True
