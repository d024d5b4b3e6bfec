"""reports/<period>/manifest.json: one entry per file written."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

KINDS = ("workbook", "csv", "sdmx", "html")


@dataclass(frozen=True)
class OutputFile:
    path: str            # relative to the period's folder, '/'-separated
    kind: str            # workbook, csv, sdmx or html
    admin_code: str      # VN for the nation, else the current province code
    approval_status: str  # official or provisional
    role: str = "data"   # data, metadata, structure or page: what the file is within its kind

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown output kind {self.kind!r}")


def write_manifest(folder: Path, files: list[OutputFile], release_id: str, period: str,
                   inputs: str | None = None) -> Path:
    """`inputs`: what the outputs were made from (report.render.render_inputs); the next render with the same
    inputs keeps them."""
    entries = [{**asdict(f), "release_id": release_id} for f in sorted(files, key=lambda f: (f.kind, f.path))]
    path = folder / "manifest.json"
    path.write_text(json.dumps({"period": period, "release_id": release_id, "inputs": inputs, "files": entries},
                               ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
