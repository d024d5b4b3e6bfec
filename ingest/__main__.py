"""`python -m ingest FEED [FEED ...] [--landing DIR] [--run-id ID]` — load new landing files;
`python -m ingest retry BATCH` — load a batch's file again; `python -m ingest confirm BATCH --by NAME` —
apply a correction held for confirmation; `python -m ingest template --year YEAR [--out DIR]` — the
aggregate-report workbooks the communes fill (bao_cao_tong_hop)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest.feeds import FEEDS
from ingest.run import ingest_feed, landing_dir, summarise


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["retry"], ["confirm"]):
        return _batch_command(argv)
    if argv[:1] == ["template"]:
        return _template_command(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("feeds", nargs="*", help=f"feeds to load (default: all): {', '.join(s.name for s in FEEDS)}")
    parser.add_argument("--landing", type=Path, default=None, help="landing folder (default: $LANDING_DIR or ./landing)")
    parser.add_argument("--run-id", default=None)
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)  # load progress
    from ingest.schema import setup_warehouse

    setup_warehouse()
    failed = False
    for feed in args.feeds or [spec.name for spec in FEEDS]:
        results = ingest_feed(feed, args.landing or landing_dir(), args.run_id)
        print(f"{feed}: {len(results)} file(s)")
        print(summarise(results))
        failed |= any(r.status == "failed" for r in results)
    return 1 if failed else 0


def _batch_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m ingest {argv[0]}")
    parser.add_argument("batch", type=int, help="batch id (audit.load_batches.batch_id)")
    parser.add_argument("--by", default=None, help="who confirms (confirm only)")
    args = parser.parse_args(argv[1:])
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    from ingest.run import confirm_batch, retry_batch
    from ingest.schema import setup_warehouse

    setup_warehouse()
    if argv[0] == "confirm":
        if not args.by:
            parser.error("confirm needs --by NAME (make confirm BATCH=n BY=name)")
        print("\n".join(confirm_batch(args.batch, args.by)))
        return 0
    result = retry_batch(args.batch)
    print(summarise([result]))
    return 1 if result.status == "failed" else 0


def _template_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest template")
    parser.add_argument("--year", type=int, required=True, help="the year reported, e.g. 2025")
    parser.add_argument("--out", type=Path, default=Path("templates"), help="folder (default: templates/)")
    parser.add_argument("--province", action="append", default=None, help="a province code (default: every one)")
    args = parser.parse_args(argv)
    from ingest.template import write_templates

    try:
        paths = write_templates(args.year, args.out, args.province)
    except ValueError as error:
        parser.error(str(error))
    print(f"{len(paths)} workbook(s) in {args.out / str(args.year)}: fill them and drop them in "
          f"landing/bao_cao_tong_hop/ under the same names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
