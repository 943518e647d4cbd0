"""``pixyproxy user add|list|remove|passwd``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table

from core.exceptions import (
    ConstraintViolationError,
    PixyProxyException,
    RecordNotFoundError,
    ValidationFailedError,
)
from core.settings import load_settings
from service.init import build_user_service
from service.user_service import UserService

users_app = typer.Typer(help="Manage the accounts that may use private images.")
out = Console()
err = Console(stderr=True, soft_wrap=True)
FIELD_RULES = {
    "username": "Invalid username: use 1-64 of A-Z a-z 0-9 . _ -",
    "password": "Invalid password: it must not be empty (at most 1024 characters).",
}


@contextmanager
def user_service() -> Iterator[UserService]:
    """A ``UserService`` on the configured database; errors become clear messages."""
    try:
        users = build_user_service(load_settings())
    except PixyProxyException as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    try:
        yield users
    except ConstraintViolationError:
        err.print("[red]A user with that name already exists.[/red]")
        raise typer.Exit(1) from None
    except ValidationFailedError as exc:
        fields = sorted({str(d["loc"][-1]) for d in exc.details} & FIELD_RULES.keys())
        for field in fields or ["username"]:
            err.print(f"[red]{FIELD_RULES[field]}[/red]", highlight=False)
        raise typer.Exit(1) from None
    except PixyProxyException as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    finally:
        users.close()


def read_password(password_stdin: bool) -> str:
    """The password from stdin's first line, or from a hidden, confirmed prompt."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_app.command("add")
def add(
    name: str,
    password_stdin: bool = typer.Option(False, help="Read the password from standard input."),
) -> None:
    """Create a user."""
    password = read_password(password_stdin)
    with user_service() as users:
        users.add_user(name, password)
    out.print(f"user {name} added")


@users_app.command("passwd")
def passwd(
    name: str,
    password_stdin: bool = typer.Option(False, help="Read the password from standard input."),
) -> None:
    """Set a user's password."""
    password = read_password(password_stdin)
    with user_service() as users:
        try:
            users.change_password(name, password)
        except RecordNotFoundError:
            err.print(f"[red]No user named {name}.[/red]")
            raise typer.Exit(1) from None
    out.print(f"password of {name} changed")


@users_app.command("list")
def list_users() -> None:
    """List users."""
    with user_service() as users:
        rows = users.list_users()
    table = Table("username", "created_at")
    for row in rows:
        table.add_row(row.username, row.created_at.isoformat())
    out.print(table)


@users_app.command("remove")
def remove(name: str) -> None:
    """Delete a user (their images stay)."""
    with user_service() as users:
        try:
            users.remove_user(name)
        except RecordNotFoundError:
            err.print(f"[red]No user named {name}.[/red]")
            raise typer.Exit(1) from None
    out.print(f"user {name} removed")
