"""Synthetic immunisation feed (y_te_tiem_chung): determinism, row format, invalid kinds and row
accounting, geography vintages by dose date, the export-date cut-off, dose intervals and realism of
coverage. The checks read the files back with an independent tolerant reader written here."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest

from synthetic import Manifest, generate_health_feeds
from synthetic.geography import POST_REFORM, PRE_REFORM, REFERENCE_DIR, load_geography
from synthetic.immunisation import (
    COLUMNS,
    COUNT_KEYS,
    FEED,
    FULL_IMMUNISATION,
    INVALID_KINDS,
    VACCINES,
    generate_immunisation_feed,
)
from synthetic.periods import Period

SMALL = ("01", "15")  # new Hà Nội and new Lào Cai (old 10 Lào Cai + old 15 Yên Bái, northern mountains)
PARTIAL_TODAY = date(2026, 3, 15)  # the later doses of the 2025 births are not given yet
LATE_TODAY = date(2028, 1, 1)      # every dose of the default periods' children is given
SEED_VACCINES = {r["vaccine_code"] for r in csv.DictReader(
    (REFERENCE_DIR / "vaccines.csv").read_text(encoding="utf-8").splitlines())}


# --- an independent tolerant reader ----------------------------------------------------------------------

def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


CANONICAL = {_key(c): c for c in COLUMNS}


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows keyed by canonical column, NFC values, codes re-padded; unknown columns dropped."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [CANONICAL.get(_key(h)) for h in next(reader)]
        assert set(COLUMNS) <= set(header), f"{path.name}: missing columns {set(COLUMNS) - set(header)}"
        rows = []
        for raw in reader:
            row = {h: unicodedata.normalize("NFC", v) for h, v in zip(header, raw) if h}
            for column, width in (("Mã tỉnh", 2), ("Mã xã", 5)):
                if row[column].isdigit():
                    row[column] = row[column].zfill(width)
            rows.append(row)
        return rows


_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")


def _date(value: str) -> date | str:
    if not _DATE.match(value):
        return "bad_date_format"
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        return "impossible_date"


def classify(row: dict[str, str], geo, today: date) -> str | None:
    """The defect of a row (named like the generator's kinds), or None when the row is valid. Admin
    codes are checked in the vintage of the row's own dose date (file names are not trusted)."""
    birth, dose = _date(row["Ngày sinh"]), _date(row["Ngày tiêm"])
    for value in (birth, dose):
        if isinstance(value, str):
            return value
    if row["Giới tính"] not in ("Nam", "Nữ"):
        return "unknown_sex"
    if row["Mã vắc xin"] not in SEED_VACCINES:
        return "unknown_vaccine"
    vintage = POST_REFORM if dose >= date(2025, 7, 1) else PRE_REFORM  # the row's own date decides
    pid = row["Mã định danh"]
    if pid and not (len(pid) == 12 and pid.isdigit()):
        return "bad_personal_id"
    commune = row["Mã xã"]
    if commune not in geo.province_of_commune[vintage]:
        return "unknown_commune"
    if geo.province_of_commune[vintage][commune] != row["Mã tỉnh"]:
        return "commune_outside_province"
    if dose < birth:
        return "dose_before_birth"
    if dose > today:
        return "dose_in_future"
    return None


def _parse(value: str) -> date:
    return datetime.strptime(value, "%d/%m/%Y").date()


def _first_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 1)
    except ValueError:
        return date(birth.year + 1, 3, 1)


def doses_by_child(landing: Path, manifest: Manifest) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for entry in manifest.for_feed(FEED):
        for row in read_rows(landing / entry.path):
            out[row["Mã đối tượng"]].append(row)
    return out


# --- fixtures --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def geo():
    return load_geography()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    landing = tmp_path_factory.mktemp("imm_small")
    manifest = generate_immunisation_feed(landing, scale=0.002, provinces=SMALL, today=PARTIAL_TODAY)
    return landing, manifest


@pytest.fixture(scope="module")
def with_invalid(tmp_path_factory):
    landing = tmp_path_factory.mktemp("imm_invalid")
    manifest = generate_immunisation_feed(landing, scale=0.002, provinces=SMALL, today=PARTIAL_TODAY,
                                          invalid_rate=0.1)
    return landing, manifest


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A moderate sample with every dose given, next to the births feed of the same run."""
    landing = tmp_path_factory.mktemp("imm_cohort")
    births = generate_health_feeds(landing, scale=0.01, provinces=SMALL, delivery_variants=False)
    manifest = generate_immunisation_feed(landing, scale=0.01, provinces=SMALL, today=LATE_TODAY,
                                          delivery_variants=False)
    return landing, births, manifest


# --- tests -----------------------------------------------------------------------------------------------

def test_deterministic_for_a_seed(small, tmp_path):
    landing, manifest = small
    again = generate_immunisation_feed(tmp_path / "again", scale=0.002, provinces=SMALL, today=PARTIAL_TODAY)
    assert [f.path for f in again.files] == [f.path for f in manifest.files]
    for a, b in zip(manifest.files, again.files):
        assert (landing / a.path).read_bytes() == (tmp_path / "again" / b.path).read_bytes(), a.path
    other = generate_immunisation_feed(tmp_path / "other", seed=14, scale=0.002, provinces=SMALL,
                                       today=PARTIAL_TODAY)
    assert [f.sha256 for f in other.files] != [f.sha256 for f in manifest.files]


def test_manifest_records_the_run(small):
    landing, manifest = small
    loaded = Manifest.load(landing)
    assert loaded.feeds() == [FEED] and len(loaded.files) == len(manifest.files) > 0
    params = manifest.parameters
    assert params["provinces"] == list(SMALL) and params["today"] == PARTIAL_TODAY.isoformat()
    assert {"scale", "seed", "periods", "invalid_rate", "delivery_variants", "reference_dir"} <= set(params)
    variants = set().union(*(f.variants for f in manifest.files))
    assert {"bom", "crlf", "nfd", "shuffled_columns", "extra_column", "header_variants", "unpadded_codes"} <= variants


def test_every_row_parses_and_counts_match(small, geo):
    landing, manifest = small
    total = 0
    for entry in manifest.files:
        assert entry.path == f"{FEED}/{FEED}_{entry.province}_{entry.period}.csv"
        rows = read_rows(landing / entry.path)
        assert entry.rows == entry.valid_rows == len(rows) and not entry.invalid_rows
        order = [(_parse(r["Ngày tiêm"]), r["Mã đối tượng"]) for r in rows]
        assert order == sorted(order), entry.path
        counts = Counter()
        for row in rows:
            assert _DATE.match(row["Ngày sinh"]) and _DATE.match(row["Ngày tiêm"])
            assert _parse(row["Ngày sinh"]) <= _parse(row["Ngày tiêm"])
            assert row["Mã vắc xin"] in VACCINES and row["Mã vắc xin"] in SEED_VACCINES
            assert row["Giới tính"] in ("Nam", "Nữ")
            assert row["Mã định danh"] == "" or re.fullmatch(r"\d{12}", row["Mã định danh"])
            assert re.fullmatch(r"TC-\d{2}-\d{4}-H[12]-\d{6}", row["Mã đối tượng"])
            assert len(row["Họ và tên"].split()) >= 2
            assert classify(row, geo, PARTIAL_TODAY) is None, row
            counts["doses"] += 1
            counts[f"doses_{row['Mã vắc xin']}"] += 1
        assert set(entry.counts) == set(COUNT_KEYS)
        assert {k: v for k, v in entry.counts.items() if k.startswith("doses") and v} == dict(counts)
        total += len(rows)
    assert total > 2000


def test_every_invalid_kind_appears_and_rows_add_up(with_invalid, small, geo):
    landing, manifest = with_invalid
    seen = Counter()
    for entry in manifest.files:
        rows = read_rows(landing / entry.path)
        found = Counter(k for k in (classify(r, geo, PARTIAL_TODAY) for r in rows) if k)
        assert dict(found) == entry.invalid_rows, entry.path
        assert entry.rows == len(rows) == entry.valid_rows + entry.invalid_total
        seen.update(found)
    assert set(seen) == set(INVALID_KINDS)
    totals = manifest.totals(FEED)
    assert 0.07 < sum(totals["invalid_rows"].values()) / totals["rows"] < 0.13
    # invalid rows are added: the valid rows are those of the run without invalid rows
    assert totals["counts"] == small[1].totals(FEED)["counts"]


def test_codes_follow_the_vintage_of_the_dose_date(small, geo):
    landing, manifest = small
    old_selected = {p for p in geo.provinces(PRE_REFORM) if geo.old_to_new_province[p] in SMALL}
    assert old_selected == {"01", "10", "15"}
    by_period = defaultdict(set)
    for entry in manifest.files:
        period = Period.parse(entry.period)
        assert entry.vintage == period.vintage
        by_period[entry.period].add(entry.province)
        for row in read_rows(landing / entry.path):
            assert period.start <= _parse(row["Ngày tiêm"]) <= period.end
            assert row["Mã tỉnh"] == entry.province
            assert row["Mã xã"] in geo.communes(entry.vintage, entry.province)
    for label, provinces in by_period.items():
        expected = old_selected if Period.parse(label).vintage == PRE_REFORM else set(SMALL)
        assert provinces == expected, label
    assert "2024-H1" in by_period and "2025-H2" in by_period


def test_no_dose_after_today(small):
    landing, manifest = small
    last = max(_parse(r["Ngày tiêm"]) for e in manifest.files for r in read_rows(landing / e.path))
    assert PARTIAL_TODAY - last < (PARTIAL_TODAY - date(2026, 1, 1)) and last <= PARTIAL_TODAY
    assert max(f.period for f in manifest.files) == "2026-H1"


def test_children_after_the_reform_carry_new_codes(cohort, geo):
    landing, _, manifest = cohort
    targets = defaultdict(set)
    for link in geo.conversion:
        targets[link.old_commune].add(link.new_commune)
    checked = converted = 0
    for child, rows in doses_by_child(landing, manifest).items():
        if child.split("-")[2] >= "2025-H2":
            continue  # born after the reform
        rows.sort(key=lambda r: _parse(r["Ngày tiêm"]))
        born_in = rows[0]["Mã xã"]
        after = {r["Mã xã"] for r in rows if _parse(r["Ngày tiêm"]) >= date(2025, 7, 1)}
        if after and _parse(rows[0]["Ngày tiêm"]) < date(2025, 7, 1):
            checked += 1
            converted += after <= targets[born_in]
    assert checked > 500 and converted / checked > 0.95


def _interval_check(landing: Path, manifest: Manifest) -> tuple[int, int]:
    """(same-antigen dose pairs closer than 28 days or in the wrong order, extra duplicate dose rows)."""
    too_close, duplicates = 0, 0
    for rows in doses_by_child(landing, manifest).values():
        seen = Counter((r["Mã vắc xin"], r["Ngày tiêm"]) for r in rows)
        duplicates += sum(n - 1 for n in seen.values())
        by_antigen = defaultdict(list)
        for code, day in seen:
            name, _, number = code.rpartition("_")
            by_antigen[name].append((number, _parse(day)))
        for doses in by_antigen.values():
            doses.sort()
            for (_, a), (_, b) in zip(doses, doses[1:]):
                too_close += (b - a).days < 28
    return too_close, duplicates


def test_same_antigen_doses_are_28_days_apart(cohort):
    landing, _, manifest = cohort
    counts = manifest.totals(FEED)["counts"]
    assert _interval_check(landing, manifest) == (counts["misordered_doses"], counts["duplicate_doses"])


def test_warnings_are_valid_rows_and_counted(tmp_path, monkeypatch, geo):
    import synthetic.immunisation as immunisation

    monkeypatch.setattr(immunisation, "DUPLICATE_SHARE", 0.03)
    monkeypatch.setattr(immunisation, "MISORDERED_SHARE", 0.03)
    manifest = generate_immunisation_feed(tmp_path, scale=0.002, provinces=SMALL, today=LATE_TODAY,
                                          invalid_rate=0.05, delivery_variants=False)
    counts = manifest.totals(FEED)["counts"]
    assert counts["misordered_doses"] > 3 and counts["duplicate_doses"] > 3
    valid = Manifest(str(tmp_path), "test", {}, [])
    for entry in manifest.files:  # drop the invalid rows before checking the intervals
        rows = [r for r in read_rows(tmp_path / entry.path) if classify(r, geo, LATE_TODAY) is None]
        assert len(rows) == entry.valid_rows
        with (tmp_path / entry.path).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        valid.files.append(entry)
    assert _interval_check(tmp_path, valid) == (counts["misordered_doses"], counts["duplicate_doses"])


def test_some_children_are_vaccinated_elsewhere(cohort, geo):
    landing, _, manifest = cohort
    children = doses_by_child(landing, manifest)
    moved = other_province = 0
    for rows in children.values():
        for vintage in (PRE_REFORM, POST_REFORM):
            places = {(r["Mã tỉnh"], r["Mã xã"]) for r in rows
                      if (_parse(r["Ngày tiêm"]) >= date(2025, 7, 1)) == (vintage == POST_REFORM)}
            if len(places) > 1:
                moved += 1
                other_province += len({p for p, _ in places}) > 1
                break
    assert 0.01 < moved / len(children) < 0.05
    assert 0 < other_province < moved / 2


def test_children_are_the_live_births(cohort):
    landing, births, manifest = cohort
    born = Counter()
    for entry in births.for_feed("y_te_sinh"):
        for row in read_rows_births(landing / entry.path):
            if row["Sinh sống"] == "C":
                born[(entry.province, entry.period, row["Ngày sinh"])] += 1
    children = Counter()
    for child, rows in doses_by_child(landing, manifest).items():
        _, province, year, half, _ = child.split("-")
        children[(province, f"{year}-{half}", rows[0]["Ngày sinh"])] += 1
    assert not children - born
    live = births.totals("y_te_sinh")["counts"]["live_births"]
    assert 0.97 * live < sum(children.values()) <= live  # a few zero-dose children


def read_rows_births(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_coverage_is_realistic(cohort, geo):
    landing, births, manifest = cohort
    live = Counter()
    for entry in births.for_feed("y_te_sinh"):
        new = geo.old_to_new_province[entry.province] if entry.vintage == PRE_REFORM else entry.province
        live[new] += entry.counts["live_births"]
    full, timely = Counter(), Counter()
    for child, rows in doses_by_child(landing, manifest).items():
        _, province, year, half, _ = child.split("-")
        new = geo.old_to_new_province[province] if f"{year}-{half}" < "2025-H2" else province
        birth = _parse(rows[0]["Ngày sinh"])
        given = {}
        for r in rows:
            given.setdefault(r["Mã vắc xin"], _parse(r["Ngày tiêm"]))
        if all(c in given and given[c] < _first_birthday(birth) for c in FULL_IMMUNISATION):
            full[new] += 1
        if "VGB_SS" in given and (given["VGB_SS"] - birth).days <= 1:
            timely[new] += 1
    n = sum(live.values())
    assert n > 2000
    assert 0.85 <= sum(full.values()) / n <= 0.97
    assert 0.65 <= sum(timely.values()) / n <= 0.9
    assert full["15"] / live["15"] < full["01"] / live["01"] - 0.04
    assert full["15"] / live["15"] > 0.75
    assert POST_REFORM in {f.vintage for f in manifest.files}
