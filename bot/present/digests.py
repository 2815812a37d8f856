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
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

import aiosqlite

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
from db.models import Officer, Role
from db.snapshot import Snapshot, gc_paused, load_snapshot

if TYPE_CHECKING:  # the settings only pass through; bot.settings reads the text catalogs
    from bot.settings import Settings

KINDS: Mapping[Role, str] = {
    Role.PML: "digest_pml",
    Role.KOSEKA: "digest_koseka",
    Role.ADMIN: "digest_admin",
}
DIGEST_ROLES = (Role.PML, Role.KOSEKA, Role.ADMIN)
AT_RISK_LIMIT = 30
"""At most this many PPL at risk are listed in the admin digest; the rest are counted."""


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
    conn: aiosqlite.Connection,
    *,
    day: date,
    settings: Settings,
    form: FormDefinition,
    texts: Texts,
    roles: Collection[Role] = DIGEST_ROLES,
    with_charts: bool = True,
) -> list[Digest]:
    """One digest per PML, KOSEKA and admin (of `roles`) that has a Telegram chat."""
    with gc_paused():
        snapshot = await load_snapshot(conn, day, admin_telegram_ids=settings.admin_telegram_ids)
        digests = await asyncio.to_thread(
            digests_from_snapshot, snapshot, settings=settings, form=form, texts=texts,
            roles=roles, with_charts=with_charts,
        )
    return digests


async def digest_for(
    conn: aiosqlite.Connection,
    officer: Officer,
    *,
    day: date,
    settings: Settings,
    form: FormDefinition,
    texts: Texts,
    with_charts: bool = True,
) -> Digest | None:
    """The digest of one officer on demand (/ringkasan); None for a PPL."""
    if officer.role not in KINDS:
        return None
    snapshot = await load_snapshot(conn, day, admin_telegram_ids=settings.admin_telegram_ids)
    digest = await asyncio.to_thread(
        digest_from_snapshot, snapshot, officer, settings=settings, form=form, texts=texts,
        with_charts=with_charts,
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
) -> list[Digest]:
    builder = DigestBuilder(snapshot, settings, form, texts, with_charts=with_charts)
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
) -> Digest | None:
    if officer.role not in KINDS:
        return None
    return DigestBuilder(snapshot, settings, form, texts, with_charts=with_charts).digest(officer)


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
        self._ppl: dict[str, PplDay] = {}
        self._flags: dict[str, list[Flag]] = {}
        self._decoded: dict[str, dict[str, int]] = {}

    def digest(self, officer: Officer) -> Digest:
        """The officer's digest, with the open field problems of their scope as its last part."""
        if officer.role == Role.PML:
            digest = self.pml_digest(officer)
        elif officer.role == Role.KOSEKA:
            digest = self.koseka_digest(officer)
        elif officer.role == Role.ADMIN:
            digest = self.admin_digest(officer)
        else:
            raise ValueError(f"no digest for role {officer.role}")
        digest.chunks.extend(self._problems_of(officer))
        return digest

    def _problems_of(self, officer: Officer) -> list[str]:
        """The open field problems of the officer's scope (everyone's for an admin)."""
        problems = self.snap.problems
        if officer.role != Role.ADMIN:
            scope = set(self.snap.subtree(officer.officer_id))
            problems = [p for p in problems if p.officer_id in scope]
        return split_message(problems_section(problems, self.t, self.lang))

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
        team.sort(key=lambda s: (s.status != DayStatus.MISSING, s.officer.name.casefold(),
                                 s.officer.officer_id))
        lines = [t("digest_pml_header", team=pml.name, day=fmt.day(self.day, self.lang)), ""]
        if not team:
            lines.append(t("digest_no_ppl"))
        lines.extend(self._ppl_line(stat) for stat in team)

        total = _Group()
        counts = {status: 0 for status in DayStatus}
        for stat in team:
            total.add(stat)
            counts[stat.status] += 1
        lines += [
            "",
            t("digest_team_total", today=self._n(total.today), unit=self.unit,
              done=self._n(total.done), target=self._n(total.target),
              percent=fmt.percent(total.done, total.target, self.lang)),
            t("digest_team_counts", reported=counts[DayStatus.REPORTED],
              late=counts[DayStatus.LATE], izin=counts[DayStatus.IZIN],
              missing=counts[DayStatus.MISSING],
              behind=sum(1 for s in team if s.forecast.at_risk)),
        ]

        repeated = [s for s in team if s.missing_run >= self.threshold]
        if repeated:
            lines += ["", t("digest_consecutive_header", days=self.threshold)]
            lines += [t("digest_consecutive_line", name=s.officer.name, days=s.missing_run)
                      for s in repeated]

        flagged = [(s, self.flags(s.officer.officer_id)) for s in team]
        flagged = [(s, flags) for s, flags in flagged if flags]
        if flagged:
            lines += ["", t("digest_quality_header")]
            lines += [
                t("digest_quality_line", name=s.officer.name,
                  flags=Raw("; ".join(self._flag_text(flag) for flag in flags)))
                for s, flags in flagged
            ]

        unreachable = [s for s in team if s.officer.unreachable_at is not None]
        if unreachable:
            lines.append("")
            lines += [t("digest_unreachable_line", name=s.officer.name) for s in unreachable]

        return Digest(
            kind=KINDS[Role.PML],
            recipient=pml,
            chunks=split_message("\n".join(lines)),
            review=self._review(team),
        )

    def _ppl_line(self, stat: PplDay) -> str:
        t = self.t
        status = t(f"digest_status_{stat.status.value}")
        if stat.forecast.at_risk:
            status += t("digest_status_behind")
        return t("digest_ppl_line", name=stat.officer.name, today=self._n(stat.today),
                 unit=self.unit, done=self._n(stat.done), target=self._n(stat.target),
                 percent=fmt.percent(stat.done, stat.target, self.lang), status=Raw(status))

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
                label = html.unescape(self.t(  # a button label is plain text, not HTML
                    "digest_review_label", name=officer.name,
                    sls=area.sls_name if area else report.sls_code,
                    count=self._n(report.progress), unit=self.unit,
                ))
                items.append(ReviewItem(report_id=report.id, label=label))
        return items

    # -- KOSEKA --------------------------------------------------------------------------

    def koseka_digest(self, koseka: Officer) -> Digest:
        t, snap = self.t, self.snap
        subtree = snap.subtree(koseka.officer_id)
        everyone = self._ppl_of(subtree)
        kecamatan = snap.kecamatan_of(koseka)
        area_name = snap.kecamatan_names.get(kecamatan or "", kecamatan or koseka.name)
        lines = [
            t("digest_koseka_header", area=area_name, name=koseka.name,
              day=fmt.day(self.day, self.lang)),
            "",
            t("digest_teams_header"),
        ]
        pmls = [snap.officers[i] for i in snap.children.get(koseka.officer_id, ())
                if snap.officers[i].role == Role.PML]
        pmls.sort(key=lambda o: (o.name.casefold(), o.officer_id))
        team_bars: list[tuple[str, float]] = []
        for pml in pmls:
            group = _Group()
            for stat in self._ppl_of(snap.children.get(pml.officer_id, ())):
                group.add(stat)
            lines.append(t("digest_team_line", name=pml.name, today=self._n(group.today),
                           unit=self.unit, done=self._n(group.done),
                           target=self._n(group.target),
                           percent=fmt.percent(group.done, group.target, self.lang),
                           missing=group.missing))
            team_bars.append((pml.name, _percent_value(group.done, group.target)))
        if not pmls:
            lines.append(t("digest_no_team"))

        lines += ["", t("digest_desa_header")]
        by_desa = self._by_desa(p.officer.officer_id for p in everyone)
        for desa, (done, target) in sorted(
            by_desa.items(), key=lambda item: (snap.desa_names.get(item[0], item[0]), item[0])
        ):
            lines.append(t("digest_desa_line", name=snap.desa_names.get(desa, desa),
                           done=self._n(done), target=self._n(target),
                           percent=fmt.percent(done, target, self.lang)))
        if not by_desa:
            lines.append(t("digest_no_area"))

        total = _Group()
        for stat in everyone:
            total.add(stat)
        lines += [
            "",
            t("digest_total", today=self._n(total.today), unit=self.unit,
              done=self._n(total.done), target=self._n(total.target),
              percent=fmt.percent(total.done, total.target, self.lang)),
            t("digest_missing_total", count=total.missing),
        ]
        escalated = [s for s in everyone if "KOSEKA" in escalation(s.missing_run, self.threshold)]
        if escalated:
            escalated.sort(key=lambda s: (-s.missing_run, s.officer.name.casefold()))
            lines += ["", t("digest_escalated_header", days=self.threshold + 1)]
            for stat in escalated:
                supervisor = snap.officers.get(stat.officer.supervisor_id or "")
                lines.append(t("digest_escalated_line", name=stat.officer.name,
                               team=supervisor.name if supervisor else "-",
                               days=stat.missing_run))

        charts: list[Chart] = []
        if self.with_charts:
            daily: dict[date, int] = {}
            for stat in everyone:
                for d, count in self._sums.daily_by_owner.get(stat.officer.officer_id, {}).items():
                    daily[d] = daily.get(d, 0) + count
            charts += self._cumulative(area_name, daily, total.target)
            if team_bars:
                caption = t("digest_chart_teams", name=area_name)
                charts.append(Chart(caption, ProgressBars(
                    html.unescape(caption), tuple(n for n, _ in team_bars),
                    tuple(p for _, p in team_bars),
                )))
        return Digest(kind=KINDS[Role.KOSEKA], recipient=koseka,
                      chunks=split_message("\n".join(lines)), charts=charts)

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

        lines = [t("digest_admin_header", day=fmt.day(self.day, self.lang)), ""]
        lines += self._outlook(t("digest_regency_name"), regency_daily, regency_target, bold=True)
        lines.append(t("digest_today_total", today=self._n(regency_daily.get(self.day, 0)),
                       unit=self.unit, missing=missing))
        lines += ["", t("digest_kecamatan_header")]
        order = sorted(targets, key=lambda k: (snap.kecamatan_names.get(k, k), k))
        for kecamatan in order:
            name = snap.kecamatan_names.get(kecamatan, kecamatan)
            lines += self._outlook(name, by_kecamatan.get(kecamatan, {}), targets[kecamatan])
        if not order:
            lines.append(t("digest_no_area"))

        at_risk = sorted((s for s in everyone if s.forecast.at_risk), key=_risk_order)
        lines += ["", t("digest_at_risk_header", count=len(at_risk))]
        for stat in at_risk[:AT_RISK_LIMIT]:
            kecamatan = snap.kecamatan_of(stat.officer)
            fc = stat.forecast
            lines.append(t(
                "digest_at_risk_line", name=stat.officer.name,
                kecamatan=snap.kecamatan_names.get(kecamatan or "", kecamatan or "-"),
                done=self._n(fc.done), target=self._n(fc.target),
                percent=fmt.percent(fc.done, fc.target, self.lang),
                finish=Raw(self._finish(fc)), needed=Raw(self._needed(fc)), unit=self.unit,
            ))
        if len(at_risk) > AT_RISK_LIMIT:
            lines.append(t("digest_at_risk_more", count=len(at_risk) - AT_RISK_LIMIT))
        if not at_risk:
            lines.append(t("digest_at_risk_none"))

        charts: list[Chart] = []
        if self.with_charts:
            charts += self._cumulative(t("digest_regency_name"), regency_daily, regency_target)
            if order:
                caption = t("digest_chart_kecamatan")
                charts.append(Chart(caption, ProgressBars(
                    html.unescape(caption),
                    tuple(snap.kecamatan_names.get(k, k) for k in order),
                    tuple(_percent_value(sum(by_kecamatan.get(k, {}).values()), targets[k])
                          for k in order),
                )))
        return split_message("\n".join(lines)), charts

    def _outlook(
        self, name: str, daily: Mapping[date, int], target: int, *, bold: bool = False
    ) -> list[str]:
        """Progress against the ideal line and the forecast of one area (two lines)."""
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
            "digest_area_total" if bold else "digest_area_line", name=name,
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


def _risk_order(stat: PplDay) -> tuple[object, ...]:
    """Worst first: no finish in sight, then the latest finish, then the least done."""
    fc = stat.forecast
    finish = fc.finish_date.toordinal() if fc.finish_date else 0
    ratio = fc.done / fc.target if fc.target else 0.0
    return (fc.finish_date is not None, -finish, ratio, stat.officer.name.casefold(),
            stat.officer.officer_id)


def _percent_value(done: float, target: int) -> float:
    return 100 * done / target if target > 0 else 0.0


def _percent_text(value: float, target: int, language: str) -> str:
    if target <= 0:
        return "-"
    text = f"{100 * value / target:.1f}%"
    return text.replace(".", ",") if language == "id" else text
