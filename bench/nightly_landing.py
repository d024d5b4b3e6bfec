"""The landings of the nightly benchmark: the full landing at a share of the nation, one province's
re-delivery of one period of every feed, and a night of new records. Generation goes through the project's
generator CLI (`python -m synthetic …`) in subprocesses, as a person would run it."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ingest.file_periods import half_years_in_name

REPO = Path(__file__).resolve().parent.parent
SEED = 2025
INVALID_RATE = 0.002  # as `make run`'s sample (synthetic/sample.py)
# Abuse is rare (~2,000 victims a year nationally): the sample takes the national volume. The bench scales it
# with the landing but keeps it 10x richer, so that its files are not empty at small scales.
ABUSE_SCALE_FACTOR = 10.0
DROP_EVERY = 50  # a re-delivery drops every 50th record (2 %)...
CHANGE_EVERY = 100  # ...and changes one value in every 100th (sex, or a population count)
CORRECTION_SUFFIX = "_r2"  # y_te_sinh_15_2025-H1_r2.csv: the period stays readable in the name
NEW_RECORDS_SUFFIX = "_new"
# The night of new records: a new half-year of the feeds that deliver by half-year or snapshot date. A new
# file of a (province, period) the warehouse already holds would *replace* it (sources.md: a newer file of
# the same cell is a correction), so new records can only arrive in a new period.
NEW_PERIOD = "2026-H1"
NEW_SNAPSHOT = "2026-06-30"
NEW_RECORD_FEEDS = ("health", "growth", "register", "abuse")  # generator commands
EXISTING_PERIODS_PER_FEED = 4  # the generator's default half-years / snapshot dates


def abuse_scale(scale: float) -> float:
    return min(1.0, ABUSE_SCALE_FACTOR * scale)


def generator_commands(landing: Path, scale: float, seed: int = SEED, use_all: bool | None = None) -> list[list[str]]:
    """The generator invocations for a full landing: `synthetic all` when it exists, else one per feed."""
    python = sys.executable
    if use_all is None:
        use_all = subprocess.run([python, "-m", "synthetic", "all", "--help"], cwd=REPO,
                                 capture_output=True).returncode == 0
    if use_all:
        return [[python, "-m", "synthetic", "all", "--landing", str(landing), "--scale", repr(scale),
                 "--seed", str(seed)]]
    commands = []
    for feed in ("health", "population", "education", "immunisation", "growth", "register", "abuse"):
        feed_scale = abuse_scale(scale) if feed == "abuse" else scale
        command = [python, "-m", "synthetic", feed, "--landing", str(landing), "--scale", repr(feed_scale),
                   "--seed", str(seed)]
        if feed != "population":  # population estimates have no invalid rows
            command += ["--invalid-rate", str(INVALID_RATE)]
        commands.append(command)
    return commands


def _run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:])} failed:\n{result.stderr[-2000:]}")


def generate_landing(landing: Path, scale: float, seed: int = SEED) -> dict:
    """Generate the full landing; returns the commands and the generation time."""
    landing.mkdir(parents=True, exist_ok=True)
    commands = generator_commands(landing, scale, seed)
    started = time.perf_counter()
    for command in commands:
        _run(command)
    seconds = time.perf_counter() - started
    return {"commands": [" ".join(["python", *c[1:]]) for c in commands], "seconds": round(seconds, 1),
            **landing_stats(landing)}


def landing_stats(landing: Path) -> dict:
    files = [p for p in landing.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


# --- one province re-delivers one period of every feed -----------------------------------------------------

def province_of(file_name: str) -> str | None:
    """The province code in a generated file name: 'y_te_sinh_15_2025-H1.csv' → '15'."""
    for part in Path(file_name).stem.split("_"):
        if len(part) == 2 and part.isdigit():
            return part
    return None


def redelivery_files(landing: Path, province: str, half_year: str) -> dict[str, Path]:
    """Per feed folder, the one original file of `province` whose name covers `half_year` (a half-year file,
    the school year or calendar year holding it, or a snapshot date in it). Corrections and new-record files
    are never picked."""
    chosen = {}
    for feed_dir in sorted(p for p in landing.iterdir() if p.is_dir()):
        candidates = sorted(
            p for p in feed_dir.iterdir()
            if p.is_file() and province_of(p.name) == province and half_year in half_years_in_name(p.name)
            and CORRECTION_SUFFIX not in p.stem and NEW_RECORDS_SUFFIX not in p.stem)
        if candidates:
            # the narrowest name first: a half-year file rather than a year's
            chosen[feed_dir.name] = min(candidates, key=lambda p: (len(half_years_in_name(p.name)), p.name))
    return chosen


def corrected_name(path: Path) -> str:
    return f"{path.stem}{CORRECTION_SUFFIX}{path.suffix}"


def _norm(text) -> str:
    return unicodedata.normalize("NFC", str(text or "")).strip().casefold()


_SWAP_SEX = {"nam": "Nữ", "nữ": "Nam", "nu": "nam"}


def _changed(value, header: str):
    """One altered value: sex swapped, or a population count plus one."""
    key = _norm(value)
    if _norm(header) == "dân số" and key.isdigit():
        return str(int(key) + 1) if isinstance(value, str) else int(key) + 1
    if key in ("nam", "nữ"):
        return _SWAP_SEX[key]
    if key in ("nu",):
        return "nam"
    return value


def alter_records(records: list, header: list[str] | None = None) -> tuple[list, int, int]:
    """Drop every DROP_EVERY-th record and change one value in every CHANGE_EVERY-th: returns (records,
    dropped, changed). CSV/XLSX rows are lists (with `header`), JSON records are dicts. The population feed
    gets its count changed rather than its sex, which would duplicate a (commune, age, sex) key."""
    kept, dropped, changed = [], 0, 0
    change_column = None
    if header is not None:
        names = [_norm(h) for h in header]
        for wanted in ("dân số", "giới tính"):
            if wanted in names:
                change_column = names.index(wanted)
                break
    for index, record in enumerate(records, start=1):
        if index % DROP_EVERY == 0:
            dropped += 1
            continue
        if index % CHANGE_EVERY == 1:
            if isinstance(record, dict):
                target = record
                if "gioi_tinh" not in target and target.get("nan_nhan"):
                    target = target["nan_nhan"][0]
                if target.get("gioi_tinh") in ("nam", "nu"):
                    target["gioi_tinh"] = "nu" if target["gioi_tinh"] == "nam" else "nam"
                    changed += 1
            elif change_column is not None and change_column < len(record):
                before = record[change_column]
                record = list(record)
                record[change_column] = _changed(before, header[change_column])
                changed += record[change_column] != before
        kept.append(record)
    return kept, dropped, changed


def _rewrite_csv(source: Path, target: Path) -> tuple[int, int, int]:
    raw = source.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    newline = "\r\n" if "\r\n" in text[:10_000] else "\n"
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header, records = rows[0], rows[1:]
    kept, dropped, changed = alter_records(records, header)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(kept)
    target.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    return len(records), dropped, changed


def _rewrite_jsonl(source: Path, target: Path) -> tuple[int, int, int]:
    lines = [line for line in source.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # an invalid line injected by the generator: kept as delivered
            records.append(line)
    kept, dropped, changed = alter_records(records)
    target.write_text("".join((json.dumps(r, ensure_ascii=False) if isinstance(r, dict) else r) + "\n"
                              for r in kept), encoding="utf-8")
    return len(records), dropped, changed


def _rewrite_xlsx(source: Path, target: Path) -> tuple[int, int, int]:
    import openpyxl

    book = openpyxl.load_workbook(source, read_only=True)
    sheet = book.worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    book.close()
    # the header is the first row naming the sex column (an export may have a title row above it)
    header_at = next((i for i, row in enumerate(rows[:20]) if any(_norm(c) == "giới tính" for c in row)), 0)
    header, records = rows[header_at], rows[header_at + 1:]
    kept, dropped, changed = alter_records(records, [str(h or "") for h in header])
    out = openpyxl.Workbook(write_only=True)
    out_sheet = out.create_sheet(sheet.title)
    for row in [*rows[:header_at + 1], *kept]:
        out_sheet.append(row)
    out.save(target)
    return len(records), dropped, changed


def write_redelivery(landing: Path, province: str, half_year: str) -> list[dict]:
    """Write the corrections of one province and period, next to the originals, with newer names."""
    written = []
    for feed, source in redelivery_files(landing, province, half_year).items():
        target = source.with_name(corrected_name(source))
        rewrite = {".csv": _rewrite_csv, ".jsonl": _rewrite_jsonl, ".xlsx": _rewrite_xlsx}[source.suffix.lower()]
        records, dropped, changed = rewrite(source, target)
        written.append({"feed": feed, "original": source.name, "correction": target.name, "records": records,
                        "dropped": dropped, "changed": changed})
    return written


# --- a night of new records ---------------------------------------------------------------------------------

def new_records_scale(scale: float, share: float, landing_rows: int, new_feeds_rows: int) -> float:
    """The generator scale for one new period of the NEW_RECORD_FEEDS that adds `share` of the landing's
    rows: those feeds hold EXISTING_PERIODS_PER_FEED periods of `new_feeds_rows` rows at `scale`."""
    if new_feeds_rows <= 0:
        return scale * share
    rows_per_period = new_feeds_rows / EXISTING_PERIODS_PER_FEED
    return scale * share * landing_rows / rows_per_period


@dataclass
class NewRecords:
    scale: float
    files: list[str]
    commands: list[str]


def write_new_records(landing: Path, scale: float, seed: int) -> NewRecords:
    """Generate the new period in a scratch folder, then move its files into the landing (renamed if a
    name is taken), so the loader sees new files only."""
    python = sys.executable
    scratch = Path(tempfile.mkdtemp(prefix="bench-new-", dir=landing.parent))
    commands = []
    try:
        for feed in NEW_RECORD_FEEDS:
            period_args = (["--snapshot-dates", NEW_SNAPSHOT] if feed == "register" else ["--periods", NEW_PERIOD])
            command = [python, "-m", "synthetic", feed, "--landing", str(scratch), "--seed", str(seed),
                       "--scale", repr(abuse_scale(scale) if feed == "abuse" else scale),
                       "--invalid-rate", str(INVALID_RATE), *period_args]
            _run(command)
            commands.append(" ".join(["python", *command[1:]]))
        moved = []
        for path in sorted(p for p in scratch.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))):
            target = landing / path.parent.name / path.name
            if target.exists():
                target = target.with_name(f"{path.stem}{NEW_RECORDS_SUFFIX}{path.suffix}")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moved.append(f"{target.parent.name}/{target.name}")
        return NewRecords(scale, moved, commands)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
