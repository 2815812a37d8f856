"""Field problems without Telegram (rules, repository) and the escalation job with the
injected clock against the local Bot API."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import services_of
from bot.messaging import keyboards, problem_alerts
from bot.present import problems as problem_view
from bot.present.texts import Texts
from bot.rules import problems as rules
from bot.rules.forms import FormDefinition, load_form
from db import models
from db import problems as repo
from db.connection import Database
from db.models import Officer, Role
from tests.support import (
    ADMIN_TELEGRAM_ID,
    Harness,
    add_problem,
    at,
    escalations_to,
    load_roster,
    make_settings,
)

ADMIN = Officer(officer_id="A1", name="Admin", role=Role.ADMIN)
KOSEKA = Officer(officer_id="K1", name="Kartini", role=Role.KOSEKA)
OTHER_KOSEKA = Officer(officer_id="K2", name="Kasim", role=Role.KOSEKA)
PML = Officer(officer_id="M1", name="Mahmud", role=Role.PML, supervisor_id="K1")
OTHER_PML = Officer(officer_id="M2", name="Maryam", role=Role.PML, supervisor_id="K1")
PPL = Officer(officer_id="P1", name="Putri", role=Role.PPL, supervisor_id="M1")
OTHER_PPL = Officer(officer_id="P2", name="Panji", role=Role.PPL, supervisor_id="M1")
T = Texts("id")


def problem(**overrides: object) -> models.ProblemModel:
    values: dict[str, object] = {
        "id": 7, "officer_id": "P1", "officer_name": "Putri", "officer_role": "PPL",
        "category": "not_home", "sls_code": "1410012005001", "sls_name": "RT 001 Banglas",
        "description": "Rumah kosong", "status": "open", "created_at": at(17),
        "updated_at": at(17),
    }
    values.update(overrides)
    return models.ProblemModel(**values)


# --- rules -----------------------------------------------------------------------------------


def test_chain_is_the_direct_pml_and_the_koseka_above() -> None:
    assert rules.chain_from([PML, KOSEKA]) == rules.Chain(pml=PML, koseka=KOSEKA)
    assert rules.chain_from([KOSEKA]) == rules.Chain(pml=None, koseka=KOSEKA)  # a PML reports
    assert rules.chain_from([]) == rules.Chain(pml=None, koseka=None)


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [(PML, True), (KOSEKA, True), (ADMIN, True), (OTHER_PML, False), (OTHER_KOSEKA, False),
     (PPL, False), (OTHER_PPL, False)],
)
def test_who_may_change_a_status(actor: Officer, allowed: bool) -> None:
    assert rules.may_change_status(actor, rules.Chain(pml=PML, koseka=KOSEKA)) is allowed


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [(PML, True), (KOSEKA, False), (ADMIN, False), (OTHER_PML, False), (PPL, False)],
)
def test_only_the_pml_forwards_to_the_koseka(actor: Officer, allowed: bool) -> None:
    chain = rules.Chain(pml=PML, koseka=KOSEKA)
    assert rules.may_press(actor, chain, rules.FORWARD) is allowed
    assert rules.may_press(actor, chain, rules.RESOLVE) is rules.may_change_status(actor, chain)


def test_alert_recipients() -> None:
    chain = rules.Chain(pml=PML, koseka=KOSEKA)
    assert rules.alert_recipients(PPL, chain, [ADMIN], urgent=False) == [PML]
    assert rules.alert_recipients(PPL, chain, [ADMIN], urgent=True) == [PML, KOSEKA]
    pml_chain = rules.Chain(pml=None, koseka=KOSEKA)
    assert rules.alert_recipients(PML, pml_chain, [ADMIN], urgent=True) == [KOSEKA]
    top = rules.Chain(pml=None, koseka=None)
    assert rules.alert_recipients(KOSEKA, top, [ADMIN], urgent=False) == [ADMIN]
    assert rules.alert_recipients(ADMIN, top, [ADMIN], urgent=False) == []  # never the reporter
    assert rules.forward_recipients(PML, chain, [ADMIN]) == [KOSEKA]
    assert rules.forward_recipients(KOSEKA, chain, [ADMIN]) == []
    assert rules.escalation_recipients("koseka", chain, [ADMIN]) == [KOSEKA]
    assert rules.escalation_recipients("admin", chain, [ADMIN, ADMIN]) == [ADMIN]


def test_next_status() -> None:
    assert rules.next_status("open", rules.TAKE) == "in_progress"
    assert rules.next_status("in_progress", rules.TAKE) is None
    assert rules.next_status("escalated", rules.TAKE) == "in_progress"
    assert rules.next_status("in_progress", rules.RESOLVE) == "resolved"
    assert rules.next_status("open", rules.FORWARD) == "escalated"
    assert rules.next_status("escalated", rules.FORWARD) is None
    assert rules.next_status("open", rules.VISITED) == "resolved"


def test_escalation_is_due_after_the_hours_then_twice_that() -> None:
    item = problem()
    assert rules.due_levels(item, at(18, 17, 59), 24, set()) == []
    assert rules.due_levels(item, at(18, 18), 24, set()) == ["koseka"]
    assert rules.due_levels(item, at(19, 17, 59), 24, {"koseka"}) == []
    assert rules.due_levels(item, at(19, 18), 24, {"koseka"}) == ["admin"]
    assert rules.due_levels(item, at(20), 24, set()) == ["koseka", "admin"]  # bot was down
    assert rules.due_levels(item, at(20), 24, {"koseka", "admin"}) == []
    assert rules.due_levels(problem(status="resolved"), at(25), 24, set()) == []
    assert rules.due_levels(item, at(17, 19, 30), 1.5, set()) == ["koseka"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ab", "problem_description_short"), ("  ab  ", "problem_description_short"),
     ("abc", None), ("x" * 1000, None), ("x" * 1001, "problem_description_long")],
)
def test_description_length(text: str, expected: str | None) -> None:
    refused = rules.check_description(text)
    assert (refused[0] if refused else None) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), (" 12 ", 12), ("200", 200), ("201", None), ("-1", None), ("dua", None),
     ("3,5", None), ("1.2", None), ("", None), ("٣", None)],
)
def test_parse_revisit(text: str, expected: int | None) -> None:
    assert rules.parse_revisit(text) == expected


def test_status_buttons_follow_the_status() -> None:
    def labels(item, **kwargs) -> list[str]:
        markup = keyboards.status_markup(item, T, **kwargs)
        return [b.text for row in markup.inline_keyboard for b in row] if markup else []

    assert labels(problem()) == ["🛠 Ditangani", "✅ Selesai", "↗️ Teruskan ke KOSEKA"]
    assert labels(problem(status="in_progress")) == ["✅ Selesai", "↗️ Teruskan ke KOSEKA"]
    assert labels(problem(status="escalated")) == ["🛠 Ditangani", "✅ Selesai"]
    assert labels(problem(), forward=False) == ["🛠 Ditangani", "✅ Selesai"]
    assert labels(problem(status="resolved")) == []
    data = keyboards.status_markup(problem(), T).inline_keyboard[0][1].callback_data
    assert rules.parse_callback(data) == ("done", 7)
    assert rules.parse_callback("kd:done:x") is None and rules.parse_callback("kd:nope:1") is None


def test_visited_buttons_only_for_open_problems_with_households() -> None:
    items = [problem(id=1, revisit_households=3), problem(id=2, revisit_households=0),
             problem(id=3, revisit_households=2, status="resolved"), problem(id=4),
             problem(id=5, revisit_households=2, category="access")]
    markup = keyboards.visited_markup(items, T)
    assert markup is not None
    assert [row[0].callback_data for row in markup.inline_keyboard] == ["kd:visit:1"]
    assert keyboards.visited_markup(items[1:], T) is None



@pytest.mark.parametrize(
    ("actor", "item", "expected"),
    [(PPL, problem(revisit_households=3), None),
     (OTHER_PPL, problem(revisit_households=3), "not_allowed"),  # not the reporter
     (PML, problem(revisit_households=3), "not_allowed"),
     (PPL, problem(revisit_households=3, category="access"), "not_allowed"),
     (PPL, problem(revisit_households=3, category="refusal"), "not_allowed"),
     (PPL, problem(revisit_households=0), "stale_button"),
     (PPL, problem(), "stale_button"),  # no count at all
     (PPL, problem(revisit_households=3, status="resolved"), "stale_button")],
)
def test_only_the_reporter_marks_households_of_a_not_at_home_problem_visited(
    actor: Officer, item: models.ProblemModel, expected: str | None
) -> None:
    assert rules.visited_refusal(actor, item) == expected
    if actor is PPL:  # the reporter: refused exactly when there is nothing of hers to revisit
        assert rules.has_revisit(item) is (expected is None)

def test_problems_section_escapes_and_lists_oldest_first() -> None:
    items = [
        problem(id=1, officer_name="Ani <b>& Budi</b>", urgent=True),
        problem(id=2, sls_code=None, sls_name=None, status="in_progress", category="access",
                created_at=at(18), updated_at=at(18)),
    ]
    text = problem_view.problems_section(items, T, "id")
    lines = text.split("\n")
    assert lines[0] == "<b>Kendala terbuka (2)</b>"
    assert lines[1] == ("• #1 Sen, 17 Okt · Ani &lt;b&gt;&amp; Budi&lt;/b&gt; · "
                        "Responden tidak di rumah · RT 001 Banglas (1410012005001) · Baru"
                        " 🚨 <b>MENDESAK</b>")
    assert lines[2] == (
        "• #2 Sel, 18 Okt · Putri · Akses/geografis/cuaca · Lainnya/umum · Ditangani")
    assert problem_view.problems_section([], T, "id") == "Kendala terbuka: tidak ada."
    english = problem_view.problems_section(items[1:], Texts("en"), "en")
    assert "Tue, 18 Oct" in english and "Being handled" in english


def test_problems_section_lists_urgent_problems_first() -> None:
    items = [
        problem(id=1, created_at=at(15), updated_at=at(15)),
        problem(id=2, urgent=True, created_at=at(16), updated_at=at(16)),
        problem(id=3, created_at=at(16), updated_at=at(16)),
        problem(id=4, urgent=True, created_at=at(17), updated_at=at(17)),
    ]
    lines = problem_view.problems_section(items, T, "id").split("\n")[1:]
    assert [line.split()[1] for line in lines] == ["#2", "#4", "#1", "#3"]
    assert all("MENDESAK" in line for line in lines[:2])
    assert not any("MENDESAK" in line for line in lines[2:])


def test_details_escape_the_description() -> None:
    text = problem_view.details(problem(description="<i>x</i> & y", photo_file_id="AgAD",
                                 latitude=1.0, longitude=102.0, revisit_households=5),
                         T, unit="ruta", with_reporter=True)
    assert "Uraian: &lt;i&gt;x&lt;/i&gt; &amp; y" in text
    assert "Pelapor: Putri (PPL)" in text and "Lampiran: foto, lokasi" in text
    assert "Ruta perlu dikunjungi ulang: 5" in text
    assert "Dilaporkan: Sen, 17 Okt pukul 18.00 WIB" in text  # the time carries its zone


def test_the_time_of_a_problem_is_shown_in_the_zone_given() -> None:
    reported = problem(created_at=at(17).astimezone(ZoneInfo("UTC")))  # as a database may return it
    text = problem_view.item(reported, T, "🔔", unit="ruta", tz=ZoneInfo("Asia/Jakarta"))
    assert "Dilaporkan: Sen, 17 Okt pukul 18.00 WIB" in text
    text = problem_view.item(reported, T, "🔔", unit="ruta", tz=ZoneInfo("Asia/Makassar"))
    assert "Dilaporkan: Sen, 17 Okt pukul 19.00 WITA" in text
    english = problem_view.item(reported, Texts("en"), "🔔", unit="households",
                                tz=ZoneInfo("Asia/Jakarta"))
    assert "Mon, 17 Oct at 18:00 WIB" in english


def test_households_to_visit_again_are_counted_in_the_unit_of_the_progress_field() -> None:
    form = FormDefinition.model_validate({**load_form(None).model_dump(),
                                          "progress_field": "families"})
    unit = problem_view.revisit_unit(form, "id")
    assert unit == "keluarga"
    text = problem_view.details(problem(revisit_households=4), T, unit=unit)
    assert "Keluarga perlu dikunjungi ulang: 4" in text and "Ruta" not in text
    english = problem_view.details(problem(revisit_households=4), Texts("en"),
                                   unit=problem_view.revisit_unit(form, "en"))
    assert "Families to visit again: 4" in english


def test_an_alert_says_how_urgent_and_puts_the_description_second() -> None:
    normal = problem_view.item(problem(), T, problem_view.alert_headline(problem(), T),
                               unit="ruta").split("\n")
    assert normal[0] == "🔔 <b>Kendala baru #7</b>"
    assert normal[1] == "Uraian: Rumah kosong"
    assert normal.count("Uraian: Rumah kosong") == 1 and "🚨" not in "\n".join(normal)
    urgent = problem(urgent=True)
    lines = problem_view.item(urgent, T, problem_view.alert_headline(urgent, T),
                              unit="ruta").split("\n")
    assert lines[0].startswith("🚨 ") and "MENDESAK" in lines[0] and "🔔" not in lines[0]
    assert lines[1] == "Uraian: Rumah kosong"


# --- repository ------------------------------------------------------------------------------


@pytest.fixture
async def db(tmp_path: Path, database: Path | str):
    await load_roster(database, at(15), tmp_path)
    opened = Database(database)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def test_create_and_change_status_keeps_the_history(db: Database) -> None:
    created = await add_problem(db, sls_code="1410012005001", desa_code="14.10.01.2005",
                        revisit_households=3, urgent=True, photo_file_id="AgAD", latitude=1.0,
                        longitude=102.5)
    assert (created.id, created.status, created.sls_name, created.officer_name) == (
        1, "open", "RT 001 Banglas", "Putri PPL")
    assert created.urgent and created.revisit_households == 3 and created.created_at == at(17)
    async with db.transaction() as conn:
        await repo.set_status(conn, 1, "in_progress", actor_id="M1", now=at(17, 19))
        resolved = await repo.set_status(conn, 1, "resolved", actor_id="K1", now=at(17, 20))
    assert resolved.status == "resolved" and resolved.resolved_at == at(17, 20)
    history = await repo.events(db.conn, 1)
    assert [(e.status, e.actor_id, e.created_at) for e in history] == [
        ("open", "P1", at(17)), ("in_progress", "M1", at(17, 19)), ("resolved", "K1", at(17, 20))]
    async with db.transaction() as conn:
        with pytest.raises(ValueError):
            await repo.set_status(conn, 1, "closed", actor_id="M1", now=at(17, 21))


async def test_a_problem_must_belong_to_a_roster_officer(db: Database) -> None:
    from db.engine import DATABASE_ERRORS

    with pytest.raises(DATABASE_ERRORS):
        await add_problem(db, "NOBODY")
    assert await repo.open_problems(db.conn, None) == []


async def test_open_problems_are_scoped_and_oldest_first(db: Database) -> None:
    await add_problem(db, "P3", hours=2)
    await add_problem(db, "P1", hours=1)
    await add_problem(db, "P2", hours=3)
    await add_problem(db, "P1", hours=0)
    async with db.transaction() as conn:
        await repo.set_status(conn, 3, "resolved", actor_id="M1", now=at(18))
        await repo.set_status(conn, 2, "escalated", actor_id="M1", now=at(18))
    assert [p.id for p in await repo.open_problems(db.conn, None)] == [4, 2, 1]
    assert [p.id for p in await repo.open_problems(db.conn, ["P1", "P2"])] == [4, 2]
    assert await repo.open_problems(db.conn, []) == []
    assert [p.id for p in await repo.problems_of(db.conn, "P1")] == [2, 4]  # newest first
    assert [p.id for p in await repo.problems_of(db.conn, "P1", limit=1)] == [2]


async def test_revisit_households_counts_unresolved_problems_only(db: Database) -> None:
    await add_problem(db, revisit_households=3)
    await add_problem(db, revisit_households=4)
    await add_problem(db, category="access")  # no households to revisit
    await add_problem(db, "P2", revisit_households=9)
    assert await repo.revisit_households(db.conn, "P1") == 7
    async with db.transaction() as conn:
        await repo.set_status(conn, 1, "resolved", actor_id="M1", now=at(18))
        await repo.clear_revisit(conn, 2, at(18))
    assert await repo.revisit_households(db.conn, "P1") == 0
    assert (await repo.get_problem(db.conn, 2)).revisit_households == 0
    assert (await repo.get_problem(db.conn, 3)).revisit_households is None
    assert await repo.revisit_households(db.conn, "P3") == 0


async def test_escalation_is_claimed_once_and_the_chain_goes_up(db: Database) -> None:
    await add_problem(db)
    async with db.transaction() as conn:
        assert await repo.claim_escalation(conn, 1, "koseka", at(18), "auto") is True
        assert await repo.claim_escalation(conn, 1, "koseka", at(19), "auto") is False
    assert await repo.escalation_levels(db.conn, [1]) == {1: {"koseka"}}
    chain = await repo.supervisor_chain(db.conn, "P1")
    assert [o.officer_id for o in chain] == ["M1", "K1"]
    assert rules.chain_from(chain) == rules.Chain(pml=chain[0], koseka=chain[1])
    assert [o.officer_id for o in await repo.supervisor_chain(db.conn, "M2")] == ["K1"]
    assert await repo.supervisor_chain(db.conn, "K1") == []


# --- escalation with the injected clock ------------------------------------------------------


async def test_escalation_fires_once_per_level_across_runs_and_restarts(harness: Harness) -> None:
    await harness.register("P1", 501)
    await harness.register("M1", 601)
    await harness.register("K1", 701)
    await harness.register("A1", 801)
    harness.api.user(ADMIN_TELEGRAM_ID)  # the admin by setting has a chat too
    await add_problem(harness.db, description="Air pasang <tinggi>")
    taken = await add_problem(harness.db, hours=1)
    done = await add_problem(harness.db)
    async with harness.db.transaction() as conn:
        await repo.set_status(conn, taken.id, "in_progress", actor_id="M1", now=at(17, 20))
        await repo.set_status(conn, done.id, "resolved", actor_id="M1", now=at(17, 20))

    def run():
        return problem_alerts.escalate_problems(services_of(harness.app))

    harness.clock.set(at(18, 17, 59))
    assert await run() == 0
    harness.clock.set(at(18, 18))  # 24 h: the open one goes to the KOSEKA
    assert await run() == 1
    [first] = escalations_to(harness, 701)
    assert "Kendala #1 belum selesai setelah 24 jam" in first.text
    assert "Air pasang <tinggi>" in first.text
    assert "Dilaporkan: Sen, 17 Okt pukul 18.00 WIB" in first.text  # the time with its zone
    assert [b.text for b in first.buttons()] == ["🛠 Ditangani", "✅ Selesai"]
    assert escalations_to(harness, 801) == [] and escalations_to(harness, 601) == []
    assert await run() == 0

    await harness.restart()
    harness.clock.set(at(18, 19))  # the one in progress is still not resolved
    assert await run() == 1
    assert await run() == 0
    assert [m.text.split("\n")[0] for m in escalations_to(harness, 701)] == [
        "⏰ Kendala #1 belum selesai setelah 24 jam",
        "⏰ Kendala #2 belum selesai setelah 24 jam",
    ]

    harness.clock.set(at(19, 18))  # 48 h: the admins, on the roster and by setting
    assert await run() == 1
    assert len(escalations_to(harness, 801)) == 1
    [by_setting] = escalations_to(harness, ADMIN_TELEGRAM_ID)
    assert "Kendala #1 belum selesai setelah 48 jam" in by_setting.text
    await harness.restart()
    harness.clock.set(at(25))
    assert await run() == 1  # only #2 at its 48 h; #1 and #3 never again
    assert await run() == 0
    assert len(escalations_to(harness, 701)) == 2
    assert len(escalations_to(harness, 801)) == 2
    assert await harness.scalar("SELECT COUNT(*) FROM problem_escalations") == 4
    assert await harness.scalar(
        "SELECT COUNT(*) FROM problem_escalations WHERE problem_id = ?", done.id) == 0
    assert await harness.scalar("SELECT status FROM problems WHERE id = 2") == "in_progress"


async def test_escalation_hours_come_from_settings(api, tmp_path, clock) -> None:
    settings = make_settings(tmp_path, api, problem_escalate_hours=2)
    assert make_settings(tmp_path).problem_escalate_hours == 24
    codes = await load_roster(settings.database_path, clock.now(), tmp_path)
    harness = Harness(api, settings, clock, codes)
    await harness.start()
    try:
        await harness.register("K1", 701)
        await add_problem(harness.db)
        clock.set(at(17, 20))
        assert await problem_alerts.escalate_problems(services_of(harness.app)) == 1
        assert "setelah 2 jam" in escalations_to(harness, 701)[0].text
    finally:
        await harness.stop()


async def test_escalation_job_is_scheduled_once_every_ten_minutes(api, tmp_path, clock) -> None:
    settings = make_settings(tmp_path, api, schedule_jobs=True)
    codes = await load_roster(settings.database_path, clock.now(), tmp_path)
    harness = Harness(api, settings, clock, codes)
    await harness.start()
    try:
        problem_alerts.schedule_problem_jobs(harness.app)  # again: still one job
        jobs = [j for j in harness.app.job_queue.get_jobs_by_name("problem-escalation")
                if not j.removed]
        assert len(jobs) == 1
        assert jobs[0].job.trigger.interval == timedelta(minutes=10)
    finally:
        await harness.stop()
