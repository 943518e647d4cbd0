"""``pixyproxy renditions [--json]``: backfill thumbnails and previews (CONTRACT.md §6).

Idempotent and resumable: images that have everything are skipped, so an interrupted
run is simply started again. Exit status: 0 done, 1 some image failed (listed), 2 bad
settings.
"""

from __future__ import annotations

import json

import typer
from rich.console import Console

from cli.reconcile import BarProgress, LineProgress
from core.exceptions import PixyProxyException
from core.settings import load_settings
from service.backfill import BackfillReport
from service.init import build_backfill

err = Console(stderr=True)


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
    try:
        backfill = build_backfill(load_settings())
    except PixyProxyException as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    progress = BarProgress(err) if err.is_terminal and not as_json else None
    try:
        with progress or LineProgress("renditions") as reporter:
            report = backfill.run(None if as_json else reporter)
    except PixyProxyException as exc:
        err.print(f"[red]renditions failed:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        backfill.close()
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        typer.echo("\n".join(_summary(report)))
    if report.failed:
        raise typer.Exit(1)
