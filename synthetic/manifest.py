"""The manifest of a synthetic landing directory: what was written, and how many rows are (in)valid.

Written as ``<landing_dir>/_manifest.json`` (files starting with ``_`` are not feed files). Tests and
benchmarks use it for row accounting: for every file, rows = valid_rows + sum(invalid_rows.values()).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = "_manifest.json"
FORMAT_VERSION = 1


@dataclass
class FileEntry:
    feed: str
    path: str                      # relative to the landing directory, POSIX separators
    province: str                  # province code of the file, in its vintage
    vintage: str                   # pre_2025_07 | 2025_07
    period: str                    # 2024-H1 …
    rows: int                      # data rows written (header excluded)
    valid_rows: int
    invalid_rows: dict[str, int] = field(default_factory=dict)  # kind -> rows
    variants: dict[str, Any] = field(default_factory=dict)      # delivery variants in use
    counts: dict[str, int] = field(default_factory=dict)        # over valid rows (see health feeds)
    sha256: str = ""

    @property
    def invalid_total(self) -> int:
        return sum(self.invalid_rows.values())


@dataclass
class Manifest:
    landing_dir: str
    generator: str
    parameters: dict[str, Any]
    files: list[FileEntry] = field(default_factory=list)

    def for_feed(self, feed: str) -> list[FileEntry]:
        return [f for f in self.files if f.feed == feed]

    def feeds(self) -> list[str]:
        return sorted({f.feed for f in self.files})

    def totals(self, feed: str | None = None) -> dict[str, Any]:
        files = self.files if feed is None else self.for_feed(feed)
        invalid: dict[str, int] = {}
        for f in files:
            for kind, n in f.invalid_rows.items():
                invalid[kind] = invalid.get(kind, 0) + n
        counts: dict[str, int] = {}
        for f in files:
            for key, n in f.counts.items():
                counts[key] = counts.get(key, 0) + n
        return {
            "files": len(files),
            "rows": sum(f.rows for f in files),
            "valid_rows": sum(f.valid_rows for f in files),
            "invalid_rows": dict(sorted(invalid.items())),
            "counts": dict(sorted(counts.items())),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "landing_dir": self.landing_dir,
            "generator": self.generator,
            "parameters": self.parameters,
            "files": [asdict(f) for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            landing_dir=data.get("landing_dir", ""),
            generator=data.get("generator", ""),
            parameters=data.get("parameters", {}),
            files=[FileEntry(**f) for f in data.get("files", [])],
        )

    @classmethod
    def load(cls, landing_dir: Path | str) -> Manifest:
        path = Path(landing_dir) / MANIFEST_NAME
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def write(self, landing_dir: Path | str) -> Path:
        """Write the manifest; entries of feeds not covered by this manifest are kept from the old one
        (another generator may have written them), and files of this manifest's feeds that an earlier
        run listed but this one did not write are deleted so the directory matches the manifest."""
        landing = Path(landing_dir)
        path = landing / MANIFEST_NAME
        mine = set(self.feeds())
        kept: list[dict[str, Any]] = []
        others: dict[str, Any] = {}
        if path.is_file():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = {}
            written = {f.path for f in self.files}
            for entry in old.get("files", []):
                if entry.get("feed") in mine:
                    stale = landing / entry.get("path", "")
                    if entry.get("path") and entry["path"] not in written and stale.is_file():
                        stale.unlink()
                else:
                    kept.append(entry)
            others = {k: v for k, v in old.get("generators", {}).items() if k != self.generator}
        data = self.to_dict()
        data["files"] = kept + data["files"]
        data["generators"] = {**others, self.generator: self.parameters}
        landing.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path
