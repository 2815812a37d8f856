"""Every text a user sees, Indonesian first, English beside it. Templates are HTML."""

from __future__ import annotations

from collections.abc import Mapping

from bot.present.formatting import esc


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
    "edit_ignored": (
        "Pesan yang diubah tidak dibaca bot. Mohon kirim jawaban yang benar sebagai pesan baru."
    ),
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
    "bad_date": (
        "Tanggal tidak dapat dibaca. "
        "Contoh: <code>17/10</code> atau <code>17/10/2022</code>."
    ),
    "date_outside_period": "Tanggal harus dalam periode pendataan ({start} s.d. {end}).",
    "date_in_future": (
        "Tanggal {day} belum tiba. "
        "Laporan hanya untuk hari ini atau hari sebelumnya."
    ),
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
    "summary": (
        "<b>Ringkasan laporan</b>\nTanggal: {day}{late}\nSLS: {sls}\n"
        "{values}\nCatatan: {note}"
    ),
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
    "saved_replaced": (
        "✅ Laporan diperbarui.\n"
        "Total Bapak/Ibu: {done} dari {target} {unit} ({percent})."
    ),
    "already_saved": "Laporan ini sudah tersimpan sebelumnya.",
    "report_not_saved": (
        "⚠️ Mohon maaf, laporan Bapak/Ibu <b>belum tersimpan</b> karena gangguan pada "
        "penyimpanan data. Ringkasan di atas masih berlaku: silakan tekan <b>Kirim</b> sekali lagi."
    ),
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
    "reminder_revisit": (
        "Jangan lupa: {count} ruta perlu dikunjungi ulang "
        "(responden tidak di rumah)."
    ),
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
    # digests
    "cmd_ringkasan": "ringkasan harian tim/wilayah",
    "cmd_ekspor": "unduh data laporan (Excel)",
    "digest_not_for_ppl": (
        "Ringkasan harian hanya untuk PML, KOSEKA dan admin. "
        "Gunakan /progres untuk melihat progres Bapak/Ibu."
    ),
    "export_not_for_ppl": "Ekspor data hanya untuk PML, KOSEKA dan admin.",
    "export_caption": "Data laporan {scope} sampai {day}",
    "export_scope_team": "tim {name}",
    "export_scope_koseka": "wilayah KOSEKA {name}",
    "export_scope_all": "Kabupaten Kepulauan Meranti",
    "digest_pml_header": "<b>Ringkasan harian tim {team}</b>\n{day}",
    "digest_no_ppl": "Belum ada PPL di tim ini.",
    "digest_ppl_line": (
        "• {name}: hari ini {today} {unit}, total {done}/{target} ({percent}) – {status}"
    ),
    "digest_status_reported": "✅ sudah lapor",
    "digest_status_late": "🕓 lapor susulan",
    "digest_status_izin": "🟡 izin",
    "digest_status_missing": "❌ belum lapor",
    "digest_status_off": "hari libur",
    "digest_status_behind": ", ⚠️ tertinggal dari target",
    "digest_team_total": "<b>Total tim: hari ini {today} {unit}, {done}/{target} ({percent})</b>",
    "digest_team_counts": (
        "Sudah lapor {reported} · susulan {late} · izin {izin} · belum lapor {missing} · "
        "tertinggal {behind}"
    ),
    "digest_consecutive_header": "<b>Tidak lapor {days} hari kerja berturut-turut atau lebih</b>",
    "digest_consecutive_line": "• {name}: {days} hari kerja berturut-turut",
    "digest_quality_header": "<b>Catatan kualitas data</b>",
    "digest_quality_line": "• {name}: {flags}",
    "digest_flag_over_target": "melebihi target ({done}/{target} {unit})",
    "digest_flag_spike": "lonjakan ({today} {unit} hari ini, biasanya {usual})",
    "digest_flag_repeated": "angka sama {days} hari berturut-turut",
    "digest_flag_zeros": "0 {unit} {days} hari berturut-turut",
    "digest_flag_late": "{count} laporan susulan",
    "digest_unreachable_line": "⛔ {name}: tidak dapat dihubungi (memblokir bot)",
    "digest_review_label": "{name} · {sls}: {count} {unit}",
    "digest_koseka_header": "<b>Ringkasan harian Kecamatan {area}</b>\nKOSEKA {name} · {day}",
    "digest_teams_header": "<b>Per tim PML</b>",
    "digest_team_line": (
        "• Tim {name}: hari ini {today} {unit}, {done}/{target} ({percent}), "
        "belum lapor {missing}"
    ),
    "digest_no_team": "Belum ada tim PML.",
    "digest_desa_header": "<b>Per desa/kelurahan</b>",
    "digest_desa_line": "• {name}: {done}/{target} ({percent})",
    "digest_no_area": "Belum ada wilayah tugas yang tercatat.",
    "digest_total": "<b>Total: hari ini {today} {unit}, {done}/{target} ({percent})</b>",
    "digest_missing_total": "Belum lapor hari ini: {count} PPL",
    "digest_escalated_header": (
        "<b>Perlu tindak lanjut: tidak lapor {days} hari kerja berturut-turut atau lebih</b>"
    ),
    "digest_escalated_line": "• {name} (tim {team}): {days} hari kerja",
    "digest_chart_cumulative": "Kumulatif {unit} {name} dan garis ideal",
    "digest_chart_teams": "Progres per tim PML, Kecamatan {name}",
    "digest_chart_kecamatan": "Progres per kecamatan",
    "digest_admin_header": "<b>Ringkasan harian Kabupaten Kepulauan Meranti</b>\n{day}",
    "digest_regency_name": "Kabupaten Kepulauan Meranti",
    "digest_area_total": (
        "<b>Total kabupaten: {done}/{target} ({percent})</b>, "
        "garis ideal {ideal} ({ideal_percent}), {gap}"
    ),
    "digest_area_line": (
        "<b>{name}</b>: {done}/{target} ({percent}), garis ideal {ideal} ({ideal_percent}), {gap}"
    ),
    "digest_today_total": "Hari ini: {today} {unit} · belum lapor {missing} PPL",
    "digest_kecamatan_header": "<b>Per kecamatan</b>",
    "digest_gap_ahead": "lebih {count} {unit}",
    "digest_gap_behind": "kurang {count} {unit}",
    "digest_gap_even": "tepat di garis ideal",
    "digest_finished": "   ↳ ✅ selesai {finish}",
    "digest_forecast_line": "   ↳ perkiraan selesai {finish}, perlu {needed} {unit}/hari{risk}",
    "digest_risk": " – ⚠️ berisiko",
    "digest_finish_none": "tidak terproyeksi",
    "digest_needed_none": "-",
    "digest_at_risk_header": "<b>PPL berisiko tidak selesai tepat waktu: {count}</b>",
    "digest_at_risk_line": (
        "• {name} ({kecamatan}): {done}/{target} ({percent}), perkiraan selesai {finish}, "
        "perlu {needed} {unit}/hari"
    ),
    "digest_at_risk_more": "dan {count} lainnya",
    "digest_at_risk_none": "Tidak ada PPL yang berisiko.",
    # problems
    "cmd_kendala": "laporkan kendala lapangan",
    "cmd_kendala_saya": "kendala yang saya laporkan",
    "cmd_kendala_tim": "kendala terbuka di tim/wilayah",
    "problem_cat_not_home": "Responden tidak di rumah",
    "problem_cat_refusal": "Menolak diwawancarai",
    "problem_cat_access": "Akses/geografis/cuaca",
    "problem_cat_no_kk": "Dokumen KK tidak ada",
    "problem_cat_equipment": "Perlengkapan/kuesioner",
    "problem_cat_security": "Keamanan",
    "problem_cat_sls_changed": "SLS berubah",
    "problem_cat_other": "Lainnya",
    "problem_status_open": "Baru",
    "problem_status_in_progress": "Ditangani",
    "problem_status_resolved": "Selesai",
    "problem_status_escalated": "Diteruskan ke KOSEKA",
    "problem_not_on_roster": "Perintah ini hanya untuk petugas yang ada di daftar petugas.",
    "problem_ask_category": "Kendala apa yang Bapak/Ibu hadapi? Pilih kategori:",
    "problem_ask_sls": "Kendala ini terkait SLS mana?",
    "problem_general": "Lainnya/umum",
    "problem_ask_description": "Tuliskan uraian singkat kendalanya ({min}–{max} karakter).",
    "problem_description_short": "Uraian terlalu pendek (minimal {min} karakter).",
    "problem_description_long": "Uraian terlalu panjang (maksimal {max} karakter).",
    "problem_text_expected": "Mohon kirim uraian berupa teks.",
    "problem_ask_attachment": (
        "Bila ada, kirim foto dan/atau lokasi (📎 → Lokasi). Bila tidak, tekan Lewati."
    ),
    "problem_ask_attachment_more": (
        "Diterima: {items}. Bila perlu, kirim juga {missing}; bila tidak, tekan Lanjut."
    ),
    "problem_attachment_expected": "Mohon kirim foto atau lokasi, atau tekan tombol di bawah.",
    "problem_item_photo": "foto",
    "problem_item_location": "lokasi",
    "btn_problem_continue": "Lanjut",
    "problem_ask_urgency": "Seberapa mendesak kendala ini?",
    "problem_urgency_normal": "Biasa",
    "problem_urgency_urgent": "Mendesak",
    "problem_ask_revisit": "Berapa rumah tangga yang perlu dikunjungi ulang? (angka 0–{max})",
    "problem_revisit_invalid": "Mohon kirim angka bulat 0–{max}, contoh: <code>3</code>.",
    "problem_summary": "<b>Ringkasan kendala</b>\n{details}\n\nTekan Kirim untuk meneruskannya.",
    "problem_saved": "✅ Kendala #{id} tercatat.",
    "problem_saved_sent": "✅ Kendala #{id} tercatat dan sudah diteruskan ke {names}.",
    "problem_already_saved": "Kendala ini sudah tersimpan sebelumnya.",
    "problem_line_reporter": "Pelapor: {name} ({role})",
    "problem_line_category": "Kategori: {value}",
    "problem_line_place": "SLS: {value}",
    "problem_line_revisit": "Ruta dikunjungi ulang: {value}",
    "problem_line_urgency": "Tingkat: {value}",
    "problem_line_attachments": "Lampiran: {value}",
    "problem_line_reported": "Dilaporkan: {value}",
    "problem_line_status": "Status: {value}",
    "problem_line_description": "Uraian: {value}",
    "problem_alert_new": "🚨 <b>Kendala baru #{id}</b>{urgent}",
    "problem_urgent_flag": " ⚠️ <b>MENDESAK</b>",
    "problem_alert_forwarded": "↗️ <b>Kendala #{id} diteruskan oleh {name}</b>",
    "problem_alert_escalated": "⏰ <b>Kendala #{id} belum selesai setelah {hours} jam</b>",
    "problem_photo_caption": "Foto kendala #{id}",
    "btn_problem_take": "🛠 Ditangani",
    "btn_problem_resolve": "✅ Selesai",
    "btn_problem_forward": "↗️ Teruskan ke KOSEKA",
    "btn_problem_visited": "🏠 Sudah dikunjungi #{id}",
    "problem_status_set": "Kendala #{id}: {status}.",
    "problem_status_same": "Kendala #{id} sudah berstatus {status}.",
    "problem_reporter_notice": (
        "ℹ️ Kendala #{id} ({category}): status sekarang <b>{status}</b> (oleh {name})."
    ),
    "problem_visited": "Terima kasih. Kendala #{id} selesai; ruta kunjungan ulang dihapus.",
    "problem_visited_notice": (
        "🏠 {name}: ruta kendala #{id} sudah dikunjungi ulang. "
        "Kendala selesai."
    ),
    "my_problems_header": "<b>Kendala Bapak/Ibu</b> ({count} terakhir)",
    "my_problems_empty": "Bapak/Ibu belum pernah melaporkan kendala. Laporkan dengan /kendala.",
    "my_problems_line": (
        "#{id} · {day} · {category} · <b>{status}</b>{revisit}\n"
        "    <i>{snippet}</i>"
    ),
    "my_problems_revisit": " · {count} ruta dikunjungi ulang",
    "problem_item_header": "<b>Kendala #{id}</b>{urgent}",
    "my_problems_revisit_total": "Ruta yang masih perlu dikunjungi ulang: <b>{count}</b>",
    "team_problems_not_allowed": "Perintah /kendala_tim hanya untuk PML, KOSEKA dan admin.",
    "team_problems_empty": "Tidak ada kendala terbuka. 👍",
    "team_problems_header": "<b>Kendala terbuka: {count}</b> (terlama dulu)",
    "team_problems_more": "Ditampilkan {shown} yang terlama.",
    "problems_section_header": "<b>Kendala terbuka ({count})</b>",
    "problems_section_none": "Kendala terbuka: tidak ada.",
    "problems_section_line": "• #{id} {day} · {name} · {category} · {place} · {status}{urgent}",
    # broadcasts
    "cmd_umumkan": "kirim pengumuman",
    "cmd_pengumuman": "pengumuman terakhir dan siapa yang belum membaca",
    "bc_not_allowed": (
        "Mohon maaf, pengumuman hanya dapat dikirim oleh PML, KOSEKA dan admin BPS. "
        "Silakan sampaikan informasi kepada PML Bapak/Ibu."
    ),
    "bc_ask_audience": "<b>Pengumuman baru</b>\nUntuk siapa pengumuman ini?",
    "bc_aud_all": "Semua petugas",
    "bc_aud_role_PPL": "Semua PPL",
    "bc_aud_role_PML": "Semua PML",
    "bc_aud_role_KOSEKA": "Semua KOSEKA",
    "bc_aud_kec_choice": "Satu kecamatan…",
    "bc_aud_kec": "Kecamatan {name}",
    "bc_aud_subtree": "Seluruh kecamatan (PML dan PPL)",
    "bc_aud_subtree_pml": "Hanya PML",
    "bc_aud_team": "PPL tim Bapak/Ibu",
    "bc_ask_kecamatan": "Pilih kecamatan:",
    "bc_ask_text": (
        "Pengumuman untuk: <b>{audience}</b>.\n"
        "Tulis teks pengumuman (maksimal {max} karakter), atau kirim foto/dokumen "
        "dengan keterangan."
    ),
    "bc_ask_text_for_media": (
        "Lampiran diterima. Sekarang tulis teks pengumumannya (maksimal {max} karakter)."
    ),
    "bc_text_empty": "Teks pengumuman tidak boleh kosong.",
    "bc_text_too_long": "Teks terlalu panjang ({length} karakter, maksimal {max}).",
    "bc_text_expected": "Mohon kirim teks, foto atau dokumen.",
    "bc_ask_when": "Kirim sekarang atau jadwalkan?",
    "bc_btn_now": "Kirim sekarang",
    "bc_btn_schedule": "Jadwalkan",
    "bc_ask_time": (
        "Kapan dikirim? Ketik jam hari ini <code>HH:MM</code> (contoh <code>19:30</code>) "
        "atau tanggal dan jam <code>DD/MM HH:MM</code> (contoh <code>18/10 07:00</code>)."
    ),
    "bc_bad_time": "Waktu tidak dapat dibaca.",
    "bc_time_past": "Waktu {when} sudah lewat. Mohon pilih waktu yang akan datang.",
    "bc_preview": (
        "<b>Pratinjau pengumuman</b>\nUntuk: {audience}\n"
        "Penerima: <b>{count} petugas</b>{unlinked}\nDikirim: {when}"
    ),
    "bc_preview_unlinked": " ({count} lainnya belum terdaftar di bot, tidak menerima)",
    "bc_when_now": "sekarang",
    "bc_no_recipients": (
        "Belum ada penerima yang terdaftar di bot untuk pilihan ini "
        "({unlinked} petugas belum terdaftar). Pengumuman tidak dikirim."
    ),
    "bc_btn_send": "Kirim",
    "bc_btn_cancel": "Batal",
    "bc_cancelled": "Pengumuman dibatalkan. Tidak ada yang dikirim.",
    "bc_already_created": "Pengumuman ini sudah dibuat sebelumnya.",
    "bc_message": "📢 <b>Pengumuman</b> dari {name} ({role})\n\n{text}",
    "bc_role_PML": "PML",
    "bc_role_KOSEKA": "KOSEKA",
    "bc_role_ADMIN": "Admin BPS",
    "bc_btn_read": "✅ Sudah dibaca",
    "bc_read_thanks": "Terima kasih, sudah tercatat.",
    "bc_read_already": "Terima kasih, sudah tercatat sebelumnya.",
    "bc_read_not_yours": "Maaf, tombol ini untuk penerima pengumuman tersebut.",
    "bc_report": "📢 <b>Laporan pengumuman #{id}</b>\nUntuk: {audience}\n{state}\n{counts}",
    "bc_counts": (
        "Terkirim {sent}/{total} · Dibaca {read} · Gagal {failed} · "
        "Tidak terjangkau {unreachable} · Menunggu {pending}"
    ),
    "bc_report_unlinked": "\nBelum terdaftar di bot (tidak menerima): {count}",
    "bc_state_scheduled": "🕓 Dijadwalkan {when}",
    "bc_state_sending": "⏳ Sedang dikirim",
    "bc_state_done": "✅ Selesai dikirim",
    "bc_list_header": "<b>Pengumuman terakhir</b>",
    "bc_list_empty": "Belum ada pengumuman.",
    "bc_list_item": "<b>#{id}</b> {when} · {audience}{sender}\n«{preview}»",
    "bc_list_sender": " · dari {name}",
    "bc_list_unread": "Belum membaca ({count}): {names}",
    "bc_list_all_read": "Semua penerima sudah membaca.",
    "bc_more": " dan {count} lainnya",
    "bc_status_pending": " (menunggu)",
    "bc_status_sending": " (sedang dikirim)",
    "bc_status_failed": " (gagal)",
    "bc_status_unreachable": " (memblokir bot)",
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
    "code_used": (
        "This registration code has already been used. "
        "Please ask the BPS admin for a new one."
    ),
    "account_linked_other": (
        "This Telegram account is already linked to another officer ({name}). "
        "One account per officer."
    ),
    "officer_linked_other": (
        "Officer {name} is already linked to another Telegram account. "
        "Please contact the BPS admin."
    ),
    "officer_inactive": (
        "The officer with this code is no longer active. "
        "Please contact the BPS admin."
    ),
    "already_linked": "Your account is already linked as {name} ({role}).",
    "welcome": "Welcome, <b>{name}</b>.\nYour account is linked as {role}.",
    "contact_not_own": "Please share your own phone number with the button below.",
    "phone_not_found": (
        "Number {phone} is not on the officer roster. "
        "Please ask the BPS admin for a registration code."
    ),
    "phone_ambiguous": (
        "This number is registered for more than one officer. "
        "Please ask the BPS admin for a registration code."
    ),
    "phone_invalid": (
        "The phone number cannot be read. "
        "Please ask the BPS admin for a registration code."
    ),
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
    "edit_ignored": (
        "Edited messages are not read by the bot. "
        "Please send the right answer as a new message."
    ),
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
    "report_not_saved": (
        "⚠️ Sorry, your report was <b>not saved</b> because of a problem with the data storage. "
        "The summary above is still valid: please press <b>Send</b> again."
    ),
    "fast_usage": (
        "Quick format: <code>/report {keys}</code>, "
        "for example <code>/report {example}</code>."
    ),
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
    "reminder_revisit": "Do not forget: {count} households to revisit (respondent not at home).",
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
    # digests
    "cmd_ringkasan": "daily digest of your team or area",
    "cmd_ekspor": "download the report data (Excel)",
    "digest_not_for_ppl": (
        "The daily digest is for PML, KOSEKA and admins. Use /progress to see your progress."
    ),
    "export_not_for_ppl": "Data export is for PML, KOSEKA and admins.",
    "export_caption": "Report data of {scope} up to {day}",
    "export_scope_team": "team {name}",
    "export_scope_koseka": "the area of KOSEKA {name}",
    "export_scope_all": "Kabupaten Kepulauan Meranti",
    "digest_pml_header": "<b>Daily digest of team {team}</b>\n{day}",
    "digest_no_ppl": "No PPL in this team yet.",
    "digest_ppl_line": (
        "• {name}: today {today} {unit}, total {done}/{target} ({percent}) – {status}"
    ),
    "digest_status_reported": "✅ reported",
    "digest_status_late": "🕓 late report",
    "digest_status_izin": "🟡 day off",
    "digest_status_missing": "❌ not reported",
    "digest_status_off": "holiday",
    "digest_status_behind": ", ⚠️ behind pace",
    "digest_team_total": "<b>Team total: today {today} {unit}, {done}/{target} ({percent})</b>",
    "digest_team_counts": (
        "Reported {reported} · late {late} · day off {izin} · not reported {missing} · "
        "behind {behind}"
    ),
    "digest_consecutive_header": "<b>No report for {days} or more working days in a row</b>",
    "digest_consecutive_line": "• {name}: {days} working days in a row",
    "digest_quality_header": "<b>Data quality notes</b>",
    "digest_quality_line": "• {name}: {flags}",
    "digest_flag_over_target": "above target ({done}/{target} {unit})",
    "digest_flag_spike": "spike ({today} {unit} today, usually {usual})",
    "digest_flag_repeated": "same numbers {days} days in a row",
    "digest_flag_zeros": "0 {unit} {days} days in a row",
    "digest_flag_late": "{count} late reports",
    "digest_unreachable_line": "⛔ {name}: cannot be reached (blocked the bot)",
    "digest_review_label": "{name} · {sls}: {count} {unit}",
    "digest_koseka_header": "<b>Daily digest of Kecamatan {area}</b>\nKOSEKA {name} · {day}",
    "digest_teams_header": "<b>Per PML team</b>",
    "digest_team_line": (
        "• Team {name}: today {today} {unit}, {done}/{target} ({percent}), "
        "not reported {missing}"
    ),
    "digest_no_team": "No PML team yet.",
    "digest_desa_header": "<b>Per desa/kelurahan</b>",
    "digest_desa_line": "• {name}: {done}/{target} ({percent})",
    "digest_no_area": "No work areas recorded yet.",
    "digest_total": "<b>Total: today {today} {unit}, {done}/{target} ({percent})</b>",
    "digest_missing_total": "Not reported today: {count} PPL",
    "digest_escalated_header": (
        "<b>Follow-up needed: no report for {days} or more working days in a row</b>"
    ),
    "digest_escalated_line": "• {name} (team {team}): {days} working days",
    "digest_chart_cumulative": "Cumulative {unit}, {name}, against the ideal line",
    "digest_chart_teams": "Progress per PML team, Kecamatan {name}",
    "digest_chart_kecamatan": "Progress per kecamatan",
    "digest_admin_header": "<b>Daily digest of Kabupaten Kepulauan Meranti</b>\n{day}",
    "digest_regency_name": "Kabupaten Kepulauan Meranti",
    "digest_area_total": (
        "<b>Regency total: {done}/{target} ({percent})</b>, "
        "ideal line {ideal} ({ideal_percent}), {gap}"
    ),
    "digest_area_line": (
        "<b>{name}</b>: {done}/{target} ({percent}), ideal line {ideal} ({ideal_percent}), {gap}"
    ),
    "digest_today_total": "Today: {today} {unit} · not reported {missing} PPL",
    "digest_kecamatan_header": "<b>Per kecamatan</b>",
    "digest_gap_ahead": "{count} {unit} ahead",
    "digest_gap_behind": "{count} {unit} behind",
    "digest_gap_even": "exactly on the ideal line",
    "digest_finished": "   ↳ ✅ finished {finish}",
    "digest_forecast_line": "   ↳ expected to finish {finish}, needs {needed} {unit}/day{risk}",
    "digest_risk": " – ⚠️ at risk",
    "digest_finish_none": "not projected",
    "digest_needed_none": "-",
    "digest_at_risk_header": "<b>PPL at risk of not finishing on time: {count}</b>",
    "digest_at_risk_line": (
        "• {name} ({kecamatan}): {done}/{target} ({percent}), expected to finish {finish}, "
        "needs {needed} {unit}/day"
    ),
    "digest_at_risk_more": "and {count} more",
    "digest_at_risk_none": "No PPL at risk.",
    # problems
    "cmd_kendala": "report a field problem",
    "cmd_kendala_saya": "problems I reported",
    "cmd_kendala_tim": "open problems in my team/area",
    "problem_cat_not_home": "Respondent not at home",
    "problem_cat_refusal": "Refused the interview",
    "problem_cat_access": "Access/geography/weather",
    "problem_cat_no_kk": "No KK document",
    "problem_cat_equipment": "Equipment/questionnaires",
    "problem_cat_security": "Security",
    "problem_cat_sls_changed": "SLS changed",
    "problem_cat_other": "Other",
    "problem_status_open": "New",
    "problem_status_in_progress": "Being handled",
    "problem_status_resolved": "Resolved",
    "problem_status_escalated": "Forwarded to KOSEKA",
    "problem_not_on_roster": "This command is for officers on the roster only.",
    "problem_ask_category": "What problem are you facing? Choose a category:",
    "problem_ask_sls": "Which SLS is this problem about?",
    "problem_general": "Other/general",
    "problem_ask_description": "Describe the problem briefly ({min}–{max} characters).",
    "problem_description_short": "The description is too short (at least {min} characters).",
    "problem_description_long": "The description is too long (at most {max} characters).",
    "problem_text_expected": "Please send the description as text.",
    "problem_ask_attachment": (
        "If you have them, send a photo and/or a location (📎 → Location). If not, press Skip."
    ),
    "problem_ask_attachment_more": (
        "Received: {items}. Send a {missing} too if useful; if not, press Continue."
    ),
    "problem_attachment_expected": "Please send a photo or a location, or press the button below.",
    "problem_item_photo": "photo",
    "problem_item_location": "location",
    "btn_problem_continue": "Continue",
    "problem_ask_urgency": "How urgent is this problem?",
    "problem_urgency_normal": "Normal",
    "problem_urgency_urgent": "Urgent",
    "problem_ask_revisit": "How many households must be visited again? (a number 0–{max})",
    "problem_revisit_invalid": "Please send a whole number 0–{max}, for example <code>3</code>.",
    "problem_summary": "<b>Problem summary</b>\n{details}\n\nPress Send to pass it on.",
    "problem_saved": "✅ Problem #{id} recorded.",
    "problem_saved_sent": "✅ Problem #{id} recorded and passed on to {names}.",
    "problem_already_saved": "This problem was already saved.",
    "problem_line_reporter": "Reported by: {name} ({role})",
    "problem_line_category": "Category: {value}",
    "problem_line_place": "SLS: {value}",
    "problem_line_revisit": "Households to revisit: {value}",
    "problem_line_urgency": "Urgency: {value}",
    "problem_line_attachments": "Attachments: {value}",
    "problem_line_reported": "Reported: {value}",
    "problem_line_status": "Status: {value}",
    "problem_line_description": "Description: {value}",
    "problem_alert_new": "🚨 <b>New problem #{id}</b>{urgent}",
    "problem_urgent_flag": " ⚠️ <b>URGENT</b>",
    "problem_alert_forwarded": "↗️ <b>Problem #{id} forwarded by {name}</b>",
    "problem_alert_escalated": "⏰ <b>Problem #{id} not resolved after {hours} hours</b>",
    "problem_photo_caption": "Photo of problem #{id}",
    "btn_problem_take": "🛠 Handling it",
    "btn_problem_resolve": "✅ Resolved",
    "btn_problem_forward": "↗️ Forward to KOSEKA",
    "btn_problem_visited": "🏠 Visited #{id}",
    "problem_status_set": "Problem #{id}: {status}.",
    "problem_status_same": "Problem #{id} is already {status}.",
    "problem_reporter_notice": (
        "ℹ️ Problem #{id} ({category}): the status is now <b>{status}</b> (by {name})."
    ),
    "problem_visited": "Thank you. Problem #{id} resolved; its households to revisit are cleared.",
    "problem_visited_notice": (
        "🏠 {name}: the households of problem #{id} were visited again. "
        "Resolved."
    ),
    "my_problems_header": "<b>Your problems</b> (latest {count})",
    "my_problems_empty": "You have not reported any problem yet. Report one with /issue.",
    "my_problems_line": (
        "#{id} · {day} · {category} · <b>{status}</b>{revisit}\n"
        "    <i>{snippet}</i>"
    ),
    "my_problems_revisit": " · {count} households to revisit",
    "problem_item_header": "<b>Problem #{id}</b>{urgent}",
    "my_problems_revisit_total": "Households still to visit again: <b>{count}</b>",
    "team_problems_not_allowed": "The /team_issues command is for PML, KOSEKA and admins only.",
    "team_problems_empty": "No open problems. 👍",
    "team_problems_header": "<b>Open problems: {count}</b> (oldest first)",
    "team_problems_more": "Showing the {shown} oldest.",
    "problems_section_header": "<b>Open problems ({count})</b>",
    "problems_section_none": "Open problems: none.",
    "problems_section_line": "• #{id} {day} · {name} · {category} · {place} · {status}{urgent}",
    # broadcasts
    "cmd_umumkan": "send an announcement",
    "cmd_pengumuman": "recent announcements and who has not read them",
    "bc_not_allowed": (
        "Sorry, announcements can only be sent by PML, KOSEKA and BPS admins. "
        "Please pass the information to your PML."
    ),
    "bc_ask_audience": "<b>New announcement</b>\nWho is this announcement for?",
    "bc_aud_all": "All officers",
    "bc_aud_role_PPL": "All PPL",
    "bc_aud_role_PML": "All PML",
    "bc_aud_role_KOSEKA": "All KOSEKA",
    "bc_aud_kec_choice": "One kecamatan…",
    "bc_aud_kec": "Kecamatan {name}",
    "bc_aud_subtree": "The whole kecamatan (PML and PPL)",
    "bc_aud_subtree_pml": "PML only",
    "bc_aud_team": "Your team's PPL",
    "bc_ask_kecamatan": "Choose the kecamatan:",
    "bc_ask_text": (
        "Announcement for: <b>{audience}</b>.\n"
        "Write the announcement (at most {max} characters), or send a photo/document "
        "with a caption."
    ),
    "bc_ask_text_for_media": (
        "Attachment received. Now write the announcement text (at most {max} characters)."
    ),
    "bc_text_empty": "The announcement text cannot be empty.",
    "bc_text_too_long": "The text is too long ({length} characters, at most {max}).",
    "bc_text_expected": "Please send text, a photo or a document.",
    "bc_ask_when": "Send now or schedule?",
    "bc_btn_now": "Send now",
    "bc_btn_schedule": "Schedule",
    "bc_ask_time": (
        "When should it go out? Type a time today <code>HH:MM</code> (e.g. <code>19:30</code>) "
        "or a date and time <code>DD/MM HH:MM</code> (e.g. <code>18/10 07:00</code>)."
    ),
    "bc_bad_time": "The time cannot be read.",
    "bc_time_past": "{when} has already passed. Please choose a time in the future.",
    "bc_preview": (
        "<b>Announcement preview</b>\nFor: {audience}\n"
        "Recipients: <b>{count} officers</b>{unlinked}\nSent: {when}"
    ),
    "bc_preview_unlinked": " ({count} more not registered with the bot, will not receive it)",
    "bc_when_now": "now",
    "bc_no_recipients": (
        "Nobody registered with the bot is in this audience yet "
        "({unlinked} officers not registered). Nothing was sent."
    ),
    "bc_btn_send": "Send",
    "bc_btn_cancel": "Cancel",
    "bc_cancelled": "Announcement cancelled. Nothing was sent.",
    "bc_already_created": "This announcement was already created.",
    "bc_message": "📢 <b>Announcement</b> from {name} ({role})\n\n{text}",
    "bc_role_PML": "PML",
    "bc_role_KOSEKA": "KOSEKA",
    "bc_role_ADMIN": "BPS admin",
    "bc_btn_read": "✅ I have read it",
    "bc_read_thanks": "Thank you, noted.",
    "bc_read_already": "Thank you, already noted.",
    "bc_read_not_yours": "Sorry, this button is for the recipient of that announcement.",
    "bc_report": "📢 <b>Announcement report #{id}</b>\nFor: {audience}\n{state}\n{counts}",
    "bc_counts": (
        "Sent {sent}/{total} · Read {read} · Failed {failed} · "
        "Unreachable {unreachable} · Waiting {pending}"
    ),
    "bc_report_unlinked": "\nNot registered with the bot (not receiving): {count}",
    "bc_state_scheduled": "🕓 Scheduled for {when}",
    "bc_state_sending": "⏳ Sending",
    "bc_state_done": "✅ Delivery finished",
    "bc_list_header": "<b>Recent announcements</b>",
    "bc_list_empty": "No announcements yet.",
    "bc_list_item": "<b>#{id}</b> {when} · {audience}{sender}\n«{preview}»",
    "bc_list_sender": " · from {name}",
    "bc_list_unread": "Not read yet ({count}): {names}",
    "bc_list_all_read": "Every recipient has read it.",
    "bc_more": " and {count} more",
    "bc_status_pending": " (waiting)",
    "bc_status_sending": " (being sent)",
    "bc_status_failed": " (failed)",
    "bc_status_unreachable": " (blocked the bot)",
}

CATALOGS: Mapping[str, Mapping[str, str]] = {"id": ID, "en": EN}


class Texts:
    """Texts of one language; every argument is HTML-escaped unless it is `Raw`."""

    def __init__(self, language: str = "id") -> None:
        self.language = language
        self._catalog = CATALOGS[language]

    def __call__(self, key: str, **values: object) -> str:
        for name, value in values.items():  # a fresh dict of this call's own
            if not isinstance(value, Raw):
                values[name] = esc(value)
        return self._catalog[key].format_map(values)
