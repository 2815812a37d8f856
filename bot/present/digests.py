"""The evening digests: a PML's team, a KOSEKA's kecamatan, the whole regency for the admin.

Everything here is built from one `Snapshot` (db/snapshot.py) and the settings; the async
entry points only load the snapshot and then build in a worker thread (a whole regency is
about a second of CPU). The charts are only described here and drawn when they are sent
(`bot.present.charts.render`). Progress is counted per work area, as in /progres: the households
reported on an SLS count for the officer the SLS is assigned to, against its target. Who
reported on a day (reported, late, izin, missing) is about the officer's own reports.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from bot.present import formatting as fmt
from bot.present.charts import Chart, CumulativeChart, ProgressBars
from bot.present.problems import problems_section
from bot.present.review import ReviewItem
from bot.present.splitting import split_message
from bot.present.texts import Raw, Texts
from bot.rules.attendance import DayStatus, consecutive_missing, day_status, escalation
from bot.rules.calendar import ONE_DAY, is_working_day
from bot.rules.forms import FormDefinition
from bot.rules.pace import Forecast, forecast, ideal_done, ideal_line
from bot.rules.quality import Flag, day_flags
from db.engine import Connection
from db.models import Officer, ProblemModel, Role
from db.snapshot import Snapshot, gc_paused, load_snapshot

if TYPE_CHECKING:  # the settings only pass through; bot.settings reads the text catalogs
    from bot.settings import Settings

KINDS: Mapping[Role, str] = {
    Role.PML: "digest_pml",
    Role.KOSEKA: "digest_koseka",
    Role.ADMIN: "digest_admin",
}
DIGEST_ROLES = (Role.PML, Role.KOSEKA, Role.ADMIN)
AT_RISK_LIMIT = 10
"""At most this many PPL at risk (the most urgent) are listed in the admin digest; all of them
are counted per kecamatan."""


@dataclass
class Digest:
    kind: str
    recipient: Officer
    chunks: list[str]
    """HTML messages, each within Telegram's 4096 characters."""
    charts: list[Chart] = field(default_factory=list)
    """KOSEKA and admin digests only; drawn when sent (`bot.present.charts.render`)."""
    review: list[ReviewItem] = field(default_factory=list)
    """PML digest only."""


@dataclass(frozen=True, slots=True)
class PplDay:
    """Where one PPL stands at the end of the day."""

    officer: Officer
    today: int
    done: int
    target: int
    status: DayStatus
    forecast: Forecast
    missing_run: int
    """Working days in a row without a report or izin, ending on the day."""


@dataclass
class _Group:
    """Sums over some PPL: today's households, done, target and how many are missing."""

    today: int = 0
    done: int = 0
    target: int = 0
    missing: int = 0

    def add(self, stat: PplDay) -> None:
        self.today += stat.today
        self.done += stat.done
        self.target += stat.target
        self.missing += stat.status == DayStatus.MISSING


@dataclass(frozen=True)
class _AreaSums:
    """Households reported on the active work areas, summed per officer, kecamatan and SLS."""

    daily_by_owner: dict[str, dict[date, int]]
    """Households per day on each officer's active work areas."""
    daily_by_kecamatan: dict[str, dict[date, int]]
    by_sls: dict[str, int]


# ------------------------------------------------------------------------------ entry points


async def build_digests(
    conn: Connection,
    *,
    day: date,
    settings: Settings,
    form: FormDefinition,
    texts: Texts,
    roles: Collection[Role] = DIGEST_ROLES,
    with_charts: bool = True,
    as_of: datetime | None = None,
) -> list[Digest]:
    """One digest per PML, KOSEKA and admin (of `roles`) that has a Telegram chat; `as_of`,
    when the data is read, is shown under the header with its zone."""
    with gc_paused():
        snapshot = await load_snapshot(conn, day, admin_telegram_ids=settings.admin_telegram_ids)
        digests = await asyncio.to_thread(
            digests_from_snapshot, snapshot, settings=settings, form=form, texts=texts,
            roles=roles, with_charts=with_charts, as_of=as_of,
        )
    return digests


async def digest_for(
    conn: Connection,
    officer: Officer,
    *,
    day: date,
    settings: Settings,
    form: FormDefinition,
    texts: Texts,
    with_charts: bool = True,
    as_of: datetime | None = None,
) -> Digest | None:
    """The digest of one officer on demand (/ringkasan); None for a PPL."""
    if officer.role not in KINDS:
        return None
    snapshot = await load_snapshot(conn, day, admin_telegram_ids=settings.admin_telegram_ids)
    digest = await asyncio.to_thread(
        digest_from_snapshot, snapshot, officer, settings=settings, form=form, texts=texts,
        with_charts=with_charts, as_of=as_of,
    )
    return digest


def digests_from_snapshot(
    snapshot: Snapshot,
    *,
    settings: Settings,
    form: FormDefinition,
    texts: Texts,
    roles: Collection[Role] = DIGEST_ROLES,
    with_charts: bool = True,
    as_of: datetime | None = None,
) -> list[Digest]:
    builder = DigestBuilder(snapshot, settings, form, texts, with_charts=with_charts, as_of=as_of)
    recipients: list[Officer] = []
    for role in (Role.PML, Role.KOSEKA):
        if role in roles:
            recipients.extend(o for o in snapshot.officers.values() if o.role == role)
    if Role.ADMIN in roles:
        recipients.extend(snapshot.admins)
    return [builder.digest(o) for o in recipients if o.telegram_chat_id is not None]


def digest_from_snapshot(
    snapshot: Snapshot,
    officer: Officer,
    *,
    settings: Settings,
    form: FormDefinition,
    texts: Texts,
    with_charts: bool = True,
    as_of: datetime | None = None,
) -> Digest | None:
    if officer.role not in KINDS:
        return None
    builder = DigestBuilder(snapshot, settings, form, texts, with_charts=with_charts, as_of=as_of)
    return builder.digest(officer)


# ------------------------------------------------------------------------------ the builder


class DigestBuilder:
    """Builds any number of digests from one snapshot, computing each PPL's facts once."""

    def __init__(
        self,
        snapshot: Snapshot,
        settings: Settings,
        form: FormDefinition,
        texts: Texts,
        *,
        with_charts: bool = True,
        as_of: datetime | None = None,
    ) -> None:
        self.snap = snapshot
        self.day = snapshot.day
        self.t = texts
        self.lang = texts.language
        self.unit = form.field(form.progress_field).unit(self.lang)
        self.start = settings.period_start
        self.end = settings.period_end
        self.days_off = frozenset(settings.days_off)
        self.threshold = settings.consecutive_missing_days
        self.with_charts = with_charts
        self.tz = settings.tz
        self.as_of = as_of
        self._ppl: dict[str, PplDay] = {}
        self._flags: dict[str, list[Flag]] = {}
        self._decoded: dict[str, dict[str, int]] = {}

    def digest(self, officer: Officer) -> Digest:
        """The officer's digest: what needs action first, the open field problems of their scope
        last, all in as few messages as the text allows."""
        if officer.role == Role.PML:
            return self.pml_digest(officer)
        if officer.role == Role.KOSEKA:
            return self.koseka_digest(officer)
        if officer.role == Role.ADMIN:
            return self.admin_digest(officer)
        raise ValueError(f"no digest for role {officer.role}")

    def _problems_of(self, officer: Officer) -> list[ProblemModel]:
        """The open field problems of the officer's scope (everyone's for an admin)."""
        problems = self.snap.problems
        if officer.role != Role.ADMIN:
            scope = set(self.snap.subtree(officer.officer_id))
            problems = [p for p in problems if p.officer_id in scope]
        return list(problems)

    def _as_of(self) -> Raw:
        """' · data pukul 20.30 WIB' under the header, with the day when it is another one."""
        if self.as_of is None:
            return Raw("")
        local = self.as_of.astimezone(self.tz)
        time = fmt.time_of_day(local, self.tz, self.lang)
        if local.date() == self.day:
            return Raw(self.t("digest_as_of", time=time))
        return Raw(self.t("digest_as_of_day", day=fmt.short_day(local.date(), self.lang),
                          time=time))

    def _with_actions(self, header: str, actions: list[str],
                      problems: list[ProblemModel]) -> list[str]:
        """The header, then the lines that need action (left out when there is none)."""
        if problems:
            actions = [*actions, self.t("digest_action_problems",
                                        count=self._n(len(problems)))]
        if not actions:
            return [header]
        return [header, "", self.t("digest_action_header"), *actions]

    def _finish_text(self, lines: list[str], problems: list[ProblemModel]) -> list[str]:
        """The digest's messages: its lines, then the open problems when there are any."""
        if problems:
            lines = [*lines, "", problems_section(problems, self.t, self.lang)]
        return split_message("\n".join(lines))

    # -- facts ---------------------------------------------------------------------------

    @cached_property
    def _sums(self) -> _AreaSums:
        """Households reported on the active work areas, summed three ways in one pass."""
        snap = self.snap
        owner_days: dict[str, dict[date, int]] = {}
        kecamatan_days: dict[str, dict[date, int]] = {}
        # Per active SLS: the dicts its reports add to (shared), looked up once, not per report.
        where: dict[str, tuple[dict[date, int], dict[date, int]]] = {}
        for sls, area in snap.areas.items():
            kecamatan = snap.desa_kecamatan.get(area.desa_code, "-")
            where[sls] = (owner_days.setdefault(area.officer_id, {}),
                          kecamatan_days.setdefault(kecamatan, {}))
        by_sls: dict[str, int] = {}
        for report in snap.reports:
            found = where.get(report.sls_code)
            if found is None:
                continue
            mine, theirs = found
            day, count = report.report_date, report.progress
            mine[day] = mine.get(day, 0) + count
            theirs[day] = theirs.get(day, 0) + count
            by_sls[report.sls_code] = by_sls.get(report.sls_code, 0) + count
        return _AreaSums(owner_days, kecamatan_days, by_sls)

    def ppl(self, officer_id: str) -> PplDay:
        found = self._ppl.get(officer_id)
        if found is not None:
            return found
        snap, day = self.snap, self.day
        daily = self._sums.daily_by_owner.get(officer_id, {})
        target = snap.target_by_officer.get(officer_id, 0)
        reported: dict[date, bool] = {}  # day -> reported by catch-up reports only
        for report in snap.reports_by_officer.get(officer_id, ()):
            reported[report.report_date] = reported.get(report.report_date, True) and report.late
        izin = snap.izin.get(officer_id, set())
        working = is_working_day(day, self.start, self.end, self.days_off)
        found = PplDay(
            officer=snap.officers[officer_id],
            today=daily.get(day, 0),
            done=sum(daily.values()),
            target=target,
            status=day_status(day, reported, izin, working),
            forecast=forecast(daily, target, day, self.start, self.end, self.days_off),
            missing_run=consecutive_missing(
                reported, izin, min(day, self.end), self.start, self.days_off
            ),
        )
        self._ppl[officer_id] = found
        return found

    def flags(self, officer_id: str) -> list[Flag]:
        found = self._flags.get(officer_id)
        if found is None:
            reports = self.snap.reports_by_officer.get(officer_id, ())
            day = self.day
            progress: dict[date, int] = {}
            late = 0
            for r in reports:
                progress[r.report_date] = progress.get(r.report_date, 0) + r.progress
                late += r.late and r.report_date < day

            def values_of(wanted: date) -> Counter[str] | None:
                summed = None
                for r in reports:
                    if r.report_date == wanted:
                        if summed is None:
                            summed = Counter()
                        summed.update(self._values(r.values_json))
                return summed

            target = self.snap.target_by_officer.get(officer_id, 0)
            found = self._flags[officer_id] = day_flags(progress, values_of, late, target, day)
        return found

    def _values(self, values_json: str) -> dict[str, int]:
        """A report's values, decoded once per distinct text: the same few hundred combinations
        come back in every officer's reports. The dicts are shared, so they are only read."""
        found = self._decoded.get(values_json)
        if found is None:
            found = self._decoded[values_json] = json.loads(values_json)
        return found

    def _ppl_of(self, officer_ids: Iterable[str]) -> list[PplDay]:
        officers = self.snap.officers
        return [self.ppl(i) for i in officer_ids if officers[i].role == Role.PPL]

    # -- PML -----------------------------------------------------------------------------

    def pml_digest(self, pml: Officer) -> Digest:
        t = self.t
        team = self._ppl_of(self.snap.children.get(pml.officer_id, ()))
        flags = {s.officer.officer_id: self.flags(s.officer.officer_id) for s in team}
        team.sort(key=lambda s: _pml_order(s, bool(flags[s.officer.officer_id])))

        actions = [t("digest_action_missing", name=s.officer.name, days=s.missing_run)
                   for s in sorted((s for s in team if s.missing_run >= self.threshold),
                                   key=lambda s: -s.missing_run)]
        actions += [t("digest_unreachable_line", name=s.officer.name)
                    for s in team if s.officer.unreachable_at is not None]
        problems = self._problems_of(pml)
        header = t("digest_pml_header", team=pml.name, day=fmt.day(self.day, self.lang),
                   as_of=self._as_of())
        lines = self._with_actions(header, actions, problems)

        lines.append("")
        if not team:
            lines.append(t("digest_no_ppl"))
        else:
            lines.append(t("digest_ppl_header", unit=self.unit))
            lines.extend(self._ppl_line(stat) for stat in team)

            total = _Group()
            counts: Counter[str] = Counter()
            for stat in team:
                total.add(stat)
                counts[stat.status.value] += 1
                counts["slow"] += stat.forecast.slow
            lines += [
                "",
                t("digest_team_total", today=self._n(total.today), unit=self.unit,
                  done=self._n(total.done), target=self._n(total.target),
                  percent=fmt.percent(total.done, total.target, self.lang)),
            ]
            parts = [t(key, count=self._n(counts[name])) for name, key in _COUNT_KEYS
                     if counts[name]]
            if parts:
                lines.append(" · ".join(parts))

        flagged = [(s, flags[s.officer.officer_id]) for s in team if flags[s.officer.officer_id]]
        if flagged:
            lines += ["", t("digest_quality_header")]
            lines += [
                t("digest_quality_line", name=s.officer.name,
                  flags=Raw("; ".join(self._flag_text(flag) for flag in officer_flags)))
                for s, officer_flags in flagged
            ]

        return Digest(
            kind=KINDS[Role.PML],
            recipient=pml,
            chunks=self._finish_text(lines, problems),
            review=self._review(team),
        )

    def _ppl_line(self, stat: PplDay) -> str:
        """One short line: the status first, then done/target, today's count when reported."""
        t = self.t
        reported = stat.status in (DayStatus.REPORTED, DayStatus.LATE)
        today = t("digest_today", today=self._n(stat.today)) if reported or stat.today else ""
        return t("digest_ppl_line", status=Raw(t(f"digest_status_{stat.status.value}")),
                 name=stat.officer.name, done=self._n(stat.done), target=self._n(stat.target),
                 percent=fmt.percent(stat.done, stat.target, self.lang), today=Raw(today),
                 slow=Raw(t("digest_slow") if stat.forecast.slow else ""))

    def _flag_text(self, flag: Flag) -> str:
        d = flag.detail
        values: dict[str, object] = {"unit": self.unit}
        if flag.code == "over_target":
            values |= {"done": self._n(int(d["done"])), "target": self._n(int(d["target"]))}
        elif flag.code == "spike":
            # The usual day is a median, 12.5 with an even count: shown as a whole number.
            values |= {"today": self._n(int(d["today"])),
                       "usual": fmt.whole(float(d["usual"]), self.lang)}
        elif flag.code in ("repeated", "zeros"):
            values |= {"days": d["days"]}
        elif flag.code == "late":
            values |= {"count": d["count"]}
        return self.t(f"digest_flag_{flag.code}", **values)

    def _review(self, team: list[PplDay]) -> list[ReviewItem]:
        items: list[ReviewItem] = []
        for stat in team:
            officer = stat.officer
            for report in self.snap.awaiting_review.get(officer.officer_id, ()):
                area = self.snap.areas.get(report.sls_code)
                items.append(ReviewItem(
                    report_id=report.id, revision=report.revision, name=officer.name,
                    sls=area.sls_name if area else report.sls_code, values=report.values,
                    note=report.note,
                ))
        return items

    # -- KOSEKA --------------------------------------------------------------------------

    def koseka_digest(self, koseka: Officer) -> Digest:
        t, snap = self.t, self.snap
        subtree = snap.subtree(koseka.officer_id)
        everyone = self._ppl_of(subtree)
        kecamatan = snap.kecamatan_of(koseka)
        area_name = snap.kecamatan_names.get(kecamatan or "", kecamatan or koseka.name)

        escalated = [s for s in everyone if "KOSEKA" in escalation(s.missing_run, self.threshold)]
        escalated.sort(key=lambda s: (-s.missing_run, s.officer.name.casefold()))
        actions = []
        for stat in escalated:
            supervisor = snap.officers.get(stat.officer.supervisor_id or "")
            actions.append(t("digest_action_escalated", name=stat.officer.name,
                             team=supervisor.name if supervisor else "-", days=stat.missing_run))
        problems = self._problems_of(koseka)
        header = t("digest_koseka_header", area=area_name, name=koseka.name,
                   day=fmt.day(self.day, self.lang), as_of=self._as_of())
        lines = self._with_actions(header, actions, problems)

        total = _Group()
        daily: dict[date, int] = {}
        for stat in everyone:
            total.add(stat)
            for d, count in self._sums.daily_by_owner.get(stat.officer.officer_id, {}).items():
                daily[d] = daily.get(d, 0) + count
        lines += ["", *self._outlook(area_name, daily, total.target, key="digest_koseka_total"),
                  self._today_line(total.today, total.missing)]

        pmls = [snap.officers[i] for i in snap.children.get(koseka.officer_id, ())
                if snap.officers[i].role == Role.PML]
        teams: list[tuple[Officer, _Group, Forecast]] = []
        for pml in pmls:
            group = _Group()
            team_daily: dict[date, int] = {}
            for stat in self._ppl_of(snap.children.get(pml.officer_id, ())):
                group.add(stat)
                for d, count in self._sums.daily_by_owner.get(stat.officer.officer_id,
                                                              {}).items():
                    team_daily[d] = team_daily.get(d, 0) + count
            fc = forecast(team_daily, group.target, self.day, self.start, self.end, self.days_off)
            teams.append((pml, group, fc))
        teams.sort(key=lambda item: (item[2].pace_share, _share(item[1].done, item[1].target),
                                     item[0].name.casefold(), item[0].officer_id))
        if teams:
            lines += ["", t("digest_teams_header", unit=self.unit)]
        for pml, group, fc in teams:
            missing = (t("digest_team_missing", count=self._n(group.missing))
                       if group.missing else "")
            lines.append(t("digest_team_line", name=pml.name, done=self._n(group.done),
                           target=self._n(group.target),
                           percent=fmt.percent(group.done, group.target, self.lang),
                           today=Raw(t("digest_today", today=self._n(group.today))),
                           missing=Raw(missing),
                           slow=Raw(t("digest_slow") if fc.slow else "")))

        by_desa = self._by_desa(p.officer.officer_id for p in everyone)
        if by_desa:
            lines += ["", t("digest_desa_header", unit=self.unit)]
        for desa, (done, target) in sorted(
            by_desa.items(), key=lambda item: (_share(*item[1]),
                                               snap.desa_names.get(item[0], item[0]), item[0])
        ):
            lines.append(t("digest_desa_line", name=snap.desa_names.get(desa, desa),
                           done=self._n(done), target=self._n(target),
                           percent=fmt.percent(done, target, self.lang)))

        charts: list[Chart] = []
        if self.with_charts:
            charts += self._cumulative(area_name, daily, total.target)
            if teams:
                caption = t("digest_chart_teams", name=area_name)
                charts.append(Chart(caption, ProgressBars(
                    html.unescape(caption), tuple(pml.name for pml, _, _ in teams),
                    tuple(_percent_value(g.done, g.target) for _, g, _ in teams),
                )))
        return Digest(kind=KINDS[Role.KOSEKA], recipient=koseka,
                      chunks=self._finish_text(lines, problems), charts=charts)

    def _today_line(self, today: int, missing: int) -> str:
        t = self.t
        return t("digest_today_total", today=self._n(today), unit=self.unit,
                 missing=Raw(t("digest_today_missing", count=self._n(missing)) if missing else ""))

    def _by_desa(self, owners: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(done, target) per desa over the work areas of these officers."""
        progress = self._sums.by_sls
        sums: dict[str, tuple[int, int]] = {}
        for owner in owners:
            for area in self.snap.areas_by_officer.get(owner, ()):
                done, target = sums.get(area.desa_code, (0, 0))
                sums[area.desa_code] = (
                    done + progress.get(area.sls_code, 0), target + area.target_households
                )
        return sums

    # -- admin ---------------------------------------------------------------------------

    def admin_digest(self, admin: Officer) -> Digest:
        chunks, charts = self._regency
        return Digest(kind=KINDS[Role.ADMIN], recipient=admin, chunks=list(chunks),
                      charts=list(charts))

    @cached_property
    def _regency(self) -> tuple[list[str], list[Chart]]:
        """The admin digest's messages and charts: the same for every admin."""
        t, snap = self.t, self.snap
        targets: dict[str, int] = {}
        for area in snap.areas.values():
            kecamatan = snap.desa_kecamatan.get(area.desa_code, "-")
            targets[kecamatan] = targets.get(kecamatan, 0) + area.target_households
        by_kecamatan = self._sums.daily_by_kecamatan
        regency_daily: dict[date, int] = {}
        for days in by_kecamatan.values():
            for d, count in days.items():
                regency_daily[d] = regency_daily.get(d, 0) + count
        regency_target = sum(targets.values())
        everyone = self._ppl_of(o.officer_id for o in snap.officers.values())
        missing = sum(1 for s in everyone if s.status == DayStatus.MISSING)

        problems = list(snap.problems)
        header = t("digest_admin_header", day=fmt.day(self.day, self.lang), as_of=self._as_of())
        lines = [*self._with_actions(header, [], problems), ""]
        lines += self._outlook(t("digest_regency_name"), regency_daily, regency_target,
                               key="digest_area_total")
        lines.append(self._today_line(regency_daily.get(self.day, 0), missing))

        def kecamatan_name(code: str | None) -> str:
            return snap.kecamatan_names.get(code or "", code or "-")

        outlooks = {k: forecast(by_kecamatan.get(k, {}), targets[k], self.day, self.start,
                                self.end, self.days_off) for k in targets}
        order = sorted(targets, key=lambda k: (outlooks[k].pace_share,
                                               _share(outlooks[k].done, targets[k]),
                                               kecamatan_name(k), k))
        if order:
            lines += ["", t("digest_kecamatan_header")]
        for kecamatan in order:
            lines += self._outlook(kecamatan_name(kecamatan), by_kecamatan.get(kecamatan, {}),
                                   targets[kecamatan])

        at_risk = sorted((s for s in everyone if s.forecast.at_risk), key=_risk_order)
        if at_risk:
            lines += ["", t("digest_at_risk_header", count=self._n(len(at_risk)))]
            if len(at_risk) > AT_RISK_LIMIT:
                lines.append(t("digest_at_risk_top", count=self._n(AT_RISK_LIMIT)))
            for stat in at_risk[:AT_RISK_LIMIT]:
                fc = stat.forecast
                lines.append(t(
                    "digest_at_risk_line", name=stat.officer.name,
                    kecamatan=kecamatan_name(snap.kecamatan_of(stat.officer)),
                    percent=fmt.percent(fc.done, fc.target, self.lang),
                    outlook=Raw(t("digest_at_risk_stalled") if fc.finish_date is None else
                                t("digest_at_risk_finish",
                                  finish=fmt.short_day(fc.finish_date, self.lang))),
                ))
            per_kecamatan = Counter(kecamatan_name(snap.kecamatan_of(s.officer)) for s in at_risk)
            counts = sorted(per_kecamatan.items(), key=lambda item: (-item[1], item[0]))
            lines.append(t("digest_at_risk_by_kecamatan", counts=Raw(", ".join(
                t("digest_at_risk_count", name=name, count=self._n(count))
                for name, count in counts))))

        charts: list[Chart] = []
        if self.with_charts:
            charts += self._cumulative(t("digest_regency_name"), regency_daily, regency_target)
            if order:
                caption = t("digest_chart_kecamatan")
                charts.append(Chart(caption, ProgressBars(
                    html.unescape(caption),
                    tuple(kecamatan_name(k) for k in order),
                    tuple(_percent_value(sum(by_kecamatan.get(k, {}).values()), targets[k])
                          for k in order),
                )))
        return self._finish_text(lines, problems), charts

    def _outlook(
        self, name: str, daily: Mapping[date, int], target: int, *, key: str = "digest_area_line"
    ) -> list[str]:
        """Progress against where a steady pace would be, and the forecast of one area."""
        t = self.t
        fc = forecast(daily, target, self.day, self.start, self.end, self.days_off)
        ideal = ideal_done(target, self.day, self.start, self.end, self.days_off)
        gap = fc.done - round(ideal)
        if gap > 0:
            gap_text = t("digest_gap_ahead", count=self._n(gap), unit=self.unit)
        elif gap < 0:
            gap_text = t("digest_gap_behind", count=self._n(-gap), unit=self.unit)
        else:
            gap_text = t("digest_gap_even")
        first = t(
            key, name=name,
            done=self._n(fc.done), target=self._n(target),
            percent=fmt.percent(fc.done, target, self.lang),
            ideal=self._n(round(ideal)), ideal_percent=_percent_text(ideal, target, self.lang),
            gap=Raw(gap_text),
        )
        if fc.finished:
            second = t("digest_finished", finish=fmt.day(fc.finish_date or self.day, self.lang))
        else:
            second = t("digest_forecast_line", finish=Raw(self._finish(fc)),
                       needed=Raw(self._needed(fc)), unit=self.unit,
                       risk=Raw(t("digest_risk") if fc.at_risk else ""))
        return [first, second]

    def _finish(self, fc: Forecast) -> str:
        if fc.finish_date is None:
            return self.t("digest_finish_none")
        return fmt.esc(fmt.day(fc.finish_date, self.lang))

    def _needed(self, fc: Forecast) -> str:
        if fc.needed_per_day is None:
            return self.t("digest_needed_none")
        return fmt.esc(self._n(fc.needed_per_day))

    # -- charts and numbers ----------------------------------------------------------------

    def _cumulative(self, name: str, daily: Mapping[date, int], target: int) -> list[Chart]:
        """Households so far against the ideal line, drawn over the whole period to the target."""
        if self.day < self.start:
            return []
        days = self._chart_days
        ideal = ideal_line(target, self.start, self.end, self.days_off, days[-1])
        cumulative: list[int] = []
        running = sum(count for d, count in daily.items() if d < self.start)
        for current in days[: (self.day - self.start).days + 1]:
            running += daily.get(current, 0)
            cumulative.append(running)
        caption = self.t("digest_chart_cumulative", name=name, unit=self.unit)
        return [Chart(caption, CumulativeChart(html.unescape(caption), days, tuple(cumulative),
                                               tuple(ideal), self.end))]

    @cached_property
    def _chart_days(self) -> tuple[date, ...]:
        """The days of a cumulative chart: the whole period, and past its end up to the day."""
        last = max(self.day, self.end)
        return tuple(self.start + k * ONE_DAY for k in range((last - self.start).days + 1))

    def _n(self, value: int) -> str:
        return fmt.number(value, self.lang)


_COUNT_KEYS = (
    ("missing", "digest_count_missing"),
    ("late", "digest_count_late"),
    ("izin", "digest_count_izin"),
    ("reported", "digest_count_reported"),
    ("slow", "digest_count_slow"),
)
"""The team's counts under its total, in this order; a count of 0 is left out."""

_STATUS_ORDER = {DayStatus.MISSING: 0, DayStatus.LATE: 1, DayStatus.IZIN: 2, DayStatus.OFF: 3,
                 DayStatus.REPORTED: 4}


def _pml_order(stat: PplDay, flagged: bool) -> tuple[object, ...]:
    """Missing first (the longest run first), then the flagged (data-quality notes, a slow
    pace, unreachable), then the rest, each by status and name."""
    missing = stat.status == DayStatus.MISSING
    flagged = flagged or stat.forecast.slow or stat.officer.unreachable_at is not None
    group = 0 if missing else 1 if flagged else 2
    return (group, -stat.missing_run, _STATUS_ORDER[stat.status], stat.officer.name.casefold(),
            stat.officer.officer_id)


def _risk_order(stat: PplDay) -> tuple[object, ...]:
    """Worst first: no finish in sight, then the latest finish, then the least done."""
    fc = stat.forecast
    finish = fc.finish_date.toordinal() if fc.finish_date else 0
    ratio = fc.done / fc.target if fc.target else 0.0
    return (fc.finish_date is not None, -finish, ratio, stat.officer.name.casefold(),
            stat.officer.officer_id)


def _share(done: int, target: int) -> float:
    """Done as a share of the target, for ordering: no target sorts last."""
    return done / target if target > 0 else float("inf")


def _percent_value(done: float, target: int) -> float:
    return 100 * done / target if target > 0 else 0.0


def _percent_text(value: float, target: int, language: str) -> str:
    if target <= 0:
        return "-"
    text = f"{100 * value / target:.1f}%"
    return text.replace(".", ",") if language == "id" else text
