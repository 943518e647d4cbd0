"""``pixyproxy reconcile [--dry-run] [--grace 10m] [--json]`` (CONTRACT.md §3).

Exit status: 0 consistent (orphans, if any, deleted); 3 rows whose blob is missing were
found (listed in the report; rows are never deleted); 1 the run failed or some orphan
could not be deleted; 2 bad usage or settings.
"""

from __future__ import annotations

import typer

from cli.jobs import print_report, run_job
from service.init import build_reconciler
from service.reconcile import ReconcileReport, parse_duration

EXIT_DANGLING_ROWS = 3


def _check_grace(value: str) -> str:
    """``--grace`` callback: a bad value is a usage error naming the option (exit 2)."""
    try:
        parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def _summary(report: ReconcileReport, grace: str) -> list[str]:
    """The human-readable report."""
    dry = " (dry run: nothing changed)" if report.dry_run else ""
    verb = "would delete" if report.dry_run else "deleted"
    lines = [
        f"reconcile{dry}: {report.blobs_scanned} blobs and {report.rows_scanned} rows checked",
        f"orphan blobs older than {grace}: {len(report.orphan_blobs)} "
        f"({verb} {len(report.orphan_blobs) if report.dry_run else report.deleted_blobs})",
    ]
    lines += [f"  {verb}: {key}" for key in report.orphan_blobs if key not in report.failed_deletes]
    lines += [f"  could not delete: {key}" for key in report.failed_deletes]
    lines.append(f"orphan blobs younger than {grace} (kept): {len(report.fresh_orphan_blobs)}")
    if report.rescued_blobs:
        lines.append(f"blobs kept, a row appeared meanwhile: {len(report.rescued_blobs)}")
    lines.append(f"rows whose blob is missing: {len(report.dangling_rows)}")
    lines += [f"  missing: guid {row.guid} ({row.storage_key})" for row in report.dangling_rows]
    if not report.dry_run:
        lines.append(f"expired idempotency keys removed: {report.expired_idempotency_keys}")
    return lines


def reconcile(
    dry_run: bool = typer.Option(False, "--dry-run", help="Report only; change nothing."),
    grace: str = typer.Option(
        "10m",
        "--grace",
        help="Keep orphan blobs younger than this (uploads in flight): 30s, 10m, 2h or seconds.",
        callback=_check_grace,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Delete blobs no row references (older than --grace); report rows without blobs.

    Exit status: 0 consistent, 3 rows with missing blobs found, 1 failure, 2 bad usage.
    """
    grace_delta = parse_duration(grace)
    report = run_job(
        "reconcile",
        build_reconciler,
        lambda job, progress: job.run(grace=grace_delta, dry_run=dry_run, progress=progress),
        as_json=as_json,
    )
    print_report(report, _summary(report, grace), as_json=as_json)
    if report.failed_deletes:
        raise typer.Exit(1)
    if report.dangling_rows:
        raise typer.Exit(EXIT_DANGLING_ROWS)
