"""Who may announce to whom: a pure function of the roster, never of what the client sends.

An audience is a short string kept in the draft and in the `broadcasts` table:

| audience       | who may choose it | recipients                                           |
| -------------- | ----------------- | ---------------------------------------------------- |
| `all`          | admin             | every active officer                                 |
| `role:PPL` ... | admin             | every active officer of that role (PPL, PML, KOSEKA)  |
| `kec:<code>`   | admin             | every active PPL, PML and KOSEKA of that kecamatan   |
| `subtree`      | KOSEKA            | everyone below them (their PML and those PML's PPL)  |
| `subtree_pml`  | KOSEKA            | only the PML below them                              |
| `team`         | PML               | their PPL                                            |

PPL cannot announce. The sender is never one of their own recipients. Officers without a
Telegram link cannot receive anything: they are counted as "belum terdaftar".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from db.models import Officer, Role

ALL = "all"
ROLE_PREFIX = "role:"
KECAMATAN_PREFIX = "kec:"
KECAMATAN_CHOICE = "kec"  # the admin's button that opens the list of kecamatan
SUBTREE = "subtree"
SUBTREE_PML = "subtree_pml"
TEAM = "team"
ROLES_FOR_ADMIN = (Role.PPL, Role.PML, Role.KOSEKA)
SENDER_ROLES = (Role.PML, Role.KOSEKA, Role.ADMIN)


@dataclass(frozen=True)
class Audience:
    audience: str
    recipients: tuple[Officer, ...]  # active and linked to Telegram
    unlinked: tuple[Officer, ...]  # active, no Telegram link yet ("belum terdaftar")


def may_broadcast(sender: Officer) -> bool:
    return sender.role in SENDER_ROLES


def choices_for(sender: Officer) -> list[str]:
    """The audience buttons of the first question, in order."""
    if sender.role == Role.ADMIN:
        return [ALL, *(f"{ROLE_PREFIX}{r.value}" for r in ROLES_FOR_ADMIN), KECAMATAN_CHOICE]
    if sender.role == Role.KOSEKA:
        return [SUBTREE, SUBTREE_PML]
    if sender.role == Role.PML:
        return [TEAM]
    return []


def is_allowed(sender: Officer, audience: str, kecamatan_codes: Collection[str]) -> bool:
    """Whether `sender` may send to `audience` (kecamatan codes from the wilayah table)."""
    if sender.role == Role.ADMIN:
        if audience == ALL:
            return True
        if audience.startswith(ROLE_PREFIX):
            return audience.removeprefix(ROLE_PREFIX) in {r.value for r in ROLES_FOR_ADMIN}
        if audience.startswith(KECAMATAN_PREFIX):
            return audience.removeprefix(KECAMATAN_PREFIX) in kecamatan_codes
        return False
    return audience != KECAMATAN_CHOICE and audience in choices_for(sender)


def below(officer_id: str, roster: Iterable[Officer]) -> list[Officer]:
    """Everyone under `officer_id` in the supervision tree, inactive ones included."""
    children: dict[str, list[Officer]] = {}
    for officer in roster:
        if officer.supervisor_id is not None:
            children.setdefault(officer.supervisor_id, []).append(officer)
    found: list[Officer] = []
    seen = {officer_id}
    stack = [officer_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child.officer_id not in seen:  # a cycle in a bad roster must not loop forever
                seen.add(child.officer_id)
                found.append(child)
                stack.append(child.officer_id)
    return found


def _members(sender: Officer, audience: str, roster: list[Officer]) -> list[Officer]:
    if audience == ALL:
        return roster
    if audience.startswith(ROLE_PREFIX):
        role = audience.removeprefix(ROLE_PREFIX)
        return [o for o in roster if o.role.value == role]
    if audience.startswith(KECAMATAN_PREFIX):
        code = audience.removeprefix(KECAMATAN_PREFIX)
        return [o for o in roster if o.role != Role.ADMIN and o.kecamatan_code == code]
    team = below(sender.officer_id, roster)
    if audience == SUBTREE_PML:
        return [o for o in team if o.role == Role.PML]
    if audience == TEAM:
        return [o for o in team if o.role == Role.PPL]
    return team  # SUBTREE


def resolve(
    sender: Officer, audience: str, roster: list[Officer], kecamatan_codes: Collection[str]
) -> Audience | None:
    """The recipients of `audience` for `sender`, or None when the sender may not use it."""
    if not may_broadcast(sender) or not is_allowed(sender, audience, kecamatan_codes):
        return None
    members = sorted(
        (o for o in _members(sender, audience, roster)
         if o.active and o.officer_id != sender.officer_id),
        key=lambda o: o.officer_id,
    )
    return Audience(
        audience=audience,
        recipients=tuple(o for o in members if o.telegram_chat_id is not None),
        unlinked=tuple(o for o in members if o.telegram_chat_id is None),
    )
