"""Property-based bad input: every step of every flow, and forged or stale buttons.

Each flow step gets generated input: arbitrary text (emoji, right-to-left scripts, control
characters), numbers at and beyond the limits, 4,096-character messages, HTML/Markdown
control characters, SQL-looking strings, and photos, stickers, locations or contacts where
text is expected. Buttons get arbitrary and forged callback data. For every input:

1. exactly one reply: the reply is the next bot message, and a `/batal` sent right after it
   is answered by the very next message (a second reply to the input would come first);
   a button press gets exactly one answerCallbackQuery (a second one is refused by the local
   Bot API, which the error log would show);
2. the reply is short (< 1,000 characters) and Indonesian, see `assert_indonesian`;
3. no unhandled exception: no ERROR record in the log (the error handler logs every
   exception it sees) and never the apology "Mohon maaf, terjadi gangguan";
4. the rows of every table the flows write are unchanged, except where the input itself is
   the user's final answer (the reason of "Kembalikan"): then exactly the
   expected change happens.

One real application (the `harness` fixture) serves all examples of a test function: every
example drives the user to the step under test, sends one input and ends with `/batal`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.localapi import LocalBotApi, SentMessage, SimUser
from bot.present.texts import EN, ID
from tests.support import Harness, at, running_harness

# --- settings ----------------------------------------------------------------------------

# The suite runs a few fixed examples per step, the same on every run (CI stays stable).
# `bench/fuzz.py` explores instead: EXPLORE_EXAMPLES=N runs N random examples per step.
EXPLORE_EXAMPLES = int(os.environ.get("EXPLORE_EXAMPLES", "0"))

PROPERTY = settings(
    max_examples=EXPLORE_EXAMPLES or 12,
    deadline=None,
    derandomize=not EXPLORE_EXAMPLES,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one harness serves every example on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
BUTTONS = settings(PROPERTY, max_examples=EXPLORE_EXAMPLES or 30)

MAX_REPLY_CHARS = 1000
APOLOGY = "Mohon maaf, terjadi gangguan"
TODAY = "2022-10-17"  # the harness clock: Monday 17 Oct 2022, 18:00 WIB

# Every table a flow writes to. Rows are compared whole, not only counted.
TABLES = (
    "reports",
    "report_revisions",
    "report_reviews",
    "days_off",
    "problems",
    "problem_events",
    "problem_escalations",
    "broadcasts",
    "broadcast_recipients",
)

# --- the Indonesian check ------------------------------------------------------------------
#
# A reply counts as Indonesian when, ignoring every word the user sent, it contains at least
# one word that occurs only in the Indonesian texts of bot/present/texts.py and no word that occurs
# only in the English ones, nothing that looks like a Python leak ("None", "Traceback",
# "Error", "Exception") and no unfilled "{placeholder}".


def _words(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]{3,}", text.lower()))


def _template_words(catalog: dict[str, str]) -> set[str]:
    plain = (re.sub(r"<[^>]+>|\{[^}]*\}", " ", text) for text in catalog.values())
    return set().union(*map(_words, plain))


ID_ONLY = _template_words(ID) - _template_words(EN)
EN_ONLY = _template_words(EN) - _template_words(ID)
LEAKS = {"none", "null", "traceback", "error", "exception", "keyerror", "valueerror"}
CLOSING = {ID["cancelled"], ID["bc_cancelled"], ID["no_flow"]}


def assert_indonesian(text: str | None, sent: str = "", *, what: str = "reply") -> None:
    assert text, f"empty {what}"
    assert APOLOGY not in text, f"the error apology as {what}: {text!r}"
    assert len(text) < MAX_REPLY_CHARS, f"{what} of {len(text)} characters"
    own = _words(text) - _words(sent)
    assert own & ID_ONLY, f"{what} is not Indonesian: {text!r}"
    assert not own & EN_ONLY, f"English words {sorted(own & EN_ONLY)} in {what}: {text!r}"
    assert not own & LEAKS, f"{sorted(own & LEAKS)} in {what}: {text!r}"
    placeholders = set(re.findall(r"\{[a-z_]+\}", text)) - set(re.findall(r"\{[a-z_]+\}", sent))
    assert not placeholders, f"unfilled {placeholders} in {what}: {text!r}"


# --- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """One message a user can send: text, or something that is not text."""

    kind: str  # text | photo | sticker | location | contact
    text: str = ""  # the text, or the caption of a photo

    async def send(self, user: SimUser) -> None:
        if self.kind == "text":
            await user.send(self.text)
        elif self.kind == "photo":
            await user.send_photo(self.text or None)
        elif self.kind == "sticker":
            await user.send_sticker()
        elif self.kind == "location":
            await user.send_location(1.0102, 102.7128)  # Selatpanjang
        else:
            await user.send_contact("081200000099")

    @property
    def is_plain_text(self) -> bool:
        """Text the flows read as an answer (a leading /command goes elsewhere)."""
        return self.kind == "text" and re.match(r"/[A-Za-z0-9_]", self.text) is None

    def __repr__(self) -> str:  # short, for failure reports of 4,096-character inputs
        if len(self.text) <= 80:
            return f"Input({self.kind}, {self.text!r})"
        return f"Input({self.kind}, {self.text[:40]!r}…({len(self.text)} chars))"


EMOJI_RTL = [
    "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇮🇩", "🏝️⛵🌊",
    "مرحبا، أين المنزل؟", "שלום, איפה הבית?", "\u202eterbalik\u202c", "\u200f12\u200f", "١٢", "٣٠٠",
    "\u200b", "\u00a0", "e\u0301", "Ｔｅｓｔ１２", "ǅ", "ﷺ", "𝟏𝟐", "\x00", "\x1b[31m", "\r\n\t",
]
MARKUP = [
    "<b>", "</i>", "<b>tebal</i>", "&", "&amp;", "&lt;b&gt;", "<", ">", "<>", "<br/>",
    "<script>alert(1)</script>", '<a href="tg://user?id=1">x</a>', "<tg-spoiler>x</tg-spoiler>",
    "*_[]()~`", "**tebal** __miring__", "[tautan](http://x)", "`kode`", "```\npre\n```",
    "\\", "||spoiler||", "{name}", "{}", "{0}", "%s", "%(name)s", "$(rm -rf /)",
]
SQL = [
    "'; DROP TABLE reports; --",
    "Robert'); DROP TABLE problems;--",
    "' OR '1'='1",
    "1; DELETE FROM broadcasts",
    "0 UNION SELECT * FROM officers",
    '"; UPDATE days_off SET note = \'x\'; --',
]
NUMBERS = [
    "-1", "0", "1", "3", "59", "60", "61", "119", "120", "121", "199", "200", "201",
    "299", "300", "301", "499", "500", "501", "599", "600", "601", "999", "1000", "1001",
    "9999", "10000", "999999999", "1000000000", "99999999999999999999", str(2**63),
    "-0", "+5", "−3", "1e3", "12.5", "12,5", " 7 ", "1.000", "1.000.000", "007", "0x10",
    "NaN", "inf", "½", "²", "０", "1_000", "12 14 51",
]
DATES_TIMES = [
    "17/10", "16/10", "15/10", "14/10", "18/10", "31/02", "29/02/2022", "00/00", "17-10-2022",
    "2022-10-17", "17.10.22", "99/99/9999", "18:00", "19:30", "23:59", "24:00", "18:60",
    "17/10 19:00", "18/10 07:30", "32/13 25:61", "19.30", "1/1/1 1:1", "١٩:٣٠", "kemarin",
]
SPECIALS = EMOJI_RTL + MARKUP + SQL + NUMBERS + DATES_TIMES


def _fill(seed: str, size: int = 4096) -> str:
    return (seed * (size // len(seed) + 1))[:size]


_any_text = st.text(min_size=1, max_size=300)
_specials = st.sampled_from(SPECIALS)
_numbers = st.one_of(
    st.sampled_from(NUMBERS),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.tuples(st.sampled_from(["", " ", "\t", "+", "-"]), st.integers(0, 700),
              st.sampled_from(["", " ", ".", ",5", " ruta"])).map(lambda p: f"{p[0]}{p[1]}{p[2]}"),
)
_long = st.one_of(
    st.sampled_from(["a", "é", "😀", "ש", "ع", "<b>", "&", "*", " ", "'; --", "1"]).map(_fill),
    st.text(min_size=1, max_size=30).map(_fill),
    st.integers(3990, 4096).map(lambda n: _fill("x", n)),
)
_mixed = st.tuples(_specials, _any_text, _specials).map("".join)

texts = st.one_of(_any_text, _specials, _numbers, _long, _mixed)
non_text = st.one_of(
    st.sampled_from([Input("photo"), Input("sticker"), Input("location"), Input("contact")]),
    st.builds(lambda c: Input("photo", c),
              st.one_of(_specials, _any_text, _long.map(lambda s: s[:1024]))),  # caption limit
)
inputs = st.one_of(texts.map(lambda t: Input("text", t)), non_text)

# Examples every step sees, whatever is generated.
CANONICAL = [
    Input("text", _fill("Catatan panjang 😀 ")),
    Input("text", "'; DROP TABLE reports; --"),
    Input("text", "<b>tebal</i> & *_[]()~`"),
    Input("text", "שלום مرحبا 👨‍👩‍👧‍👦"),
    Input("text", "99999999999999999999"),
    Input("text", "-1"),
    Input("photo"),
    Input("sticker"),
    Input("location"),
]


def with_canonical(test: Callable[..., Any]) -> Callable[..., Any]:
    for item in reversed(CANONICAL):
        test = example(inp=item)(test)
    return test


# --- the world every test starts from ------------------------------------------------------

USER_IDS = {"P1": 501, "P2": 502, "P3": 503, "M1": 601, "M2": 602, "K1": 701, "A1": 801}


@dataclass
class World:
    h: Harness
    users: dict[str, SimUser]
    done: set[str]  # one-time preparations already made

    def __getattr__(self, name: str) -> SimUser:
        try:
            return self.__dict__["users"][name]
        except KeyError:
            raise AttributeError(name) from None


FAST = {"messages_per_second": 5000}  # the rate limiter is not under test: no pacing


@pytest.fixture
async def harness(api: LocalBotApi, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """conftest's harness without pacing of the bot's requests."""
    async with running_harness(api, tmp_path, clock, **FAST) as h:
        yield h


@pytest.fixture
async def world(harness: Harness, caplog: pytest.LogCaptureFixture) -> World:
    caplog.set_level(logging.ERROR)
    users = {officer: await harness.register(officer, uid) for officer, uid in USER_IDS.items()}
    return World(harness, users, set())


async def snapshot(h: Harness) -> dict[str, list[tuple]]:
    rows = {}
    for table in TABLES:
        async with h.db.conn.execute(f"SELECT * FROM {table} ORDER BY rowid") as cur:
            rows[table] = [tuple(r) for r in await cur.fetchall()]
    return rows


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    found = [f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records
             if r.levelno >= logging.ERROR]
    caplog.clear()
    return found


def has(fragment: str) -> Callable[[SentMessage], bool]:
    return lambda m: fragment in (m.text or "")


async def press(user: SimUser, message: SentMessage, action: str) -> str:
    """Press the button of `message` whose callback data ends with `action`."""
    [button] = [b for b in message.buttons() if (b.callback_data or "").endswith(action)]
    assert button.callback_data is not None
    return await user.press_data(message, button.callback_data)


def token_of(message: SentMessage) -> str:
    """The draft token carried by the buttons of a flow question."""
    return (message.buttons()[0].callback_data or "").split(":")[1]


async def close(user: SimUser) -> SentMessage:
    """`/batal` and its answer, which must be the next message: proves nothing else came."""
    await user.send("/batal")
    closing = await user.next_message()
    assert closing.text in CLOSING, f"an extra message, not the /batal answer: {closing.summary()}"
    return closing


# --- the steps -----------------------------------------------------------------------------

Reach = Callable[[World], Awaitable[tuple[SimUser, SentMessage]]]
Outcome = Callable[[World, Input, SentMessage, dict, dict], Awaitable[bool]]


async def report_values(w: World, *answers: str) -> tuple[SimUser, SentMessage]:
    user = w.P2  # one SLS: no SLS question; the report is for today
    await user.send("/lapor")
    question = await user.wait_for(has("Berapa ruta"))
    for answer, next_question in zip(
        answers, ("Berapa keluarga", "Berapa jiwa", "Ringkasan laporan"), strict=False
    ):
        await user.send(answer)
        question = await user.wait_for(has(next_question))
    return user, question


async def reach_report_date(w: World) -> tuple[SimUser, SentMessage]:
    """"Ubah tanggal" on the summary."""
    user, summary = await reach_report_summary(w)
    await press(user, summary, ":editf:date")
    return user, await user.wait_for(has("tanggal berapa"))


async def reach_report_sls(w: World) -> tuple[SimUser, SentMessage]:
    user = w.P1  # two SLS
    await user.send("/lapor")
    return user, await user.wait_for(has("Pilih SLS"))


async def reach_report_households(w: World) -> tuple[SimUser, SentMessage]:
    return await report_values(w)


async def reach_report_families(w: World) -> tuple[SimUser, SentMessage]:
    return await report_values(w, "12")


async def reach_report_persons(w: World) -> tuple[SimUser, SentMessage]:
    return await report_values(w, "12", "14")


async def reach_report_note(w: World) -> tuple[SimUser, SentMessage]:
    """"➕ Catatan" on the summary."""
    user, summary = await reach_report_summary(w)
    await press(user, summary, ":note")
    return user, await user.wait_for(has("catatan singkat"))


async def reach_report_summary(w: World) -> tuple[SimUser, SentMessage]:
    await w.P2.send("/lapor 12 14 51")
    return w.P2, await w.P2.wait_for(has("Ringkasan laporan"))


async def reach_report_edit(w: World) -> tuple[SimUser, SentMessage]:
    user, summary = await reach_report_summary(w)
    await press(user, summary, ":edit")
    return user, await user.wait_for(has("Bagian mana"))


async def reach_report_implausible(w: World) -> tuple[SimUser, SentMessage]:
    """P3 reported 5 households on three days; 60 today is far above the usual day."""
    user = w.P3
    if "history" not in w.done:
        for day in (15, 16, 17):
            w.h.clock.set(at(day))
            await user.send("/lapor 5 5 20")
            summary = await user.wait_for(has("Ringkasan laporan"))
            await press(user, summary, ":send")
            await user.wait_for(has("Laporan tersimpan"))
        w.h.clock.set(at(18))
        w.done.add("history")
    await user.send("/lapor 60 60 200")
    return user, await user.wait_for(has("jauh di atas"))


async def reach_izin_reason(w: World) -> tuple[SimUser, SentMessage]:
    await w.P2.send("/izin")
    return w.P2, await w.P2.wait_for(has("Apa alasannya"))


async def problem_steps(w: World, category: str, *buttons: str) -> tuple[SimUser, SentMessage]:
    """P1 (two SLS) through /kendala: the category, then the given answers in order."""
    user = w.P1
    await user.send("/kendala")
    question = await user.wait_for(has("Pilih kategori"))
    answers = [f"cat:{category}", "sls:1410012005001", "Responden menolak diwawancarai", ":skip"]
    waits = ["terkait SLS mana", "Tuliskan uraian", "Bila ada, kirim foto", "Seberapa mendesak"]
    for answer, wait in list(zip(answers, waits))[: len(buttons)]:
        if ":" in answer:
            await press(user, question, answer)
        else:
            await user.send(answer)
        question = await user.wait_for(has(wait))
    return user, question


async def reach_problem_category(w: World) -> tuple[SimUser, SentMessage]:
    return await problem_steps(w, "refusal")


async def reach_problem_sls(w: World) -> tuple[SimUser, SentMessage]:
    return await problem_steps(w, "refusal", "cat")


async def reach_problem_description(w: World) -> tuple[SimUser, SentMessage]:
    return await problem_steps(w, "refusal", "cat", "sls")


async def reach_problem_attachment(w: World) -> tuple[SimUser, SentMessage]:
    return await problem_steps(w, "refusal", "cat", "sls", "description")


async def reach_problem_urgency(w: World) -> tuple[SimUser, SentMessage]:
    return await problem_steps(w, "refusal", "cat", "sls", "description", "skip")


async def reach_problem_revisit(w: World) -> tuple[SimUser, SentMessage]:
    user, question = await problem_steps(w, "not_home", "cat", "sls", "description", "skip")
    await press(user, question, "urg:0")
    return user, await user.wait_for(has("dikunjungi ulang"))


async def reach_problem_summary(w: World) -> tuple[SimUser, SentMessage]:
    user, question = await problem_steps(w, "refusal", "cat", "sls", "description", "skip")
    await press(user, question, "urg:1")
    return user, await user.wait_for(has("Ringkasan kendala"))


async def broadcast_steps(w: World, *steps: str) -> tuple[SimUser, SentMessage]:
    """A1 (admin) through /umumkan: audience "all", the text, then the given buttons."""
    user = w.A1
    await user.send("/umumkan")
    question = await user.wait_for(has("Untuk siapa"))
    plan = [(":aud:all", "Tulis teks pengumuman"),
            ("Rapat evaluasi besok pukul 08.00 di kantor camat.", "Pratinjau pengumuman"),
            (":later", "Kapan dikirim")]
    for step in steps:
        answer, wait = plan[{"aud": 0, "text": 1, "later": 2}[step]]
        if answer.startswith(":"):
            await press(user, question, answer)
        else:
            await user.send(answer)
        question = await user.wait_for(has(wait))
    return user, question


async def reach_broadcast_audience(w: World) -> tuple[SimUser, SentMessage]:
    return await broadcast_steps(w)


async def reach_broadcast_kecamatan(w: World) -> tuple[SimUser, SentMessage]:
    user, question = await broadcast_steps(w)
    await press(user, question, ":aud:kec")
    return user, await user.wait_for(has("Pilih kecamatan"))


async def reach_broadcast_text(w: World) -> tuple[SimUser, SentMessage]:
    return await broadcast_steps(w, "aud")


async def reach_broadcast_time(w: World) -> tuple[SimUser, SentMessage]:
    return await broadcast_steps(w, "aud", "text", "later")


async def reach_broadcast_preview(w: World) -> tuple[SimUser, SentMessage]:
    """The preview, where now or later is chosen."""
    return await broadcast_steps(w, "aud", "text")


async def submit_report(user: SimUser, numbers: str = "12 14 51") -> None:
    await user.send(f"/lapor {numbers}")
    question = await user.wait_for(has("Pilih SLS"))
    await press(user, question, "sls:1410012005001")
    summary = await user.wait_for(has("Ringkasan laporan"))
    await press(user, summary, ":send")
    saved = ("Laporan tersimpan", "Laporan diperbarui")
    await user.wait_for(lambda m: any(s in (m.text or "") for s in saved))


async def reach_review_reason(w: World) -> tuple[SimUser, SentMessage]:
    """M1 presses "Kembalikan" on a report of P1 (submitted again when already returned)."""
    status = await w.h.scalar("SELECT status FROM reports WHERE officer_id = 'P1'")
    if status not in ("submitted", "corrected"):
        await submit_report(w.P1)
    user = w.M1
    await user.send("/progres")
    prompt = await user.wait_for(has("perlu ditinjau"))
    [back] = [b for b in prompt.buttons() if (b.callback_data or "").startswith("rv:back:")]
    assert back.callback_data is not None
    await user.press_data(prompt, back.callback_data)
    return user, await user.wait_for(has("alasan pengembalian"))


# --- outcomes of final answers -------------------------------------------------------------


async def review_reason_outcome(
    w: World, inp: Input, reply: SentMessage, before: dict, after: dict
) -> bool:
    """The reason is the last answer of "Kembalikan": the report is returned with it."""
    reason = inp.text.strip()
    if not inp.is_plain_text or not reason or len(reason) > 500:
        return False
    assert "dikembalikan" in (reply.text or "")
    assert await w.h.scalar("SELECT status FROM reports WHERE officer_id = 'P1'") == "returned"
    assert len(after["report_reviews"]) == len(before["report_reviews"]) + 1
    assert await w.h.scalar("SELECT reason FROM report_reviews ORDER BY id DESC LIMIT 1") == reason
    notice = await w.P1.wait_for(has("dikembalikan oleh"))
    assert reason in (notice.text or "")
    return True


@dataclass(frozen=True)
class Step:
    name: str
    reach: Reach
    outcome: Outcome | None = None  # when the input can be the user's final answer


STEPS = [
    Step("lapor-date", reach_report_date),
    Step("lapor-sls", reach_report_sls),
    Step("lapor-households", reach_report_households),
    Step("lapor-families", reach_report_families),
    Step("lapor-persons", reach_report_persons),
    Step("lapor-implausible", reach_report_implausible),
    Step("lapor-note", reach_report_note),
    Step("lapor-summary", reach_report_summary),
    Step("lapor-edit", reach_report_edit),
    Step("izin-reason", reach_izin_reason),
    Step("kendala-category", reach_problem_category),
    Step("kendala-sls", reach_problem_sls),
    Step("kendala-description", reach_problem_description),
    Step("kendala-attachment", reach_problem_attachment),
    Step("kendala-urgency", reach_problem_urgency),
    Step("kendala-revisit", reach_problem_revisit),
    Step("kendala-summary", reach_problem_summary),
    Step("umumkan-audience", reach_broadcast_audience),
    Step("umumkan-kecamatan", reach_broadcast_kecamatan),
    Step("umumkan-text", reach_broadcast_text),
    Step("umumkan-time", reach_broadcast_time),
    Step("umumkan-preview", reach_broadcast_preview),
    Step("kembalikan-reason", reach_review_reason, review_reason_outcome),
]


@pytest.mark.parametrize("step", STEPS, ids=[s.name for s in STEPS])
@PROPERTY
@given(inp=inputs)
@with_canonical
async def test_every_step_answers_bad_input_once_politely_and_saves_nothing(
    world: World, caplog: pytest.LogCaptureFixture, step: Step, inp: Input
) -> None:
    user, _question = await step.reach(world)
    before = await snapshot(world.h)

    await inp.send(user)
    reply = await user.next_message()
    assert_indonesian(reply.text, inp.text)
    await close(user)

    after = await snapshot(world.h)
    final = step.outcome is not None and await step.outcome(world, inp, reply, before, after)
    if not final:
        assert after == before, "the database changed without a confirmation"
    assert errors_logged(caplog) == []


# --- stale and forged buttons --------------------------------------------------------------

_int_like = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["-1", "0", "1", "2", "3", "", " 1", "1 ", "+1", "1e3", "1.0", "0x1", "1_0",
                     "²", "٣", "𝟏", "99999999999999999999", str(2**63), str(2**63 - 1), "x"]),
)
_token = st.one_of(st.text(alphabet="0123456789abcdef", min_size=0, max_size=14),
                   st.text(max_size=14))
_flow_actions = ["send", "cancel", "edit", "editf:date", "editf:note", "back", "ok", "fix", "skip",
                 f"date:{TODAY}", "date:xyz", "sls:1410012005001", "cat:refusal", "sls:-", "urg:1",
                 "aud:all", "aud:kec", "kec:14.10.01", "now", "later", "send:again"]
forged = st.one_of(
    st.text(max_size=64),
    st.builds("{}:{}:{}".format, st.sampled_from(["lapor", "kendala", "umumkan"]), _token,
              st.one_of(st.sampled_from(_flow_actions), st.text(max_size=20))),
    st.builds("rv:ok:{}".format, _int_like),
    st.builds("rv:back:{}".format, _int_like),
    st.builds("kd:{}:{}".format, st.sampled_from(["take", "done", "fwd", "visited", "x", ""]),
              _int_like),
    st.builds("baca:{}".format, _int_like),
    st.builds("izin:{}".format,
              st.one_of(st.sampled_from(["sakit", "skip", "cuti", ""]), st.text(max_size=20))),
    st.sampled_from(["", ":", "::::", "lapor:", "rv:", "rv:ok", "rv:back", "kd", "baca", "izin"]),
).filter(lambda data: data != "lapor:start")  # the real entry button of /lapor


async def prepare_targets(w: World) -> None:
    """Something real for forged ids to hit: a report and a problem of P1, an announcement
    from M1 to P1 and P2 (fully delivered, so that nothing changes in the background)."""
    await submit_report(w.P1)
    user, summary = await reach_problem_summary(w)
    await press(user, summary, ":send")
    await user.wait_for(has("tercatat"))

    await w.M1.send("/umumkan")
    await w.M1.wait_for(has("Tulis teks pengumuman"))
    await w.M1.send("Besok rapat tim jam 08.00.")
    preview = await w.M1.wait_for(has("Pratinjau pengumuman"))
    await press(w.M1, preview, ":send")
    for recipient in (w.P1, w.P2):
        await recipient.wait_for(has("Besok rapat tim"))
    report = await w.M1.wait_for(has("Status pengiriman pengumuman"))
    while "Selesai dikirim" not in (report.text or ""):  # the outbox's last edit, then it rests
        report = await w.M1.wait_edit(report, since_version=report.version)
    assert await w.h.scalar("SELECT COUNT(*) FROM broadcast_recipients WHERE status = 'sent'") == 2


@BUTTONS
@given(data=forged)
@example(data="rv:ok:99999999999999999999")
@example(data="rv:back:-1")
@example(data="kd:take:99999999999999999999")
@example(data="baca:²")
@example(data="baca:1")
@example(data="rv:ok:1")
@example(data="kd:done:1")
@example(data="lapor:0123456789ab:send")
async def test_forged_or_stale_buttons_get_a_polite_alert_and_change_nothing(
    world: World, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    if "targets" not in world.done:
        await prepare_targets(world)
        world.done.add("targets")
        assert errors_logged(caplog) == []
    user = world.P3  # another PML's PPL: may review, change or read none of the targets
    anchor = user.inbox[-1]
    before = await snapshot(world.h)

    query = await user.press_data(anchor, data)
    answer = await user.wait_answer(query)
    assert answer.get("show_alert") is True, f"not an alert: {answer}"
    assert_indonesian(answer.get("text"), what="alert")
    closing = await close(user)  # and no message came for the press
    assert closing.text == ID["no_flow"]

    assert await snapshot(world.h) == before
    assert errors_logged(caplog) == []


# Buttons of a live draft whose data was altered: the right token and step, a forged argument
# (or an action of another step). The press is answered once, at most one message follows.
LiveReach = Callable[[World], Awaitable[tuple[SimUser, SentMessage]]]
LIVE: dict[str, tuple[LiveReach, str]] = {
    "lapor-date": (reach_report_date, "lapor:{token}:date:{arg}"),
    "lapor-sls": (reach_report_sls, "lapor:{token}:sls:{arg}"),
    "lapor-editf": (reach_report_edit, "lapor:{token}:editf:{arg}"),
    "lapor-other-step": (reach_report_date, "lapor:{token}:{arg}"),
    "kendala-cat": (reach_problem_category, "kendala:{token}:cat:{arg}"),
    "kendala-sls": (reach_problem_sls, "kendala:{token}:sls:{arg}"),
    "kendala-urg": (reach_problem_urgency, "kendala:{token}:urg:{arg}"),
    "kendala-other-step": (reach_problem_category, "kendala:{token}:{arg}"),
    "umumkan-aud": (reach_broadcast_audience, "umumkan:{token}:aud:{arg}"),
    "umumkan-kec": (reach_broadcast_kecamatan, "umumkan:{token}:kec:{arg}"),
    "umumkan-other-step": (reach_broadcast_audience, "umumkan:{token}:{arg}"),
    "izin-reason": (reach_izin_reason, "izin:{arg}"),
}
_args = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "xyz", "2022-13-45", "9999-99-99", "2022-10-18", "2022-10-01",
                     "2022-10-17T25:00", "17/10", "1410012005001", "1410012005009", "-", "0", "1",
                     "2", "kec", "all", "role:PPL", "role:ADMIN", "kec:14.10.01", "14.10.01",
                     "99.99", "date", "note", "households", "values", "token", "step",
                     "cancel:x", "skip", "sakit:x", "SAKIT", "send", "send:", "ok", "fix", "edit",
                     "back", "editf:date", "urg:1", "sls:-", "now", "later"]),
)


@BUTTONS
@given(case=st.sampled_from(sorted(LIVE)), arg=_args)
@example(case="lapor-date", arg="xyz")
@example(case="lapor-date", arg="2022-13-45")
@example(case="lapor-editf", arg="'; DROP TABLE reports; --")
@example(case="umumkan-kec", arg="<b>")
@example(case="izin-reason", arg="x" * 60)
async def test_altered_buttons_of_a_live_draft_are_answered_once_and_change_nothing(
    world: World, caplog: pytest.LogCaptureFixture, case: str, arg: str
) -> None:
    reach, pattern = LIVE[case]
    user, question = await reach(world)
    token = token_of(question) if "{token}" in pattern else ""
    data = pattern.format(token=token, arg=arg)
    before = await snapshot(world.h)
    seen = len(user.inbox)

    query = await user.press_data(question, data)
    answer = await user.wait_answer(query)
    if answer.get("text"):
        assert_indonesian(answer["text"], what="alert")
    await user.send("/batal")
    await user.wait_for(lambda m: m.text in CLOSING)
    between = user.inbox[seen:-1]
    assert len(between) <= 1, [m.summary() for m in between]
    for message in between:
        assert_indonesian(message.text, arg)
    if not answer.get("text"):
        assert len(between) == 1, "a silent answer and no message: the press went unexplained"

    assert await snapshot(world.h) == before
    assert errors_logged(caplog) == []


@BUTTONS
@given(case=st.sampled_from(sorted(LIVE)), pick=st.integers(0, 20), restart=st.booleans())
async def test_buttons_of_a_cancelled_or_replaced_draft_are_stale(
    world: World, caplog: pytest.LogCaptureFixture, case: str, pick: int, restart: bool
) -> None:
    reach, pattern = LIVE[case]
    user, question = await reach(world)
    buttons = [b.callback_data for b in question.buttons() if b.callback_data]
    data = buttons[pick % len(buttons)]
    await close(user)
    if restart and "{token}" in pattern:  # a new draft of the same flow: new token
        await reach(world)
    before = await snapshot(world.h)

    query = await user.press_data(question, data)
    answer = await user.wait_answer(query)
    assert answer.get("show_alert") is True, f"not an alert: {answer}"
    assert_indonesian(answer.get("text"), what="alert")
    await close(user)  # and no message came for the press

    assert await snapshot(world.h) == before
    assert errors_logged(caplog) == []
