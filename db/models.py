"""Pydantic models returned by the repositories."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    PPL = "PPL"
    PML = "PML"
    KOSEKA = "KOSEKA"
    ADMIN = "ADMIN"


# The officer_id of an account of ADMIN_TELEGRAM_IDS that is not on the roster.
SETTINGS_ADMIN_PREFIX = "admin-"


class Officer(BaseModel):
    model_config = ConfigDict(frozen=True)

    officer_id: str
    name: str
    role: Role
    supervisor_id: str | None = None
    phone: str | None = None
    kecamatan_code: str | None = None
    desa_code: str | None = None
    active: bool = True
    telegram_user_id: int | None = None
    telegram_chat_id: int | None = None
    unreachable_at: str | None = None
    # IANA zone the officer lives in: their kecamatan's, or the roster's `timezone` column;
    # None (an admin) means the deployment's TIMEZONE.
    timezone: str | None = None

    def zone(self, default: ZoneInfo) -> ZoneInfo:
        """The officer's time zone; `default` (TIMEZONE) when the roster gives none."""
        return default if self.timezone is None else ZoneInfo(self.timezone)

    @classmethod
    def settings_admin(cls, user_id: int, name: str) -> Officer:
        return cls(officer_id=f"{SETTINGS_ADMIN_PREFIX}{user_id}", name=name, role=Role.ADMIN,
                   telegram_user_id=user_id, telegram_chat_id=user_id)

    @property
    def on_roster(self) -> bool:
        """False for an admin known only from ADMIN_TELEGRAM_IDS (no row to report under)."""
        return not self.officer_id.startswith(SETTINGS_ADMIN_PREFIX)


class Area(BaseModel):
    model_config = ConfigDict(frozen=True)

    sls_code: str
    sls_name: str
    desa_code: str
    officer_id: str
    target_households: int
    active: bool = True


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    officer_id: str
    report_date: date
    sls_code: str
    values: dict[str, int]
    progress_value: int
    note: str | None
    status: str
    late: bool
    revision: int
    created_at: str
    updated_at: str


class Kecamatan(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    timezone: str | None = None  # IANA zone of the province (None: the deployment's TIMEZONE)


class Desa(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    kecamatan_code: str
    name: str
    kind: str


# Field problems (db/problems.py)

CATEGORIES = (
    "not_home", "refusal", "access", "no_kk", "equipment", "security", "sls_changed", "other",
)
# The category that asks how many households must be visited again.
REVISIT_CATEGORY = "not_home"

OPEN = "open"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
ESCALATED = "escalated"
PROBLEM_STATUSES = (OPEN, IN_PROGRESS, RESOLVED, ESCALATED)

KOSEKA_LEVEL = "koseka"
ADMIN_LEVEL = "admin"


class ProblemModel(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    officer_id: str
    officer_name: str
    officer_role: str
    category: str
    sls_code: str | None = None
    sls_name: str | None = None
    desa_code: str | None = None
    description: str
    photo_file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    urgent: bool = False
    revisit_households: int | None = None
    status: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status != RESOLVED


class ProblemEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    problem_id: int
    status: str
    actor_id: str | None
    note: str | None
    created_at: datetime


# Progress per work area (db/progress.py)

class AreaProgress(BaseModel):
    sls_code: str
    sls_name: str
    desa_code: str
    officer_id: str
    officer_name: str
    supervisor_id: str | None
    kecamatan_code: str | None
    target: int
    done: int


class KecamatanProgress(BaseModel):
    """The active work areas of the officers of one kecamatan (None: of officers with none),
    summed."""

    kecamatan_code: str | None
    target: int
    done: int


# Announcements (db/broadcasts.py)

# The error of a recipient row that a crash left `sending` (see db/broadcasts.py).
INTERRUPTED = "interrupted"
# The error of a recipient row whose request went out but was never answered in time (a read
# timeout): it may have arrived, and is not sent again.
UNANSWERED = "unanswered"
RECIPIENT_STATUSES = ("pending", "sending", "sent", "failed", "unreachable")


class Broadcast(BaseModel):
    id: int
    sender_id: str
    sender_name: str
    sender_role: str
    sender_chat_id: int
    audience: str
    text: str
    photo_id: str | None = None
    document_id: str | None = None
    send_at: datetime
    created_at: datetime
    unlinked_count: int = 0
    report_message_id: int | None = None
    finished_at: datetime | None = None
    # Several bots (db/bots.py): the bot it was written in, and its attachment for the others.
    bot: str | None = None
    attachment_name: str | None = None
    attachment_state: str | None = None

    @property
    def has_attachment(self) -> bool:
        return self.photo_id is not None or self.document_id is not None


class Recipient(BaseModel):
    id: int
    broadcast_id: int
    officer_id: str
    chat_id: int
    status: str
    attempts: int = 0
    claim_token: str | None = None
    claimed_at: datetime | None = None
    message_id: int | None = None
    sent_at: datetime | None = None
    read_at: datetime | None = None
    error: str | None = None


class Counts(BaseModel):
    total: int = 0
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    pending: int = 0  # pending and being sent
    read: int = 0


class Unread(BaseModel):
    officer_id: str
    name: str
    status: str
