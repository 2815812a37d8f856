"""A fieldwork week walked through with the injected clock, over the local Bot API:
reminders go only to those who have not reported, and every supervisor gets exactly one
digest per day, even when the bot restarts in the middle of the week."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from bot import jobs
from bot.app import services_of
from tests.support import Harness, at, report_today

FIRST_DAY = date(2022, 10, 17)
# Who reports on which day of the week (index 0 = Monday 17 Oct).
REPORTS = {
    "P1": {0, 1, 2, 3, 4, 5, 6},
    "P2": {0, 2, 4, 6},
    "P3": {1, 2, 3},
}


def text_of(message) -> str:
    return message.text or ""


# SQLite only: a long scenario whose statements the repository and end-to-end tests already
# run on PostgreSQL; twice it would cost the suite its budget.
@pytest.mark.parametrize("engine", ["sqlite"])
async def test_a_week_of_reminders_and_digests_with_a_restart(harness: Harness) -> None:
    users = {oid: await harness.register(oid, uid)
             for oid, uid in (("P1", 501), ("P2", 502), ("P3", 503))}
    supervisors = {oid: await harness.register(oid, uid)
                   for oid, uid in (("M1", 601), ("M2", 602), ("K1", 701))}
    admin = harness.api.user(9001, "Admin")
    await admin.send("/start")
    await admin.wait_for(lambda m: "Selamat datang" in text_of(m))

    expected_reminders: Counter[str] = Counter()
    for index in range(7):
        day = FIRST_DAY + timedelta(days=index)
        if index == 3:
            await harness.restart()  # Thursday: the bot restarts before the evening
        services = services_of(harness.app)
        harness.clock.set(at(day.day, 15))
        for oid, days in REPORTS.items():
            if index in days and oid != "P3":
                await report_today(users[oid], f"{5 + index} {6 + index} {20 + index}")
        harness.clock.set(at(day.day, 16))
        early = await jobs.send_reminders(services, day=day, slot="16:00")
        assert sorted(early.recipients) == sorted(
            oid for oid, days in REPORTS.items() if index not in days or oid == "P3")
        if index in REPORTS["P3"]:  # P3 reports between the two reminders
            await report_today(users["P3"], "4 4 16")
        harness.clock.set(at(day.day, 19))
        late = await jobs.send_reminders(services, day=day, slot="19:00")
        assert sorted(late.recipients) == sorted(
            oid for oid, days in REPORTS.items() if index not in days)
        for oid in early.recipients + late.recipients:
            expected_reminders[oid] += 1
        for clock_time, role in (((20, 30), "PML"), ((21, 0), "KOSEKA"), ((21, 30), "ADMIN")):
            harness.clock.set(at(day.day, *clock_time))
            [slot] = [s for s in jobs.slots(services)  # the slot of TIMEZONE (WIB)
                      if s.role and s.role.value == role and s.zone == services.settings.tz]
            await jobs.run_slot(services, slot, day)
            again = await jobs.run_slot(services, slot, day)  # the job fired twice
            assert again.sent == 0
        if index == 3:  # and once more after a restart at 21:45: nothing new
            await harness.restart()
            assert all(s.sent == 0 for s in await jobs.catch_up(services_of(harness.app)))

    for oid, user in users.items():
        got = [m for m in harness.api.messages_to(user.chat_id) if "belum masuk" in text_of(m)]
        assert len(got) == expected_reminders[oid], oid
    assert expected_reminders["P1"] == 0
    for name, user in (*supervisors.items(), ("admin", admin)):
        headers = [m for m in harness.api.messages_to(user.chat_id)
                   if text_of(m).startswith("Ringkasan harian")]
        days = Counter(next(line for line in text_of(m).splitlines()[1:2]) for m in headers)
        assert len(headers) == 7 and all(n == 1 for n in days.values()), (name, days)
    # The team digest of Sunday: P2 reported, P1 reported, and M2's P3 is not in it.
    sunday = [m for m in harness.api.messages_to(601)
              if text_of(m).startswith("Ringkasan harian")][-1]
    assert "Minggu, 23 Okt 2022" in sunday.text
    assert "Putri PPL" in sunday.text and "Panji PPL" in sunday.text
    assert "Prabu PPL" not in sunday.text
