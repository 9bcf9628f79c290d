"""`nurture users add|list|remove`: who may sign in to the web chat, and with which roles."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from agent.settings import get_settings
from ui.chat.users import (
    ROLES,
    ChatUser,
    UsersError,
    check_name,
    check_password,
    check_roles,
    hash_password,
    load_users,
    remove_user,
    save_user,
)

app = typer.Typer(help="Web chat users (password sign-in, roles).", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the user name people sign in with")],
    role: Annotated[
        list[str],
        typer.Option("--role", help=f"{' | '.join(ROLES)}; repeat for several"),
    ],
    display_name: Annotated[
        str | None,
        typer.Option("--name", help="full name, as leads' owner field spells it (SDRs)"),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Add a user (or replace their password and roles); the password is stored as a hash."""
    settings = get_settings()
    try:
        check_name(name)
        roles = check_roles(role, "--role")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        user = ChatUser(name, roles, hash_password(check_password(password)), display_name)
    except UsersError as exc:
        raise _fail(str(exc)) from None
    if settings.users_json:
        # The environment wins over the file, so writing the file would change nothing.
        entry = {"roles": list(user.roles), "password_hash": user.password_hash}
        if display_name:
            entry["name"] = display_name
        typer.echo(
            "users come from NURTURE_USERS, not a file: add this entry to its JSON object:\n"
            + json.dumps({name: entry})
        )
        return
    path = settings.resolved_users_file
    try:
        created = save_user(path, user)
    except UsersError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{'added' if created else 'updated'} {name} ({', '.join(roles)}) in {path}")


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The users who may sign in, with their roles (never their hashes)."""
    settings = get_settings()
    try:
        users = load_users(settings)
    except UsersError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        rows = [
            {"name": u.name, "display_name": u.display_name, "roles": list(u.roles)}
            for u in users.values()
        ]
        typer.echo(json.dumps(rows))
        return
    if not users:
        source = "NURTURE_USERS" if settings.users_json else settings.resolved_users_file
        typer.echo(f"no users in {source}; add one: nurture users add NAME --role manager")
    for user in users.values():
        shown = f" ({user.display_name})" if user.display_name else ""
        typer.echo(f"{user.name}{shown}: {', '.join(user.roles)}")


@app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="the user name")]) -> None:
    """Remove a user from the users file; their chat history stays in the database."""
    settings = get_settings()
    if settings.users_json:
        raise _fail("users come from NURTURE_USERS: remove the entry from its JSON instead")
    path = settings.resolved_users_file
    if not remove_user(path, name):
        raise _fail(f"no user {name!r} in {path}")
    typer.echo(f"removed {name} from {path}")
