"""Command line: `python -m bot run | status | db migrate | db backup | db check | db copy |
wilayah import | roster import | roster codes | roster unlink | export | demo` (also installed
as `regsosek-bot`)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import clock_for
from bot.settings import Settings, SettingsError, load_settings
from db.connection import StorageError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.messaging.delivery import DeliveryStatus
    from db.models import Officer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regsosek-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (webhook when WEBHOOK_URL is set, else long polling)")
    sub.add_parser("status", help="the running bot's health (its /healthz), for an operator")

    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="action", required=True
    )
    db.add_parser("migrate", help="create or upgrade the database")
    db_backup = db.add_parser("backup", help="consistent copy while the bot runs")
    db_backup.add_argument("file", type=Path)
    db.add_parser("check", help="integrity check, migration status and rows per table")
    db_copy = db.add_parser(
        "copy", help="copy the SQLite database (DATABASE_PATH) into an empty PostgreSQL one")
    db_copy.add_argument("--to", dest="url", required=True,
                         help="the PostgreSQL database: postgresql://user:password@host/db")

    wil = sub.add_parser("wilayah", help="kecamatan/desa reference list").add_subparsers(
        dest="action", required=True)
    wil_import = wil.add_parser("import", help="load a wilayah CSV")
    wil_import.add_argument("file", type=Path)

    roster = sub.add_parser("roster", help="officers and work areas").add_subparsers(
        dest="action", required=True)
    roster_import = roster.add_parser("import", help="import officers (.csv or .xlsx)")
    roster_import.add_argument("file", type=Path)
    roster_import.add_argument("--areas", type=Path, help="work areas CSV (SLS with targets)")
    roster.add_parser("codes", help="print registration codes and deep links as CSV")
    roster_unlink = roster.add_parser(
        "unlink", help="remove an officer's Telegram link and print a new registration code")
    roster_unlink.add_argument("officer_id")

    export = sub.add_parser("export", help="export reports")
    export.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--from", dest="date_from", type=date.fromisoformat)
    export.add_argument("--to", dest="date_to", type=date.fromisoformat)
    export.add_argument("--kecamatan", help="only this kecamatan code")

    send = sub.add_parser("send", help="run a scheduled job once, now (idempotent)")
    send.add_argument("what", choices=("reminders", "digests"))
    send.add_argument("--date", type=date.fromisoformat, help="the day (default: today)")
    send.add_argument("--slot", help="reminder time HH:MM (default: the latest one passed)")
    send.add_argument(
        "--resend-failed", action="store_true",
        help="digests only: also send once more those that failed or that a crash left"
             " unfinished (reminders are sent at most once)")

    demo = sub.add_parser("demo", help="offline demonstration with a local Bot API")
    demo.add_argument("--out", type=Path, default=Path("demo-output"))
    return parser


def _now(settings: Settings) -> datetime:
    return clock_for(settings.tz, settings.rehearsal_start).now()


async def _open_db(settings: Settings):
    from db.connection import Database
    from db.wilayah import ensure_default_wilayah

    db = Database(settings.database)
    await db.open()
    await ensure_default_wilayah(db)
    return db


async def _migrate(settings: Settings) -> int:
    from db.migrations import applied_versions

    db = await _open_db(settings)
    try:
        versions = await applied_versions(db.conn)
    finally:
        await db.close()
    print(f"database {settings.database_name} is at schema version {max(versions)}")
    return 0


def _backup_progress(_status: int, remaining: int, total: int) -> None:
    """A line each tenth of a large copy (on stderr; the summary line goes to stdout)."""
    done = total - remaining
    if remaining and done * 10 // total > (done - BACKUP_STEP) * 10 // total:
        print(f"backup: {done * 100 // total}% ({done} of {total} pages)", file=sys.stderr)


BACKUP_STEP = 256  # pages copied at a time


def _missing(path: Path) -> bool:
    """Whether a SQLite database file does not exist (said on stderr)."""
    if Path(path).exists():
        return False
    print(f"database {path} does not exist", file=sys.stderr)
    return True


async def _db_backup(settings: Settings, target: Path) -> int:
    from db.connection import connect
    from db.maintenance import BackupError, backup, pg_backup

    if settings.database_url is not None:
        try:
            await pg_backup(str(settings.database), target)
        except (FileExistsError, BackupError) as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"backup of {settings.database_name} written to {target} (pg_dump custom format:"
              " restore with pg_restore)")
        return 0
    if _missing(settings.database_path):
        return 1
    conn = await connect(settings.database_path)
    try:
        await backup(conn, target, progress=_backup_progress, pages=BACKUP_STEP)
    except (FileExistsError, BackupError) as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        await conn.close()
    print(f"backup of {settings.database_path} written to {target}")
    return 0


async def _db_check(settings: Settings) -> int:
    from db.connection import connect
    from db.maintenance import check

    if settings.database_url is None and _missing(settings.database_path):
        return 1
    conn = await connect(settings.database)
    try:
        result = await check(conn)
    finally:
        await conn.close()
    print(f"database: {settings.database_name}")
    print(f"integrity: {', '.join(result.integrity)}")
    print(f"schema version: {max(result.applied, default=0)}; pending migrations: "
          f"{', '.join(map(str, result.pending)) or 'none'}")
    print("rows: " + ", ".join(f"{table} {count}" for table, count in result.counts.items()))
    return 0 if result.ok else 1


async def _db_copy(settings: Settings, url: str) -> int:
    from db.connection import Database
    from db.engine import is_postgres_url, masked
    from db.maintenance import CopyError, copy_database

    if not is_postgres_url(url):
        print("db copy --to needs a PostgreSQL URL (postgresql://user:password@host/db)",
              file=sys.stderr)
        return 2
    if _missing(settings.database_path):
        return 1
    source, target = Database(settings.database_path), Database(url)
    await source.open()
    try:
        await target.open()
        copied = await copy_database(source, target)
    except CopyError as exc:
        print(f"regsosek-bot: {exc}", file=sys.stderr)
        return 1
    finally:
        await target.close()
        await source.close()
    print(f"copied {sum(copied.values())} rows of {len(copied)} tables from"
          f" {settings.database_path} to {masked(url)}")
    return 0


async def _wilayah_import(settings: Settings, path: Path) -> int:
    from db.wilayah import WilayahError, import_wilayah

    db = await _open_db(settings)
    try:
        kecamatan, desa = await import_wilayah(db, path)
    except WilayahError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(f"{kecamatan} kecamatan, {desa} desa/kelurahan dimuat dari {path}")
    return 0


async def _roster_import(settings: Settings, path: Path, areas: Path | None) -> int:
    from bot.present.roster import import_summary
    from db.roster import RosterError, import_roster

    db = await _open_db(settings)
    try:
        result = await import_roster(db, path, areas, now=_now(settings))
    except RosterError as exc:
        print(f"Roster tidak diimpor ({len(exc.issues)} kesalahan); tidak ada yang berubah:",
              file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue}", file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(import_summary(result))
    return 0


async def _bot_username(settings: Settings) -> str:
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    from telegram import Bot
    from telegram.error import TelegramError

    bot = Bot(settings.token(), base_url=settings.telegram_api_base_url)
    try:
        async with bot:
            return bot.username
    except TelegramError:
        raise SettingsError(
            "BOT_USERNAME is not set and the Bot API could not be asked for it (getMe failed)"
        ) from None


CODE_COLUMNS = ["officer_id", "name", "role", "code", "link"]


def _code_row(officer: Officer, code: str, username: str) -> list[str]:
    return [officer.officer_id, officer.name, officer.role.value, code,
            f"https://t.me/{username}?start={code}"]


async def _roster_codes(settings: Settings) -> int:
    """The codes of the officers this bot serves (BOT_SCOPE; ADMIN rows in every bot's list:
    an admin registers in any bot), with deep links to this bot."""
    from db.bots import Scope
    from db.models import Role
    from db.officers import get_officer
    from db.registration import codes_for_unlinked

    username = await _bot_username(settings)
    scope = Scope(username, tuple(settings.bot_scope))
    db = await _open_db(settings)
    try:
        async with db.transaction() as conn:
            codes = await codes_for_unlinked(conn, _now(settings))
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CODE_COLUMNS)
        for code in codes:
            officer = await get_officer(db.conn, code.officer_id)
            assert officer is not None
            if officer.role is Role.ADMIN or scope.covers(officer.kecamatan_code):
                writer.writerow(_code_row(officer, code.code, username))
    finally:
        await db.close()
    return 0


async def _roster_unlink(settings: Settings, officer_id: str) -> int:
    """The account linked to the officer loses access at once (the bot looks the account up
    on every update); the officer gets a new code, printed as `roster codes` prints them."""
    from db.officers import unlink_telegram
    from db.registration import replace_codes

    username = await _bot_username(settings)
    db = await _open_db(settings)
    try:
        async with db.transaction() as conn:
            before = await unlink_telegram(conn, officer_id, _now(settings))
            code = None
            if before is not None and before.active:
                code = await replace_codes(conn, officer_id, _now(settings))
    finally:
        await db.close()
    if before is None:
        print(f"Petugas {officer_id} tidak ada di roster; tidak ada yang berubah.",
              file=sys.stderr)
        return 1
    if before.telegram_user_id is None:
        done = f"{before.officer_id} ({before.name}) belum terhubung ke akun Telegram"
    else:
        done = (f"Akun Telegram {before.telegram_user_id} dilepas dari {before.officer_id}"
                f" ({before.name})")
    if code is None:
        print(f"{done}. Petugas tidak aktif: tidak ada kode baru.", file=sys.stderr)
        return 0
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CODE_COLUMNS)
    writer.writerow(_code_row(before, code.code, username))
    print(f"{done}. Kode pendaftaran baru dibuat; kode lama tidak berlaku lagi.",
          file=sys.stderr)
    return 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.present.export import ExportTooLarge, write_export
    from bot.rules.forms import load_form

    db = await _open_db(settings)
    try:
        count = await write_export(db.conn, args.out, fmt=args.format, date_from=args.date_from,
                                   date_to=args.date_to, kecamatan=args.kecamatan,
                                   form=load_form(settings.form_file))
    except ExportTooLarge as exc:
        print(f"Lebih dari {exc.limit} laporan: tidak muat dalam satu lembar XLSX. Gunakan"
              " --format csv, atau batasi dengan --from/--to/--kecamatan.", file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(f"{count} laporan diekspor ke {args.out}")
    return 0


async def _send(settings: Settings, args: argparse.Namespace) -> int:
    """The same idempotent path as the scheduled jobs, from a second process if need be."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot import jobs
    from bot.app import make_sender, make_services
    from bot.present.digests import KINDS
    from db.wilayah import ensure_default_wilayah

    if args.resend_failed and args.what != "digests":
        print("regsosek-bot: --resend-failed is for digests only: a reminder is sent at most"
              " once", file=sys.stderr)
        return 2
    services = make_services(settings)
    now = services.clock.now()
    # Without --date: each officer's today, as the scheduled jobs (once per zone when the
    # zones' days differ, late in the WIB evening); with it, that day for everyone.
    runs: list[tuple[date, ZoneInfo | None]] = [(args.date, None)] if args.date else []
    if not runs:
        days = {zone: jobs.local_day(services, zone) for zone in jobs.zones(settings.tz)}
        runs = ([(next(iter(days.values())), None)] if len(set(days.values())) == 1
                else [(day, zone) for zone, day in days.items()])
    label = ", ".join(dict.fromkeys(str(day) for day, _zone in runs))
    await services.db.open()
    await ensure_default_wilayah(services.db)
    bot = Bot(settings.token(), base_url=settings.telegram_api_base_url,
              base_file_url=settings.telegram_api_base_file_url,
              request=HTTPXRequest(read_timeout=settings.telegram_read_timeout))
    try:
        async with bot:
            services.sender = make_sender(bot, settings)
            if args.what == "reminders":
                passed = [t for t in settings.reminder_times if t <= now.time()]
                at = max(passed) if passed else min(settings.reminder_times)
                slot = args.slot or at.strftime("%H:%M")
                summaries = [await jobs.send_reminders(services, day=day, slot=slot, zone=zone)
                             for day, zone in runs]
            else:
                resend = jobs.BY_HAND if args.resend_failed else None
                summaries = [await jobs.send_digests(services, day=day, roles=[role],
                                                     resend=resend, progress=_digest_progress,
                                                     zone=zone)
                             for role in KINDS for day, zone in runs]
    finally:
        await services.db.close()
    if all(s.off_day for s in summaries):
        print(f"{label} is not a working day of the period: nothing sent")
        return 0
    sent = sum(s.sent for s in summaries)
    already = sum(s.already for s in summaries)
    failed = sum(s.failed + s.unreachable for s in summaries)
    again = f" ({sum(s.resent for s in summaries)} of them again)" if args.resend_failed else ""
    print(f"{args.what} {label}: {sent} sent{again}, {already} already sent before,"
          f" {failed} not delivered")
    return 0


def _digest_progress(kind: str, officer: Officer, status: DeliveryStatus, again: bool) -> None:
    """One line on stderr per digest sent or tried (the summary line goes to stdout)."""
    print(f"{kind} {officer.officer_id} ({officer.name}): {status.value}"
          f"{' (sent once more)' if again else ''}", file=sys.stderr)


async def _check_database(settings: Settings) -> None:
    """Open (and migrate) the database once before going online: one SQLite cannot keep
    safely is refused before the bot answers anybody."""
    db = await _open_db(settings)
    await db.close()


def _run(settings: Settings) -> int:
    from telegram.error import InvalidToken, TelegramError

    from bot.logs import setup_logging
    from bot.web import serve

    token = settings.token()
    asyncio.run(_check_database(settings))
    webhook_secret = settings.webhook_secret
    setup_logging(settings.log_level, token,
                  *([webhook_secret.get_secret_value()] if webhook_secret else []),
                  fmt=settings.log_format)
    try:
        asyncio.run(serve(settings))  # stops cleanly on SIGINT / SIGTERM
    except InvalidToken:
        print("regsosek-bot: the Bot API rejected TELEGRAM_BOT_TOKEN", file=sys.stderr)
        return 2
    except TelegramError as exc:  # e.g. the Bot API cannot be reached at start-up
        reason = str(exc).replace(token, "<token>")
        print(f"regsosek-bot: cannot start: {reason} ({settings.telegram_api_base_url})",
              file=sys.stderr)
        return 2
    except OSError as exc:  # the listener's address is taken or not allowed
        listen = settings.webhook_listen if settings.webhook_mode else settings.health_listen
        print(f"regsosek-bot: cannot listen on {listen}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


STATUS_TIMEOUT = 10.0  # seconds `status` waits for the bot's answer


def _health_url(settings: Settings) -> str | None:
    address = settings.listen_address()
    if address is None:
        return None
    host, port = address
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def _fetch_health(url: str) -> dict:
    """The bot's /healthz answer, 200 or 503 alike; OSError when nobody answers."""
    try:
        with urllib.request.urlopen(url, timeout=STATUS_TIMEOUT) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as exc:
        if exc.code == 503:
            return json.load(exc)
        raise


async def _local_status(settings: Settings) -> list[str]:
    """What the database alone tells, when the running bot cannot be asked."""
    from db.connection import connect
    from db.status import read_status

    if settings.database_url is None and not Path(settings.database_path).exists():
        return [f"database: {settings.database_path} does not exist"]
    conn = await connect(settings.database)
    try:
        status = await read_status(conn)
    finally:
        await conn.close()
    return [f"database: reachable, schema version {status.schema_version}",
            f"outbox: {status.outbox_backlog} announcement messages waiting"]


def _status(settings: Settings) -> int:
    """The running bot's health summary; exit 0 when healthy, 1 otherwise."""
    from bot.health import describe

    url = _health_url(settings)
    if url is not None:
        try:
            report = _fetch_health(url)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            print(f"regsosek-bot: the bot does not answer at {url}: {reason}")
        else:
            print("\n".join(describe(report)))
            return 0 if report.get("status") == "ok" else 1
    else:
        print("regsosek-bot: no health listener in polling mode: set HEALTH_LISTEN "
              "(e.g. 127.0.0.1:8080) to ask the running bot")
    print("\n".join(asyncio.run(_local_status(settings))))
    return 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from bot.demo.run import run_demo

            return asyncio.run(run_demo(args.out))
        settings = load_settings()
        if args.command == "run":
            return _run(settings)
        if args.command == "status":
            return _status(settings)
        if args.command == "send":
            return asyncio.run(_send(settings, args))
        if args.command == "db" and args.action == "backup":
            return asyncio.run(_db_backup(settings, args.file))
        if args.command == "db" and args.action == "check":
            return asyncio.run(_db_check(settings))
        if args.command == "db" and args.action == "copy":
            return asyncio.run(_db_copy(settings, args.url))
        if args.command == "db":
            return asyncio.run(_migrate(settings))
        if args.command == "wilayah":
            return asyncio.run(_wilayah_import(settings, args.file))
        if args.command == "roster" and args.action == "import":
            return asyncio.run(_roster_import(settings, args.file, args.areas))
        if args.command == "roster" and args.action == "unlink":
            return asyncio.run(_roster_unlink(settings, args.officer_id))
        if args.command == "roster":
            return asyncio.run(_roster_codes(settings))
        return asyncio.run(_export(settings, args))
    except SettingsError as exc:
        print(f"regsosek-bot: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:  # e.g. a database on a file system without WAL: one line
        print(f"regsosek-bot: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The output went to a pipe that closed early (`roster codes | head`): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        # A file given on the command line that cannot be read or written: one line, no traceback.
        if args.command == "run" or exc.filename is None:
            raise
        print(f"regsosek-bot: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
