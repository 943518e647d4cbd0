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
from cli.users import users_app
from core.exceptions import PixyProxyException
from core.log import configure_logging
from core.settings import Settings, load_settings
from service.init import initialise_database
from service.metrics_dir import MULTIPROC_ENV, multiprocess_dir, reset_multiprocess_dir

app = typer.Typer(help="PixyProxy: generated images on MySQL and S3.", no_args_is_help=True)
app.add_typer(users_app, name="user")
app.command("reconcile")(reconcile)
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
    """Create DB_NAME if missing and apply sql/ (idempotent; needs DDL rights)."""
    settings = settings_or_exit()
    try:
        initialise_database(settings)
    except PixyProxyException as exc:
        err.print(f"[red]init-db failed:[/red] {exc.message}")
        raise typer.Exit(1) from None
    target = f"MySQL database {settings.db_name}" if settings.uses_mysql else settings.sqlite_path
    Console().print(f"schema applied to {target}")
