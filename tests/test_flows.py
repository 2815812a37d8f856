"""One flow at a time: a flow started while another waits gets its own input, over real HTTP.

A PPL has three flows (/lapor, /izin, /kendala), a PML two (the return of a report, /umumkan):
every ordered pair of the flows one person can have is tried. The later flow is started while
the earlier one waits for typed text, then text is typed: it must reach the later flow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.localapi import SimUser
from conversations.flows import tracker_of
from tests.support import Harness


@pytest.fixture
def engine() -> str:
    """SQLite only: how flows take turns in a chat, Telegram behaviour whose SQL (the
    conversation state) the e2e tests run on both engines (see tests/conftest.py)."""
    return "sqlite"


def text_of(message) -> str:
    return message.text or ""


def saying(*parts: str) -> Callable:
    return lambda m: all(part in text_of(m) for part in parts)


@dataclass(frozen=True)
class Step:
    """A flow brought to a question that takes typed text; the text, and what it leads to."""

    open: Callable[[Harness, SimUser], Awaitable[None]]
    text: str
    answer: str  # a part of the bot's answer to `text` in this flow


async def open_report(h: Harness, user: SimUser) -> None:
    await user.send("/lapor")
    await user.press(await user.wait_for(saying("Pilih SLS")), "RT 001 Banglas")
    await user.wait_for(saying("Berapa ruta"))


async def open_dayoff(h: Harness, user: SimUser) -> None:
    await user.send("/izin")  # the reason is a button: typed text is answered with a hint
    await user.wait_for(saying("alasannya"))


async def open_problem(h: Harness, user: SimUser) -> None:
    await user.send("/kendala")
    await user.press(await user.wait_for(saying("Pilih kategori")), "Menolak diwawancarai")
    await user.press(await user.wait_for(saying("terkait SLS")), "RT 001 Banglas")
    await user.wait_for(saying("Tuliskan uraian singkat"))


async def open_return(h: Harness, user: SimUser) -> None:
    await user.send("/progres")
    prompt = await user.wait_for(saying("perlu ditinjau"))
    [back] = [b for b in prompt.buttons() if b.text.startswith("↩️")]
    await user.press_data(prompt, back.callback_data)
    await user.wait_for(saying("alasan pengembalian"))


async def open_announcement(h: Harness, user: SimUser) -> None:
    await user.send("/umumkan")
    await user.wait_for(saying("Tulis teks pengumuman"))


PPL_FLOWS = {
    "lapor": Step(open_report, "12", "Berapa keluarga"),
    "izin": Step(open_dayoff, "Demam sejak pagi", "pilih dengan tombol"),
    "kendala": Step(open_problem, "Kepala keluarga menolak diwawancarai", "foto dan/atau lokasi"),
}
PML_FLOWS = {
    "kembalikan": Step(open_return, "Jumlah jiwa perlu dicek", "dikembalikan"),
    "umumkan": Step(open_announcement, "Rapat koordinasi besok pagi", "Pratinjau pengumuman"),
}
PAIRS = [
    (role, first, second)
    for role, flows in (("PPL", PPL_FLOWS), ("PML", PML_FLOWS))
    for first in flows
    for second in flows
    if first != second
]


async def person(harness: Harness, role: str) -> tuple[SimUser, dict[str, Step]]:
    putri = await harness.register("P1", 501)
    if role == "PPL":
        return putri, PPL_FLOWS
    await putri.send("/lapor 12 14 51")
    await putri.press(await putri.wait_for(saying("Pilih SLS")), "RT 001 Banglas")
    await putri.press(await putri.wait_for(saying("Ringkasan")), "Kirim")
    await putri.wait_for(saying("Laporan tersimpan"))
    return await harness.register("M1", 601), PML_FLOWS


@pytest.mark.parametrize(("role", "first", "second"), PAIRS,
                         ids=[f"{first}-then-{second}" for _, first, second in PAIRS])
async def test_the_later_flow_gets_its_own_input(
    harness: Harness, role: str, first: str, second: str
) -> None:
    user, flows = await person(harness, role)
    await flows[first].open(harness, user)
    await flows[second].open(harness, user)
    # The earlier flow was ended, and the user told so.
    notice = "disimpan sebagai draf" if first == "lapor" else "sebelumnya dihentikan"
    assert any(notice in text_of(m) for m in user.inbox)

    await user.send(flows[second].text)
    await user.wait_for(saying(flows[second].answer))
    # The second flow goes on with its next question; the first one took nothing.
    await user.send("/batal")
    await user.wait_for(lambda m: "ibatalkan" in text_of(m) or "Tidak ada proses" in text_of(m))
    if first == "kembalikan":
        assert await harness.scalar("SELECT status FROM reports WHERE officer_id='P1'") != (
            "returned"
        )
    if first == "izin":
        assert await harness.scalar("SELECT COUNT(*) FROM days_off") == 0
    if first == "kendala":
        assert await harness.scalar("SELECT COUNT(*) FROM problems") == 0


async def test_a_single_command_in_between_leaves_the_flow_waiting(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await open_problem(harness, putri)
    await putri.send("/progres")
    await putri.wait_for(saying("Progres"))
    await putri.send("Kepala keluarga menolak diwawancarai")
    await putri.wait_for(saying("foto dan/atau lokasi"))


async def test_a_report_set_aside_is_continued_by_lapor(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await open_report(harness, putri)
    await putri.send("12")
    await putri.wait_for(saying("Berapa keluarga"))
    await open_dayoff(harness, putri)
    assert any("disimpan sebagai draf" in text_of(m) for m in putri.inbox)
    await putri.send("/batal")
    await putri.wait_for(saying("ibatalkan"))

    await putri.send("/lapor")
    resumed = await putri.wait_for(saying("Melanjutkan draf laporan"))
    assert "Berapa keluarga" in resumed.text  # the question it had reached, not the start


async def test_an_idle_flow_ends_by_itself_and_never_swallows_later_input(
    harness: Harness,
) -> None:
    putri = await harness.register("P1", 501)
    await open_problem(harness, putri)
    tracker = tracker_of(harness.app)
    harness.clock.advance(timedelta(minutes=29))
    assert await tracker.expire_idle() == 0
    harness.clock.advance(timedelta(minutes=2))
    assert await tracker.expire_idle() == 1
    await putri.wait_for(saying("berakhir karena tidak ada jawaban selama 30 menit"))
    assert await tracker.expire_idle() == 0  # told once

    await putri.send("Kepala keluarga menolak diwawancarai")
    await putri.wait_for(saying("tidak sedang ditunggu bot"))
    assert not any("foto dan/atau lokasi" in text_of(m) for m in putri.inbox)
    assert await harness.scalar("SELECT COUNT(*) FROM problems") == 0


async def test_an_idle_report_keeps_its_draft(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await open_report(harness, putri)
    harness.clock.advance(timedelta(minutes=31))
    # Before the expiry job has looked, the idle flow already takes nothing.
    await putri.send("12")
    await putri.wait_for(saying("Angka ini belum tersimpan"))  # the hint outside a flow
    assert await tracker_of(harness.app).expire_idle() == 1
    await putri.wait_for(saying("disimpan sebagai draf"))
    await putri.send("/lapor")
    await putri.wait_for(saying("Melanjutkan draf laporan", "Berapa ruta"))
