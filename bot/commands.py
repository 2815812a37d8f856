"""Which commands exist, their English aliases, and which role sees which in the menu."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.present.form_text import fast_example
from bot.present.texts import Texts
from bot.rules.forms import FormDefinition, load_form
from db.models import Officer, Role

# Indonesian command -> English alias.
ALIASES: dict[str, str] = {
    "start": "start",
    "bantuan": "help",
    "lapor": "report",
    "progres": "progress",
    "batal": "cancel",
    "izin": "dayoff",
    "ringkasan": "digest",
    "ekspor": "export",
    "kendala": "issue",
    "kendala_saya": "my_issues",
    "kendala_tim": "team_issues",
    "umumkan": "broadcast",
    "pengumuman": "announcements",
}

_ALL_ROLES = ("start", "progres", "bantuan", "batal")
# Reported under the officer's roster row: not for an admin known only from the settings.
_ROSTER_ONLY = frozenset({"kendala", "kendala_saya"})
_ANNOUNCE = ("umumkan", "pengumuman")  # those who supervise someone
ROLE_COMMANDS: dict[Role, tuple[str, ...]] = {
    Role.PPL: ("lapor", "izin", "kendala", "kendala_saya", *_ALL_ROLES),
    Role.PML: ("ringkasan", "ekspor", "kendala_tim", "kendala", "kendala_saya",
               *_ANNOUNCE, *_ALL_ROLES),
    Role.KOSEKA: ("ringkasan", "ekspor", "kendala_tim", "kendala", "kendala_saya",
                  *_ANNOUNCE, *_ALL_ROLES),
    Role.ADMIN: ("ringkasan", "ekspor", "kendala_tim", "kendala", "kendala_saya",
                 *_ANNOUNCE, *_ALL_ROLES),
}


def names(command: str) -> list[str]:
    """The command and its English alias, for a CommandHandler."""
    return sorted({command, ALIASES[command]})


def menu(
    role: Role | None, texts: Texts, *, on_roster: bool = True, form: FormDefinition | None = None
) -> list[BotCommand]:
    """The commands of a role with their descriptions; `/lapor`'s says what its fast path's
    example means on `form` (the default form when None)."""
    commands = ROLE_COMMANDS[role] if role else ("start", "bantuan")
    if not on_roster:
        commands = tuple(c for c in commands if c not in _ROSTER_ONLY)
    english = texts.language == "en"
    example, meaning = fast_example(form or load_form(), texts.language)
    return [
        BotCommand(ALIASES[c] if english else c,
                   texts(f"cmd_{c}", example=example, meaning=meaning))
        for c in commands
    ]


def help_lines(officer: Officer, texts: Texts, form: FormDefinition | None = None) -> str:
    commands = menu(officer.role, texts, on_roster=officer.on_roster, form=form)
    return "\n".join(f"/{c.command} – {c.description}" for c in commands)


async def set_default_menu(bot: Bot, texts: Texts) -> None:
    await bot.set_my_commands(menu(None, texts), scope=BotCommandScopeDefault())


async def set_officer_menu(
    bot: Bot, chat_id: int, officer: Officer, texts: Texts, form: FormDefinition | None = None
) -> None:
    commands = menu(officer.role, texts, on_roster=officer.on_roster, form=form)
    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
