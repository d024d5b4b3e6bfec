"""The student feed generator (giao_duc_hoc_sinh): layout, XLSX shape, determinism, geography vintages,
status/reason rules, invalid rows, and magnitudes against the population feed (dan_so).

Files are read back with an independent reader written here (csv for .csv, openpyxl read-only for .xlsx),
and every count of the manifest is recomputed from the rows with the definitions of sources.md."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from ingest.geography import POST_REFORM, PRE_REFORM, admin_units
from synthetic import generate_education_feed, generate_population_feed
from synthetic.dan_so import population_cells
from synthetic.education import COLUMNS, INVALID_KINDS, enrolled_at_start
from synthetic.geography import load_geography
from synthetic.population import build_population

FEED = "giao_duc_hoc_sinh"
SMALL = ("01", "15")  # new Hà Nội; new Lào Cai = old 10 Lào Cai + old 15 Yên Bái (mountain, minorities)
CODE_WIDTHS = {"Mã tỉnh": 2, "Mã xã": 5, "Mã dân tộc": 2, "Trạng thái": 2, "Mã lý do thôi học": 2}
TRANSFER_IN, TRANSFER_OUT, DROPOUT = {"02", "06", "10"}, {"04", "08", "11"}, {"05", "09", "12"}
STATUSES = {f"{i:02d}" for i in range(1, 13)}
REASONS = {f"{i:02d}" for i in range(1, 11)}
GRADES = {"MN": {"NT", "MG"}, "TH": {"1", "2", "3", "4", "5"}, "THCS": {"6", "7", "8", "9"},
          "THPT": {"10", "11", "12"}}
LEVEL_KEY = {"MN": "mn", "TH": "th", "THCS": "thcs", "THPT": "thpt"}


# --- an independent reader -------------------------------------------------------------------------

def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


CANONICAL = {_key(c): c for c in COLUMNS}


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value))


def _normalise(header: list[str], raw) -> dict[str, str]:
    row = {h: v for h, v in zip(header, raw) if h}
    for column, width in CODE_WIDTHS.items():
        if row[column].isdigit():
            row[column] = row[column].zfill(width)
    return row


def xlsx_rows(path: Path) -> tuple[int, list[dict[str, str]]]:
    """(Excel row number of the header, rows); the header is the first row holding the column names."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        for number, cells in enumerate(rows, start=1):  # noqa: B007 - the header row, returned after the break
            keys = [_key(c) if isinstance(c, str) else "" for c in cells]
            if sum(k in CANONICAL for k in keys) == len(COLUMNS):
                header = [CANONICAL.get(k) for k in keys]
                break
        else:
            raise AssertionError(f"{path.name}: no header row")
        data = [_normalise(header, [_cell_text(v) for v in cells]) for cells in rows
                if any(v is not None for v in cells)]
        return number, data
    finally:
        workbook.close()


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [CANONICAL.get(_key(h)) for h in next(reader)]
        assert set(COLUMNS) <= set(header), f"{path.name}: missing columns"
        return [_normalise(header, [unicodedata.normalize("NFC", v) for v in raw]) for raw in reader]


def read_rows(path: Path) -> list[dict[str, str]]:
    return xlsx_rows(path)[1] if path.suffix == ".xlsx" else csv_rows(path)


_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def parse_date(value: str) -> date | None:
    match = _DATE.match(value)
    if not match:
        return None
    try:
        return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        return None


def months_between(born: date, day: date) -> int:
    return (day.year - born.year) * 12 + day.month - born.month - (day.day < born.day)


def classify(row: dict[str, str], start_year: int, vintage: str, units) -> str | None:
    """The defect of a row, named like the generator's kinds, or None when the row is valid."""
    if row["Giới tính"] not in {"Nam", "Nữ"}:
        return "unknown_sex"
    born, changed = parse_date(row["Ngày sinh"]), parse_date(row["Ngày trạng thái"])
    if born is None or changed is None:
        return "impossible_date"
    if units.province_of_commune(vintage, row["Mã xã"]) != row["Mã tỉnh"]:
        return "commune_outside_province"
    status, reason = row["Trạng thái"], row["Mã lý do thôi học"]
    if status not in STATUSES:
        return "bad_status"
    if status in DROPOUT:
        if not reason:
            return "missing_reason"
        if reason not in REASONS:
            return "reason_out_of_range"
    elif reason:
        return "reason_for_non_dropout"
    level, grade = row["Cấp học"], row["Khối"]
    if grade not in GRADES.get(level, ()):
        return "grade_level_mismatch"
    age = start_year - born.year
    if grade == "NT":
        plausible = 3 <= months_between(born, date(start_year, 9, 30)) <= 36 and age <= 2
    elif grade == "MG":
        plausible = 3 <= age <= 5
    else:
        plausible = 0 <= age - (int(grade) + 5) <= 2
    return None if plausible else "implausible_birth_date"


def recount(rows: list[dict[str, str]], start_year: int) -> Counter:
    """The manifest's counts, recomputed from valid rows with the definitions of sources.md."""
    census = date(start_year, 9, 30)
    counts: Counter = Counter()
    for row in rows:
        level = LEVEL_KEY[row["Cấp học"]]
        counts[f"records_{level}"] += 1
        status, changed = row["Trạng thái"], parse_date(row["Ngày trạng thái"])
        if (status in TRANSFER_IN and changed > census) or \
                ((status in TRANSFER_OUT or status in DROPOUT) and changed <= census):
            continue
        sex = {"Nam": "male", "Nữ": "female"}[row["Giới tính"]]
        eth = "kinh" if row["Mã dân tộc"] == "01" else "minority"
        for suffix in ("", f"_{sex}", f"_{eth}"):
            counts[f"enrolled_start_{level}{suffix}"] += 1
        age = start_year - parse_date(row["Ngày sinh"]).year
        if row["Khối"] == "NT":
            counts["nursery_enrolled_start"] += 1
            counts[f"nursery_enrolled_start_age{age}"] += 1
        elif row["Khối"] == "MG":
            counts[f"mg_enrolled_start_age{age}"] += 1
        if status in DROPOUT:
            if row["Mã lý do thôi học"] in {"07", "08", "10"}:
                counts[f"dropout_excluded_{level}"] += 1
            else:
                for suffix in ("", f"_{sex}", f"_{eth}"):
                    counts[f"dropouts_{level}{suffix}"] += 1
    return counts


# --- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    landing = tmp_path_factory.mktemp("edu_small")
    return landing, generate_education_feed(landing, scale=0.002, seed=7, provinces=SMALL, invalid_rate=0.03)


@pytest.fixture(scope="module")
def small_rows(small) -> dict[str, list[dict[str, str]]]:
    """Every file of ``small`` read back once: path -> rows."""
    landing, manifest = small
    return {entry.path: read_rows(landing / entry.path) for entry in manifest.files}


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """All provinces, 2024-2025 (pre-reform), scale 0.01, plain CSV, and dan_so 2024 with the same seed."""
    landing = tmp_path_factory.mktemp("edu_national")
    manifest = generate_education_feed(landing, scale=0.01, seed=5, school_years=("2024-2025",), xlsx_share=0.0,
                                       delivery_variants=False)
    population = generate_population_feed(landing, scale=0.01, seed=5, years=(2024,), all_ages_years=(),
                                          delivery_variants=False)
    by_age: Counter = Counter()
    for entry in population.files:
        with (landing / entry.path).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                by_age[int(row["Tuổi"])] += int(row["Dân số"])
    return manifest, by_age


# --- layout and XLSX shape ---------------------------------------------------------------------------

def test_one_file_per_province_and_school_year_in_both_formats(small):
    landing, manifest = small
    assert {(e.period, e.province, e.vintage) for e in manifest.files} == {
        (y, p, PRE_REFORM) for y in ("2023-2024", "2024-2025") for p in ("01", "10", "15")
    } | {("2025-2026", p, POST_REFORM) for p in SMALL}
    suffixes = Counter(Path(e.path).suffix for e in manifest.files)
    assert suffixes[".xlsx"] >= 1 and suffixes[".csv"] >= 1 and sum(suffixes.values()) == 8
    for entry in manifest.files:
        assert entry.path == f"{FEED}/{FEED}_{entry.province}_{entry.period}{Path(entry.path).suffix}"
        assert (Path(entry.path).suffix == ".xlsx") == bool(entry.variants.get("xlsx"))
    assert sorted(p.name for p in (landing / FEED).iterdir()) == sorted(Path(e.path).name for e in manifest.files)


def test_xlsx_title_block_header_dates_and_numeric_codes(small):
    landing, manifest = small
    numeric_files = 0
    for entry in (e for e in manifest.files if e.path.endswith(".xlsx")):
        workbook = openpyxl.load_workbook(landing / entry.path, read_only=True)
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        workbook.close()
        header_at = next(i for i, r in enumerate(rows) if "Mã trường" in r)
        assert 1 <= header_at <= 6
        assert header_at == entry.variants["title_rows"]
        title = [c for r in rows[:header_at] for c in r if c is not None]
        assert "DANH SÁCH HỌC SINH" in title or any("GIÁO DỤC" in str(c) for c in title)
        header = [c for c in rows[header_at] if c is not None]
        assert header[-len(COLUMNS):] == list(COLUMNS)  # verbatim (an STT column may stand first)
        body = rows[header_at + 1:]
        birth = list(rows[header_at]).index("Ngày sinh")
        kinds = Counter(type(r[birth]).__name__ for r in body)
        assert kinds["datetime"] > kinds["str"] > 0, kinds   # real date cells, and some dd/mm/yyyy text
        province = list(rows[header_at]).index("Mã tỉnh")
        if all(isinstance(r[province], int) for r in body):
            numeric_files += 1
            assert entry.variants["numeric_codes"][:2] == ["Mã tỉnh", "Mã xã"]
        else:
            assert all(isinstance(r[province], str) and len(r[province]) == 2 for r in body)
        identifier = list(rows[header_at]).index("Mã định danh")
        assert all(r[identifier] is None or (isinstance(r[identifier], str) and len(r[identifier]) == 12)
                   for r in body)
    assert numeric_files >= 1


def test_plain_xlsx_has_the_header_first_and_text_cells(tmp_path):
    manifest = generate_education_feed(tmp_path, scale=0.001, provinces=("15",), school_years=("2025-2026",),
                                       xlsx_share=1.0, delivery_variants=False)
    (entry,) = manifest.files
    header_at, rows = xlsx_rows(tmp_path / entry.path)
    assert header_at == 1 and len(rows) == entry.rows and entry.variants == {"xlsx": True}
    assert all(_DATE.match(r["Ngày sinh"]) for r in rows)


# --- determinism -------------------------------------------------------------------------------------

def test_deterministic_for_a_seed(tmp_path):
    kwargs = dict(scale=0.001, provinces=("15",), school_years=("2024-2025", "2025-2026"), invalid_rate=0.02)
    first = generate_education_feed(tmp_path / "a", seed=3, **kwargs)
    again = generate_education_feed(tmp_path / "b", seed=3, workers=2, **kwargs)
    other = generate_education_feed(tmp_path / "c", seed=4, **kwargs)
    assert [f.sha256 for f in first.files] == [f.sha256 for f in again.files]
    assert {Path(f.path).suffix for f in first.files} == {".csv", ".xlsx"}
    for entry in first.files:
        assert (tmp_path / "a" / entry.path).read_bytes() == (tmp_path / "b" / entry.path).read_bytes()
    assert [f.sha256 for f in other.files] != [f.sha256 for f in first.files]


def test_children_are_the_population_feeds_children(tmp_path):
    population = generate_population_feed(tmp_path, scale=0.003, seed=8, years=(2024, 2025), provinces=("15",),
                                          delivery_variants=False)
    geo = load_geography()
    model = build_population(geo, 8)
    for entry in population.files:
        with (tmp_path / entry.path).open(encoding="utf-8", newline="") as fh:
            # the children: the adults of the latest year's file of all ages (18–79, 80+) are not the students'
            written = {(r["Mã xã"], int(r["Tuổi"]), r["Giới tính"]): int(r["Dân số"]) for r in csv.DictReader(fh)
                       if r["Tuổi"].isdigit() and int(r["Tuổi"]) < 18}
        replayed = {}
        for commune, ages in population_cells(geo, model, int(entry.period), entry.province, 0.003, 8):
            for age, (boys, girls) in enumerate(ages):
                replayed[(commune, age, "Nam")], replayed[(commune, age, "Nữ")] = boys, girls
        assert replayed == written


# --- rows ---------------------------------------------------------------------------------------------

def test_rows_valid_invalid_and_counts_match_the_manifest(small, small_rows):
    _, manifest = small
    units = admin_units()
    totals: Counter = Counter()
    for entry in manifest.files:
        start_year = int(entry.period[:4])
        rows = small_rows[entry.path]
        assert len(rows) == entry.rows
        kinds = Counter()
        valid = []
        for row in rows:
            kind = classify(row, start_year, entry.vintage, units)
            if kind:
                kinds[kind] += 1
            else:
                valid.append(row)
        assert dict(kinds) == entry.invalid_rows, entry.path
        assert len(valid) == entry.valid_rows
        assert recount(valid, start_year) == Counter(entry.counts), entry.path
        totals.update(kinds)
        for row in valid:
            assert row["Năm học"] == entry.period and row["Mã tỉnh"] == entry.province
            assert row["Mã định danh"] == "" or (row["Mã định danh"].isdigit() and len(row["Mã định danh"]) == 12)
            assert row["Khuyết tật"] in {"C", "K"} and row["Mã dân tộc"] in {f"{i:02d}" for i in range(1, 55)}
            assert row["Mã trường"].startswith(entry.province) and f"-{row['Cấp học']}-" in row["Mã trường"]
        students = Counter((row["Mã trường"], row["Mã học sinh"]) for row in rows)
        assert max(students.values()) == 1  # Mã học sinh unique within the school
    assert set(totals) == set(INVALID_KINDS)


def test_reason_exactly_for_dropouts_and_statuses_dated_in_the_school_year(small, small_rows):
    _, manifest = small
    units = admin_units()
    statuses: Counter = Counter()
    reasons: Counter = Counter()
    for entry in manifest.files:
        y = int(entry.period[:4])
        for row in small_rows[entry.path]:
            if classify(row, y, entry.vintage, units):
                continue
            status = row["Trạng thái"]
            statuses[status] += 1
            assert (row["Mã lý do thôi học"] != "") == (status in DROPOUT)
            reasons[row["Mã lý do thôi học"]] += status in DROPOUT
            assert date(y, 7, 1) <= parse_date(row["Ngày trạng thái"]) <= date(y + 1, 8, 31)
            if status == "01":
                assert row["Ngày trạng thái"] == f"05/09/{y}"
    assert statuses["01"] / sum(statuses.values()) > 0.95
    assert {s for s in statuses if statuses[s]} >= {"01", "02", "04", "05", "06", "08", "09"}
    assert reasons["07"] + reasons["08"] + reasons["10"] > 0


def test_vintage_of_the_school_year_start(small, small_rows):
    _, manifest = small
    units = admin_units()
    for entry in manifest.files:
        expected = POST_REFORM if entry.period == "2025-2026" else PRE_REFORM
        assert entry.vintage == expected
        y = int(entry.period[:4])
        for row in small_rows[entry.path]:
            if classify(row, y, expected, units) != "commune_outside_province":
                assert units.province_of_commune(expected, row["Mã xã"]) == entry.province


def test_names_are_nfc_and_vietnamese(small, small_rows):
    landing, manifest = small
    entry = next(e for e in manifest.files if e.path.endswith(".xlsx"))
    names = [row["Họ và tên"] for row in small_rows[entry.path]]
    raw = (landing / next(e.path for e in manifest.files if e.path.endswith(".csv") and "nfd" not in e.variants))
    assert unicodedata.is_normalized("NFC", raw.read_text(encoding="utf-8-sig"))
    assert all(unicodedata.is_normalized("NFC", n) and len(n.split()) >= 2 for n in names)
    assert Counter(n.split()[0] for n in names).most_common(1)[0][0] == "Nguyễn"


def test_enrolled_at_start_definition():
    assert enrolled_at_start("01", "05/09/2024", 2024)
    assert enrolled_at_start("02", "30/09/2024", 2024) and not enrolled_at_start("02", "01/10/2024", 2024)
    assert enrolled_at_start("10", "20/07/2024", 2024) and not enrolled_at_start("10", "20/07/2025", 2024)
    assert not enrolled_at_start("04", "30/09/2024", 2024) and enrolled_at_start("08", "01/02/2025", 2024)
    assert not enrolled_at_start("05", "15/09/2024", 2024) and enrolled_at_start("12", "01/07/2025", 2024)
    assert enrolled_at_start("03", "10/11/2024", 2024)


def test_bad_arguments_are_rejected(tmp_path):
    with pytest.raises(ValueError):
        generate_education_feed(tmp_path, school_years=("2024",))
    with pytest.raises(ValueError, match="99"):
        generate_education_feed(tmp_path, provinces=("99",))
    with pytest.raises(ValueError):
        generate_education_feed(tmp_path, xlsx_share=1.5)


# --- magnitudes ---------------------------------------------------------------------------------------

def test_national_magnitudes_and_dropout_rates(national):
    manifest, _ = national
    c = Counter()
    for entry in manifest.files:
        c.update(entry.counts)
    assert 70_000 < c["records_th"] < 95_000        # 8.9 M primary pupils × 0.01 (dan_so cohorts ≈ 1.6 M)
    assert 50_000 < c["records_thcs"] < 70_000
    assert 27_000 < c["records_thpt"] < 40_000
    assert 45_000 < c["records_mn"] < 65_000
    rate = {lvl: 100 * c[f"dropouts_{lvl}"] / c[f"enrolled_start_{lvl}"] for lvl in ("th", "thcs", "thpt")}
    assert 0.07 < rate["th"] < 0.25 and 0.5 < rate["thcs"] < 0.95 and 0.95 < rate["thpt"] < 1.7, rate
    for lvl in ("thcs", "thpt"):
        minority = c[f"dropouts_{lvl}_minority"] / c[f"enrolled_start_{lvl}_minority"]
        kinh = c[f"dropouts_{lvl}_kinh"] / c[f"enrolled_start_{lvl}_kinh"]
        assert minority > 1.5 * kinh
        assert c[f"enrolled_start_{lvl}_male"] + c[f"enrolled_start_{lvl}_female"] == c[f"enrolled_start_{lvl}"]
    boys = sum(c[f"enrolled_start_{lvl}_male"] for lvl in ("mn", "th", "thcs", "thpt"))
    assert 0.505 < boys / sum(c[f"enrolled_start_{lvl}"] for lvl in ("mn", "th", "thcs", "thpt")) < 0.53


def test_preschool_coverage_against_the_population_feed(national):
    manifest, population = national
    c = Counter()
    for entry in manifest.files:
        c.update(entry.counts)
    nursery = c["nursery_enrolled_start"] / sum(population[a] for a in (0, 1, 2))
    kindergarten = sum(c[f"mg_enrolled_start_age{a}"] for a in (3, 4, 5)) / sum(population[a] for a in (3, 4, 5))
    assert 0.25 < nursery < 0.40, nursery
    assert 0.90 < kindergarten < 1.0, kindergarten
    assert 0.98 < c["mg_enrolled_start_age5"] / population[5] <= 1.0
