"""Synthetic health feeds: layout, determinism, geography vintages, ages, magnitudes, invalid rows,
delivery variants. The checks read the files back with an independent strict reader written here."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest

from synthetic import MANIFEST_NAME, Manifest, generate_health_feeds, write_births_csv
from synthetic.__main__ import main
from synthetic.formats import VARIANT_NAMES
from synthetic.geography import POST_REFORM, PRE_REFORM, load_geography
from synthetic.health import (
    AGE_1_4,
    AGE_5_17,
    BIRTH_COLUMNS,
    CAUSES,
    DEATH_COLUMNS,
    NEONATAL,
    POSTNEONATAL,
    age_class_of,
)
from synthetic.invalid import KINDS
from synthetic.periods import Period

BIRTHS, DEATHS = "y_te_sinh", "y_te_tu_vong"
SMALL = ("01", "15")  # new Hà Nội and new Lào Cai (old 10 Lào Cai + old 15 Yên Bái)
NORTH_MOUNTAIN_OLD = {"02", "04", "06", "10", "11", "12", "14", "15", "17", "20"}
NORTH_MOUNTAIN_NEW = {"04", "08", "11", "12", "14", "15", "20"}


# --- an independent strict reader ------------------------------------------------------------------

def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


CANONICAL = {BIRTHS: {_key(c): c for c in BIRTH_COLUMNS}, DEATHS: {_key(c): c for c in DEATH_COLUMNS}}


def read_rows(path: Path, feed: str) -> list[dict[str, str]]:
    """Rows keyed by canonical column, NFC values, codes re-padded; unknown columns dropped."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [CANONICAL[feed].get(_key(h)) for h in next(reader)]
        missing = set(CANONICAL[feed].values()) - set(header)
        assert not missing, f"{path.name}: missing columns {missing}"
        rows = []
        for raw in reader:
            row = {h: unicodedata.normalize("NFC", v) for h, v in zip(header, raw) if h}
            for column, width in (("Mã tỉnh", 2), ("Mã xã", 5), ("Mã dân tộc mẹ", 2), ("Mã dân tộc", 2)):
                if column in row and row[column].isdigit():
                    row[column] = row[column].zfill(width)
            rows.append(row)
        return rows


_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")


def _date(value: str) -> date | str:
    if not value:
        return "missing_birth_date"
    if not _DATE.match(value):
        return "bad_date_format"
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        return "impossible_date"


def classify(feed: str, row: dict[str, str], geo) -> str | None:
    """The defect of a row (named like the generator's kinds), or None when the row is valid."""
    birth = _date(row["Ngày sinh"])
    if isinstance(birth, str):
        return birth
    event = birth
    if feed == DEATHS:
        death = _date(row["Ngày mất"])
        if isinstance(death, str):
            return death
        if death < birth:
            return "death_before_birth"
        event = death
    sexes = {"Nam", "Nữ", "Không xác định"} if feed == BIRTHS else {"Nam", "Nữ"}
    if row["Giới tính"] not in sexes:
        return "unknown_sex"
    if feed == BIRTHS:
        if row["Sinh sống"] not in {"C", "K"}:
            return "bad_live_birth"
        if row["Cân nặng (g)"] and not row["Cân nặng (g)"].isdigit():
            return "non_numeric_weight"
    ethnicity = row["Mã dân tộc mẹ" if feed == BIRTHS else "Mã dân tộc"]
    if not (ethnicity.isdigit() and 1 <= int(ethnicity) <= 54 and len(ethnicity) == 2):
        return "ethnicity_out_of_range"
    vintage = POST_REFORM if event >= date(2025, 7, 1) else PRE_REFORM
    other = PRE_REFORM if vintage == POST_REFORM else POST_REFORM
    commune, province = row["Mã xã"], row["Mã tỉnh"]
    assert province in geo.communes_by_province[vintage], f"province {province} unknown in {vintage}"
    owner = geo.province_of_commune[vintage].get(commune)
    if owner is None:
        return "other_vintage_commune" if commune in geo.province_of_commune[other] else "unknown_commune"
    if owner != province:
        return "commune_outside_province"
    return None


# --- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def geo():
    return load_geography()


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, Manifest]:
    landing = tmp_path_factory.mktemp("small")
    return landing, generate_health_feeds(landing, provinces=SMALL)


@pytest.fixture(scope="module")
def with_invalid(tmp_path_factory) -> tuple[Path, Manifest]:
    landing = tmp_path_factory.mktemp("invalid")
    return landing, generate_health_feeds(landing, provinces=SMALL, scale=0.03, invalid_rate=0.35)


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> tuple[Path, Manifest]:
    """All provinces at scale 0.01 for 2024 (pre-reform) and 2025-H2 (post-reform), plain files."""
    landing = tmp_path_factory.mktemp("national")
    manifest = generate_health_feeds(landing, scale=0.01, periods=("2024-H1", "2024-H2", "2025-H2"),
                                     delivery_variants=False)
    return landing, manifest


def _all_rows(landing: Path, manifest: Manifest, feed: str):
    for entry in manifest.for_feed(feed):
        for row in read_rows(landing / entry.path, feed):
            yield entry, row


# --- layout and manifest ---------------------------------------------------------------------------

def test_layout_one_file_per_feed_province_period(small):
    landing, manifest = small
    expected = {("01", "2024-H1"), ("10", "2024-H1"), ("15", "2024-H1"),
                ("01", "2024-H2"), ("10", "2024-H2"), ("15", "2024-H2"),
                ("01", "2025-H1"), ("10", "2025-H1"), ("15", "2025-H1"),
                ("01", "2025-H2"), ("15", "2025-H2")}
    for feed in (BIRTHS, DEATHS):
        entries = manifest.for_feed(feed)
        assert {(e.province, e.period) for e in entries} == expected
        for e in entries:
            assert e.path == f"{feed}/{feed}_{e.province}_{e.period}.csv"
            assert e.vintage == (POST_REFORM if e.period == "2025-H2" else PRE_REFORM)
        on_disk = sorted(p.name for p in (landing / feed).iterdir())
        assert on_disk == sorted(Path(e.path).name for e in entries)
    assert Manifest.load(landing).to_dict()["files"] == manifest.to_dict()["files"]
    assert json.loads((landing / MANIFEST_NAME).read_text(encoding="utf-8"))["generators"]["health"]["seed"] == 13


def test_manifest_rows_match_files(small):
    landing, manifest = small
    for entry in manifest.files:
        rows = read_rows(landing / entry.path, entry.feed)
        assert len(rows) == entry.rows == entry.valid_rows
        assert not entry.invalid_rows
    assert manifest.totals(BIRTHS)["rows"] > 0 and manifest.totals(DEATHS)["rows"] > 0


def test_plain_headers_are_verbatim(national):
    landing, manifest = national
    for feed, columns in ((BIRTHS, BIRTH_COLUMNS), (DEATHS, DEATH_COLUMNS)):
        first = (landing / manifest.for_feed(feed)[0].path).read_bytes().split(b"\n", 1)[0]
        assert first.decode("utf-8") == ",".join(columns)


def test_unknown_province_rejected(tmp_path):
    with pytest.raises(ValueError, match="99"):
        generate_health_feeds(tmp_path, provinces=("99",))
    with pytest.raises(ValueError):
        generate_health_feeds(tmp_path, periods=("2024-Q1",))


# --- determinism -----------------------------------------------------------------------------------

def test_deterministic_for_a_seed(small, tmp_path):
    landing, manifest = small
    again = generate_health_feeds(tmp_path / "a", provinces=SMALL)
    other = generate_health_feeds(tmp_path / "b", provinces=SMALL, seed=14)
    assert [f.sha256 for f in again.files] == [f.sha256 for f in manifest.files]
    for entry in manifest.files:
        assert (tmp_path / "a" / entry.path).read_bytes() == (landing / entry.path).read_bytes()
    assert [f.sha256 for f in other.files] != [f.sha256 for f in manifest.files]


def test_file_content_does_not_depend_on_the_selection(tmp_path):
    one = generate_health_feeds(tmp_path / "one", provinces=("01",), delivery_variants=False)
    two = generate_health_feeds(tmp_path / "two", provinces=SMALL, delivery_variants=False)
    by_path = {f.path: f.sha256 for f in two.files}
    assert one.files and all(by_path[f.path] == f.sha256 for f in one.files)


# --- geography vintages ----------------------------------------------------------------------------

def test_rows_follow_the_vintage_of_their_event_date(small, national, geo):
    for landing, manifest in (small, national):
        for feed in (BIRTHS, DEATHS):
            ids = set()
            for entry, row in _all_rows(landing, manifest, feed):
                period = Period.parse(entry.period)
                day = datetime.strptime(row["Ngày sinh" if feed == BIRTHS else "Ngày mất"], "%d/%m/%Y").date()
                assert period.start <= day <= period.end
                vintage = POST_REFORM if day >= date(2025, 7, 1) else PRE_REFORM
                assert vintage == entry.vintage
                assert row["Mã tỉnh"] == entry.province
                assert row["Mã xã"] in geo.communes(vintage, entry.province), (entry.path, row)
                assert row["Mã sự kiện"] not in ids
                ids.add(row["Mã sự kiện"])


def test_pre_reform_files_cover_old_provinces_of_the_selected_new_ones(small, geo):
    _, manifest = small
    old = {e.province for e in manifest.for_feed(BIRTHS) if e.vintage == PRE_REFORM}
    assert old == {p for p in geo.provinces(PRE_REFORM) if geo.old_to_new_province[p] in SMALL}
    assert old == {"01", "10", "15"}


# --- deaths ------------------------------------------------------------------------------------------

def test_ages_at_death_are_consistent(national, small):
    for landing, manifest in (national, small):
        for entry in manifest.for_feed(DEATHS):
            classes = Counter()
            for row in read_rows(landing / entry.path, DEATHS):
                birth = datetime.strptime(row["Ngày sinh"], "%d/%m/%Y").date()
                death = datetime.strptime(row["Ngày mất"], "%d/%m/%Y").date()
                age_class = age_class_of(birth, death)
                assert age_class is not None, row
                assert row["Nguyên nhân"] in CAUSES
                assert row["Giới tính"] in {"Nam", "Nữ"}
                classes[f"deaths_{age_class}"] += 1
            assert dict(classes) == entry.counts, entry.path


def test_causes_by_age(national):
    landing, manifest = national
    causes = {k: Counter() for k in (NEONATAL, POSTNEONATAL, AGE_1_4, AGE_5_17)}
    for _, row in _all_rows(landing, manifest, DEATHS):
        birth = datetime.strptime(row["Ngày sinh"], "%d/%m/%Y").date()
        death = datetime.strptime(row["Ngày mất"], "%d/%m/%Y").date()
        causes[age_class_of(birth, death)][row["Nguyên nhân"]] += 1
    under1 = causes[NEONATAL] + causes[POSTNEONATAL]
    assert under1["BENH"] / sum(under1.values()) > 0.7
    older = causes[AGE_5_17]
    injuries = older["DUOI_NUOC"] + older["TNGT"] + older["TNTT_KHAC"]
    assert injuries / sum(older.values()) > 0.5
    assert older["DUOI_NUOC"] > 0 and older["TNGT"] > 0


def test_small_scale_files_usually_have_deaths_with_realistic_under5_rates(tmp_path):
    """At scale 0.001 realistic rates give < 1 death per file; the per-file floor tops up with deaths
    aged 5–17, so most files have deaths while NMR/IMR/U5MR stay plausible."""
    manifest = generate_health_feeds(tmp_path, periods=("2024-H1", "2024-H2"), delivery_variants=False)
    entries = manifest.for_feed(DEATHS)
    assert sum(1 for e in entries if e.rows > 0) >= 0.75 * len(entries)
    live = manifest.totals(BIRTHS)["counts"]["live_births"]
    deaths = manifest.totals(DEATHS)["counts"]
    under5 = sum(deaths.get(f"deaths_{k}", 0) for k in ("neonatal", "postneonatal", "1_4"))
    assert 1_200 <= live <= 1_550
    assert 8 <= 1000 * under5 / live <= 35
    assert deaths["deaths_5_17"] > under5


# --- magnitudes ------------------------------------------------------------------------------------

def test_magnitudes_at_scale_0_01(national):
    landing, manifest = national
    pre = [e for e in manifest.files if e.period.startswith("2024")]
    births = Counter()
    deaths = Counter()
    for e in pre:
        (births if e.feed == BIRTHS else deaths).update(e.counts)
    live = births["live_births"]
    assert 12_000 <= live <= 15_500  # ≈1.37 M a year × 0.01
    nmr = 1000 * deaths["deaths_neonatal"] / live
    imr = nmr + 1000 * deaths["deaths_postneonatal"] / live
    u5mr = imr + 1000 * deaths["deaths_1_4"] / live
    assert 5 <= nmr <= 14
    assert 8 <= imr <= 25
    assert 14 <= u5mr <= 30
    assert 104 <= 100 * births["live_male"] / births["live_female"] <= 118
    assert 0.002 <= births["stillbirths"] / (live + births["stillbirths"]) <= 0.01
    assert 0 < births["live_unknown_sex"] < 30

    kinh = Counter()
    minority_by_province = {}
    weights, places, ethnic_codes = Counter(), Counter(), set()
    for entry in manifest.for_feed(BIRTHS):
        rows = read_rows(landing / entry.path, BIRTHS)
        minority = sum(r["Mã dân tộc mẹ"] != "01" for r in rows)
        minority_by_province[(entry.vintage, entry.province)] = minority_by_province.get(
            (entry.vintage, entry.province), (0, 0))
        m, n = minority_by_province[(entry.vintage, entry.province)]
        minority_by_province[(entry.vintage, entry.province)] = (m + minority, n + len(rows))
        for r in rows:
            kinh[r["Mã dân tộc mẹ"] == "01"] += 1
            ethnic_codes.add(r["Mã dân tộc mẹ"])
            places[r["Nơi sinh"]] += 1
            weights["blank" if not r["Cân nặng (g)"] else "given"] += 1
            if r["Cân nặng (g)"] and r["Sinh sống"] == "C":
                assert 500 <= int(r["Cân nặng (g)"]) <= 6000
    assert 0.80 <= kinh[True] / sum(kinh.values()) <= 0.90
    assert ethnic_codes <= {f"{i:02d}" for i in range(1, 55)} and len(ethnic_codes) > 20
    assert 0.03 <= weights["blank"] / sum(weights.values()) <= 0.07
    assert places["CSYT"] > places["NHA"] > places["KHAC"] > 0
    for old in NORTH_MOUNTAIN_OLD:
        m, n = minority_by_province[(PRE_REFORM, old)]
        assert m / n > 0.5, old
    for new in NORTH_MOUNTAIN_NEW:
        m, n = minority_by_province[(POST_REFORM, new)]
        assert m / n > 0.5, new
    m, n = minority_by_province[(PRE_REFORM, "01")]
    assert m / n < 0.1


def test_mortality_higher_in_the_northern_mountains(national):
    _, manifest = national
    live, deaths = Counter(), Counter()
    for e in manifest.files:
        if e.vintage != PRE_REFORM:
            continue
        group = "mountain" if e.province in NORTH_MOUNTAIN_OLD else "rest"
        if e.feed == BIRTHS:
            live[group] += e.counts.get("live_births", 0)
        else:
            deaths[group] += sum(e.counts.get(f"deaths_{k}", 0) for k in ("neonatal", "postneonatal", "1_4"))
    assert deaths["mountain"] / live["mountain"] > 1.2 * deaths["rest"] / live["rest"]


def test_new_province_volume_equals_its_old_provinces(national, geo):
    """Weights are carried through the conversion: births per day stay continuous at the reform."""
    _, manifest = national
    births = {(e.vintage, e.province, e.period): e.rows for e in manifest.for_feed(BIRTHS)}
    old_2024 = Counter()
    for (vintage, province, period), n in births.items():
        if vintage == PRE_REFORM and period == "2024-H2":
            old_2024[geo.old_to_new_province[province]] += n
    new_2025 = {p: n for (v, p, period), n in births.items() if period == "2025-H2"}
    total_old, total_new = sum(old_2024.values()), sum(new_2025.values())
    assert abs(total_new - total_old) < 0.05 * total_old
    assert abs(new_2025["79"] - old_2024["79"]) < 0.2 * old_2024["79"]


# --- invalid rows ----------------------------------------------------------------------------------

def test_invalid_rows_match_the_manifest(with_invalid, geo):
    landing, manifest = with_invalid
    seen = {BIRTHS: Counter(), DEATHS: Counter()}
    for entry in manifest.files:
        rows = read_rows(landing / entry.path, entry.feed)
        kinds = Counter(classify(entry.feed, row, geo) for row in rows)
        valid = kinds.pop(None, 0)
        assert len(rows) == entry.rows
        assert valid == entry.valid_rows, entry.path
        assert dict(kinds) == entry.invalid_rows, entry.path
        seen[entry.feed].update(kinds)
    for feed in (BIRTHS, DEATHS):
        assert set(seen[feed]) == set(KINDS[feed]), feed
        total = manifest.totals(feed)
        assert 0.25 < sum(total["invalid_rows"].values()) / total["rows"] < 0.45


def test_invalid_samples(with_invalid):
    landing, manifest = with_invalid
    values = Counter()
    for _entry, row in _all_rows(landing, manifest, BIRTHS):
        values[row["Giới tính"]] += 1
    assert values["X"] + values["?"] + values["3"] > 0


# --- delivery variants -----------------------------------------------------------------------------

def test_delivery_variants_present_and_loadable(small, geo):
    landing, manifest = small
    for feed in (BIRTHS, DEATHS):
        used = Counter(name for e in manifest.for_feed(feed) for name in e.variants)
        assert set(used) == set(VARIANT_NAMES), feed
    for entry in manifest.files:
        raw = (landing / entry.path).read_bytes()
        v = entry.variants
        assert raw.startswith(b"\xef\xbb\xbf") == bool(v.get("bom"))
        assert (b"\r\n" in raw) == bool(v.get("crlf"))
        text = raw.decode("utf-8-sig")
        assert (unicodedata.normalize("NFC", text) != text) == bool(v.get("nfd"))
        header = next(csv.reader([text.splitlines()[0]]))
        assert (_key("Ghi chú") in {_key(h) for h in header}) == bool(v.get("extra_column"))
        if v.get("header_variants"):
            assert any(unicodedata.normalize("NFC", h) not in BIRTH_COLUMNS + DEATH_COLUMNS + ("Ghi chú",)
                       for h in header)
            assert any(h != h.strip() for e in manifest.files for h in e.variants.get("header_variants", {}).values())
        if v.get("shuffled_columns"):
            assert [unicodedata.normalize("NFC", h).strip().casefold() for h in header] != [
                c.casefold() for c in (BIRTH_COLUMNS if entry.feed == BIRTHS else DEATH_COLUMNS)]
        rows = read_rows(landing / entry.path, entry.feed)
        assert len(rows) == entry.rows
        assert all(classify(entry.feed, row, geo) is None for row in rows), entry.path
    unpadded = [e for e in manifest.files if e.variants.get("unpadded_codes") and e.rows >= 10]
    assert unpadded
    short_codes = 0
    for entry in unpadded:
        with (landing / entry.path).open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [_key(h) for h in next(reader)]
            i = header.index(_key("Mã tỉnh"))
            short_codes += sum(1 for raw in reader if len(raw[i]) == 1)
    assert short_codes > 0  # "1" for province "01"


def test_variants_off_gives_plain_files(national):
    _, manifest = national
    assert all(e.variants == {} for e in manifest.files)


# --- manifest re-runs, CLI, bench helper -----------------------------------------------------------

def test_rerun_replaces_own_files_and_keeps_other_feeds(tmp_path):
    generate_health_feeds(tmp_path, provinces=SMALL, periods=("2025-H2",))
    data = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))
    data["files"].append({"feed": "dan_so", "path": "dan_so/x.csv", "province": "01", "vintage": POST_REFORM,
                          "period": "2025", "rows": 1, "valid_rows": 1})
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(data), encoding="utf-8")
    generate_health_feeds(tmp_path, provinces=("01",), periods=("2025-H2",))
    after = Manifest.load(tmp_path)
    assert sorted(f.path for f in after.files if f.feed != "dan_so") == [
        "y_te_sinh/y_te_sinh_01_2025-H2.csv", "y_te_tu_vong/y_te_tu_vong_01_2025-H2.csv"]
    assert [f.feed for f in after.files].count("dan_so") == 1
    assert not (tmp_path / "y_te_sinh" / "y_te_sinh_15_2025-H2.csv").exists()


def test_cli_prints_one_line_per_feed(tmp_path, capsys):
    assert main(["health", "--landing", str(tmp_path), "--provinces", "01", "--periods", "2025-H2",
                 "--invalid-rate", "0.05"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("y_te_sinh: 1 files,") and lines[1].startswith("y_te_tu_vong: 1 files,")
    assert (tmp_path / MANIFEST_NAME).is_file()


def test_write_births_csv_streams_a_valid_file(tmp_path, geo):
    entry = write_births_csv(tmp_path / "big.csv", 3000, seed=5)
    rows = read_rows(tmp_path / "big.csv", BIRTHS)
    assert len(rows) == entry.rows == entry.valid_rows == 3000
    assert len({r["Mã tỉnh"] for r in rows}) > 30
    assert all(classify(BIRTHS, r, geo) is None for r in rows)
    assert len({r["Mã sự kiện"] for r in rows}) == 3000
