"""The JSON-lines reader and the child-affairs feeds (ldxh_tre_em register snapshots, ldxh_xam_hai abuse
cases): records read by line, malformed lines quarantined by line, every row rule, and personal IDs only as
keyed pseudonyms (inside the victims list too)."""

from __future__ import annotations

import json

import pytest

from ingest.feeds.child_affairs import CASES, REGISTER
from ingest.geography import admin_units
from ingest.pseudonymise import pseudonymisation_key
from ingest.readers import OTHER_KEYS, JsonlSource, UnreadableFile
from ingest.validate import RecordValidator

CHILD = {"ma_dinh_danh": "001315001234", "ho_ten": "Nguyễn Thị An", "ngay_sinh": "2015-03-02", "gioi_tinh": "nu",
         "ma_dan_toc": "01", "ma_tinh": "01", "ma_xa": "00004", "hcdb": ["d", "a"],
         "tro_giup": {"duoc_tro_giup": True, "hinh_thuc": ["y_te", "tro_cap_xa_hoi"]}, "khuyet_tat": True,
         "lao_dong": "khong", "ngay_cap_nhat": "2025-12-31"}
CASE = {"ma_vu": "01-2025-0042", "ngay_phat_hien": "2025-08-14", "ma_tinh": "01", "ma_xa": "00004",
        "hinh_thuc": ["xam_hai_tinh_duc"], "moi_truong": "gia_dinh",
        "nan_nhan": [{"ma_dinh_danh": "001212009999", "ngay_sinh": "2012-05-01", "gioi_tinh": "nu", "duoc_ho_tro": True}],
        "so_doi_tuong": 1, "xu_ly": "hanh_chinh", "so_tien_phat": 15000000}


@pytest.fixture(autouse=True)
def fixed_key(monkeypatch):
    monkeypatch.setenv("PSEUDONYMISATION_KEY", "k" * 40)
    pseudonymisation_key.cache_clear()
    yield
    pseudonymisation_key.cache_clear()


def _write(tmp_path, name, lines: list[str]):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _check(spec, tmp_path, records: list[dict | str]):
    """Read records through the JSON-lines reader and check them; returns (good rows, {line: problems})."""
    path = _write(tmp_path, "f.jsonl", [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records])
    source = JsonlSource(path, {column.key for column in spec.columns})
    validator = RecordValidator(spec, source.header, admin_units(), path.name)
    good, bad = [], {}
    for chunk in source.chunks():
        checked = validator.check_columns(chunk.columns, chunk.lines)
        for index, line in enumerate(chunk.lines):
            if index in checked.errors:
                bad[int(line)] = checked.errors[index]
            else:
                good.append({name: values[index].as_py() for name, values in checked.columns.items()})
        for item in chunk.malformed:
            bad[item.line] = [(None, item.reason)]
            assert "(cells withheld)" in validator.record_as_dict(item.cells)  # the raw text may hold IDs
    return good, bad


def test_reader_numbers_physical_lines_and_keeps_unknown_keys(tmp_path):
    path = _write(tmp_path, "f.jsonl", ['\ufeff{"a": 1, "b": ["x", "đ"], "zz": true}', "", "{bad", "[1, 2]",
                                        '{"a": null, "b": {"k": 1}}'])
    source = JsonlSource(path, ["a", "b"])
    (chunk,) = list(source.chunks())
    assert source.header == ["a", "b", OTHER_KEYS]
    assert chunk.lines.tolist() == [1, 5]
    assert [column.to_pylist() for column in chunk.columns] == [["1", ""], ['["x","đ"]', '{"k":1}'], ['{"zz":true}', ""]]
    assert [(m.line, m.reason.split(":")[0]) for m in chunk.malformed] == [
        (3, "the line is not valid JSON"), (4, "the line is JSON but not an object {…}")]


def test_reader_rejects_an_empty_or_non_utf8_file(tmp_path):
    with pytest.raises(UnreadableFile, match="empty"):
        JsonlSource(_write(tmp_path, "e.jsonl", ["", ""]), ["a"])
    bad = tmp_path / "b.jsonl"
    bad.write_bytes(b'{"a": "ok"}\n{"a": "\xe0\x80"}\n')
    with pytest.raises(UnreadableFile, match="line 2"):
        list(JsonlSource(bad, ["a"]).chunks())


def test_a_register_child_is_typed_and_pseudonymised(tmp_path):
    (row,), bad = _check(REGISTER, tmp_path, [CHILD])
    assert bad == {}
    assert row["special_circumstance_groups"] == "{a,d}" and row["sex"] == "female" and row["has_disability"] == "t"
    assert json.loads(row["assistance"]) == {"assisted": True, "forms": ["tro_cap_xa_hoi", "y_te"]}
    assert len(row["personal_id_pseudonym"]) == 64 and "001315001234" not in json.dumps(row)
    assert row["period_key"] == "2025-12-31" and row["admin_vintage"] == "2025_07"


@pytest.mark.parametrize("change, column, reason", [
    ({"ngay_sinh": "2009-12-31"}, "ngay_sinh", "16 or older"),
    ({"ngay_sinh": "2010-01-01"}, None, None),  # the day before the 16th birthday: still a child
    ({"hcdb": ["f"]}, "hcdb", "'f' not in the list"),
    ({"gioi_tinh": "x"}, "gioi_tinh", "not one of"),
    ({"ngay_sinh": "2015-02-30"}, "ngay_sinh", "does not exist"),
    ({"lao_dong": "co"}, "lao_dong", "not one of"),
    ({"ma_xa": "25747"}, "ma_xa", "is in province 79, not 01"),
    ({"tro_giup": {"hinh_thuc": []}}, "tro_giup", "duoc_tro_giup"),
])
def test_register_rules(tmp_path, change, column, reason):
    good, bad = _check(REGISTER, tmp_path, [{**CHILD, **change}])
    if reason is None:
        assert bad == {} and len(good) == 1
    else:
        ((delivered, text),) = bad[1]
        assert delivered == column and reason in text


def test_one_child_once_per_snapshot(tmp_path):
    good, bad = _check(REGISTER, tmp_path, [CHILD, {**CHILD, "ho_ten": "again"}, {**CHILD, "ma_dinh_danh": "001315001235"}])
    assert len(good) == 2
    assert bad == {2: [("ma_dinh_danh", "ma_dinh_danh appears twice in this file (first on line 1)")]}


@pytest.mark.parametrize("delivered, status, problem", [
    ("001315001234", "valid", None),        # Hà Nội 001, 3: a girl born 2000–2099, 15: born 2015
    ("1315001234", "valid", None),          # the same ID after a spreadsheet dropped its zeros: re-padded
    ("", "missing", "personal ID is blank"),
    ("123", "malformed", "not a province of birth registration"),   # re-padded to 000000000123
    ("000000000000", "malformed", "not a province of birth registration"),
    ("003315001234", "malformed", "not a province of birth registration"),  # 003 is no province's code
    ("01315001234", "malformed", "a digit is missing"),
    ("0013150012345", "malformed", "not 12 digits"),
    ("00131500123A", "malformed", "not 12 digits"),
    ("001314001234", "inconsistent", "its year of birth (2014) is not the record's (2015)"),
    ("001115001234", "inconsistent", "its year of birth (1915) is not the record's (2015)"),  # 20th century
])
def test_a_child_without_a_valid_id_loads_flagged_and_without_pseudonym(tmp_path, delivered, status, problem):
    """Issue 14: a blank or malformed ID no longer quarantines the child; the record says why, and a
    well-formed ID that disagrees with the record's year of birth or sex is inconsistent."""
    (row,), bad = _check(REGISTER, tmp_path, [{**CHILD, "ma_dinh_danh": delivered}])
    assert bad == {}
    assert row["personal_id_status"] == status
    assert row["personal_id_problem"] == problem if problem is None else problem in row["personal_id_problem"]
    assert (row["personal_id_pseudonym"] is None) == (status in ("missing", "malformed"))
    assert not delivered or delivered not in json.dumps(row)


def test_an_id_whose_sex_disagrees_is_inconsistent(tmp_path):
    (row,), _ = _check(REGISTER, tmp_path, [{**CHILD, "ma_dinh_danh": "001215001234"}])
    assert row["personal_id_status"] == "inconsistent"
    assert row["personal_id_problem"] == "personal ID: its sex (male) is not the record's (female)"
    assert len(row["personal_id_pseudonym"]) == 64  # well formed: kept, the record may be the wrong one


def test_children_without_ids_are_told_apart_within_their_file_only_by_their_record(tmp_path):
    """Placeholders no longer collide (each is its own child); the same record twice without an ID is a
    duplicate within the file."""
    twin = {**CHILD, "ma_dinh_danh": "123", "ho_ten": "Nguyễn Văn Bình"}
    good, bad = _check(REGISTER, tmp_path, [
        {**CHILD, "ma_dinh_danh": "123"}, twin, {**CHILD, "ma_dinh_danh": ""}, {**CHILD, "ma_dinh_danh": "000000000123"}])
    assert len(good) == 2 and all(row["personal_id_pseudonym"] is None for row in good)
    assert bad[3] == [("ma_dinh_danh", "the same child (ho_ten, ngay_sinh, gioi_tinh, ma_xa) appears twice in this "
                                       "file without a valid ma_dinh_danh (first on line 1)")]
    assert bad[4][0][1].endswith("(first on line 1)") and set(bad) == {3, 4}


def test_an_abuse_victim_with_a_placeholder_id_is_kept_without_a_pseudonym(tmp_path):
    victims = [{**CASE["nan_nhan"][0], "ma_dinh_danh": "123"}, {**CASE["nan_nhan"][0], "ma_dinh_danh": "001212009998"}]
    (row,), bad = _check(CASES, tmp_path, [{**CASE, "nan_nhan": victims}])
    assert bad == {}
    first, second = json.loads(row["victims"])
    assert first["personal_id_pseudonym"] is None and len(second["personal_id_pseudonym"]) == 64


def test_other_feeds_refuse_a_malformed_id():
    """Only the register counts children without a valid ID; elsewhere a malformed ID is quarantined."""
    from ingest.fields import CellError, PersonalId

    with pytest.raises(CellError, match="province of birth registration"):
        PersonalId(required=False)("123")
    assert len(PersonalId(required=False)("1215001234")) == 64


def test_a_malformed_line_is_quarantined_by_line_and_the_rest_loads(tmp_path):
    lines = [CHILD, '{"ma_dinh_danh": "001315001299", ', {**CHILD, "ma_dinh_danh": "001315001235"}]
    good, bad = _check(REGISTER, tmp_path, lines)
    assert len(good) == 2 and list(bad) == [2] and bad[2][0][1].startswith("the line is not valid JSON")


def test_a_case_keeps_its_victims_with_pseudonyms_only(tmp_path):
    (row,), bad = _check(CASES, tmp_path, [CASE])
    assert bad == {}
    (victim,) = json.loads(row["victims"])
    assert victim["birth_date"] == "2012-05-01" and victim["sex"] == "female" and victim["is_supported"] is True
    assert len(victim["personal_id_pseudonym"]) == 64 and "001212009999" not in row["victims"]
    assert row["abuse_forms"] == "{xam_hai_tinh_duc}" and row["period_key"] == "2025-H2"


@pytest.mark.parametrize("change, column, reason", [
    ({"nan_nhan": []}, "nan_nhan", "no victim"),
    ({"nan_nhan": [{**CASE["nan_nhan"][0], "ngay_sinh": "2025-08-14"}]}, "nan_nhan", "not before the case date"),
    ({"hinh_thuc": ["danh_dap"]}, "hinh_thuc", "'danh_dap' not in the list"),
    ({"moi_truong": "cho"}, "moi_truong", "not one of"),
    ({"xu_ly": "phat"}, "xu_ly", "not one of"),
    ({"so_tien_phat": -500000}, "so_tien_phat", "not a whole number"),
    ({"xu_ly": "hinh_su"}, "so_tien_phat", "fines belong to administrative sanctions"),
    ({"ngay_phat_hien": "14/08/2025"}, "ngay_phat_hien", "not in yyyy-mm-dd form"),
])
def test_case_rules(tmp_path, change, column, reason):
    _, bad = _check(CASES, tmp_path, [{**CASE, **change}])
    ((delivered, text),) = bad[1]
    assert delivered == column and reason in text


def test_a_quarantined_case_keeps_its_victims_without_ids(tmp_path):
    path = _write(tmp_path, "c.jsonl", [json.dumps({**CASE, "xu_ly": "phat"})])
    source = JsonlSource(path, {column.key for column in CASES.columns})
    validator = RecordValidator(CASES, source.header, admin_units(), path.name)
    (chunk,) = list(source.chunks())
    record = validator.record_as_dict(chunk.record(0))
    assert "001212009999" not in json.dumps(record, ensure_ascii=False)
    assert json.loads(record["nan_nhan"])[0]["ma_dinh_danh"].startswith("pseudonym:")
