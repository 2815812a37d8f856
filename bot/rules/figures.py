"""The figures of the evening digests: plain data, computed once, rendered into texts later.

A digest is built in two steps: first its figures (this module: per PPL, per PML team, per
kecamatan of a KOSEKA, for the whole regency, with the forecasts and the data-quality flags),
then its texts (`bot.present.digests`). The figures hold numbers, dates, officers and names,
never a text of the catalogs, so that a test can check them without any text and a later
dashboard can reuse them.

They are computed from what `db.digest_queries` reads (sums per work area, per officer and
day, per kecamatan and day: never every report of the period), through the `DigestSource`
protocol below. Progress is counted per work area, as in /progres: the households reported on
an SLS count for the officer the SLS is assigned to, against its target. Who reported on a day
(reported, late, izin, missing) is about the officer's own reports.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from bot.rules.attendance import DayStatus, day_status, escalation
from bot.rules.calendar import ONE_DAY, is_working_day, working_days
from bot.rules.pace import Forecast, PaceCalendar, forecast_totals, ideal_done, ideal_line
from bot.rules.quality import (
    OVER_TARGET_MARGIN,
    RUN_LENGTH,
    DayReport,
    Flag,
    quality_flags,
)
from db.models import Officer, ProblemModel, Role

if TYPE_CHECKING:  # the query module's row types only name what is read here
    from db.digest_queries import AreaRow, AwaitingReview, OwnReports, ReportRow


class Person(Protocol):
    """An officer as the figures see one (`db.models.Officer`, or a roster row of
    `db.digest_queries`)."""

    @property
    def officer_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def supervisor_id(self) -> str | None: ...

    @property
    def kecamatan_code(self) -> str | None: ...

    @property
    def unreachable_at(self) -> str | None: ...

    @property
    def timezone(self) -> str | None: ...


class DigestSource(Protocol):
    """What the figures read: the state of the fieldwork at the end of `day`
    (`db.digest_queries.DigestData`)."""

    day: date
    officers: Mapping[str, Person]
    children: dict[str, list[str]]
    areas: dict[str, AreaRow]
    areas_by_officer: dict[str, list[AreaRow]]
    desa_kecamatan: dict[str, str]
    kecamatan_names: dict[str, str]
    desa_names: dict[str, str]
    own: dict[str, OwnReports]
    last_reported: dict[str, date]
    izin: dict[str, set[date]]
    history: dict[str, list[ReportRow]]
    awaiting_review: dict[str, list[AwaitingReview]]
    kecamatan_daily: dict[str, dict[date, int]]
    kecamatan_targets: dict[str, int]
    area_names: dict[str, str]
    admins: list[Officer]
    problems: list[ProblemModel]

    def subtree(self, officer_id: str) -> list[str]: ...

    def kecamatan_of(self, officer: Person) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Period:
    """The calendar of the figures: the fieldwork period, its days off and the escalation
    threshold (consecutive missing working days before the PML is told)."""

    start: date
    end: date
    days_off: frozenset[date] = frozenset()
    threshold: int = 2

    def pace(self, day: date) -> PaceCalendar:
        return PaceCalendar.of(day, self.start, self.end, self.days_off)

    def recent(self, day: date) -> tuple[date, ...]:
        """The days whose households each work area needs: the pace window, then the day."""
        window = self.pace(day).recent
        return window if day in window else (*window, day)

    def run_days(self, day: date) -> tuple[date, ...]:
        """The day and the calendar days before it that the quality runs look at."""
        return tuple(day - k * ONE_DAY for k in range(RUN_LENGTH))

    def run_end(self, day: date) -> date:
        """The last day of a missing run: the day, at most the end of the period."""
        return min(day, self.end)


def digest_day(today: date, officer: Officer | None = None) -> date:
    """The day a digest covers for an officer: the one place where it is decided (today, in
    the deployment's zone)."""
    return today


# ------------------------------------------------------------------------------ the figures


@dataclass(frozen=True, slots=True)
class PplDay:
    """Where one PPL stands at the end of the day."""

    officer: Person
    today: int
    done: int
    target: int
    status: DayStatus
    forecast: Forecast
    missing_run: int
    """Working days in a row without a report or izin, ending on the day."""
    flags: tuple[Flag, ...] = ()
    """Data-quality flags of the officer's own reports."""

    @property
    def flagged(self) -> bool:
        """Listed among the flagged in the PML digest: a data-quality note, a slow pace or a
        blocked bot."""
        return bool(self.flags) or self.forecast.slow or self.officer.unreachable_at is not None


@dataclass(slots=True)
class Totals:
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


@dataclass(frozen=True, slots=True)
class Outlook:
    """An area (a kecamatan, the regency) against the ideal line, and its forecast."""

    name: str
    target: int
    ideal: float
    """Where a steady pace would be at the end of the day."""
    forecast: Forecast

    @property
    def done(self) -> int:
        return self.forecast.done

    @property
    def gap(self) -> int:
        """Households ahead of (positive) or behind (negative) the ideal line."""
        return self.forecast.done - round(self.ideal)


@dataclass(frozen=True, slots=True)
class Series:
    """The cumulative households of an area per day against the ideal line (a chart)."""

    name: str
    days: tuple[date, ...]
    """The whole period, and past its end up to the day."""
    cumulative: tuple[int, ...]
    """Up to the day (households reported before the period count on its first day)."""
    ideal: tuple[float, ...]
    deadline: date


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """A report of the day that the PML has yet to approve or return."""

    report_id: int
    revision: int
    officer: Person
    sls_name: str
    values: Mapping[str, int]
    """Every field of the form, as the review message shows them."""
    note: str | None


@dataclass(frozen=True)
class TeamFigures:
    """The figures of a PML's digest."""

    pml: Officer
    day: date
    members: tuple[PplDay, ...]
    """Missing first (the longest run first), then the flagged, then the rest."""
    total: Totals
    counts: Mapping[str, int]
    """PPL per day status (reported, late, izin, missing, off) and "slow"."""
    missing_runs: tuple[PplDay, ...]
    """Missing at least the threshold of working days in a row, the longest run first."""
    unreachable: tuple[PplDay, ...]
    review: tuple[ReviewEntry, ...]
    problems: tuple[ProblemModel, ...]

    @property
    def flagged(self) -> tuple[PplDay, ...]:
        """The members with data-quality flags, in member order."""
        return tuple(s for s in self.members if s.flags)


@dataclass(frozen=True, slots=True)
class TeamLine:
    """One PML team in a KOSEKA's digest."""

    pml: Person
    total: Totals
    forecast: Forecast


@dataclass(frozen=True, slots=True)
class DesaLine:
    code: str
    name: str
    done: int
    target: int


@dataclass(frozen=True, slots=True)
class Escalated:
    """A PPL missing long enough for the KOSEKA to be told, with the name of their team."""

    ppl: PplDay
    team: str


@dataclass(frozen=True)
class KecamatanFigures:
    """The figures of a KOSEKA's digest: everyone below the KOSEKA."""

    koseka: Officer
    day: date
    name: str
    """The kecamatan's name (the KOSEKA's name when the kecamatan is unknown)."""
    escalated: tuple[Escalated, ...]
    total: Totals
    outlook: Outlook
    teams: tuple[TeamLine, ...]
    """Worst first against the pace each needs."""
    desa: tuple[DesaLine, ...]
    """Lowest share first."""
    series: Series | None
    """The households of the KOSEKA's kecamatan per day (all its work areas, against their
    target): the same as the team's when the KOSEKA runs the whole kecamatan, as in the field."""
    problems: tuple[ProblemModel, ...]


@dataclass(frozen=True, slots=True)
class AtRisk:
    ppl: PplDay
    kecamatan: str
    """The name of the PPL's kecamatan ("-" when unknown)."""
    part: str
    """The name of the part of the regency's list the PPL is in (`RegencyFigures.parts`)."""


KECAMATAN, KABUPATEN, PROVINSI = "kecamatan", "kabupaten", "provinsi"
"""The levels of the admin digest's list: per kecamatan of one kabupaten/kota, per kabupaten/kota
of one province, per province of the country."""


def area_level(kecamatan_codes: Iterable[str]) -> tuple[str, str | None]:
    """What a list over these kecamatan shows (KECAMATAN, KABUPATEN or PROVINSI: one level
    below the area they lie in), and that area: the one kabupaten/kota or province, None
    for several provinces (or none)."""
    codes = [code for code in kecamatan_codes if code and code != "-"]
    provinces = {code[:2] for code in codes}
    if len(provinces) > 1:
        return PROVINSI, None
    kabupaten = {code[:5] for code in codes}
    if len(kabupaten) > 1:
        return KABUPATEN, provinces.pop()
    return KECAMATAN, kabupaten.pop() if kabupaten else None


def part_code(level: str, kecamatan: str) -> str:
    """The code of the line a kecamatan is counted in, at that level."""
    if level == KECAMATAN or kecamatan == "-":
        return kecamatan
    return kecamatan[:2] if level == PROVINSI else kecamatan[:5]


@dataclass(frozen=True)
class RegencyFigures:
    """The figures of the admin digest: the whole regency."""

    day: date
    level: str
    """What `parts` lists: `KECAMATAN` when every work area is in one kabupaten/kota,
    `KABUPATEN` when they are in one province, else `PROVINSI`."""
    area: str | None
    """The code of that one kabupaten/kota (`14.10`) or province (`14`); None for several
    provinces (or no work area)."""
    outlook: Outlook
    today: int
    missing: int
    parts: tuple[Outlook, ...]
    """Per kecamatan, kabupaten/kota or province (`level`), worst first against the pace each
    needs."""
    at_risk: tuple[AtRisk, ...]
    """Every PPL at risk, the most urgent first."""
    at_risk_by_part: tuple[tuple[str, int], ...]
    """(name of the part, PPL at risk), the most first."""
    series: Series | None
    problems: tuple[ProblemModel, ...]


@dataclass(slots=True)
class RegencyPart:
    """What the admin digest sums over the officers of one shard (`db.digest_queries.Shard`):
    the parts of every shard, merged, give the figures of the whole regency."""

    progress: dict[str, Progress] = field(default_factory=dict)
    """Per kecamatan of the work areas ("-": unknown)."""
    missing: int = 0
    """PPL missing on the day."""
    at_risk: list[AtRisk] = field(default_factory=list)
    zones: set[str | None] = field(default_factory=set)
    """The time zones of the PPL (None: the deployment's)."""

    def merge(self, other: RegencyPart) -> None:
        for code, progress in other.progress.items():
            mine = self.progress.get(code)
            if mine is None:
                self.progress[code] = progress
            else:
                mine.add(progress)
        self.missing += other.missing
        self.at_risk += other.at_risk
        self.zones |= other.zones


# ------------------------------------------------------------------------------ computing


@dataclass(slots=True)
class Progress:
    """Households on some work areas: done, the day's, the pace window's, and the last day
    that added some."""

    done: int = 0
    today: int = 0
    recent: int = 0
    last_positive: date | None = None

    def add(self, other: Progress) -> None:
        self.done += other.done
        self.today += other.today
        self.recent += other.recent
        if other.last_positive and (self.last_positive is None
                                    or other.last_positive > self.last_positive):
            self.last_positive = other.last_positive


@dataclass
class DigestFigures:
    """Computes the figures of any number of digests of one day, each PPL's once."""

    source: DigestSource
    period: Period
    _ppl: dict[str, PplDay] = field(default_factory=dict, repr=False)
    _progress: dict[str, Progress] = field(default_factory=dict, repr=False)

    @property
    def day(self) -> date:
        return self.source.day

    @cached_property
    def _calendar(self) -> PaceCalendar:
        return self.period.pace(self.day)

    @cached_property
    def _recent_index(self) -> tuple[list[int], int]:
        """Which of the `Period.recent` days are the pace window's, and which is the day."""
        days = self.period.recent(self.day)
        window = set(self._calendar.recent)
        return [k for k, d in enumerate(days) if d in window], days.index(self.day)

    @cached_property
    def _working_days(self) -> list[date]:
        """The working days of a missing run: from the start of the period to its end."""
        p = self.period
        return working_days(p.start, p.run_end(self.day), p.days_off)

    # -- per PPL ---------------------------------------------------------------------------

    def _area_progress(self, area: AreaRow) -> Progress:
        window, today = self._recent_index
        return Progress(done=area.done, today=area.recent[today],
                        recent=sum(area.recent[k] for k in window),
                        last_positive=area.last_positive)

    def progress_of(self, officer_id: str) -> Progress:
        """Households on the officer's active work areas."""
        found = self._progress.get(officer_id)
        if found is None:
            found = self._progress[officer_id] = Progress()
            for area in self.source.areas_by_officer.get(officer_id, ()):
                found.add(self._area_progress(area))
        return found

    def _forecast(self, progress: Progress, target: int) -> Forecast:
        return forecast_totals(done=progress.done, target=target, recent_total=progress.recent,
                               last_positive=progress.last_positive, calendar=self._calendar)

    def ppl(self, officer_id: str) -> PplDay:
        """The figures of one PPL (computed once)."""
        found = self._ppl.get(officer_id)
        if found is not None:
            return found
        src, day, p = self.source, self.day, self.period
        progress = self.progress_of(officer_id)
        target = sum(a.target for a in src.areas_by_officer.get(officer_id, ()))
        own = src.own.get(officer_id)
        on_day = own.days.get(day) if own else None
        reported = {} if on_day is None else {day: on_day.late_reports == on_day.reports}
        izin = src.izin.get(officer_id, set())
        working = is_working_day(day, p.start, p.end, p.days_off)
        found = PplDay(
            officer=src.officers[officer_id],
            today=progress.today,
            done=progress.done,
            target=target,
            status=day_status(day, reported, izin, working),
            forecast=self._forecast(progress, target),
            missing_run=self._missing_run(officer_id, izin),
            flags=self._flags(officer_id, own, target),
        )
        self._ppl[officer_id] = found
        return found

    def _missing_run(self, officer_id: str, izin: set[date]) -> int:
        """Working days in a row, ending on the day (at most the period's end), without a
        report or izin; days off neither count nor break the run."""
        p = self.period
        end = p.run_end(self.day)
        events = [d for d in izin if d <= end and d not in p.days_off]
        last = self.source.last_reported.get(officer_id)
        if last is not None:
            events.append(last)
        days = self._working_days
        return len(days) - bisect_right(days, max(events)) if events else len(days)

    def _flags(self, officer_id: str, own: OwnReports | None, target: int) -> tuple[Flag, ...]:
        """The quality flags of the officer's own reports: from the whole history for those who
        may have a spike, repeated numbers or zeros (db.digest_queries reads no other's), else
        from the totals (only over_target and late are then possible)."""
        history = self.source.history.get(officer_id)
        if history is not None:
            return tuple(quality_flags(
                [DayReport(r.report_date, r.values, r.progress, r.late) for r in history],
                target, self.day))
        if own is None:
            return ()
        flags: list[Flag] = []
        if own.done > target * (1 + OVER_TARGET_MARGIN):
            flags.append(Flag("over_target", {"done": own.done, "target": target}))
        if own.late_before:
            flags.append(Flag("late", {"count": own.late_before}))
        return tuple(flags)

    def ppl_of(self, officer_ids: Iterable[str]) -> list[PplDay]:
        """The figures of the PPL among these officers, in their order."""
        officers = self.source.officers
        return [self.ppl(i) for i in officer_ids if officers[i].role == Role.PPL]

    def problems_of(self, officer: Officer) -> tuple[ProblemModel, ...]:
        """The open field problems of the officer's scope (everyone's for an admin), oldest
        first."""
        if officer.role == Role.ADMIN:
            return tuple(self.source.problems)
        by_officer = self._problems_by_officer
        found = [p for i in self.source.subtree(officer.officer_id) for p in by_officer.get(i, ())]
        return tuple(sorted(found, key=lambda p: self._problem_order[p.id]))

    @cached_property
    def _problems_by_officer(self) -> dict[str, list[ProblemModel]]:
        found: dict[str, list[ProblemModel]] = {}
        for problem in self.source.problems:
            found.setdefault(problem.officer_id, []).append(problem)
        return found

    @cached_property
    def _problem_order(self) -> dict[int, int]:
        """Problem id -> its place in the source's list (oldest first)."""
        return {problem.id: k for k, problem in enumerate(self.source.problems)}

    # -- a PML's team ------------------------------------------------------------------------

    def team(self, pml: Officer) -> TeamFigures:
        src = self.source
        members = self.ppl_of(src.children.get(pml.officer_id, ()))
        members.sort(key=_pml_order)
        total = Totals()
        counts: Counter[str] = Counter()
        for stat in members:
            total.add(stat)
            counts[stat.status.value] += 1
            counts["slow"] += stat.forecast.slow
        runs = sorted((s for s in members if s.missing_run >= self.period.threshold),
                      key=lambda s: -s.missing_run)
        return TeamFigures(
            pml=pml, day=self.day, members=tuple(members), total=total, counts=dict(counts),
            missing_runs=tuple(runs),
            unreachable=tuple(s for s in members if s.officer.unreachable_at is not None),
            review=tuple(self._review(members)), problems=self.problems_of(pml),
        )

    def _review(self, members: Sequence[PplDay]) -> Iterable[ReviewEntry]:
        waiting = self.source.awaiting_review
        for stat in members:
            for report in waiting.get(stat.officer.officer_id, ()):
                yield ReviewEntry(report_id=report.id, revision=report.revision,
                                  officer=stat.officer, sls_name=report.sls_name,
                                  values=report.values, note=report.note)

    # -- a KOSEKA's kecamatan ------------------------------------------------------------------

    def kecamatan(self, koseka: Officer, *, with_series: bool = True) -> KecamatanFigures:
        """Everyone below the KOSEKA; the chart is their kecamatan's households per day."""
        src, p = self.source, self.period
        everyone = self.ppl_of(src.subtree(koseka.officer_id))
        code = src.kecamatan_of(koseka)
        name = src.kecamatan_names.get(code or "", code or koseka.name)

        escalated = [s for s in everyone if "KOSEKA" in escalation(s.missing_run, p.threshold)]
        escalated.sort(key=lambda s: (-s.missing_run, s.officer.name.casefold()))

        def team_name(stat: PplDay) -> str:
            supervisor = src.officers.get(stat.officer.supervisor_id or "")
            return supervisor.name if supervisor else "-"

        total, progress = self._sum(everyone)
        teams: list[TeamLine] = []
        for pml_id in src.children.get(koseka.officer_id, ()):
            pml = src.officers[pml_id]
            if pml.role != Role.PML:
                continue
            group, team_progress = self._sum(self.ppl_of(src.children.get(pml_id, ())))
            teams.append(TeamLine(pml, group, self._forecast(team_progress, group.target)))
        teams.sort(key=lambda line: (line.forecast.pace_share,
                                     _share(line.total.done, line.total.target),
                                     line.pml.name.casefold(), line.pml.officer_id))

        desa = [DesaLine(code, src.desa_names.get(code, code), done, target)
                for code, (done, target) in self._by_desa(s.officer.officer_id
                                                          for s in everyone).items()]
        desa.sort(key=lambda line: (_share(line.done, line.target), line.name, line.code))
        daily = src.kecamatan_daily.get(code or "", {})
        chart_target = src.kecamatan_targets.get(code or "", 0)
        return KecamatanFigures(
            koseka=koseka, day=self.day, name=name,
            escalated=tuple(Escalated(s, team_name(s)) for s in escalated),
            total=total, outlook=self.outlook(name, progress, total.target),
            teams=tuple(teams), desa=tuple(desa),
            series=self.series(name, daily, chart_target) if with_series else None,
            problems=self.problems_of(koseka),
        )

    def _sum(self, members: Iterable[PplDay]) -> tuple[Totals, Progress]:
        total, progress = Totals(), Progress()
        for stat in members:
            total.add(stat)
            progress.add(self.progress_of(stat.officer.officer_id))
        return total, progress

    def _by_desa(self, owners: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(done, target) per desa over the work areas of these officers."""
        sums: dict[str, tuple[int, int]] = {}
        for owner in owners:
            for area in self.source.areas_by_officer.get(owner, ()):
                done, target = sums.get(area.desa_code, (0, 0))
                sums[area.desa_code] = (done + area.done, target + area.target)
        return sums

    # -- the regency -----------------------------------------------------------------------------

    def regency_part(self) -> RegencyPart:
        """This source's part of the regency's figures (see `RegencyPart`)."""
        src = self.source
        part = RegencyPart()
        progress = part.progress
        for area in src.areas.values():
            kecamatan = src.desa_kecamatan.get(area.desa_code, "-")
            found = progress.get(kecamatan)
            if found is None:
                found = progress[kecamatan] = Progress()
            found.add(self._area_progress(area))
        everyone = self.ppl_of(o.officer_id for o in src.officers.values())
        part.missing = sum(1 for s in everyone if s.status == DayStatus.MISSING)
        part.at_risk = []
        for s in everyone:
            if s.forecast.at_risk:
                code = src.kecamatan_of(s.officer)
                part.at_risk.append(AtRisk(s, self._kecamatan_name(code),
                                           self._part_name(self._part_code(code or "-"))))
        part.zones = {s.officer.timezone for s in everyone}
        return part

    def _kecamatan_name(self, code: str | None) -> str:
        return self.source.kecamatan_names.get(code or "", code or "-")

    @cached_property
    def level(self) -> tuple[str, str | None]:
        """What the admin digest lists, and the one area it lies in (`RegencyFigures`)."""
        return area_level(self.source.kecamatan_targets)

    def _part_code(self, kecamatan: str) -> str:
        return part_code(self.level[0], kecamatan)

    def _part_name(self, code: str) -> str:
        if self.level[0] == KECAMATAN:
            return self._kecamatan_name(code)
        return self.source.area_names.get(code, code)

    def regency(self, name: str, *, with_series: bool = True,
                part: RegencyPart | None = None) -> RegencyFigures:
        """The whole regency (`name` is how the texts call it, for its outlook and chart):
        from this source, or from the merged `part` of every shard."""
        src = self.source
        if part is None:
            part = self.regency_part()
        targets: dict[str, int] = {}
        progress: dict[str, Progress] = {}
        for code, kecamatan_target in src.kecamatan_targets.items():
            key = self._part_code(code)
            targets[key] = targets.get(key, 0) + kecamatan_target
            found = progress.setdefault(key, Progress())
            if code in part.progress:
                found.add(part.progress[code])
        whole = Progress()
        for found in progress.values():
            whole.add(found)
        target = sum(targets.values())
        daily: dict[date, int] = {}
        for days in src.kecamatan_daily.values():
            for d, count in days.items():
                daily[d] = daily.get(d, 0) + count
        part_name = self._part_name
        outlooks = {k: self.outlook(part_name(k), progress[k], targets[k]) for k in targets}
        order = sorted(targets, key=lambda k: (outlooks[k].forecast.pace_share,
                                               _share(outlooks[k].done, targets[k]),
                                               part_name(k), k))
        at_risk = sorted(part.at_risk, key=lambda item: _risk_order(item.ppl))
        per_part = Counter(item.part for item in at_risk)
        level, area = self.level
        return RegencyFigures(
            day=self.day, level=level, area=area, outlook=self.outlook(name, whole, target),
            today=whole.today, missing=part.missing,
            parts=tuple(outlooks[k] for k in order),
            at_risk=tuple(at_risk),
            at_risk_by_part=tuple(sorted(per_part.items(),
                                         key=lambda item: (-item[1], item[0]))),
            series=self.series(name, daily, target) if with_series else None,
            problems=tuple(src.problems),
        )

    # -- outlooks and series -------------------------------------------------------------------

    def outlook(self, name: str, progress: Progress, target: int) -> Outlook:
        p = self.period
        return Outlook(name=name, target=target,
                       ideal=ideal_done(target, self.day, p.start, p.end, p.days_off),
                       forecast=self._forecast(progress, target))

    def series(self, name: str, daily: Mapping[date, int], target: int) -> Series | None:
        """Households so far per day against the ideal line, over the whole period to the
        target; None before the period starts."""
        p = self.period
        if self.day < p.start:
            return None
        days = self._chart_days
        cumulative: list[int] = []
        running = sum(count for d, count in daily.items() if d < p.start)
        for current in days[: (self.day - p.start).days + 1]:
            running += daily.get(current, 0)
            cumulative.append(running)
        ideal = ideal_line(target, p.start, p.end, p.days_off, days[-1])
        return Series(name, days, tuple(cumulative), tuple(ideal), p.end)

    @cached_property
    def _chart_days(self) -> tuple[date, ...]:
        """The days of a cumulative chart: the whole period, and past its end up to the day."""
        p = self.period
        last = max(self.day, p.end)
        return tuple(p.start + k * ONE_DAY for k in range((last - p.start).days + 1))


_STATUS_ORDER = {DayStatus.MISSING: 0, DayStatus.LATE: 1, DayStatus.IZIN: 2, DayStatus.OFF: 3,
                 DayStatus.REPORTED: 4}


def _pml_order(stat: PplDay) -> tuple[object, ...]:
    """Missing first (the longest run first), then the flagged (data-quality notes, a slow
    pace, unreachable), then the rest, each by status and name."""
    group = 0 if stat.status == DayStatus.MISSING else 1 if stat.flagged else 2
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
