"""The child-affairs feed generators: the child register (ldxh_tre_em) and abuse cases (ldxh_xam_hai).

Layout, determinism, the JSON shape of every valid line, row accounting with invalid lines re-detected by
this file's own rules (sources.md), geography vintages, persistent children, the manifest counts, the
magnitudes of indicators.md (CSDB ≈7 %, assisted ≈88 %, child labour, abuse mostly sexual, cases ≠
victims ≠ offenders, a child in two cases of a half-year) and victims drawn from the register."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from synthetic.abuse import CASES_FEED, CASES_INVALID_KINDS, generate_abuse_cases_feed
from synthetic.geography import POST_REFORM, PRE_REFORM, load_geography
from synthetic.manifest import Manifest
from synthetic.periods import Period, vintage_of
from synthetic.register import REGISTER_FEED, REGISTER_INVALID_KINDS, generate_child_register_feed

SMALL = ("01", "15")  # new Hà Nội (a city); new Lào Cai = old 10 Lào Cai + old 15 Yên Bái (mountains)
DATES = ("2024-06-30", "2024-12-31", "2025-06-30", "2025-12-31")
PERIODS = ("2024-H1", "2024-H2", "2025-H1", "2025-H2")
CASES_SCALE = 0.5     # ≈ 180 victims in the two provinces over two years

# the vocabulary of sources.md, written out independently of the generator
GROUPS = {"a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m", "n", "o"}
FORMS_OF_HELP = {"tro_cap_xa_hoi", "y_te", "giao_duc", "cham_soc_thay_the", "tu_van"}
LABOUR = {"khong", "phu_hop", "trai_quy_dinh"}
REGISTER_KEYS = {"ma_dinh_danh", "ho_ten", "ngay_sinh", "gioi_tinh", "ma_dan_toc", "ma_tinh", "ma_xa", "hcdb",
                 "tro_giup", "khuyet_tat", "lao_dong", "ngay_cap_nhat"}
ABUSE_FORMS = {"bao_luc", "boc_lot", "xam_hai_tinh_duc", "mua_ban", "bo_roi", "bo_mac", "khac"}
SETTINGS = {"gia_dinh", "truong_hoc", "cong_dong", "moi_truong_mang", "khac"}
HANDLING = {"hinh_su", "hanh_chinh", "dang_xu_ly", "khong_xu_ly"}
CASE_KEYS = {"ma_vu", "ngay_phat_hien", "ma_tinh", "ma_xa", "hinh_thuc", "moi_truong", "nan_nhan",
             "so_doi_tuong", "xu_ly"}
VICTIM_KEYS = {"ma_dinh_danh", "ngay_sinh", "gioi_tinh", "duoc_ho_tro"}
PERSONAL_ID = re.compile(r"^\d{12}$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REGISTER_NAME = re.compile(r"^ldxh_tre_em_(\d{2})_(\d{4}-\d{2}-\d{2})\.jsonl$")
CASES_NAME = re.compile(r"^ldxh_xam_hai_(\d{2})_(\d{4}-H[12])\.jsonl$")


# --- an independent reader and the rules of sources.md --------------------------------------------------

def read_lines(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def parse_iso(value) -> date | None:
    if not isinstance(value, str) or not ISO.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def age(birth: date, at: date) -> int:
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


def commune_defect(geo, commune: str, province: str, day: date) -> str | None:
    owner = geo.province_of_commune[vintage_of(day)].get(commune)
    if owner is None:
        return "unknown_commune"
    if owner != province:
        return "commune_outside_province"
    return None


def id_verdict(obj: dict) -> str:
    """The loader's verdict on a line's ID (ingest.personal_ids), by the IDs the generator writes: its own
    IDs start 0 + a province code; the defects are blanks, placeholders, lost or extra digits, letters and the
    1900s' century digit."""
    pid = obj["ma_dinh_danh"]
    if pid == "":
        return "missing"
    if not PERSONAL_ID.match(pid) or pid[1:3] not in ALL_CODES:
        return "malformed"
    return "inconsistent" if pid[3] in "01" else "valid"


def register_defect(line: str, seen: set[str], geo) -> tuple[str | None, dict | None]:
    """(the reason a correct loader quarantines the line or None, the object)."""
    try:
        obj = json.loads(line)
    except ValueError:
        return "malformed_json", None
    assert isinstance(obj, dict) and set(obj) == REGISTER_KEYS, line
    pid = obj["ma_dinh_danh"]
    assert isinstance(pid, str), line
    if id_verdict(obj) in ("valid", "inconsistent"):  # a well-formed ID: the loader links by it
        duplicate = pid in seen
        seen.add(pid)
        if duplicate:
            return "duplicate_id", obj
    birth, updated = parse_iso(obj["ngay_sinh"]), parse_iso(obj["ngay_cap_nhat"])
    assert updated is not None, line
    if birth is None:
        return "bad_date", obj
    if age(birth, updated) >= 16:
        return "over_16", obj
    if obj["gioi_tinh"] not in ("nam", "nu"):
        return "bad_sex", obj
    if not set(obj["hcdb"]) <= GROUPS:
        return "bad_group", obj
    if obj["lao_dong"] not in LABOUR:
        return "bad_labour", obj
    return commune_defect(geo, obj["ma_xa"], obj["ma_tinh"], updated), obj


def case_defect(line: str, geo) -> tuple[str | None, dict | None]:
    try:
        obj = json.loads(line)
    except ValueError:
        return "malformed_json", None
    assert isinstance(obj, dict) and CASE_KEYS <= set(obj) <= CASE_KEYS | {"so_tien_phat"}, line
    if not obj["nan_nhan"]:
        return "no_victim", obj
    when = parse_iso(obj["ngay_phat_hien"])
    births = [parse_iso(v["ngay_sinh"]) for v in obj["nan_nhan"]]
    if when is None or None in births:
        return "bad_date", obj
    if any(b > when for b in births):
        return "victim_born_after_case", obj
    if not set(obj["hinh_thuc"]) <= ABUSE_FORMS:
        return "bad_form", obj
    if obj["moi_truong"] not in SETTINGS:
        return "bad_setting", obj
    if obj["xu_ly"] not in HANDLING:
        return "bad_handling", obj
    if obj.get("so_tien_phat", 0) < 0:
        return "negative_fine", obj
    return commune_defect(geo, obj["ma_xa"], obj["ma_tinh"], when), obj


def check_valid_child(obj: dict, province: str, day: str) -> None:
    """Types and internal consistency of a valid register line."""
    assert isinstance(obj["ho_ten"], str) and obj["ho_ten"].strip()
    assert isinstance(obj["ma_dan_toc"], str) and re.fullmatch(r"\d{2}", obj["ma_dan_toc"])
    assert 1 <= int(obj["ma_dan_toc"]) <= 54
    assert obj["ma_tinh"] == province and obj["ngay_cap_nhat"] == day
    assert isinstance(obj["ma_xa"], str) and re.fullmatch(r"\d{5}", obj["ma_xa"])
    assert isinstance(obj["hcdb"], list) and len(set(obj["hcdb"])) == len(obj["hcdb"])
    help_ = obj["tro_giup"]
    assert isinstance(help_, dict) and set(help_) == {"duoc_tro_giup", "hinh_thuc"}
    assert isinstance(help_["duoc_tro_giup"], bool) and isinstance(help_["hinh_thuc"], list)
    assert set(help_["hinh_thuc"]) <= FORMS_OF_HELP
    assert bool(help_["hinh_thuc"]) == help_["duoc_tro_giup"]
    assert isinstance(obj["khuyet_tat"], bool) and obj["khuyet_tat"] == ("d" in obj["hcdb"])
    if id_verdict(obj) in ("valid", "inconsistent"):
        assert obj["ma_dinh_danh"][:3] in {f"0{p}" for p in ALL_CODES}
        assert obj["ma_dinh_danh"][3] == "0123"[(id_verdict(obj) == "valid") * 2 + (obj["gioi_tinh"] == "nu")]
        assert obj["ma_dinh_danh"][4:6] == obj["ngay_sinh"][2:4]


def check_valid_case(obj: dict, province: str, period: Period) -> None:
    when = date.fromisoformat(obj["ngay_phat_hien"])
    assert period.start <= when <= period.end and obj["ma_tinh"] == province
    assert re.fullmatch(rf"{province}-{when.year}-\d{{4,}}", obj["ma_vu"]), obj["ma_vu"]
    assert isinstance(obj["hinh_thuc"], list) and obj["hinh_thuc"] and len(set(obj["hinh_thuc"])) == len(obj["hinh_thuc"])
    assert isinstance(obj["so_doi_tuong"], int) and not isinstance(obj["so_doi_tuong"], bool)
    assert 0 <= obj["so_doi_tuong"] <= 5
    fine = obj.get("so_tien_phat")
    if obj["xu_ly"] == "hanh_chinh":
        assert isinstance(fine, int) and 3_000_000 <= fine <= 20_000_000 and fine % 500_000 == 0, obj
    else:
        assert fine in (None, 0), obj
    ids = [v["ma_dinh_danh"] for v in obj["nan_nhan"]]
    assert len(set(ids)) == len(ids)
    for v in obj["nan_nhan"]:
        assert set(v) == VICTIM_KEYS, v
        assert PERSONAL_ID.match(v["ma_dinh_danh"]) and v["gioi_tinh"] in ("nam", "nu")
        assert isinstance(v["duoc_ho_tro"], bool)
        assert 0 <= age(date.fromisoformat(v["ngay_sinh"]), when) < 16


ALL_CODES = set(load_geography().provinces(PRE_REFORM)) | set(load_geography().provinces(POST_REFORM))


def read_register(landing: Path, manifest: Manifest, geo) -> dict[str, tuple[list[str | None], list[dict | None]]]:
    """Per file: the detected defect and the object of each line."""
    out = {}
    for entry in manifest.for_feed(REGISTER_FEED):
        seen: set[str] = set()
        kinds, objs = [], []
        for line in read_lines(landing / entry.path):
            kind, obj = register_defect(line, seen, geo)
            kinds.append(kind)
            objs.append(obj)
            if kind is None:
                check_valid_child(obj, entry.province, entry.period)
        out[entry.path] = (kinds, objs)
    return out


def read_cases(landing: Path, manifest: Manifest, geo) -> dict[str, tuple[list[str | None], list[dict | None]]]:
    out = {}
    for entry in manifest.for_feed(CASES_FEED):
        kinds, objs = [], []
        for line in read_lines(landing / entry.path):
            kind, obj = case_defect(line, geo)
            kinds.append(kind)
            objs.append(obj)
            if kind is None:
                check_valid_case(obj, entry.province, Period.parse(entry.period))
        out[entry.path] = (kinds, objs)
    return out


def valid(read: dict, path: str) -> list[dict]:
    kinds, objs = read[path]
    return [o for k, o in zip(kinds, objs) if k is None]


# --- fixtures ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def geo():
    return load_geography()


@pytest.fixture(scope="module")
def register(tmp_path_factory, geo):
    landing = tmp_path_factory.mktemp("tre_em")
    manifest = generate_child_register_feed(landing, scale=0.002, provinces=SMALL)
    return landing, manifest, read_register(landing, manifest, geo)


@pytest.fixture(scope="module")
def register_dirty(tmp_path_factory, geo):
    landing = tmp_path_factory.mktemp("tre_em_dirty")
    manifest = generate_child_register_feed(landing, scale=0.002, provinces=SMALL, invalid_rate=0.2)
    return landing, manifest, read_register(landing, manifest, geo)


@pytest.fixture(scope="module")
def cases(tmp_path_factory, geo):
    landing = tmp_path_factory.mktemp("xam_hai")
    manifest = generate_abuse_cases_feed(landing, scale=CASES_SCALE, provinces=SMALL)
    return landing, manifest, read_cases(landing, manifest, geo)


@pytest.fixture(scope="module")
def cases_dirty(tmp_path_factory, geo):
    landing = tmp_path_factory.mktemp("xam_hai_dirty")
    manifest = generate_abuse_cases_feed(landing, scale=CASES_SCALE, provinces=SMALL, invalid_rate=0.3)
    return landing, manifest, read_cases(landing, manifest, geo)


def all_valid(read: dict) -> list[dict]:
    return [o for kinds, objs in read.values() for k, o in zip(kinds, objs) if k is None]


# --- layout, determinism, manifest ----------------------------------------------------------------------

def test_layout_one_file_per_province_and_date_or_half_year(register, cases, geo):
    old = {p for new in SMALL for p in geo.old_provinces_of(new)}
    assert old == {"01", "10", "15"}
    landing, manifest, _ = register
    expected = {(p, d) for d in DATES for p in (old if vintage_of(date.fromisoformat(d)) == PRE_REFORM else SMALL)}
    found = set()
    for entry in manifest.files:
        match = REGISTER_NAME.match(Path(entry.path).name)
        assert match and entry.path.startswith(f"{REGISTER_FEED}/"), entry.path
        assert (match.group(1), match.group(2)) == (entry.province, entry.period)
        assert entry.vintage == vintage_of(date.fromisoformat(entry.period))
        assert entry.counts["snapshot_date"] == int(entry.period.replace("-", ""))
        found.add((entry.province, entry.period))
    assert found == expected
    assert {p.name for p in (landing / REGISTER_FEED).iterdir()} == {Path(f.path).name for f in manifest.files}
    landing, manifest, _ = cases
    expected = {(p, h) for h in PERIODS for p in (old if Period.parse(h).vintage == PRE_REFORM else SMALL)}
    found = set()
    for entry in manifest.files:
        match = CASES_NAME.match(Path(entry.path).name)
        assert match and (match.group(1), match.group(2)) == (entry.province, entry.period), entry.path
        assert entry.vintage == Period.parse(entry.period).vintage
        found.add((entry.province, entry.period))
    assert found == expected


def test_deterministic_and_independent_of_other_provinces(tmp_path, register):
    landing, manifest, _ = register
    a = generate_child_register_feed(tmp_path / "a", scale=0.002, provinces=("15",), snapshot_dates=DATES[2:],
                                     invalid_rate=0.1)
    b = generate_child_register_feed(tmp_path / "b", scale=0.002, provinces=("15",), snapshot_dates=DATES[2:],
                                     invalid_rate=0.1)
    assert [f.sha256 for f in a.files] == [f.sha256 for f in b.files]
    c = generate_abuse_cases_feed(tmp_path / "a", scale=0.3, provinces=("15",), invalid_rate=0.2)
    d = generate_abuse_cases_feed(tmp_path / "b", scale=0.3, provinces=("15",), invalid_rate=0.2)
    assert [f.sha256 for f in c.files] == [f.sha256 for f in d.files] and c.totals()["rows"] > 0
    # the same lines for province 15 when generated alone (delivery variants may differ)
    alone = generate_child_register_feed(tmp_path / "alone", scale=0.002, provinces=("15",))
    both = {f.path: f for f in manifest.files}
    for entry in alone.files:
        objs = [json.loads(x) for x in read_lines(tmp_path / "alone" / entry.path)]
        other = [json.loads(x) for x in read_lines(landing / entry.path)]
        norm = lambda o: {**o, "ho_ten": unicodedata.normalize("NFC", o["ho_ten"])}  # noqa: E731
        assert [norm(o) for o in objs] == [norm(o) for o in other], entry.path
        assert entry.counts == both[entry.path].counts


def test_manifest_merges_both_generators(tmp_path):
    generate_child_register_feed(tmp_path, scale=0.001, provinces=("15",), snapshot_dates=("2025-12-31",))
    generate_abuse_cases_feed(tmp_path, scale=0.001, provinces=("15",), periods=("2025-H2",))
    merged = Manifest.load(tmp_path)
    assert merged.feeds() == sorted([CASES_FEED, REGISTER_FEED])
    data = json.loads((tmp_path / "_manifest.json").read_text(encoding="utf-8"))
    assert set(data["generators"]) == {"tre_em", "xam_hai"}


def test_delivery_variants_are_valid_json_in_several_forms(register, cases):
    for landing, manifest, _ in (register, cases):
        variants = [f.variants for f in manifest.files]
        assert any(v["shuffled_keys"] for v in variants) and not all(v["shuffled_keys"] for v in variants)
        assert any(v["compact"] for v in variants) and not all(v["compact"] for v in variants)
        for entry in manifest.files:
            raw = (landing / entry.path).read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf") == entry.variants["bom"]
            lines = read_lines(landing / entry.path)
            if lines:
                assert (b"\r\n" in raw) == entry.variants["crlf"]
                spaced = '", "' in lines[0] or '": ' in lines[0]
                assert spaced != entry.variants["compact"], entry.path
                if entry.variants["shuffled_keys"]:
                    first = json.loads(lines[0])
                    assert list(first) == [k for k in entry.variants["key_order"] if k in first]
    landing, manifest, read = register
    nfd = [f for f in manifest.files if f.variants["nfd_names"]]
    assert nfd
    names = [o["ho_ten"] for o in valid(read, nfd[0].path)]
    assert any(unicodedata.normalize("NFC", n) != n for n in names)


# --- accounting and invalid lines ----------------------------------------------------------------------

def register_counts(objs: list[dict], day: date) -> Counter:
    counts: Counter = Counter()
    for o in objs:
        counts["children"] += 1
        if o["hcdb"]:
            counts["children_special_circumstances"] += 1
            counts["children_assisted"] += o["tro_giup"]["duoc_tro_giup"]
            for g in o["hcdb"]:
                counts[f"children_group_{g}"] += 1
        a = age(date.fromisoformat(o["ngay_sinh"]), day)
        verdict = id_verdict(o)
        counts[f"children_id_{verdict}"] += verdict != "valid"
        counts["children_valid_id"] += verdict == "valid"
        counts["children_under5"] += a < 5
        counts["children_under5_valid_id"] += a < 5 and verdict == "valid"
        if a >= 5:
            counts["children_5_15"] += 1
            counts["child_labour"] += o["lao_dong"] == "trai_quy_dinh"
    return counts


def case_counts(objs: list[dict]) -> Counter:
    counts: Counter = Counter()
    for o in objs:
        counts["cases"] += 1
        counts["victims"] += len(o["nan_nhan"])
        counts["offenders"] += o["so_doi_tuong"]
        counts["victims_supported"] += sum(v["duoc_ho_tro"] for v in o["nan_nhan"])
        for f in o["hinh_thuc"]:
            counts[f"cases_{f}"] += 1
        if o["xu_ly"] == "hanh_chinh":
            counts["cases_administrative"] += 1
            counts["fines_vnd"] += o["so_tien_phat"]
    counts["distinct_victims"] = len({v["ma_dinh_danh"] for o in objs for v in o["nan_nhan"]})
    return counts


@pytest.mark.parametrize("which", ["register", "register_dirty", "cases", "cases_dirty"])
def test_row_accounting_and_counts_match_the_files(which, request):
    landing, manifest, read = request.getfixturevalue(which)
    for entry in manifest.files:
        kinds, objs = read[entry.path]
        assert entry.rows == len(kinds) == entry.valid_rows + entry.invalid_total, entry.path
        detected = Counter(k for k in kinds if k is not None)
        assert dict(detected) == entry.invalid_rows, entry.path
        good = [o for k, o in zip(kinds, objs) if k is None]
        expected = (register_counts(good, date.fromisoformat(entry.period)) if entry.feed == REGISTER_FEED
                    else case_counts(good))
        assert {k: v for k, v in entry.counts.items() if k != "snapshot_date" and v} == \
            {k: v for k, v in expected.items() if v}, entry.path


def test_children_without_a_valid_id_are_valid_lines_of_every_kind(register):
    """Issue 14: blank, malformed and inconsistent IDs are not invalid lines; the child counts. Infants
    lack an ID most often; two children without a usable ID never share name, birth date, sex and commune."""
    landing, manifest, read = register
    totals = Counter()
    for entry in manifest.for_feed(REGISTER_FEED):
        kinds, objs = read[entry.path]
        records = [(o["ho_ten"], o["ngay_sinh"], o["gioi_tinh"], o["ma_xa"]) for k, o in zip(kinds, objs)
                   if k is None and id_verdict(o) in ("missing", "malformed")]
        assert len(set(records)) == len(records), entry.path
        for kind, obj in zip(kinds, objs):
            if kind is None:
                young = age(date.fromisoformat(obj["ngay_sinh"]), date.fromisoformat(entry.period)) < 1
                totals[(id_verdict(obj), young)] += 1
    for verdict in ("missing", "malformed", "inconsistent"):
        assert totals[(verdict, False)] + totals[(verdict, True)] > 0, verdict
    infants_missing = totals[("missing", True)] / sum(v for (_, y), v in totals.items() if y)
    others_missing = totals[("missing", False)] / sum(v for (_, y), v in totals.items() if not y)
    assert infants_missing > 3 * others_missing


def test_every_invalid_kind_appears_and_clean_runs_have_none(register, register_dirty, cases, cases_dirty):
    assert register[1].totals()["invalid_rows"] == {} and cases[1].totals()["invalid_rows"] == {}
    assert set(register_dirty[1].totals()["invalid_rows"]) == set(REGISTER_INVALID_KINDS)
    assert set(cases_dirty[1].totals()["invalid_rows"]) == set(CASES_INVALID_KINDS)
    share = register_dirty[1].totals()
    assert 0.15 < sum(share["invalid_rows"].values()) / share["rows"] < 0.25


def test_duplicate_ids_are_the_second_occurrence_of_a_valid_line(register_dirty):
    _, manifest, read = register_dirty
    for kinds, objs in read.values():
        valid_ids = set()
        for kind, obj in zip(kinds, objs):
            if kind is None and id_verdict(obj) != "valid":
                continue
            if kind is None:
                assert obj["ma_dinh_danh"] not in valid_ids
                valid_ids.add(obj["ma_dinh_danh"])
            elif kind == "duplicate_id":
                assert obj["ma_dinh_danh"] in valid_ids


# --- geography and persistence -------------------------------------------------------------------------

def test_codes_follow_the_vintage_of_the_date(register, cases, geo):
    for _, manifest, read in (register, cases):
        for entry in manifest.files:
            for obj in valid(read, entry.path):
                day = date.fromisoformat(obj.get("ngay_cap_nhat") or obj["ngay_phat_hien"])
                assert vintage_of(day) == entry.vintage
                assert geo.province_of_commune[entry.vintage][obj["ma_xa"]] == entry.province


def test_children_persist_age_and_carry_their_commune(register, geo):
    _, manifest, read = register
    default_new = {}
    for link in geo.conversion:
        if link.is_default or link.old_commune not in default_new:
            default_new[link.old_commune] = link.new_commune
    snapshots: dict[str, dict[str, dict]] = defaultdict(dict)
    for entry in manifest.files:
        for obj in valid(read, entry.path):
            if id_verdict(obj) != "valid":  # followed by its ID: the few without a valid one are left out
                continue
            assert obj["ma_dinh_danh"] not in snapshots[entry.period]
            snapshots[entry.period][obj["ma_dinh_danh"]] = obj
    for before, after in zip(DATES, DATES[1:]):
        b, a = snapshots[before], snapshots[after]
        d_before, d_after = date.fromisoformat(before), date.fromisoformat(after)
        stayed = b.keys() & a.keys()
        assert len(stayed) > 0.9 * len(b)
        for pid in stayed:
            x, y = b[pid], a[pid]
            assert (x["ngay_sinh"], x["gioi_tinh"], x["ma_dan_toc"]) == (y["ngay_sinh"], y["gioi_tinh"], y["ma_dan_toc"])
            assert unicodedata.normalize("NFC", x["ho_ten"]) == unicodedata.normalize("NFC", y["ho_ten"])
            if vintage_of(d_before) == vintage_of(d_after):
                assert x["ma_xa"] == y["ma_xa"]
            else:
                assert default_new[x["ma_xa"]] == y["ma_xa"]
            if "d" in x["hcdb"]:
                assert "d" in y["hcdb"]  # disability does not go away
        for pid in b.keys() - a.keys():  # left: reached 16
            assert age(date.fromisoformat(b[pid]["ngay_sinh"]), d_after) >= 16
        entered = a.keys() - b.keys()
        assert entered
        for pid in entered:  # new births (some registered late)
            assert date.fromisoformat(a[pid]["ngay_sinh"]) > date.fromisoformat(before).replace(year=d_before.year - 1)
    groups_changed = sum(set(snapshots[DATES[0]][p]["hcdb"]) != set(snapshots[DATES[1]][p]["hcdb"])
                         for p in snapshots[DATES[0]].keys() & snapshots[DATES[1]].keys())
    assert groups_changed > 0  # transient groups change between snapshots


# --- realism -------------------------------------------------------------------------------------------

def shares(objs: list[dict], day: date) -> dict[str, float]:
    n = len(objs)
    csdb = [o for o in objs if o["hcdb"]]
    five = [o for o in objs if age(date.fromisoformat(o["ngay_sinh"]), day) >= 5]
    under5 = [o for o in objs if age(date.fromisoformat(o["ngay_sinh"]), day) < 5]
    return {
        "csdb": len(csdb) / n,
        "assisted": sum(o["tro_giup"]["duoc_tro_giup"] for o in csdb) / len(csdb),
        "labour": sum(o["lao_dong"] == "trai_quy_dinh" for o in five) / len(five),
        "permitted": sum(o["lao_dong"] == "phu_hop" for o in five) / len(five),
        "labour_under5": sum(o["lao_dong"] != "khong" for o in under5) / len(under5),
        "multi": sum(len(o["hcdb"]) >= 2 for o in csdb) / len(csdb),
        "assisted_outside": sum(o["tro_giup"]["duoc_tro_giup"] for o in objs if not o["hcdb"]) / n,
    }


def test_register_magnitudes(register):
    _, manifest, read = register
    for day in DATES:
        objs = [o for f in manifest.files if f.period == day for o in valid(read, f.path)]
        s = shares(objs, date.fromisoformat(day))
        assert 0.05 <= s["csdb"] <= 0.09, s
        assert 0.80 <= s["assisted"] <= 0.95, s
        assert 0.01 <= s["labour"] <= 0.08, s
        assert 0.01 <= s["permitted"] <= 0.06, s
        assert s["labour_under5"] < 0.005, s
        assert 0.01 <= s["multi"] <= 0.3, s
        assert 0.0 < s["assisted_outside"] < 0.02, s
        groups = Counter(g for o in objs for g in o["hcdb"])
        assert {g for g, _ in groups.most_common(2)} == {"d", "n"}, groups
        assert groups["a"] < groups["d"] / 5 and groups["l"] < groups["d"] / 10
    # the mountains: fewer assisted, more child labour than Hà Nội (all snapshots together)
    by_new = defaultdict(list)
    for f in manifest.files:
        new = f.province if f.vintage == POST_REFORM else {"01": "01", "10": "15", "15": "15"}[f.province]
        by_new[new].extend((o, date.fromisoformat(f.period)) for o in valid(read, f.path))
    hn = shares([o for o, _ in by_new["01"]], date(2025, 1, 1))
    lc = shares([o for o, _ in by_new["15"]], date(2025, 1, 1))
    assert lc["assisted"] < hn["assisted"] and lc["labour"] > 1.5 * hn["labour"], (hn, lc)


def test_abuse_magnitudes(cases):
    _, manifest, read = cases
    objs = all_valid(read)
    totals = manifest.totals()["counts"]
    n = totals["cases"]
    assert n > 100
    forms = {f: totals[f"cases_{f}"] for f in ABUSE_FORMS}
    assert max(forms, key=forms.get) == "xam_hai_tinh_duc" and 0.7 <= forms["xam_hai_tinh_duc"] / n <= 0.9
    assert 0.03 <= sum(len(o["hinh_thuc"]) == 2 for o in objs) / n <= 0.2
    victims = [(v, date.fromisoformat(o["ngay_phat_hien"])) for o in objs for v in o["nan_nhan"]]
    girls = sum(v["gioi_tinh"] == "nu" for v, _ in victims) / len(victims)
    teens = sum(age(date.fromisoformat(v["ngay_sinh"]), d) >= 11 for v, d in victims) / len(victims)
    assert 0.75 <= girls <= 0.93 and 0.55 <= teens <= 0.85
    assert 0.8 <= totals["victims_supported"] / totals["victims"] <= 0.97
    # cases, victims and offenders are different measures
    assert len({totals["cases"], totals["victims"], totals["offenders"]}) == 3
    assert totals["victims"] > totals["distinct_victims"] > totals["cases"] * 0.9
    # at least one child in two cases of the same half-year (one file)
    repeated = [path for path in read
                if max(Counter(v["ma_dinh_danh"] for o in valid(read, path) for v in o["nan_nhan"]).values(),
                       default=0) >= 2]
    assert repeated
    handling = Counter(o["xu_ly"] for o in objs)
    assert handling.most_common(1)[0][0] == "hinh_su" and totals["cases_administrative"] == handling["hanh_chinh"]
    assert all(o.get("so_tien_phat", 0) == 0 for o in objs if o["xu_ly"] != "hanh_chinh")
    assert {f.variants["so_tien_phat_without_fine"] for f in manifest.files} == {"zero", "absent"}
    numbers = [o["ma_vu"] for _, (_, objs_) in read.items() for o in objs_]
    assert len(numbers) == len(set(numbers))


def test_case_numbers_unique_across_files_even_with_invalid_lines(cases_dirty):
    numbers = []
    for _path, (_kinds, objs) in cases_dirty[2].items():
        numbers.extend(o["ma_vu"] for o in objs if o is not None)
    assert len(numbers) == len(set(numbers))


def test_victims_are_register_children(tmp_path, geo):
    """Victims drawn from the register (same seed and scale) carry its ID, birth date, sex and commune;
    the others (serials 480000–499999 of their half-year) are not in it."""
    scale = 0.08
    reg = generate_child_register_feed(tmp_path, scale=scale, provinces=SMALL, snapshot_dates=("2025-06-30",))
    register = {}
    for entry in reg.files:
        for line in read_lines(tmp_path / entry.path):
            obj = json.loads(line)
            register[obj["ma_dinh_danh"]] = obj
    man = generate_abuse_cases_feed(tmp_path, scale=scale, provinces=SMALL, periods=("2024-H1", "2024-H2", "2025-H1"))
    linked = unlinked = 0
    for entry in man.files:
        for line in read_lines(tmp_path / entry.path):
            case = json.loads(line)
            for v in case["nan_nhan"]:
                serial = int(v["ma_dinh_danh"][6:]) % 500_000
                if serial >= 480_000:
                    unlinked += 1
                    assert v["ma_dinh_danh"] not in register
                    continue
                if age(date.fromisoformat(v["ngay_sinh"]), date(2025, 6, 30)) >= 16:
                    continue  # left the register before the snapshot
                child = register[v["ma_dinh_danh"]]
                assert (child["ngay_sinh"], child["gioi_tinh"], child["ma_xa"]) == \
                    (v["ngay_sinh"], v["gioi_tinh"], case["ma_xa"])
                linked += 1
    assert linked >= 3 and unlinked >= 1, (linked, unlinked)
