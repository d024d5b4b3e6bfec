"""Child-affairs feeds (sources.md): the commune child information system's register snapshots
(ldxh_tre_em) and child abuse cases (ldxh_xam_hai), both JSON lines. The most sensitive data of the
warehouse: personal IDs become keyed pseudonyms at load (inside the victims list too), names stay in raw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from ingest.feeds.common import ETHNICITY_CODES, geography_columns
from ingest.feeds.rules import broken_rows, not_in_future, years_later
from ingest.fields import (
    CellError,
    Choice,
    Code,
    IsoDate,
    Parser,
    PersonalId,
    PersonalIdCheck,
    Pseudonymised,
    Text,
    WholeNumber,
)
from ingest.spec import FEEDS, Column, Derived, FeedSpec

SEX_JSON = {"nam": "male", "nu": "female"}
BOOLEAN_JSON = {"true": "t", "false": "f"}
# Luật Trẻ em 2016, Điều 10: 14 groups of children in special circumstances (Vietnamese lettering).
SPECIAL_CIRCUMSTANCE_GROUPS = ("a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m", "n", "o")
LABOUR = {"khong": "khong", "phu_hop": "phu_hop", "trai_quy_dinh": "trai_quy_dinh"}
ABUSE_FORMS = ("bao_luc", "boc_lot", "xam_hai_tinh_duc", "mua_ban", "bo_roi", "bo_mac", "khac")
SETTINGS = {key: key for key in ("gia_dinh", "truong_hoc", "cong_dong", "moi_truong_mang", "khac")}
HANDLING = {key: key for key in ("hinh_su", "hanh_chinh", "dang_xu_ly", "khong_xu_ly")}


def _json(value: str, what: str):
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise CellError(f"{what} is not valid JSON") from None


@dataclass
class CodeList(Parser):
    """A JSON list of codes from a fixed list (e.g. special-circumstance groups), stored as a PostgreSQL
    text array literal, sorted and without repeats; `[]` is an empty list."""

    allowed: tuple[str, ...] = ()
    label: str = "code"

    def parse(self, value: str) -> str:
        items = _json(value, f"{self.label} list")
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise CellError(f"{self.label} list {value!r} is not a list of codes")
        unknown = sorted({item for item in items if item not in self.allowed})
        if unknown:
            raise CellError(f"{self.label} {', '.join(map(repr, unknown))} not in the list: {' '.join(self.allowed)}")
        ordered = [code for code in self.allowed if code in items]
        return "{" + ",".join(ordered) + "}"


@dataclass
class Assistance(Parser):
    """`tro_giup`: {"duoc_tro_giup": bool, "hinh_thuc": [text, ...]}, stored as jsonb
    {"assisted": bool, "forms": [...]}."""

    def parse(self, value: str) -> str:
        item = _json(value, "tro_giup")
        if not isinstance(item, dict) or not isinstance(item.get("duoc_tro_giup"), bool):
            raise CellError("tro_giup must be an object with duoc_tro_giup true or false")
        forms = item.get("hinh_thuc") or []
        if not isinstance(forms, list) or not all(isinstance(form, str) and form for form in forms):
            raise CellError("tro_giup.hinh_thuc must be a list of forms of assistance")
        return json.dumps({"assisted": item["duoc_tro_giup"], "forms": sorted(set(forms))}, ensure_ascii=False)


@dataclass
class Victims(Pseudonymised):
    """`nan_nhan`: the list of children abused in a case, each {ma_dinh_danh, ngay_sinh, gioi_tinh,
    duoc_ho_tro}. Stored as jsonb with the personal ID as its keyed pseudonym (null when the ID is blank or
    malformed); a case without a victim is refused. Quarantine keeps the list with pseudonyms only."""

    # a blank or malformed victim ID (a placeholder such as 123) keeps the victim, without a pseudonym: the
    # child is counted within the case only (int_child_affairs__abuse_victims), the case is not refused
    _ids: PersonalId = field(default_factory=lambda: PersonalId(required=False, flag_invalid=True))
    _dates: IsoDate = field(default_factory=IsoDate)

    def _victims(self, value: str) -> list:
        victims = _json(value, "nan_nhan")
        if not isinstance(victims, list) or not all(isinstance(victim, dict) for victim in victims):
            raise CellError("nan_nhan must be a list of victims {…}")
        if not victims:
            raise CellError("the case has no victim (nan_nhan is empty)")
        return victims

    def parse(self, value: str) -> str:
        parsed = []
        for number, victim in enumerate(self._victims(value), start=1):
            where = f"victim {number}"
            identifier = str(victim.get("ma_dinh_danh") or "").strip()
            try:
                pseudonym = self._ids.parse(identifier) if identifier else None
                born = self._dates.parse(str(victim.get("ngay_sinh") or ""))
            except CellError as error:
                raise CellError(f"{where}: {error}") from None
            sex = SEX_JSON.get(str(victim.get("gioi_tinh", "")).casefold())
            if sex is None:
                raise CellError(f"{where}: gioi_tinh {victim.get('gioi_tinh')!r} is not nam or nu")
            supported = victim.get("duoc_ho_tro")
            if not isinstance(supported, bool):
                raise CellError(f"{where}: duoc_ho_tro must be true or false")
            parsed.append({"personal_id_pseudonym": pseudonym, "birth_date": born, "sex": sex, "is_supported": supported})
        return json.dumps(parsed, ensure_ascii=False)

    def pseudonymise(self, value: str) -> str:
        return self.quarantine_text(value)

    def quarantine_text(self, value: str) -> str:
        try:
            victims = json.loads(value)
        except json.JSONDecodeError:
            return "(withheld: not valid JSON, may hold personal IDs)"
        if isinstance(victims, list):
            for victim in victims:
                if isinstance(victim, dict) and victim.get("ma_dinh_danh"):
                    victim["ma_dinh_danh"] = self._ids.quarantine_text(str(victim["ma_dinh_danh"]).strip())
            return json.dumps(victims, ensure_ascii=False)
        return "(withheld: not a list of victims)"


def _under_16_at_snapshot(columns: dict[str, pa.Array]):
    births, snapshot = columns["birth_date"], columns["snapshot_date"]
    return [(i, "ngay_sinh", "the register holds children under 16; this child is 16 or older at the snapshot date")
            for i in broken_rows(pc.greater_equal(snapshot, years_later(births, 16)))]


def _born_by_snapshot(columns: dict[str, pa.Array]):
    births, snapshot = columns["birth_date"], columns["snapshot_date"]
    return [(i, "ngay_sinh", f"born {births[i].as_py()}, after the snapshot date {snapshot[i].as_py()}")
            for i in broken_rows(pc.greater(births, snapshot))]


def _personal_id_verdict(check: str, born: str, sex: str) -> tuple[str, str | None]:
    """(status, problem) of one ID check (PersonalIdCheck) against the record's year of birth and sex."""
    if not check:
        return "missing", "personal ID is blank"
    verdict, _, detail = check.partition("|")
    if verdict == "malformed":
        return "malformed", detail
    year, _, id_sex = detail.partition("|")
    disagreements = []
    if born and born != year:
        disagreements.append(f"its year of birth ({year}) is not the record's ({born})")
    if sex and sex != id_sex:
        disagreements.append(f"its sex ({id_sex}) is not the record's ({sex})")
    if disagreements:
        return "inconsistent", "personal ID: " + " and ".join(disagreements)
    return "valid", None


def _personal_id_verdicts(columns: dict[str, pa.Array], errors: dict) -> dict[str, pa.Array]:
    """A register child whose ID is blank or malformed still counts; the record says why it has no
    pseudonym (`missing`, `malformed`), and a well-formed ID whose year of birth or sex disagrees with the
    record's is `inconsistent` (it keeps its pseudonym: the ID may be right and the record wrong). Every
    record that is not `valid` is on the clean-up list (quarantine.register_cleanup_list). Like the cell
    parsers, each distinct (check, year of birth, sex) is judged once and the column is a lookup."""
    keys = pc.binary_join_element_wise(
        pc.fill_null(columns["personal_id_status"], ""),
        pc.fill_null(pc.utf8_slice_codeunits(columns["birth_date"], 0, 4), ""),
        pc.fill_null(columns["sex"], ""), "\x1f").dictionary_encode()
    judged = [_personal_id_verdict(*key.split("\x1f")) for key in keys.dictionary.to_pylist()]
    return {"personal_id_status": pa.array([status for status, _ in judged], pa.string()).take(keys.indices),
            "personal_id_problem": pa.array([problem for _, problem in judged], pa.string()).take(keys.indices)}


PERSONAL_ID_VERDICTS = Derived(
    columns=(("personal_id_problem", "text",
              "Why the personal ID is not valid, in plain words (never the ID); null when it is valid."),),
    compute=_personal_id_verdicts,
)


REGISTER = FEEDS.register(FeedSpec(
    name="ldxh_tre_em",
    description="Children of the commune child information system, one row per child per snapshot of a province "
                "(JSON lines). A newer file for the same province and snapshot date replaces the older one.",
    reference_date="snapshot_date",
    period_of=lambda snapshot: snapshot,  # supersede per snapshot date: older snapshots stay for history
    extensions=(".jsonl",),
    unique_within_file=("personal_id_pseudonym", "snapshot_date"),
    # a child without a valid ID can only be told apart within its own file, by what the record says
    unique_within_file_without_id=("full_name", "birth_date", "sex", "commune_code", "snapshot_date"),
    derived=(PERSONAL_ID_VERDICTS,),
    columns=(
        Column("ma_dinh_danh", "personal_id_pseudonym", "text", PersonalId(required=False, flag_invalid=True),
               "Keyed pseudonym (HMAC-SHA256) of the 12-digit personal ID; the ID itself is never stored. Null when "
               "the ID is blank or malformed (personal_id_status): such a child counts, but cannot be linked to "
               "its records in other files."),
        Column("ma_dinh_danh", "personal_id_status", "text", PersonalIdCheck(),
               "The personal ID's check: valid; missing (blank); malformed (not 12 digits, or not the structure "
               "of Thông tư 07/2016/TT-BCA: province of birth registration, century and sex, year of birth); "
               "inconsistent (well formed, but its year of birth or sex is not the record's)."),
        Column("ho_ten", "full_name", "text", Text(required=False, max_length=200),
               "Name as delivered. Personal data: kept in raw only, never selected by staging."),
        Column("ngay_sinh", "birth_date", "date", IsoDate(), "Date of birth."),
        Column("gioi_tinh", "sex", "text", Choice(choices=SEX_JSON, label="sex"), "Sex: male or female."),
        Column("ma_dan_toc", "ethnicity_code", "text", Code(width=2, allowed=ETHNICITY_CODES, label="ethnicity code"),
               "Ethnicity, statistics office code 01 (Kinh) to 54."),
        *geography_columns("ma_tinh", "ma_xa"),
        Column("hcdb", "special_circumstance_groups", "text[]",
               CodeList(allowed=SPECIAL_CIRCUMSTANCE_GROUPS, label="special-circumstance group"),
               "Groups of children in special circumstances (Luật Trẻ em 2016, Điều 10, letters a–o); empty for none."),
        Column("tro_giup", "assistance", "jsonb", Assistance(required=False),
               "Assistance received: {assisted: true/false, forms: [...]}."),
        Column("khuyet_tat", "has_disability", "boolean", Choice(choices=BOOLEAN_JSON, label="khuyet_tat"),
               "Child with a disability."),
        Column("lao_dong", "labour", "text", Choice(choices=LABOUR, label="lao_dong"),
               "Work: khong (none), phu_hop (allowed for the age), trai_quy_dinh (child labour against the law)."),
        Column("ngay_cap_nhat", "snapshot_date", "date", IsoDate(),
               "Date of the province's snapshot; decides the geography vintage and which snapshot a period uses."),
    ),
    row_rules=(_under_16_at_snapshot, _born_by_snapshot, not_in_future("snapshot_date", "ngay_cap_nhat")),
))


def _victims_born_before_case(columns: dict[str, pa.Array]):
    problems = []
    for index, (victims, found) in enumerate(zip(columns["victims"].to_pylist(), columns["detected_on"].to_pylist())):
        if victims is None or found is None:
            continue
        for number, victim in enumerate(json.loads(victims), start=1):
            if victim["birth_date"] >= found:
                problems.append((index, "nan_nhan", f"victim {number} was born {victim['birth_date']}, not before "
                                                    f"the case date {found}"))
                break
    return problems


def _fine_only_when_sanctioned(columns: dict[str, pa.Array]):
    handling, fines = columns["handling"], columns["fine_vnd"]
    fined = pc.and_(pc.not_equal(handling, "hanh_chinh"), pc.greater(pc.cast(fines, pa.int64()), 0))
    return [(i, "so_tien_phat", f"a fine of {fines[i].as_py()} VND on a case handled as {handling[i].as_py()}; "
                                "fines belong to administrative sanctions (hanh_chinh)") for i in broken_rows(fined)]


CASES = FEEDS.register(FeedSpec(
    name="ldxh_xam_hai",
    description="Child abuse cases from the child-affairs and police records, one row per case (JSON lines), "
                "with its victims as a list.",
    reference_date="detected_on",
    extensions=(".jsonl",),
    unique_within_file=("case_id",),
    columns=(
        Column("ma_vu", "case_id", "text", Text(max_length=64), "Case id."),
        Column("ngay_phat_hien", "detected_on", "date", IsoDate(),
               "Date the case was detected; decides the period and the geography vintage."),
        *geography_columns("ma_tinh", "ma_xa"),
        Column("hinh_thuc", "abuse_forms", "text[]", CodeList(allowed=ABUSE_FORMS, label="form of abuse"),
               "Forms of abuse (Luật Trẻ em Điều 4): bao_luc, boc_lot, xam_hai_tinh_duc, mua_ban, bo_roi, bo_mac, khac."),
        Column("moi_truong", "setting", "text", Choice(choices=SETTINGS, label="setting"),
               "Where the abuse happened: gia_dinh, truong_hoc, cong_dong, moi_truong_mang, khac."),
        Column("nan_nhan", "victims", "jsonb", Victims(),
               "Victims: [{personal_id_pseudonym, birth_date, sex, is_supported}], IDs as keyed pseudonyms."),
        Column("so_doi_tuong", "offenders", "integer", WholeNumber(minimum=0, maximum=100, label="offenders"),
               "Number of offenders (đối tượng)."),
        Column("xu_ly", "handling", "text", Choice(choices=HANDLING, label="handling"),
               "How the case was handled: hinh_su, hanh_chinh, dang_xu_ly, khong_xu_ly."),
        Column("so_tien_phat", "fine_vnd", "bigint",
               WholeNumber(required=False, minimum=0, maximum=10_000_000_000, label="fine (VND)"),
               "Fine in VND of an administrative sanction; empty or 0 otherwise."),
    ),
    row_rules=(_victims_born_before_case, _fine_only_when_sanctioned, not_in_future("detected_on", "ngay_phat_hien")),
))
