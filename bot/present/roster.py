"""The one-line summary of a roster import, for the command line and the demo."""

from __future__ import annotations

from bot.present.formatting import number
from db.roster import ImportResult


def import_summary(result: ImportResult) -> str:
    text = (
        f"Roster diimpor. Petugas: {number(result.officers_added)} baru, "
        f"{number(result.officers_updated)} diperbarui, "
        f"{number(result.officers_deactivated)} dinonaktifkan."
    )
    if result.areas_imported:
        text += (
            f" SLS: {number(result.areas_added)} baru, {number(result.areas_updated)} diperbarui,"
            f" {number(result.areas_deactivated)} dinonaktifkan."
        )
    else:
        text += " SLS tidak diubah (tidak ada data areas)."
    if result.warnings:
        text += f" {number(len(result.warnings))} peringatan."
    return text
