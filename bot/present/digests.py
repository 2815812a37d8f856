"""The evening digests: a PML's team, a KOSEKA's kecamatan, the whole regency for the admin.

A digest is built in two steps: its figures (`bot.rules.figures`: plain data, computed once
per PPL from what db/digest_queries.py reads and the settings), then its texts, rendered here
from those figures and nothing else. The async entry points only read (a few set-based
queries over the totals of the reports) and then build in a worker thread. The charts are only
described here and drawn when they are sent (`bot.present.charts.render`).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.present import formatting as fmt
from bot.present.charts import Chart, CumulativeChart, ProgressBars
from bot.present.problems import problems_section
from bot.present.review import ReviewItem
from bot.present.splitting import split_message
from bot.present.texts import Raw, Texts
from bot.rules.attendance import DayStatus
from bot.rules.calendar import Coverage, zone_days
from bot.rules.figures import (
    KECAMATAN,
    DigestFigures,
    KecamatanFigures,
    Outlook,
    Period,
    PplDay,
    RegencyPart,
    ReviewEntry,
    Series,
    TeamFigures,
    digest_day,
)
from bot.rules.forms import FormDefinition
from bot.rules.pace import Forecast
from bot.rules.quality import RUN_LENGTH, SPIKE_FACTOR, Flag
from bot.rules.report import MIN_HISTORY_DAYS
from db.digest_queries import (
    Common,
    DigestData,
    FlagLimits,
    Shard,
    digest_shards,
    gc_paused,
    load_common,
    load_digest_data,
)
from db.engine import Connection
from db.models import Officer, ProblemModel, Role

if TYPE_CHECKING:  # the settings only pass through; bot.settings reads the text catalogs
    from bot.settings import Settings

KINDS: Mapping[Role, str] = {
    Role.PML: "digest_pml",
    Role.KOSEKA: "digest_koseka",
    Role.ADMIN: "digest_admin",
}
DIGEST_ROLES = (Role.PML, Role.KOSEKA, Role.ADMIN)
_DONE = Shard((), 0)
"""After the last shard: nothing more to read."""
AsOf = datetime | Callable[[], datetime] | None
"""When the data is read: a moment, a clock read as each shard is read, or not shown."""
AT_RISK_LIMIT = 10
"""At most this many PPL at risk (the most urgent) are listed in the admin digest; all of them
are counted per kecamatan (or kabupaten/kota, or province: `RegencyFigures.level`)."""


def area_title(t: Texts, level: tuple[str, str | None], names: Mapping[str, str]) -> str:
    """The name of the area an admin's view covers (`bot.rules.figures.area_level`), as plain
    text: "Kabupaten Kepulauan Meranti", "Provinsi Riau" or "Indonesia"."""
    lists, area = level
    if area is None:
        return html.unescape(t("digest_national_name"))
    if lists == KECAMATAN:
        return names.get(area, area)
    return html.unescape(t("digest_province_name", name=names.get(area, area)))


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
    as_of: AsOf = None,
    shard_officers: int | None = None,
) -> list[Digest]:
    """One digest per PML, KOSEKA and admin (of `roles`) that has a Telegram chat; `as_of`,
    when the data is read, is shown under the header with its zone."""
    return [digest async for batch in iter_digests(
        conn, day=day, settings=settings, form=form, texts=texts, roles=roles,
        with_charts=with_charts, as_of=as_of, shard_officers=shard_officers,
    ) for digest in batch]


async def iter_digests(
    conn: Connection,
    *,
    day: date,
    settings: Settings,
    form: FormDefinition,
    texts: Texts,
    roles: Collection[Role] = DIGEST_ROLES,
    with_charts: bool = True,
    as_of: AsOf = None,
    wanted: Callable[[Officer], bool] | None = None,
    zone_wanted: Callable[[str | None], bool] | None = None,
    kecamatan_wanted: Callable[[str], bool] | None = None,
    shard_officers: int | None = None,
    on_read: Callable[[Shard | None], None] | None = None,
) -> AsyncIterator[list[Digest]]:
    """The digests of `build_digests`, a batch per shard of kecamatan (`digest_shards`: at
    most about `shard_officers` active officers each, `DIGEST_SHARD_OFFICERS` when None),
    then the admins', from the parts of every shard: a national roster is never read or held
    at once, and a batch can be sent before the next one is read. `wanted` leaves recipients
    out (their digests are not built); `zone_wanted` (a time zone, None for TIMEZONE) and
    `kecamatan_wanted` (a bot's scope) leave out the shards with no officer of a wanted zone
    or kecamatan, unless an admin digest needs them all;
    `as_of` may be a clock, read as each shard is read; `on_read` is told of each shard read."""
    common = await load_common(conn, day, admin_telegram_ids=settings.admin_telegram_ids)
    local = [r for r in roles if r != Role.ADMIN]
    admins = [o for o in common.admins if Role.ADMIN in roles and o.telegram_chat_id is not None
              and (wanted is None or wanted(o))]
    regency = RegencyPart() if admins else None
    shards = [s for s in await digest_shards(conn, shard_officers or settings.digest_shard_officers)
              if regency is not None or s is None or (
                  (zone_wanted is None or any(zone_wanted(zone) for zone in s.zones))
                  and (kecamatan_wanted is None or any(map(kecamatan_wanted, s.kecamatan))))]
    if not shards or not (local or admins):
        return

    async def read(shard: Shard | None) -> tuple[DigestData, datetime | None]:
        if on_read is not None:
            on_read(shard)
        read_at = as_of() if callable(as_of) else as_of
        with gc_paused():
            return await load_data(conn, day, settings, shard=shard, common=common), read_at

    # The next shard is read while this one is built in a worker thread (on PostgreSQL, its
    # queries run on the server meanwhile): at most two shards are held at once.
    reading = asyncio.ensure_future(read(shards[0]))
    try:
        for following in [*shards[1:], _DONE]:
            data, read_at = await reading
            if following is not _DONE:
                reading = asyncio.ensure_future(read(following))
            builder = DigestBuilder(data, settings, form, texts, with_charts=with_charts,
                                    as_of=read_at)
            with gc_paused():
                batch = await asyncio.to_thread(builder.digests, local, wanted)
                if regency is not None:
                    regency.merge(await asyncio.to_thread(builder.figures.regency_part))
            del data, builder
            if batch:
                yield batch
    finally:
        if not reading.done():
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
    if regency is not None:
        read_at = as_of() if callable(as_of) else as_of
        builder = DigestBuilder(DigestData.of_common(day, common), settings, form, texts,
                                with_charts=with_charts, as_of=read_at, regency=regency)
        yield await asyncio.to_thread(builder.digests, [Role.ADMIN], None, admins)


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
    shard_officers: int | None = None,
) -> Digest | None:
    """The digest of one officer on demand (/ringkasan); None for a PPL. A PML or KOSEKA
    reads the shard of their kecamatan only; an admin, every shard."""
    if officer.role not in KINDS:
        return None
    day = digest_day(day, officer)
    common = await load_common(conn, day, admin_telegram_ids=settings.admin_telegram_ids)
    shards = await digest_shards(conn, shard_officers or settings.digest_shard_officers)
    if officer.role == Role.ADMIN:
        regency = RegencyPart()
        for shard in shards:
            data = await load_data(conn, day, settings, shard=shard, common=common)
            figures = DigestFigures(data, period_of(settings))
            regency.merge(await asyncio.to_thread(figures.regency_part))
        data, part = DigestData.of_common(day, common), regency
    else:
        mine = next((s for s in shards if s is None or officer.kecamatan_code in s.kecamatan),
                    shards[-1])
        data, part = await load_data(conn, day, settings, shard=mine, common=common), None
    builder = DigestBuilder(data, settings, form, texts, with_charts=with_charts, as_of=as_of,
                            regency=part)
    return await asyncio.to_thread(builder.digest, officer)


async def load_data(
    conn: Connection, day: date, settings: Settings, *, shard: Shard | None = None,
    common: Common | None = None,
) -> DigestData:
    """What the figures of `day` need, read with the set-based queries of db.digest_queries:
    of everyone, or of one shard of kecamatan."""
    period = period_of(settings)
    return await load_digest_data(
        conn, day, recent=period.recent(day), run_days=period.run_days(day),
        run_end=period.run_end(day), period_start=period.start, days_off=period.days_off,
        limits=FlagLimits(spike_factor=SPIKE_FACTOR, min_history_days=MIN_HISTORY_DAYS,
                          run_length=RUN_LENGTH),
        admin_telegram_ids=settings.admin_telegram_ids, shard=shard, common=common,
    )


def digests_from_data(
    data: DigestData,
    *,
    settings: Settings,
    form: FormDefinition,
    texts: Texts,
    roles: Collection[Role] = DIGEST_ROLES,
    with_charts: bool = True,
    as_of: datetime | None = None,
) -> list[Digest]:
    """Every digest of `roles` whose recipient has a Telegram chat, from what was read (all of
    it: the admins' from this data alone)."""
    builder = DigestBuilder(data, settings, form, texts, with_charts=with_charts, as_of=as_of)
    return builder.digests(roles)


# ------------------------------------------------------------------------------ the texts


class DigestBuilder:
    """Renders any number of digests of one day from their figures (`bot.rules.figures`)."""

    def __init__(
        self,
        data: DigestData,
        settings: Settings,
        form: FormDefinition,
        texts: Texts,
        *,
        with_charts: bool = True,
        as_of: datetime | None = None,
        regency: RegencyPart | None = None,
    ) -> None:
        self.data = data
        self.figures = DigestFigures(data, period_of(settings))
        self.day = data.day
        self.t = texts
        self.lang = texts.language
        self.unit = form.field(form.progress_field).unit(self.lang)
        self.with_charts = with_charts
        self.tz = settings.tz
        self.as_of = as_of
        self._regency_part = regency
        self._numbers: dict[int, Raw] = {}
        self._regencies: dict[str, tuple[list[str], list[Chart]]] = {}

    @cached_property
    def regency_part(self) -> RegencyPart:
        """The regency's figures of every shard (given), else of this data."""
        if self._regency_part is not None:
            return self._regency_part
        return self.figures.regency_part()

    def digests(self, roles: Collection[Role], wanted: Callable[[Officer], bool] | None = None,
                admins: Sequence[Officer] | None = None) -> list[Digest]:
        """The digests of `roles` whose recipient has a Telegram chat (and is `wanted`): the
        PML and KOSEKA of this data, the admins of the data (or `admins`)."""
        recipients: list[Officer] = []
        for role in (Role.PML, Role.KOSEKA):
            if role in roles:
                recipients.extend(o.officer() for o in self.data.officers.values()
                                  if o.role == role and o.telegram_chat_id is not None)
        if Role.ADMIN in roles:
            recipients.extend(o for o in (self.data.admins if admins is None else admins)
                              if o.telegram_chat_id is not None)
        return [self.digest(o) for o in recipients if wanted is None or wanted(o)]

    def digest(self, officer: Officer) -> Digest:
        """The officer's digest: what needs action first, the open field problems of their scope
        last, all in as few messages as the text allows."""
        if officer.role == Role.PML:
            return self.pml_digest(self.figures.team(officer))
        if officer.role == Role.KOSEKA:
            return self.koseka_digest(
                self.figures.kecamatan(officer, with_series=self.with_charts))
        if officer.role == Role.ADMIN:
            zone_key = officer.zone(self.tz).key
            found = self._regencies.get(zone_key)
            if found is None:
                found = self._regencies[zone_key] = self._regency(zone_key)
            chunks, charts = found
            return Digest(kind=KINDS[Role.ADMIN], recipient=officer, chunks=list(chunks),
                          charts=list(charts))
        raise ValueError(f"no digest for role {officer.role}")

    def _as_of(self, zone: ZoneInfo | None = None) -> Raw:
        """' · data pukul 20.30 WIB' under the header, with the day when it is another one;
        in `zone`, the reader's (TIMEZONE when None)."""
        if self.as_of is None:
            return Raw("")
        zone = zone or self.tz
        local = self.as_of.astimezone(zone)
        time = fmt.time_of_day(local, zone, self.lang)
        if local.date() == self.day:
            return Raw(self.t("digest_as_of", time=time))
        return Raw(self.t("digest_as_of_day", day=fmt.short_day(local.date(), self.lang),
                          time=time))

    def _with_actions(self, header: str, actions: list[str],
                      problems: Sequence[ProblemModel]) -> list[str]:
        """The header, then the lines that need action (left out when there is none)."""
        if problems:
            actions = [*actions, self.t("digest_action_problems",
                                        count=self._n(len(problems)))]
        if not actions:
            return [header]
        return [header, "", self.t("digest_action_header"), *actions]

    def _finish_text(self, lines: list[str], problems: Sequence[ProblemModel]) -> list[str]:
        """The digest's messages: its lines, then the open problems when there are any."""
        if problems:
            lines = [*lines, "", problems_section(problems, self.t, self.lang)]
        return split_message("\n".join(lines))

    # -- PML -----------------------------------------------------------------------------

    def pml_digest(self, team: TeamFigures) -> Digest:
        t = self.t
        actions = [t("digest_action_missing", name=s.officer.name, days=s.missing_run)
                   for s in team.missing_runs]
        actions += [t("digest_unreachable_line", name=s.officer.name) for s in team.unreachable]
        header = t("digest_pml_header", team=team.pml.name, day=fmt.day(team.day, self.lang),
                   as_of=self._as_of(team.pml.zone(self.tz)))
        lines = self._with_actions(header, actions, team.problems)

        lines.append("")
        if not team.members:
            lines.append(t("digest_no_ppl"))
        else:
            lines.append(t("digest_ppl_header", unit=self.unit))
            lines.extend(self._ppl_line(stat) for stat in team.members)
            total = team.total
            lines += [
                "",
                t("digest_team_total", today=self._n(total.today), unit=self.unit,
                  done=self._n(total.done), target=self._n(total.target),
                  percent=self._percent(total.done, total.target)),
            ]
            parts = [t(key, count=self._n(team.counts[name])) for name, key in _COUNT_KEYS
                     if team.counts.get(name)]
            if parts:
                lines.append(" · ".join(parts))

        flagged = team.flagged
        if flagged:
            lines += ["", t("digest_quality_header")]
            lines += [
                t("digest_quality_line", name=s.officer.name,
                  flags=Raw("; ".join(self._flag_text(flag) for flag in s.flags)))
                for s in flagged
            ]

        return Digest(
            kind=KINDS[Role.PML],
            recipient=team.pml,
            chunks=self._finish_text(lines, team.problems),
            review=[self._review_item(entry) for entry in team.review],
        )

    def _ppl_line(self, stat: PplDay) -> str:
        """One short line: the status first, then done/target, today's count when reported."""
        t = self.t
        reported = stat.status in (DayStatus.REPORTED, DayStatus.LATE)
        today = t("digest_today", today=self._n(stat.today)) if reported or stat.today else ""
        return t("digest_ppl_line", status=self._status[stat.status],
                 name=stat.officer.name, done=self._n(stat.done), target=self._n(stat.target),
                 percent=self._percent(stat.done, stat.target), today=Raw(today),
                 slow=self._slow if stat.forecast.slow else Raw(""))

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

    def _review_item(self, entry: ReviewEntry) -> ReviewItem:
        return ReviewItem(report_id=entry.report_id, revision=entry.revision,
                          name=entry.officer.name, sls=entry.sls_name, values=entry.values,
                          note=entry.note)

    # -- KOSEKA --------------------------------------------------------------------------

    def koseka_digest(self, kec: KecamatanFigures) -> Digest:
        t = self.t
        actions = [t("digest_action_escalated", name=e.ppl.officer.name, team=e.team,
                     days=e.ppl.missing_run) for e in kec.escalated]
        header = t("digest_koseka_header", area=kec.name, name=kec.koseka.name,
                   day=fmt.day(kec.day, self.lang), as_of=self._as_of(kec.koseka.zone(self.tz)))
        lines = self._with_actions(header, actions, kec.problems)
        lines += ["", *self._outlook(kec.outlook, key="digest_koseka_total"),
                  self._today_line(kec.total.today, kec.total.missing)]

        if kec.teams:
            lines += ["", t("digest_teams_header", unit=self.unit)]
        for line in kec.teams:
            group = line.total
            missing = (t("digest_team_missing", count=self._n(group.missing))
                       if group.missing else "")
            lines.append(t("digest_team_line", name=line.pml.name, done=self._n(group.done),
                           target=self._n(group.target),
                           percent=self._percent(group.done, group.target),
                           today=Raw(t("digest_today", today=self._n(group.today))),
                           missing=Raw(missing),
                           slow=self._slow if line.forecast.slow else Raw("")))

        if kec.desa:
            lines += ["", t("digest_desa_header", unit=self.unit)]
        lines += [t("digest_desa_line", name=d.name, done=self._n(d.done),
                    target=self._n(d.target), percent=self._percent(d.done, d.target))
                  for d in kec.desa]

        charts: list[Chart] = []
        if self.with_charts:
            charts += self._cumulative(kec.series)
            if kec.teams:
                caption = t("digest_chart_teams", name=kec.name)
                charts.append(Chart(caption, ProgressBars(
                    html.unescape(caption), tuple(line.pml.name for line in kec.teams),
                    tuple(_percent_value(line.total.done, line.total.target)
                          for line in kec.teams),
                )))
        return Digest(kind=KINDS[Role.KOSEKA], recipient=kec.koseka,
                      chunks=self._finish_text(lines, kec.problems), charts=charts)

    def _today_line(self, today: int, missing: int) -> str:
        t = self.t
        return t("digest_today_total", today=self._n(today), unit=self.unit,
                 missing=Raw(t("digest_today_missing", count=self._n(missing)) if missing else ""))

    # -- admin ---------------------------------------------------------------------------

    def _zones_line(self, zone: ZoneInfo) -> str | None:
        """When the officers live in other zones than the reader's: which part of the day
        the digest covers in each ('Hari Senin, 17 Okt 2022 per zona: s.d. 21.30 WIB · s.d.
        23.30 WIT'); None when they all live in the reader's zone."""
        keys = {key or self.tz.key for key in self.regency_part.zones}
        if self.as_of is None or keys <= {zone.key}:
            return None
        parts = []
        for local, part in zone_days(self.day, self.as_of, [ZoneInfo(k) for k in keys]):
            if part is Coverage.SO_FAR:
                parts.append(self.t("digest_zone_so_far",
                                    time=fmt.time_of_day(local, None, self.lang)))
            else:
                key = "digest_zone_whole" if part is Coverage.WHOLE else "digest_zone_not_yet"
                parts.append(self.t(key, zone=f"{local:%Z}"))
        return self.t("digest_zones", day=fmt.day(self.day, self.lang),
                      zones=Raw(" · ".join(parts)))

    def _regency(self, zone_key: str) -> tuple[list[str], list[Chart]]:
        """The admin digest's messages and charts: the same for every admin of one zone
        (built once per zone: `_regencies`)."""
        t = self.t
        zone = ZoneInfo(zone_key)
        name = self._area_name()
        reg = self.figures.regency(name, with_series=self.with_charts, part=self.regency_part)
        level = Raw(t(f"digest_level_{reg.level}"))
        header = t("digest_admin_header", area=name, day=fmt.day(reg.day, self.lang),
                   as_of=self._as_of(zone))
        if zones_line := self._zones_line(zone):
            header += "\n" + zones_line
        lines = [*self._with_actions(header, [], reg.problems), ""]
        lines += self._outlook(reg.outlook, key="digest_area_total",
                               scope=Raw(t(f"digest_scope_{reg.level}")))
        lines.append(self._today_line(reg.today, reg.missing))

        if reg.parts:
            lines += ["", t("digest_kecamatan_header", level=level)]
        for outlook in reg.parts:
            lines += self._outlook(outlook)

        if reg.at_risk:
            lines += ["", t("digest_at_risk_header", count=self._n(len(reg.at_risk)))]
            if len(reg.at_risk) > AT_RISK_LIMIT:
                lines.append(t("digest_at_risk_top", count=self._n(AT_RISK_LIMIT)))
            for item in reg.at_risk[:AT_RISK_LIMIT]:
                fc = item.ppl.forecast
                lines.append(t(
                    "digest_at_risk_line", name=item.ppl.officer.name, kecamatan=item.kecamatan,
                    percent=self._percent(fc.done, fc.target),
                    outlook=Raw(t("digest_at_risk_stalled") if fc.finish_date is None else
                                t("digest_at_risk_finish",
                                  finish=fmt.short_day(fc.finish_date, self.lang))),
                ))
            lines.append(t("digest_at_risk_by_kecamatan", level=level, counts=Raw(", ".join(
                t("digest_at_risk_count", name=part, count=self._n(count))
                for part, count in reg.at_risk_by_part))))

        charts: list[Chart] = []
        if self.with_charts:
            charts += self._cumulative(reg.series)
            if reg.parts:
                caption = t("digest_chart_kecamatan", level=level)
                charts.append(Chart(caption, ProgressBars(
                    html.unescape(caption),
                    tuple(outlook.name for outlook in reg.parts),
                    tuple(_percent_value(outlook.done, outlook.target)
                          for outlook in reg.parts),
                )))
        return self._finish_text(lines, reg.problems), charts

    def _area_name(self) -> str:
        """What the admin digest covers, as plain text: the one kabupaten/kota of every work
        area, their one province, or the country."""
        return area_title(self.t, self.figures.level, self.data.area_names)

    def _outlook(self, outlook: Outlook, *, key: str = "digest_area_line",
                 **values: object) -> list[str]:
        """Progress against where a steady pace would be, and the forecast of one area."""
        t = self.t
        fc, target, ideal, gap = outlook.forecast, outlook.target, outlook.ideal, outlook.gap
        if gap > 0:
            gap_text = t("digest_gap_ahead", count=self._n(gap), unit=self.unit)
        elif gap < 0:
            gap_text = t("digest_gap_behind", count=self._n(-gap), unit=self.unit)
        else:
            gap_text = t("digest_gap_even")
        first = t(
            key, name=outlook.name,
            done=self._n(fc.done), target=self._n(target),
            percent=self._percent(fc.done, target),
            ideal=self._n(round(ideal)), ideal_percent=_percent_text(ideal, target, self.lang),
            gap=Raw(gap_text), **values,
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

    def _cumulative(self, series: Series | None) -> list[Chart]:
        """Households so far against the ideal line, drawn over the whole period to the target."""
        if series is None:
            return []
        caption = self.t("digest_chart_cumulative", name=series.name, unit=self.unit)
        return [Chart(caption, CumulativeChart(html.unescape(caption), series.days,
                                               series.cumulative, series.ideal,
                                               series.deadline))]

    def _n(self, value: int) -> Raw:
        """A whole number ('1.234'): nothing in it to escape (each one formatted once)."""
        found = self._numbers.get(value)
        if found is None:
            found = self._numbers[value] = Raw(fmt.number(value, self.lang))
        return found

    def _percent(self, done: int, target: int) -> Raw:
        """'82,3%' or '-': nothing in it to escape."""
        return Raw(fmt.percent(done, target, self.lang))

    @cached_property
    def _status(self) -> dict[DayStatus, Raw]:
        """The mark of each day status, as written before a PPL's line."""
        return {status: Raw(self.t(f"digest_status_{status.value}")) for status in DayStatus}

    @cached_property
    def _slow(self) -> Raw:
        return Raw(self.t("digest_slow"))


def period_of(settings: Settings) -> Period:
    """The calendar of the figures, from the settings."""
    return Period(start=settings.period_start, end=settings.period_end,
                  days_off=frozenset(settings.days_off),
                  threshold=settings.consecutive_missing_days)


_COUNT_KEYS = (
    ("missing", "digest_count_missing"),
    ("late", "digest_count_late"),
    ("izin", "digest_count_izin"),
    ("reported", "digest_count_reported"),
    ("slow", "digest_count_slow"),
)
"""The team's counts under its total, in this order; a count of 0 is left out."""


def _percent_value(done: float, target: int) -> float:
    return 100 * done / target if target > 0 else 0.0


def _percent_text(value: float, target: int, language: str) -> str:
    if target <= 0:
        return "-"
    text = f"{100 * value / target:.1f}%"
    return text.replace(".", ",") if language == "id" else text
