"""`python -m publish approve|revisions` — statisticians' sign-off (make approve, make revisions).

    python -m publish approve --period 2025-H1 --province 15 --by "Nguyễn Văn A" --note "đã rà soát"
    python -m publish approve --period 2025-H1 --by "..."            # the nation (after its provinces)
    python -m publish approve --period 2025-H1 --all --by "..."      # every province, then the nation
    python -m publish revisions [--period 2025-H1]                   # approved values a later release changed

Approving connects as the `approver` role; listing revisions as `report_reader`. Exit 1 when refused."""

from __future__ import annotations

import argparse
import sys

import psycopg


def _connect(role: str) -> psycopg.Connection:
    from warehouse.roles import role_url

    try:
        return psycopg.connect(role_url(role), autocommit=True)
    except psycopg.OperationalError as exc:
        raise SystemExit(f"error: cannot connect as the {role} role ({str(exc).strip().splitlines()[-1]}); "
                         "the warehouse must be set up first (make run, or python -m warehouse bootstrap)") from None


def _approve(args: argparse.Namespace) -> int:
    from publish.approval import ApprovalRefused, approve, approve_all

    if not args.period.strip():
        print("error: which period? PERIOD=2025-H1 (or 2025, 2025-R6, ...)", file=sys.stderr)
        return 2
    province = args.province if args.province not in (None, "", "VN") else None
    if args.all and province:
        print("error: give either PROVINCE or ALL=1, not both", file=sys.stderr)
        return 2
    with _connect("approver") as conn:
        try:
            approvals = (approve_all(conn, args.period, args.by, args.note, args.force, args.release) if args.all
                         else [approve(conn, args.period, province, args.by, args.note, args.force, args.release)])
        except ApprovalRefused as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 1
    for approval in approvals:
        unit = "Việt Nam" if approval.admin_code == "VN" else f"{approval.admin_code} {approval.admin_name or ''}"
        if not approval.is_new:
            print(f"{approval.period} {unit}: already approved with these values "
                  f"(approval {approval.approval_id}, release {approval.release_id})")
            continue
        print(f"{approval.period} {unit}: approved {approval.value_count} values of release {approval.release_id} "
              f"(approval {approval.approval_id}); they are official now")
        if approval.forced:
            print(f"  approved despite {len(approval.warnings)} warning(s) (FORCE=1):")
            for warning in approval.warnings[:20]:
                print(f"    {warning}")
    return 0


def _revisions(args: argparse.Namespace) -> int:
    from publish.approval import pending_revisions

    with _connect("report_reader") as conn:
        revisions = pending_revisions(conn, args.period)
    if not revisions:
        print("No pending revisions: every approved value equals the latest release.")
        return 0
    print(f"{len(revisions)} approved value(s) differ in the latest release (official → new); "
          "approve the period again to make the new values official:")
    for r in revisions:
        unit = "Việt Nam" if r["admin_level"] == "national" else f"{r['admin_level']} {r['admin_code']} {r['admin_name'] or ''}"
        breakdown = ", ".join(f"{k} {r[k]}" for k in ("sex", "age_group", "ethnicity", "category") if r[k] != "total")
        new = r["new_value"] if r["new_value"] is not None else ("withheld" if r["new_withheld"] else "—")
        batches = ", ".join(str(b) for b in r["changed_by_batches"]) or "none new"
        print(f"  {r['period']}  {r['indicator_id']}  {unit.strip()}{' (' + breakdown + ')' if breakdown else ''}: "
              f"{r['official_value']} → {new} {r['unit']}  [batches {batches}; approval {r['approval_id']}]")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m publish", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    approve = commands.add_parser("approve", help="approve a period for a province or the nation")
    approve.add_argument("--period", required=True, help="e.g. 2025-H1, 2025, 2025-R6")
    approve.add_argument("--province", help="current province code; omitted (or VN) = the nation")
    approve.add_argument("--by", required=True, help="who approves (name as it should be recorded)")
    approve.add_argument("--note", default=None)
    approve.add_argument("--force", action="store_true", help="approve despite incomplete deliveries or withheld values")
    approve.add_argument("--all", action="store_true", help="every province of the period, then the nation")
    approve.add_argument("--release", default=None, help="the release reviewed (default: the latest)")
    revisions = commands.add_parser("revisions", help="approved values that the latest release changes")
    revisions.add_argument("--period", default=None)
    args = parser.parse_args(argv)
    if args.command == "approve":
        return _approve(args)
    return _revisions(args)


if __name__ == "__main__":
    sys.exit(main())
