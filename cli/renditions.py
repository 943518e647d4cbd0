"""``pixyproxy renditions [--json]``: backfill thumbnails and previews (CONTRACT.md §6).

Idempotent and resumable: images that have everything are skipped, so an interrupted
run is simply started again. Exit status: 0 done, 1 some image failed (listed), 2 bad
settings.
"""

from __future__ import annotations

import typer

from cli.jobs import print_report, run_job
from service.backfill import BackfillReport
from service.init import build_backfill


def _summary(report: BackfillReport) -> list[str]:
    """The human-readable report."""
    lines = [
        f"renditions: {report.images_scanned} images checked, "
        f"{report.already_complete} already complete, {report.images_done} done now "
        f"({report.renditions_made} renditions made)",
    ]
    lines += [f"  failed: guid {guid}" for guid in report.failed]
    return lines


def renditions(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Make the missing thumbnails and previews (and width, height, BlurHash) of older images.

    Exit status: 0 done, 1 some images failed, 2 bad settings.
    """
    report = run_job(
        "renditions", build_backfill, lambda job, progress: job.run(progress), as_json=as_json
    )
    print_report(report, _summary(report), as_json=as_json)
    if report.failed:
        raise typer.Exit(1)
