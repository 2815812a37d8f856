"""Pydantic models returned by the repositories."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

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


class Desa(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    kecamatan_code: str
    name: str
    kind: str
