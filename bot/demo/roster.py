"""A synthetic roster on the real Kepulauan Meranti kecamatan/desa list, for the demo.

253 PPL, 67 PML, 10 KOSEKA and 1 admin, as in the 2022 operation; names, phones and SLS are
made up; targets add up to roughly the regency's 60,000 households. Deterministic (seeded).
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path

from db.models import Desa

PPL_COUNT, PML_COUNT, KOSEKA_COUNT = 253, 67, 10
HOUSEHOLDS_TOTAL = 60_000
OFFICER_COLUMNS = ["officer_id", "name", "role", "supervisor_id", "phone", "kecamatan_code",
                   "desa_code"]
AREA_COLUMNS = ["officer_id", "sls_code", "sls_name", "desa_code", "target_households"]

_FIRST = ["Ahmad", "Siti", "Budi", "Nur", "Rahmat", "Dewi", "Agus", "Fitri", "Hendra", "Aisyah",
          "Iwan", "Lestari", "Joko", "Maya", "Rizki", "Ani", "Yusuf", "Wati", "Fajar", "Putri",
          "Syahrul", "Nurul", "Zainal", "Rina", "Arif", "Melati", "Hasan", "Indah", "Teguh", "Sari"]
_LAST = ["Saputra", "Hidayat", "Lubis", "Siregar", "Nasution", "Pratama", "Wulandari", "Harahap",
         "Ramadhan", "Kurniawan", "Syahputra", "Rahayu", "Azhari", "Marpaung", "Sembiring",
         "Hasibuan", "Fadillah", "Permata", "Gunawan", "Anggraini"]


def spread(total: int, weights: list[int]) -> list[int]:
    """Split `total` in proportion to `weights`, at least 1 each, summing exactly to `total`."""
    raw = [total * w / sum(weights) for w in weights]
    counts = [max(1, int(r)) for r in raw]
    order = sorted(range(len(weights)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    i = 0
    while sum(counts) != total:
        j = order[i % len(order)]
        if sum(counts) < total:
            counts[j] += 1
        elif counts[j] > 1:
            counts[j] -= 1
        i += 1
    return counts


def build_roster(desa: list[Desa], seed: int = 2022) -> tuple[list[dict], list[dict]]:
    """Officers and areas rows (as the roster import reads them)."""
    rng = random.Random(seed)
    by_kec: dict[str, list[Desa]] = defaultdict(list)
    for d in desa:
        by_kec[d.kecamatan_code].append(d)
    kec_codes = sorted(by_kec)
    used_names: set[str] = set()

    def name() -> str:
        while True:
            candidate = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            if candidate not in used_names:
                used_names.add(candidate)
                return candidate

    officers = [{"officer_id": "ADM001", "name": "Admin BPS Meranti", "role": "ADMIN",
                 "supervisor_id": "", "phone": "081100000001", "kecamatan_code": "",
                 "desa_code": ""}]
    areas: list[dict] = []
    serial = {"phone": 100}

    def phone() -> str:
        serial["phone"] += 1
        return f"0812{serial['phone']:08d}"

    # KOSEKA: one per kecamatan; the kecamatan with the most desa gets the extra one(s).
    koseka_per_kec = spread(KOSEKA_COUNT, [len(by_kec[k]) ** 2 for k in kec_codes])
    pml_per_kec = spread(PML_COUNT, [len(by_kec[k]) for k in kec_codes])
    ppl_per_kec = spread(PPL_COUNT, [len(by_kec[k]) for k in kec_codes])
    ppl_targets = spread(HOUSEHOLDS_TOTAL, [rng.randint(180, 300) for _ in range(PPL_COUNT)])
    counters = {"KOSEKA": 0, "PML": 0, "PPL": 0}

    def next_id(role: str) -> str:
        counters[role] += 1
        prefix = {"KOSEKA": "KSK", "PML": "PML", "PPL": "PPL"}[role]
        return f"{prefix}{counters[role]:03d}"

    for k_index, kec in enumerate(kec_codes):
        kosekas = []
        for _ in range(koseka_per_kec[k_index]):
            oid = next_id("KOSEKA")
            kosekas.append(oid)
            officers.append({"officer_id": oid, "name": name(), "role": "KOSEKA",
                             "supervisor_id": "", "phone": phone(), "kecamatan_code": kec,
                             "desa_code": ""})
        pmls = []
        for p in range(pml_per_kec[k_index]):
            oid = next_id("PML")
            pmls.append(oid)
            officers.append({"officer_id": oid, "name": name(), "role": "PML",
                             "supervisor_id": kosekas[p % len(kosekas)], "phone": phone(),
                             "kecamatan_code": kec, "desa_code": ""})
        villages = by_kec[kec]
        for p in range(ppl_per_kec[k_index]):
            oid = next_id("PPL")
            village = villages[p % len(villages)]
            officers.append({"officer_id": oid, "name": name(), "role": "PPL",
                             "supervisor_id": pmls[p % len(pmls)], "phone": phone(),
                             "kecamatan_code": kec, "desa_code": village.code})
            target = ppl_targets[counters["PPL"] - 1]
            sls_count = rng.choice((1, 2, 3))
            for s, share in enumerate(spread(target, [1] * sls_count), start=1):
                number = (p // len(villages)) * 3 + s
                areas.append({
                    "officer_id": oid,
                    "sls_code": f"{village.code.replace('.', '')}{number:03d}",
                    "sls_name": f"RT {number:03d} {village.name}",
                    "desa_code": village.code,
                    "target_households": share,
                })
    return officers, areas


def write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
