"""``gis serve`` and ``gis users``: the web service and its accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gis.cli.main import _handle_errors, cli, console

if TYPE_CHECKING:
    from gis.api.auth.security import UserDB


def _userdb() -> UserDB:
    from gis.api.auth.security import UserDB
    from gis.settings import StorageSettings
    from gis.store import open_accounts

    storage = StorageSettings()  # the service's own folder (GIS_DATA_DIR), as `gis serve`
    return UserDB(open_accounts(storage.data_dir, storage.store_location))


@cli.command("serve")
@click.option("--host", help="Address to listen on (default GIS_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default GIS_PORT or 8000).")
@click.option("--workers", type=int, help="Worker processes (default GIS_WORKERS or 1).")
@_handle_errors
def serve_cmd(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the web service (maps, cases, exports, OGC API, vector tiles) with uvicorn."""
    import os

    import uvicorn

    from gis.settings import ServiceSettings, StorageSettings

    settings = ServiceSettings()
    storage = StorageSettings()
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    if not storage.store_exists():
        console.print(f"[yellow]no store at {storage.store_location}; load data with `gis ingest` "
                      "or run `scripts/demo` for the sample district[/]")
    # the workers build the app from the same settings (environment), so pass them on
    os.environ.setdefault("GIS_STORE", storage.store_location if storage.is_database
                          else str(storage.store_path.resolve()))
    os.environ.setdefault("GIS_DATA_DIR", str(storage.data_dir.resolve()))
    console.print(f"serving {storage.store_location} on http://{host}:{port}/ ({workers} worker"
                  f"{'s' if workers > 1 else ''})")
    uvicorn.run("gis.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info", proxy_headers=False)


@cli.group("users")
def users_group() -> None:
    """Accounts of the web service: roles viewer, inspector, planner, admin."""


def _password(password: str | None) -> str:
    if password:
        return password
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


def _check_scope(codes: str) -> tuple[str, ...]:
    """Typed unit codes checked against the 2025 list and the service's store (its province,
    :func:`gis.units.check_units`); codes its units layer does not hold are warned about."""
    from gis.settings import StorageSettings
    from gis.store import open_store
    from gis.units import check_units, unit_names, unlisted_units

    storage = StorageSettings()
    store = open_store(storage.store_location) if storage.store_exists() else None
    scope = check_units(codes, store=store)
    missing = unlisted_units(scope, store) if store is not None else []
    if missing:
        names = unit_names()
        listed = ", ".join(f"{c} {names.get(c, '?')}" for c in missing)
        console.print(f"[yellow]warning: the store's units layer has no polygon of {listed}: "
                      "no parcel is placed there until it is loaded (gis ingest units)[/]")
    return scope


def _scope_text(units: tuple[str, ...] | None) -> str:
    """A scope as `gis users` prints it: the codes with their names, or the whole store."""
    if units is None:
        return "whole store"
    from gis.units import unit_names

    names = unit_names()
    return ", ".join(f"{c} {names.get(c, '?')}" for c in units)


@users_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["viewer", "inspector", "planner", "admin"]))
@click.option("--password", help="Password (asked for when left out).")
@click.option("--units", "units", metavar="CODE[,CODE...]",
              help="2025 commune-level unit codes the user works in (a commune office); "
                   "left out: the whole store (the province's department).")
@_handle_errors
def users_add(name: str, role: str, password: str | None, units: str | None) -> None:
    """Add an account, for the whole store or for some 2025 units (of the store's province)."""
    scope = _check_scope(units) if units is not None else None  # before asking a password
    user = _userdb().add(name, role, _password(password), units=scope)
    console.print(f"user {user.name} added with role {user.role.value}; scope: "
                  f"{_scope_text(user.units)}")


@users_group.command("units")
@click.argument("name")
@click.argument("codes", required=False, metavar="[CODE[,CODE...]]")
@click.option("--all", "everything", is_flag=True,
              help="The whole store again (the province's department).")
@_handle_errors
def users_units(name: str, codes: str | None, everything: bool) -> None:
    """Change the units a user works in (2025 codes), or give back the whole store with
    --all. Takes effect at the user's next request, on every worker. The units must be of the
    store's province; those its units layer lacks are warned about."""
    if everything == (codes is not None):
        raise click.UsageError("give either the unit codes (e.g. 09574,09604) or --all")
    scope = None if everything else _check_scope(codes or "")
    _userdb().set_units(name, scope)
    console.print(f"{name} now works in: {_scope_text(scope)}")


@users_group.command("passwd")
@click.argument("name")
@click.option("--password", help="New password (asked for when left out).")
@_handle_errors
def users_passwd(name: str, password: str | None) -> None:
    """Change a password (ends the user's sessions and tokens)."""
    _userdb().set_password(name, _password(password))
    console.print(f"password of {name} changed; their sessions and tokens are ended")


@users_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["viewer", "inspector", "planner", "admin"]))
@_handle_errors
def users_role(name: str, role: str) -> None:
    """Change a user's role."""
    _userdb().set_role(name, role)
    console.print(f"{name} is now {role}")


@users_group.command("token")
@click.argument("name")
@_handle_errors
def users_token(name: str) -> None:
    """Print a new bearer token for scripts (shown once; stored only as a hash)."""
    click.echo(_userdb().new_token(name))


@users_group.command("list")
@_handle_errors
def users_list() -> None:
    """The accounts, their roles and scopes (2025 units, or the whole store)."""
    for user in _userdb().list():
        console.print(f"{user.name}\t{user.role.value}\t{_scope_text(user.units)}")


@users_group.command("delete")
@click.argument("name")
@_handle_errors
def users_delete(name: str) -> None:
    """Remove an account (its sessions and tokens end at once)."""
    _userdb().delete(name)
    console.print(f"user {name} removed; their sessions and tokens are ended")


@users_group.command("tokens")
@click.argument("name", required=False)
@_handle_errors
def users_tokens(name: str | None) -> None:
    """The bearer tokens of a user (of everyone when no name): id, owner, when made."""
    from datetime import datetime

    for token in _userdb().tokens(name):
        made = datetime.fromtimestamp(token.created_at).isoformat(" ", "seconds")
        console.print(f"{token.id}\t{token.name}\t{made}")


@users_group.command("revoke")
@click.argument("token")
@_handle_errors
def users_revoke(token: str) -> None:
    """Revoke a bearer token, given itself or its id from `gis users tokens` (stops at once)."""
    info = _userdb().revoke_token(token)
    console.print(f"token {info.id} of {info.name} revoked")
