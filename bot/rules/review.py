"""Supervisor review of reports: who may review whom, and the data of the Setujui / Kembalikan
buttons (their labels are `bot.present.review`, the keyboard `bot.messaging.keyboards`)."""

from __future__ import annotations

from db.models import Officer, Role

APPROVE = "rv:ok"
RETURN = "rv:back"


def may_review(reviewer: Officer, reporter: Officer, reporter_pml: Officer | None) -> bool:
    """The reporter's own PML, the KOSEKA above that PML, or an admin."""
    if reviewer.role == Role.ADMIN:
        return True
    if reviewer.role == Role.PML:
        return reporter.supervisor_id == reviewer.officer_id
    if reviewer.role == Role.KOSEKA:
        return reporter_pml is not None and reporter_pml.supervisor_id == reviewer.officer_id
    return False
