"""``excx serve`` and ``excx user add``: the service and its users from the terminal.

A thin shell over :mod:`excx.api`. Importing this module adds both commands to
:data:`excx.cli.app` (``excx.cli`` imports it at its end).
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from typing import Annotated

import typer

import excx
from excx.cli import StoreOption, app, console, err_console, known_errors
from excx.errors import InputError


@app.command()
@known_errors
def serve(
    store: StoreOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="uvicorn worker processes (PostgreSQL only). Each holds "
            "EXCX_POOL_SIZE store connections and its own caches; the failed-login "
            "limit is counted per process, so it allows up to "
            "EXCX_LOGIN_FAILURES x workers attempts per window.",
        ),
    ] = 1,
    dev: Annotated[
        bool,
        typer.Option("--dev", help="Development: accept the built-in secret."),
    ] = False,
) -> None:
    """Run the API and survey pages (settings from the environment or .env)."""
    import uvicorn

    from excx.api.app import create_app, log_to_stderr
    from excx.api.settings import load_settings

    settings = load_settings(store=store, dev=dev)
    if workers > 1 and not settings.store.startswith("postgres"):
        raise InputError(
            f"--workers {workers} with store {settings.store}: a DuckDB file is "
            "opened by one process only; accepted: --workers 1, or a postgresql:// "
            "store"
        )
    log_to_stderr()
    if settings.dev:
        err_console.print("[yellow]development mode: not for real answers[/]")
    # uvicorn's own access log would write survey tokens; excx logs each request.
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, access_log=False)
        return
    # Each worker builds its app from the environment: hand it what was resolved.
    os.environ["EXCX_STORE"] = settings.store
    os.environ["EXCX_DEV"] = "1" if settings.dev else "0"
    uvicorn.run(
        "excx.api.app:create_app_from_env",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        access_log=False,
    )


user_app = typer.Typer(no_args_is_help=True, help="Users of excx serve.")
app.add_typer(user_app, name="user")


class UserRole(StrEnum):
    admin = "admin"
    analyst = "analyst"
    manager = "manager"
    viewer = "viewer"


@user_app.command("add")
@known_errors
def user_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[UserRole, typer.Option(help="What the user may see and do.")],
    unit: Annotated[
        str | None, typer.Option(help="A manager's unit: the top of their subtree.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Create a user (e.g. the first admin); the password is prompted for."""
    from excx.api.users import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with excx.connect(store) as opened:
        opened.init()
        add_user(opened, username, password, role=role.value, unit_id=unit)
    console.print(f"user {username} added with role {role.value}")
