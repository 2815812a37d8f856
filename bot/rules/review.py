"""Supervisor review of reports: who may review whom, and the data of the review buttons
(their labels are `bot.present.review`, the keyboard `bot.messaging.keyboards`).

Each report of a review message has "✅ Setujui N" (`APPROVE`) and "↩️ N" (`RETURN`), whose data
name the report and the revision the supervisor read: `rv:ok:<id>:<revision>`. Buttons sent
before the revision was part of them (`rv:ok:<id>`) still work, for the current revision.
"✅ Setujui semua" (`APPROVE_ALL`) asks for a confirmation (`CONFIRM_ALL` / `CANCEL_ALL`) and
then approves every report whose row is still in that message.
"""

from __future__ import annotations

import re

from db.models import Officer, Role

APPROVE = "rv:ok"
RETURN = "rv:back"
APPROVE_ALL = "rv:all"
CONFIRM_ALL = "rv:yes"
CANCEL_ALL = "rv:no"

_TARGET = re.compile(r"rv:(?:ok|back):([0-9]{1,18})(?::([0-9]{1,9}))?")


def button_data(action: str, report_id: int, revision: int) -> str:
    return f"{action}:{report_id}:{revision}"


def review_target(data: str) -> tuple[int, int | None] | None:
    """The report id and revision of an approve or return button (revision None for a button
    of the older form); None for data that is not one (forged or altered)."""
    match = _TARGET.fullmatch(data)
    if match is None:
        return None
    revision = match.group(2)
    return int(match.group(1)), int(revision) if revision is not None else None


def may_review(reviewer: Officer, reporter: Officer, reporter_pml: Officer | None) -> bool:
    """The reporter's own PML, the KOSEKA above that PML, or an admin."""
    if reviewer.role == Role.ADMIN:
        return True
    if reviewer.role == Role.PML:
        return reporter.supervisor_id == reviewer.officer_id
    if reviewer.role == Role.KOSEKA:
        return reporter_pml is not None and reporter_pml.supervisor_id == reviewer.officer_id
    return False
