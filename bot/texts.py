"""Every text a user sees, Indonesian first, English beside it. Templates are HTML."""

from __future__ import annotations

from collections.abc import Mapping

from bot.formatting import esc


class Raw(str):
    """A value that is already HTML (built from escaped parts) and must not be escaped again."""


ID: dict[str, str] = {
    # access and registration
    "not_registered": (
        "Bapak/Ibu belum terdaftar sebagai petugas.\n"
        "Buka tautan pendaftaran dari admin BPS, ketik <code>/start KODE</code>, "
        "atau tekan tombol di bawah untuk membagikan nomor HP yang terdaftar."
    ),
    "share_phone_button": "📱 Bagikan nomor HP saya",
    "inactive": "Akun petugas Bapak/Ibu sudah tidak aktif. Hubungi admin BPS bila ini keliru.",
    "group_hint": "Mohon gunakan chat pribadi dengan bot untuk melapor dan melihat data.",
    "code_unknown": "Kode pendaftaran tidak dikenal. Mohon periksa kembali kode dari admin BPS.",
    "code_used": "Kode pendaftaran ini sudah dipakai. Mohon minta kode baru ke admin BPS.",
    "account_linked_other": (
        "Akun Telegram ini sudah terhubung dengan petugas lain ({name}). "
        "Satu akun hanya untuk satu petugas."
    ),
    "officer_linked_other": (
        "Petugas {name} sudah terhubung dengan akun Telegram lain. Mohon hubungi admin BPS."
    ),
    "officer_inactive": "Petugas dengan kode ini sudah tidak aktif. Mohon hubungi admin BPS.",
    "already_linked": "Akun Bapak/Ibu sudah terhubung sebagai {name} ({role}).",
    "welcome": "Selamat datang, Bapak/Ibu <b>{name}</b>.\nAkun Anda terhubung sebagai {role}.",
    "contact_not_own": "Mohon bagikan nomor HP Anda sendiri dengan tombol di bawah.",
    "phone_not_found": (
        "Nomor {phone} tidak ada di daftar petugas. Mohon minta kode pendaftaran ke admin BPS."
    ),
    "phone_ambiguous": (
        "Nomor ini terdaftar untuk lebih dari satu petugas. "
        "Mohon minta kode pendaftaran ke admin BPS."
    ),
    "phone_invalid": "Nomor HP tidak dapat dibaca. Mohon minta kode pendaftaran ke admin BPS.",
    # help
    "role_PPL": "PPL (Petugas Pendataan Lapangan)",
    "role_PML": "PML (Petugas Pemeriksa Lapangan)",
    "role_KOSEKA": "KOSEKA (Koordinator Sensus Kecamatan)",
    "role_ADMIN": "Admin BPS Kabupaten",
    "help_header": "Perintah yang tersedia:",
    "cmd_start": "mulai / daftar",
    "cmd_bantuan": "daftar perintah",
    "cmd_lapor": "laporan harian (cepat: /lapor 12 14 51)",
    "cmd_progres": "lihat progres",
    "cmd_batal": "batalkan proses yang sedang berjalan",
    # generic
    "error_generic": "Mohon maaf, terjadi gangguan. Silakan coba lagi sebentar lagi.",
    "stale_button": "Tombol ini sudah tidak berlaku.",
    "not_allowed": "Maaf, Bapak/Ibu tidak berwenang untuk ini.",
    "no_flow": "Tidak ada proses yang sedang berjalan.",
    "unknown_command": "Perintah tidak dikenal. Ketik /bantuan untuk daftar perintah.",
    "cancelled": "Dibatalkan. Tidak ada data yang disimpan.",
    # report flow
    "report_ppl_only": "Perintah /lapor hanya untuk PPL.",
    "report_before_period": "Periode pendataan belum dimulai (mulai {start}).",
    "report_no_area": "Bapak/Ibu belum memiliki wilayah tugas (SLS). Mohon hubungi PML Anda.",
    "ask_date": (
        "Laporan untuk tanggal berapa?\n"
        "Tekan tombol, atau ketik tanggal (contoh: <code>17/10</code>)."
    ),
    "btn_today": "Hari ini ({day})",
    "btn_yesterday": "Kemarin ({day})",
    "bad_date": "Tanggal tidak dapat dibaca. Contoh: <code>17/10</code> atau <code>17/10/2022</code>.",
    "date_outside_period": "Tanggal harus dalam periode pendataan ({start} s.d. {end}).",
    "date_in_future": "Tanggal {day} belum tiba. Laporan hanya untuk hari ini atau hari sebelumnya.",
    "ask_sls": "Pilih SLS yang dilaporkan:",
    "use_buttons": "Mohon pilih dengan tombol di atas.",
    "ask_value": "{label}? (angka {min}–{max})",
    "not_a_number": "Mohon kirim angka bulat, contoh: <code>12</code>.",
    "negative": "Angka tidak boleh negatif.",
    "below_min": "Angka minimal {min}.",
    "over_max": "Maksimal {max} {unit} per hari. Mohon periksa kembali.",
    "rule_broken": "{big} ({big_value}) tidak boleh lebih kecil dari {small} ({small_value}).",
    "implausible": (
        "{value} {unit} jauh di atas hari biasa Bapak/Ibu (sekitar {usual}). Apakah benar?"
    ),
    "btn_yes_correct": "Ya, benar",
    "btn_fix": "Ubah angka",
    "ask_note": "Ada catatan? Ketik catatan singkat, atau tekan Lewati.",
    "btn_skip": "Lewati",
    "note_too_long": "Catatan terlalu panjang (maksimal {max} karakter).",
    "text_expected": "Mohon kirim teks, atau tekan Lewati.",
    "summary": "<b>Ringkasan laporan</b>\nTanggal: {day}{late}\nSLS: {sls}\n{values}\nCatatan: {note}",
    "late_flag": " (susulan)",
    "replace_warning": (
        "\n\n⚠️ Sudah ada laporan untuk tanggal dan SLS ini ({old}). "
        "Menekan Kirim akan menggantinya (versi lama tetap tersimpan)."
    ),
    "btn_send": "Kirim",
    "btn_replace": "Kirim (ganti)",
    "btn_edit": "Ubah",
    "btn_cancel": "Batal",
    "btn_back": "Kembali ke ringkasan",
    "ask_edit": "Bagian mana yang ingin diubah?",
    "edit_date": "Tanggal",
    "edit_sls": "SLS",
    "edit_note": "Catatan",
    "saved": "✅ Laporan tersimpan.\nTotal Bapak/Ibu: {done} dari {target} {unit} ({percent}).",
    "saved_replaced": "✅ Laporan diperbarui.\nTotal Bapak/Ibu: {done} dari {target} {unit} ({percent}).",
    "already_saved": "Laporan ini sudah tersimpan sebelumnya.",
    "fast_usage": (
        "Format cepat: <code>/lapor {keys}</code>, contoh <code>/lapor {example}</code>."
    ),
    "fast_problem": "{label}: {problem}",
    # progress
    "progress_ppl_header": "<b>Progres {name}</b>",
    "progress_team_header": "<b>Progres tim {name}</b>",
    "progress_kec_header": "<b>Progres kecamatan {name}</b>",
    "progress_all_header": "<b>Progres Kabupaten Kepulauan Meranti</b>",
    "progress_line": "{label}: {done}/{target} ({percent})",
    "progress_total": "<b>Total: {done}/{target} ({percent})</b>",
    "progress_empty": "Belum ada wilayah tugas yang tercatat.",
    "progress_as_of": "Per {day}",
    # schedules, day off and review
    "reminder": (
        "Bapak/Ibu {name}, laporan hari ini ({day}) belum masuk. "
        "Mohon kirim laporan harian; tekan tombol di bawah atau ketik /lapor."
    ),
    "btn_report_now": "📝 Lapor sekarang",
    "cmd_izin": "izin hari ini (sakit, cuti, pelatihan)",
    "izin_ppl_only": "Perintah /izin hanya untuk PPL.",
    "izin_ask_reason": "Izin untuk {day}. Apa alasannya?",
    "izin_sakit": "Sakit",
    "izin_cuti": "Cuti",
    "izin_pelatihan": "Pelatihan",
    "izin_lainnya": "Lainnya",
    "izin_ask_note": "Keterangan singkat (opsional)? Ketik, atau tekan Lewati.",
    "izin_saved": "Izin tercatat: {reason}, {day}. Hari ini tidak ada pengingat laporan.",
    "review_prompt": "Laporan hari ini yang perlu ditinjau:",
    "btn_return": "↩️ Kembalikan",
    "review_approved": "Laporan {name} disetujui.",
    "review_done_already": "Laporan ini sudah ditinjau atau sudah berubah.",
    "ask_return_reason": "Tulis alasan pengembalian laporan {name} ({day}):",
    "return_reason_invalid": "Mohon tulis alasan singkat (maksimal {max} karakter), atau /batal.",
    "return_saved": "Laporan {name} dikembalikan. PPL sudah diberi tahu.",
    "report_returned": (
        "↩️ Laporan {day} untuk {sls} dikembalikan oleh {reviewer}.\nAlasan: {reason}\n"
        "Mohon perbaiki dengan /lapor (pilih tanggal dan SLS yang sama)."
    ),
}

EN: dict[str, str] = {
    "not_registered": (
        "You are not registered as an officer yet.\n"
        "Open the registration link from the BPS admin, type <code>/start CODE</code>, "
        "or press the button below to share your registered phone number."
    ),
    "share_phone_button": "📱 Share my phone number",
    "inactive": "Your officer account is no longer active. Contact the BPS admin if this is wrong.",
    "group_hint": "Please use a private chat with the bot to report and see data.",
    "code_unknown": "Unknown registration code. Please check the code from the BPS admin.",
    "code_used": "This registration code has already been used. Please ask the BPS admin for a new one.",
    "account_linked_other": (
        "This Telegram account is already linked to another officer ({name}). "
        "One account per officer."
    ),
    "officer_linked_other": (
        "Officer {name} is already linked to another Telegram account. Please contact the BPS admin."
    ),
    "officer_inactive": "The officer with this code is no longer active. Please contact the BPS admin.",
    "already_linked": "Your account is already linked as {name} ({role}).",
    "welcome": "Welcome, <b>{name}</b>.\nYour account is linked as {role}.",
    "contact_not_own": "Please share your own phone number with the button below.",
    "phone_not_found": (
        "Number {phone} is not on the officer roster. Please ask the BPS admin for a registration code."
    ),
    "phone_ambiguous": (
        "This number is registered for more than one officer. "
        "Please ask the BPS admin for a registration code."
    ),
    "phone_invalid": "The phone number cannot be read. Please ask the BPS admin for a registration code.",
    "role_PPL": "PPL (field enumerator)",
    "role_PML": "PML (field supervisor)",
    "role_KOSEKA": "KOSEKA (district coordinator)",
    "role_ADMIN": "BPS regency admin",
    "help_header": "Available commands:",
    "cmd_start": "start / register",
    "cmd_bantuan": "list of commands",
    "cmd_lapor": "daily report (quick: /lapor 12 14 51)",
    "cmd_progres": "see progress",
    "cmd_batal": "cancel the current step",
    "error_generic": "Sorry, something went wrong. Please try again in a moment.",
    "stale_button": "This button is no longer valid.",
    "not_allowed": "Sorry, you are not allowed to do this.",
    "no_flow": "Nothing is in progress.",
    "unknown_command": "Unknown command. Type /help for the list of commands.",
    "cancelled": "Cancelled. Nothing was saved.",
    "report_ppl_only": "The /report command is for PPL only.",
    "report_before_period": "The fieldwork period has not started yet (starts {start}).",
    "report_no_area": "You have no work area (SLS) assigned yet. Please contact your PML.",
    "ask_date": (
        "Which date is this report for?\n"
        "Press a button, or type a date (example: <code>17/10</code>)."
    ),
    "btn_today": "Today ({day})",
    "btn_yesterday": "Yesterday ({day})",
    "bad_date": "The date cannot be read. Example: <code>17/10</code> or <code>17/10/2022</code>.",
    "date_outside_period": "The date must be within the fieldwork period ({start} to {end}).",
    "date_in_future": "{day} has not come yet. Reports are for today or earlier days only.",
    "ask_sls": "Choose the SLS you are reporting:",
    "use_buttons": "Please choose with the buttons above.",
    "ask_value": "{label}? (a number {min}–{max})",
    "not_a_number": "Please send a whole number, for example <code>12</code>.",
    "negative": "The number cannot be negative.",
    "below_min": "The minimum is {min}.",
    "over_max": "At most {max} {unit} per day. Please check again.",
    "rule_broken": "{big} ({big_value}) cannot be smaller than {small} ({small_value}).",
    "implausible": "{value} {unit} is far above your usual day (about {usual}). Is it correct?",
    "btn_yes_correct": "Yes, correct",
    "btn_fix": "Change the number",
    "ask_note": "Any note? Type a short note, or press Skip.",
    "btn_skip": "Skip",
    "note_too_long": "The note is too long (at most {max} characters).",
    "text_expected": "Please send text, or press Skip.",
    "summary": "<b>Report summary</b>\nDate: {day}{late}\nSLS: {sls}\n{values}\nNote: {note}",
    "late_flag": " (late)",
    "replace_warning": (
        "\n\n⚠️ A report for this date and SLS already exists ({old}). "
        "Pressing Send replaces it (the old version is kept)."
    ),
    "btn_send": "Send",
    "btn_replace": "Send (replace)",
    "btn_edit": "Change",
    "btn_cancel": "Cancel",
    "btn_back": "Back to summary",
    "ask_edit": "What would you like to change?",
    "edit_date": "Date",
    "edit_sls": "SLS",
    "edit_note": "Note",
    "saved": "✅ Report saved.\nYour total: {done} of {target} {unit} ({percent}).",
    "saved_replaced": "✅ Report updated.\nYour total: {done} of {target} {unit} ({percent}).",
    "already_saved": "This report was already saved.",
    "fast_usage": "Quick format: <code>/report {keys}</code>, for example <code>/report {example}</code>.",
    "fast_problem": "{label}: {problem}",
    "progress_ppl_header": "<b>Progress of {name}</b>",
    "progress_team_header": "<b>Progress of team {name}</b>",
    "progress_kec_header": "<b>Progress of kecamatan {name}</b>",
    "progress_all_header": "<b>Progress of Kabupaten Kepulauan Meranti</b>",
    "progress_line": "{label}: {done}/{target} ({percent})",
    "progress_total": "<b>Total: {done}/{target} ({percent})</b>",
    "progress_empty": "No work areas recorded yet.",
    "progress_as_of": "As of {day}",
    # schedules, day off and review
    "reminder": (
        "{name}, today's report ({day}) has not come in yet. "
        "Please send your daily report: press the button below or type /report."
    ),
    "btn_report_now": "📝 Report now",
    "cmd_izin": "day off today (sick, leave, training)",
    "izin_ppl_only": "The /izin command is for PPL only.",
    "izin_ask_reason": "Day off for {day}. What is the reason?",
    "izin_sakit": "Sick",
    "izin_cuti": "Leave",
    "izin_pelatihan": "Training",
    "izin_lainnya": "Other",
    "izin_ask_note": "A short note (optional)? Type it, or press Skip.",
    "izin_saved": "Day off recorded: {reason}, {day}. No report reminder today.",
    "review_prompt": "Today's reports to review:",
    "btn_return": "↩️ Return",
    "review_approved": "Report of {name} approved.",
    "review_done_already": "This report has already been reviewed or has changed.",
    "ask_return_reason": "Write the reason for returning the report of {name} ({day}):",
    "return_reason_invalid": "Please write a short reason (at most {max} characters), or /cancel.",
    "return_saved": "Report of {name} returned. The PPL has been told.",
    "report_returned": (
        "↩️ Your report of {day} for {sls} was returned by {reviewer}.\nReason: {reason}\n"
        "Please correct it with /report (choose the same date and SLS)."
    ),
}

CATALOGS: Mapping[str, Mapping[str, str]] = {"id": ID, "en": EN}


class Texts:
    """Texts of one language; every argument is HTML-escaped unless it is `Raw`."""

    def __init__(self, language: str = "id") -> None:
        self.language = language
        self._catalog = CATALOGS[language]

    def __call__(self, key: str, **values: object) -> str:
        safe = {k: v if isinstance(v, Raw) else esc(v) for k, v in values.items()}
        return self._catalog[key].format(**safe)
