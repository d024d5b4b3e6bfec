"""Command line: ``python -m synthetic all --landing DIR --scale S [--seed N] [--invalid-rate R]`` (every feed),
``python -m synthetic sample --landing DIR`` (the sample of ``make run``), or one feed:
``python -m synthetic health --landing DIR [--scale 0.001] [--seed 13] ...``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from synthetic.feeds import DEFAULT_MIN_DEATHS_PER_FILE, DEFAULT_PERIODS, generate_health_feeds, write_births_csv
from synthetic.manifest import Manifest


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m synthetic", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    health = sub.add_parser("health", help="births (y_te_sinh) and child deaths (y_te_tu_vong) feeds")
    health.add_argument("--landing", required=True, type=Path, help="landing directory")
    health.add_argument("--scale", type=float, default=0.001, help="share of the national volume (default 0.001)")
    health.add_argument("--seed", type=int, default=13)
    health.add_argument("--periods", nargs="+", default=list(DEFAULT_PERIODS), metavar="YYYY-HN")
    health.add_argument("--provinces", nargs="+", default=None, metavar="NEW_CODE",
                        help="new (post-2025-07) province codes; default all 34")
    health.add_argument("--invalid-rate", type=float, default=0.0, help="share of rows made invalid")
    health.add_argument("--no-variants", action="store_true", help="write every file in the plain form")
    health.add_argument("--min-deaths-per-file", type=float, default=DEFAULT_MIN_DEATHS_PER_FILE,
                        help="floor on expected deaths per file, topped up with deaths aged 5-17 (0 = off)")
    health.add_argument("--reference-dir", type=Path, default=None, help="admin-unit seeds directory")

    population = sub.add_parser("population", help="population estimates (dan_so)")
    population.add_argument("--landing", required=True, type=Path, help="landing directory")
    population.add_argument("--scale", type=float, default=0.001)
    population.add_argument("--seed", type=int, default=13)
    population.add_argument("--years", nargs="+", type=int, default=[2023, 2024, 2025])
    population.add_argument("--provinces", nargs="+", default=None, metavar="NEW_CODE")

    education = sub.add_parser("education", help="student exports (giao_duc_hoc_sinh), .xlsx and .csv")
    education.add_argument("--landing", required=True, type=Path, help="landing directory")
    education.add_argument("--scale", type=float, default=0.001)
    education.add_argument("--seed", type=int, default=13)
    education.add_argument("--school-years", nargs="+", default=["2023-2024", "2024-2025", "2025-2026"])
    education.add_argument("--provinces", nargs="+", default=None, metavar="NEW_CODE")
    education.add_argument("--invalid-rate", type=float, default=0.0)

    for name, help_text in (("immunisation", "immunisation doses (y_te_tiem_chung) of the births feed's children"),
                            ("growth", "growth monitoring of children under 5 (y_te_can_do)")):
        extra = sub.add_parser(name, help=help_text)
        extra.add_argument("--landing", required=True, type=Path, help="landing directory")
        extra.add_argument("--scale", type=float, default=0.001)
        extra.add_argument("--seed", type=int, default=13)
        extra.add_argument("--periods", nargs="+", default=list(DEFAULT_PERIODS), metavar="YYYY-HN")
        extra.add_argument("--provinces", nargs="+", default=None, metavar="NEW_CODE")
        extra.add_argument("--invalid-rate", type=float, default=0.0)

    register = sub.add_parser("register", help="child register snapshots (ldxh_tre_em), JSON lines")
    register.add_argument("--landing", required=True, type=Path, help="landing directory")
    register.add_argument("--scale", type=float, default=0.001)
    register.add_argument("--seed", type=int, default=13)
    register.add_argument("--snapshot-dates", nargs="+", default=None, metavar="YYYY-MM-DD")
    register.add_argument("--provinces", nargs="+", default=None, metavar="NEW_CODE")
    register.add_argument("--invalid-rate", type=float, default=0.0)

    abuse = sub.add_parser("abuse", help="child abuse cases (ldxh_xam_hai), JSON lines")
    abuse.add_argument("--landing", required=True, type=Path, help="landing directory")
    abuse.add_argument("--scale", type=float, default=0.001)
    abuse.add_argument("--seed", type=int, default=13)
    abuse.add_argument("--periods", nargs="+", default=list(DEFAULT_PERIODS), metavar="YYYY-HN")
    abuse.add_argument("--provinces", nargs="+", default=None, metavar="NEW_CODE")
    abuse.add_argument("--invalid-rate", type=float, default=0.0)

    reports = sub.add_parser("aggregate-reports", help="the communes' annual aggregate reports (bao_cao_tong_hop), xlsx")
    reports.add_argument("--landing", required=True, type=Path, help="landing directory")
    reports.add_argument("--scale", type=float, default=0.001)
    reports.add_argument("--seed", type=int, default=13)
    reports.add_argument("--years", nargs="+", type=int, default=[2024, 2025])
    reports.add_argument("--provinces", nargs="+", default=None, metavar="NEW_CODE")
    reports.add_argument("--invalid-rate", type=float, default=0.0)

    every = sub.add_parser("all", help="every feed of the ingest registry at one scale")
    every.add_argument("--landing", required=True, type=Path, help="landing directory")
    every.add_argument("--scale", type=float, required=True, help="share of the national volume")
    every.add_argument("--seed", type=int, default=13)
    every.add_argument("--invalid-rate", type=float, default=0.0, help="share of rows made invalid")
    every.add_argument("--provinces", nargs="+", default=None, metavar="NEW_CODE", help="default all 34")

    sample = sub.add_parser("sample", help="the sample landing folder of `make run` (scale 0.01, seed 2025)")
    sample.add_argument("--landing", required=True, type=Path, help="landing directory")

    births = sub.add_parser("births-file", help="one large valid births CSV (benchmarks)")
    births.add_argument("--out", required=True, type=Path)
    births.add_argument("--rows", required=True, type=int)
    births.add_argument("--seed", type=int, default=13)
    births.add_argument("--period", default="2024-H1")
    births.add_argument("--reference-dir", type=Path, default=None)
    return parser


def _print_totals(manifest: Manifest, landing: Path) -> None:
    for feed in manifest.feeds():
        t = manifest.totals(feed)
        invalid = sum(t["invalid_rows"].values())
        print(f"{feed}: {t['files']} files, {t['rows']:,} rows ({t['valid_rows']:,} valid, {invalid:,} invalid) "
              f"in {landing / feed}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for name in ("periods", "provinces"):  # accept "2024-H1,2024-H2" as well as separate words
        values = getattr(args, name, None)
        if values:
            setattr(args, name, [v for value in values for v in value.split(",") if v.strip()])
    started = time.perf_counter()
    try:
        if args.command in ("all", "sample"):
            from synthetic.sample import generate_all, generate_sample

            def progress(message: str) -> None:
                print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)

            if args.command == "all":
                generate_all(args.landing, scale=args.scale, seed=args.seed, invalid_rate=args.invalid_rate,
                             provinces=args.provinces, progress=progress)
            else:
                generate_sample(args.landing, progress=progress)
            _print_totals(Manifest.load(args.landing), args.landing)
        elif args.command == "health":
            manifest = generate_health_feeds(
                args.landing, scale=args.scale, seed=args.seed, periods=args.periods,
                provinces=args.provinces, invalid_rate=args.invalid_rate,
                delivery_variants=not args.no_variants, min_deaths_per_file=args.min_deaths_per_file,
                reference_dir=args.reference_dir,
            )
            _print_totals(manifest, args.landing)
        elif args.command in ("immunisation", "growth"):
            from synthetic import generate_growth_feed, generate_immunisation_feed

            generate = generate_immunisation_feed if args.command == "immunisation" else generate_growth_feed
            manifest = generate(args.landing, scale=args.scale, seed=args.seed, periods=args.periods,
                                provinces=args.provinces, invalid_rate=args.invalid_rate)
            _print_totals(manifest, args.landing)
        elif args.command in ("register", "abuse"):
            from synthetic import generate_abuse_cases_feed, generate_child_register_feed

            if args.command == "register":
                extra = {"snapshot_dates": args.snapshot_dates} if args.snapshot_dates else {}
                manifest = generate_child_register_feed(args.landing, scale=args.scale, seed=args.seed,
                                                        provinces=args.provinces, invalid_rate=args.invalid_rate, **extra)
            else:
                manifest = generate_abuse_cases_feed(args.landing, scale=args.scale, seed=args.seed, periods=args.periods,
                                                     provinces=args.provinces, invalid_rate=args.invalid_rate)
            _print_totals(manifest, args.landing)
        elif args.command == "aggregate-reports":
            from synthetic.aggregate_reports import generate_aggregate_reports_feed

            manifest = generate_aggregate_reports_feed(args.landing, scale=args.scale, seed=args.seed,
                                                       years=tuple(args.years), provinces=args.provinces,
                                                       invalid_rate=args.invalid_rate)
            _print_totals(manifest, args.landing)
        elif args.command in ("population", "education"):
            from synthetic import generate_education_feed, generate_population_feed

            if args.command == "population":
                manifest = generate_population_feed(args.landing, scale=args.scale, seed=args.seed, years=args.years,
                                                    provinces=args.provinces)
            else:
                manifest = generate_education_feed(args.landing, scale=args.scale, seed=args.seed,
                                                   school_years=args.school_years, provinces=args.provinces,
                                                   invalid_rate=args.invalid_rate)
            _print_totals(manifest, args.landing)
        else:
            entry = write_births_csv(args.out, args.rows, args.seed, period=args.period,
                                     reference_dir=args.reference_dir)
            print(f"{entry.feed}: 1 file, {entry.rows:,} rows in {args.out}")
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
