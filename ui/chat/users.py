"""Web chat users: scrypt password hashes and roles, from a YAML file or NURTURE_USERS JSON."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from agent.settings import Settings

ROLES = ("marketer", "manager", "sdr", "evaluator")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8
# scrypt at n=2**14, r=8 (16 MiB, 69 ms a check on the shared 2-core machine): the cost OWASP
# suggests for interactive logins.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class UsersError(ValueError):
    """A users file or entry that cannot be used; the message names the user and the field."""


@dataclass(frozen=True)
class ChatUser:
    name: str
    roles: tuple[str, ...]
    password_hash: str
    # How the person appears on leads (`lead.owner`) and cards; the user name when unset.
    display_name: str | None = None

    @property
    def label(self) -> str:
        return self.display_name or self.name

    def may_decide_drafts(self) -> bool:
        """Only SDRs approve, edit or reject drafts (a marketer who is also an SDR may)."""
        return may_decide_drafts(self.roles)

    def sees_team(self) -> bool:
        return sees_team(self.roles)


def may_decide_drafts(roles: Iterable[str]) -> bool:
    return "sdr" in roles


def sees_team(roles: Iterable[str]) -> bool:
    return "manager" in roles


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (base64): everything needed to verify, nothing to reverse."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(_unb64(expected)),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, _unb64(expected))


@cache
def _decoy_hash() -> str:
    return hash_password(secrets.token_hex(8))


def authenticate(users: Mapping[str, ChatUser], name: str, password: str) -> ChatUser | None:
    user = users.get(name.strip())
    if user is None:
        # Hash anyway, so an unknown name takes as long to refuse as a wrong password.
        verify_password(password, _decoy_hash())
        return None
    return user if verify_password(password, user.password_hash) else None


def load_users(settings: Settings) -> dict[str, ChatUser]:
    """The configured users: NURTURE_USERS (JSON) when set, else the users file (may not exist)."""
    if settings.users_json:
        try:
            raw = json.loads(settings.users_json)
        except json.JSONDecodeError as exc:
            raise UsersError(f"NURTURE_USERS is not valid JSON: {exc}") from None
        return parse_users(raw, "NURTURE_USERS")
    path = settings.resolved_users_file
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsersError(f"cannot read the users file {path}: {exc}") from None
    return parse_users(raw, str(path))


def parse_users(raw: Any, origin: str) -> dict[str, ChatUser]:
    if not isinstance(raw, dict):
        raise UsersError(f"{origin}: expected a mapping of user name -> {{roles, password_hash}}")
    users = {}
    for name, entry in raw.items():
        where = f"{origin}: user {name!r}"
        if not isinstance(entry, dict):
            raise UsersError(f"{where}: expected a mapping with roles and password_hash")
        check_name(str(name), where)
        password_hash = entry.get("password_hash")
        if not isinstance(password_hash, str) or not password_hash.startswith("scrypt$"):
            raise UsersError(
                f"{where}: password_hash must be a scrypt hash; set it with "
                f"`nurture users add {name} --role ...`"
            )
        roles = entry.get("roles")
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(roles, list):
            raise UsersError(f"{where}: roles must be a list of {', '.join(ROLES)}")
        display = entry.get("name")
        users[str(name)] = ChatUser(
            name=str(name),
            roles=check_roles(roles, where),
            password_hash=password_hash,
            display_name=str(display) if display else None,
        )
    return users


def check_name(name: str, where: str = "user name") -> str:
    if not NAME.match(name):
        raise UsersError(
            f"{where}: {name!r} is not a valid user name (letters, digits, . _ @ -; up to 64)"
        )
    return name


def check_roles(roles: Iterable[Any], where: str = "roles") -> tuple[str, ...]:
    given = [str(role).strip().lower() for role in roles]
    unknown = [role for role in given if role not in ROLES]
    if unknown or not given:
        raise UsersError(
            f"{where}: unknown role(s) {', '.join(map(repr, unknown))}; use {', '.join(ROLES)}"
            if unknown
            else f"{where}: give at least one role ({', '.join(ROLES)})"
        )
    return tuple(dict.fromkeys(given))


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsersError(f"the password needs at least {MIN_PASSWORD} characters")
    return password


def save_user(path: Path, user: ChatUser) -> bool:
    """Add or replace one user in the YAML file (others untouched); True when it was new."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsersError(f"cannot read the users file {path}: {exc}") from None
    raw = raw or {}
    parse_users(raw, str(path))  # refuse to rewrite a file that is already broken
    created = user.name not in raw
    entry: dict[str, Any] = {"roles": list(user.roles), "password_hash": user.password_hash}
    if user.display_name:
        entry["name"] = user.display_name
    raw[user.name] = entry
    write_users(path, raw)
    return created


def remove_user(path: Path, name: str) -> bool:
    if not path.exists():
        return False
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if name not in raw:
        return False
    del raw[name]
    write_users(path, raw)
    return True


def write_users(path: Path, raw: dict[str, Any]) -> None:
    """Write atomically and readable by the owner only: the file holds password hashes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    text = "# nurture web chat users: edit with `nurture users add|remove`\n" + yaml.safe_dump(
        raw, sort_keys=True, allow_unicode=True
    )
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))
