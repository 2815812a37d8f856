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
