"""The ``pixyproxy`` command line (CONTRACT.md §3)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

from cli.reconcile import reconcile
from cli.renditions import renditions
from cli.users import users_app
from core.exceptions import PixyProxyException
from core.log import configure_logging
from core.settings import Settings, load_settings
from service.init import check_schema, database_schema_status, initialise_database
from service.metrics_dir import MULTIPROC_ENV, multiprocess_dir, reset_multiprocess_dir

app = typer.Typer(help="PixyProxy: generated images on MySQL and S3.", no_args_is_help=True)
app.add_typer(users_app, name="user")
app.command("reconcile")(reconcile)
app.command("renditions")(renditions)
err = Console(stderr=True)


@app.callback()
def main() -> None:
    """PixyProxy: generated images on MySQL and S3."""
    # Any command may touch a metric; prometheus-client needs its folder to exist.
    directory = multiprocess_dir()
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)


def settings_or_exit() -> Settings:
    """Load settings, or print which variable is wrong and exit 2."""
    try:
        return load_settings()
    except PixyProxyException as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None


@contextmanager
def metrics_folder(workers: int) -> Iterator[Path | None]:
    """The folder where the workers add up their metrics, ready for a new server.

    A ``PROMETHEUS_MULTIPROC_DIR`` the operator set is used, emptied of what stopped
    processes left there. Otherwise several workers get a fresh temporary folder
    (removed when the server stops); one worker needs none.
    """
    given = multiprocess_dir()
    if given is not None:
        reset_multiprocess_dir(given)
        yield given
    elif workers == 1:
        yield None
    else:
        with tempfile.TemporaryDirectory(prefix="pixyproxy-metrics-") as folder:
            os.environ[MULTIPROC_ENV] = folder  # the workers inherit it before importing
            try:
                yield Path(folder)
            finally:
                os.environ.pop(MULTIPROC_ENV, None)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes (metrics add up over them)."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Run the API with uvicorn."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    settings = settings_or_exit()
    configure_logging(settings.effective_log_format, settings.log_level)
    try:
        check_schema(settings)
    except PixyProxyException as exc:
        err.print(f"[red]serve refused:[/red] {exc.message}")
        raise typer.Exit(1) from None
    with metrics_folder(workers):
        uvicorn.run(
            "web.app:app",  # the module-level app; it reads the settings again at startup
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            log_config=None,
            access_log=False,
            proxy_headers=True,
        )


@app.command("init-db")
def init_db() -> None:
    """Create DB_NAME if missing and apply sql/ and its migrations (idempotent; DDL rights)."""
    settings = settings_or_exit()
    applied = _apply_migrations(settings, command="init-db")
    Console().print(f"schema applied to {_target(settings)} ({_applied_text(applied)})")


@app.command()
def migrate(
    status: bool = typer.Option(False, "--status", help="Only show what is applied and pending."),
) -> None:
    """Apply pending schema migrations (idempotent; needs DDL rights; safe from many replicas)."""
    settings = settings_or_exit()
    if status:
        try:
            state = database_schema_status(settings)
        except PixyProxyException as exc:
            err.print(f"[red]migrate failed:[/red] {exc.message}")
            raise typer.Exit(1) from None
        pending = ", ".join(state.pending) or "nothing"
        Console().print(
            f"{_target(settings)}: schema version {state.current} of {state.latest}; "
            f"pending: {pending}"
        )
        return
    applied = _apply_migrations(settings, command="migrate")
    Console().print(f"{_target(settings)}: {_applied_text(applied)}")


def _apply_migrations(settings: Settings, *, command: str) -> list[str]:
    """Run the migrations, or print why they failed and exit 1."""
    try:
        return initialise_database(settings)
    except PixyProxyException as exc:
        err.print(f"[red]{command} failed:[/red] {exc.message}")
        raise typer.Exit(1) from None


def _target(settings: Settings) -> str:
    """The configured database, for messages (no credentials)."""
    if settings.uses_mysql:
        return f"MySQL database {settings.db_name}"
    return str(settings.sqlite_path)


def _applied_text(applied: list[str]) -> str:
    """``applied 0002_x, 0003_y`` or ``already up to date``."""
    if not applied:
        return "already up to date"
    return "applied " + ", ".join(applied)
