"""The bot's health, as `/healthz` answers it and `python -m bot status` prints it.

Unhealthy (HTTP 503) when the database cannot be read, or when no Bot API call has succeeded
for `HEALTH_STALE_SECONDS`; everything else is information for the operator: the schema
version, the last Bot API error, how long ago the last update was handled, the announcements
waiting and the next scheduled job. Nothing personal: no name, chat or text.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from importlib import metadata
from typing import Any

from telegram.ext import Application

from bot.messaging.services import SERVICES_KEY, Services
from db.status import read_status

DB_TIMEOUT = 5.0  # seconds a health check waits for the database before calling it unreachable


def _version() -> str:
    try:
        return metadata.version("regsosek-bot")
    except metadata.PackageNotFoundError:
        return "unknown"


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


async def database_report(services: Services) -> dict[str, Any]:
    """Reachable, schema version and outbox backlog; a failure counts as a database error."""
    try:
        async with asyncio.timeout(DB_TIMEOUT):
            status = await read_status(services.db.conn)
    except Exception as exc:
        services.metrics.db_error(exc)
        return {"reachable": False, "error": type(exc).__name__}
    services.metrics.outbox_backlog.set(status.outbox_backlog)
    return {"reachable": True, "schema_version": status.schema_version,
            "outbox_backlog": status.outbox_backlog}


def next_job(app: Application, services: Services) -> dict[str, Any] | None:
    """The scheduled job that runs next: its name (reminder-16:00, digest-pml, ...) and time,
    in the deployment's time zone."""
    queue = app.job_queue
    if queue is None:
        return None
    upcoming = [(job.next_t, job.name) for job in queue.jobs() if job.next_t is not None]
    if not upcoming:
        return None
    at, name = min(upcoming, key=lambda item: item[0])
    return {"name": name, "at": at.astimezone(services.settings.tz).isoformat()}


async def health_report(app: Application, *, mode: str) -> tuple[bool, dict[str, Any]]:
    """(healthy, the report as JSON-ready data) for the running application `app`."""
    services: Services = app.bot_data[SERVICES_KEY]
    metrics, settings = services.metrics, services.settings
    database = await database_report(services)
    api_age = metrics.api_success_age_seconds()
    stale = api_age > settings.health_stale_seconds
    problems = []
    if not database["reachable"]:
        problems.append("database unreachable")
    if stale:
        problems.append(f"no Bot API call succeeded for {round(api_age)} s "
                        f"(HEALTH_STALE_SECONDS={settings.health_stale_seconds:g})")
    error = metrics.last_api_error
    healthy = not problems
    metrics.healthy.set(1 if healthy else 0)
    metrics.api_success_age.set(api_age)
    report = {
        "status": "ok" if healthy else "unhealthy",
        "problems": problems,
        "mode": mode,
        "version": _version(),
        "time": services.clock.now().isoformat(),
        "database": database,
        "bot_api": {
            "last_success_seconds_ago": _seconds(metrics.age(metrics.last_api_success)),
            "last_error": None if error is None else {
                "method": error.method, "result": error.result,
                "description": error.description,
                "seconds_ago": _seconds(metrics.age(error.at)),
            },
        },
        "updates": {
            "handled": metrics.updates_handled,
            "last_handled_seconds_ago": _seconds(metrics.age(metrics.last_update)),
        },
        "outbox": {"backlog": database.get("outbox_backlog")},
        "next_job": next_job(app, services),
    }
    return healthy, report


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def describe(report: dict[str, Any]) -> list[str]:
    """The report as lines for an operator (`python -m bot status`)."""
    lines = [f"regsosek-bot {report.get('version', '')}: "
             f"{'healthy' if report.get('status') == 'ok' else 'UNHEALTHY'}"
             f" ({report.get('mode', '?')} mode)"]
    lines += [f"  problem: {problem}" for problem in report.get("problems", [])]
    database = report.get("database") or {}
    if database.get("reachable"):
        lines.append(f"database: reachable, schema version {database.get('schema_version')}")
    else:
        lines.append(f"database: UNREACHABLE ({database.get('error', 'unknown error')})")
    api = report.get("bot_api") or {}
    line = f"Bot API: last success {_ago(api.get('last_success_seconds_ago'))}"
    error = api.get("last_error")
    if error:
        line += (f"; last error {_ago(error.get('seconds_ago'))}: {error.get('method')} "
                 f"{error.get('result')} {error.get('description') or ''}".rstrip())
    lines.append(line)
    updates = report.get("updates") or {}
    lines.append(f"updates: {updates.get('handled', 0)} handled, the last "
                 f"{_ago(updates.get('last_handled_seconds_ago'))}")
    backlog = (report.get("outbox") or {}).get("backlog")
    lines.append(f"outbox: {'unknown' if backlog is None else backlog} announcement messages "
                 "waiting")
    webhook = report.get("webhook")
    if webhook:
        line = f"Telegram: {webhook.get('pending_update_count', 0)} updates waiting for the webhook"
        if webhook.get("last_error_message"):
            line += (f"; its last delivery error ({webhook.get('last_error_date')}): "
                     f"{webhook['last_error_message']}")
        lines.append(line)
    job = report.get("next_job")
    if job:
        at = datetime.fromisoformat(job["at"])
        lines.append(f"next job: {job['name']} at {at:%Y-%m-%d %H:%M %Z}".rstrip())
    else:
        lines.append("next job: none scheduled")
    return lines
