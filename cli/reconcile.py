"""``pixyproxy reconcile [--dry-run] [--grace 10m] [--json]`` (CONTRACT.md §3).

Exit status: 0 consistent (orphans, if any, deleted); 3 rows whose blob is missing were
found (listed in the report; rows are never deleted); 1 the run failed or some orphan
could not be deleted; 2 bad usage or settings.
"""

from __future__ import annotations

import json
import sys
from types import TracebackType

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
)

from core.exceptions import PixyProxyException
from core.settings import load_settings
from service.init import build_reconciler
from service.reconcile import ReconcileReport, parse_duration

EXIT_DANGLING_ROWS = 3
err = Console(stderr=True)


def _check_grace(value: str) -> str:
    """``--grace`` callback: a bad value is a usage error naming the option (exit 2)."""
    try:
        parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


class BarProgress:
    """A rich progress bar on the terminal (stderr)."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> BarProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def phase(self, name: str, total: int | None) -> None:
        """Start a bar for the pass (an open-ended one when the total is unknown)."""
        if self._task is not None:
            self._progress.stop_task(self._task)
        self._task = self._progress.add_task(f"checking {name}", total=total)

    def advance(self, count: int) -> None:
        """Move the current bar on."""
        if self._task is not None:
            self._progress.advance(self._task, count)


class LineProgress:
    """Plain lines on stderr, one per page, for logs and pipes."""

    def __init__(self, label: str = "reconcile") -> None:
        self._label = label
        self._name = ""
        self._done = 0

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def phase(self, name: str, total: int | None) -> None:
        """Announce a pass."""
        self._name, self._done = name, 0
        suffix = f" ({total})" if total is not None else ""
        print(f"{self._label}: checking {name}{suffix}", file=sys.stderr, flush=True)

    def advance(self, count: int) -> None:
        """One line per page."""
        self._done += count
        print(f"{self._label}: {self._name} checked: {self._done}", file=sys.stderr, flush=True)


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
    try:
        reconciler = build_reconciler(load_settings())
    except PixyProxyException as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    progress = BarProgress(err) if err.is_terminal and not as_json else None
    try:
        with progress or LineProgress() as reporter:
            report = reconciler.run(
                grace=grace_delta, dry_run=dry_run, progress=None if as_json else reporter
            )
    except PixyProxyException as exc:
        err.print(f"[red]reconcile failed:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        reconciler.close()
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        typer.echo("\n".join(_summary(report, grace)))
    if report.failed_deletes:
        raise typer.Exit(1)
    if report.dangling_rows:
        raise typer.Exit(EXIT_DANGLING_ROWS)
