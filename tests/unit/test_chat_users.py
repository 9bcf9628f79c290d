"""Web chat users: password hashes, the users file and NURTURE_USERS, `nurture users`."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from agent.settings import Settings, get_settings
from ui.chat.users import (
    ChatUser,
    UsersError,
    authenticate,
    hash_password,
    load_users,
    parse_users,
    remove_user,
    save_user,
    verify_password,
)
from ui.cli import app


def test_a_hash_verifies_its_password_only() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horse ", stored)
    # Salted: the same password never hashes the same twice.
    assert hash_password("correct horse") != stored
    for broken in ("", "scrypt$x", "bcrypt$1$2$3$abc$def", stored.replace("scrypt", "md5")):
        assert not verify_password("correct horse", broken)


def test_sign_in_needs_the_right_name_and_password() -> None:
    users = {"ana": ChatUser("ana", ("manager",), hash_password("ana-password"))}
    assert authenticate(users, "ana", "ana-password") == users["ana"]
    assert authenticate(users, " ana ", "ana-password") == users["ana"]
    assert authenticate(users, "ana", "wrong-password") is None
    assert authenticate(users, "bob", "ana-password") is None


def test_roles_decide_who_may_approve_and_who_sees_the_team() -> None:
    def user(*roles: str) -> ChatUser:
        return ChatUser("x", roles, "scrypt$")

    assert user("sdr").may_decide_drafts() and user("marketer", "sdr").may_decide_drafts()
    assert not user("marketer").may_decide_drafts() and not user("manager").may_decide_drafts()
    assert user("manager").sees_team() and not user("sdr").sees_team()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "expected a mapping of user name"),
        ({"ana": "manager"}, "user 'ana': expected a mapping"),
        ({"ana": {"roles": ["manager"]}}, "user 'ana': password_hash must be a scrypt hash"),
        (
            {"ana": {"roles": ["boss"], "password_hash": "scrypt$1"}},
            "user 'ana': unknown role(s) 'boss'; use marketer, manager, sdr, evaluator",
        ),
        ({"ana": {"roles": [], "password_hash": "scrypt$1"}}, "give at least one role"),
        ({"a b": {"roles": ["sdr"], "password_hash": "scrypt$1"}}, "not a valid user name"),
    ],
)
def test_a_bad_users_entry_names_the_user_and_the_field(raw: object, message: str) -> None:
    with pytest.raises(UsersError) as caught:
        parse_users(raw, "users.yaml")
    assert message in str(caught.value) and str(caught.value).startswith("users.yaml")


def test_users_come_from_the_json_variable_instead_of_the_file(tmp_path: Path) -> None:
    entry = {"roles": ["sdr", "marketer"], "password_hash": hash_password("pw-123456")}
    settings = Settings(
        _env_file=None, NURTURE_VAR_DIR=tmp_path, NURTURE_USERS=json.dumps({"sam": entry})
    )
    save_user(settings.resolved_users_file, ChatUser("ana", ("manager",), hash_password("x" * 8)))
    users = load_users(settings)
    assert list(users) == ["sam"] and users["sam"].roles == ("sdr", "marketer")
    broken = Settings(_env_file=None, NURTURE_VAR_DIR=tmp_path, NURTURE_USERS="{not json")
    with pytest.raises(UsersError, match="NURTURE_USERS is not valid JSON"):
        load_users(broken)


def test_saving_a_user_keeps_the_others_and_hides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "users.yaml"
    assert save_user(path, ChatUser("ana", ("manager",), hash_password("pw-ana-1"), "Ana Souza"))
    assert save_user(path, ChatUser("sam", ("sdr",), hash_password("pw-sam-1")))
    assert not save_user(path, ChatUser("sam", ("sdr", "marketer"), hash_password("pw-sam-2")))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users = load_users(Settings(_env_file=None, NURTURE_USERS_FILE=path))
    assert users["ana"].label == "Ana Souza" and users["sam"].label == "sam"
    assert users["sam"].roles == ("sdr", "marketer")
    assert verify_password("pw-sam-2", users["sam"].password_hash)
    assert remove_user(path, "ana") and not remove_user(path, "ana")
    assert list(yaml.safe_load(path.read_text())) == ["sam"]


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("NURTURE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NURTURE_ENV", "test")
    monkeypatch.setenv("NURTURE_USERS_FILE", "")
    monkeypatch.setenv("NURTURE_USERS", "")
    get_settings.cache_clear()
    yield tmp_path / "var" / "users.yaml"
    get_settings.cache_clear()


def test_nurture_users_add_list_remove(cli_env: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app,
        ["users", "add", "mia", "--role", "marketer", "--role", "sdr", "--name", "Mia Chen"],
        input="mia-password\nmia-password\n",
    )
    assert added.exit_code == 0, added.output
    assert f"added mia (marketer, sdr) in {cli_env}" in added.output
    stored = yaml.safe_load(cli_env.read_text())["mia"]
    assert stored["roles"] == ["marketer", "sdr"] and stored["name"] == "Mia Chen"
    assert verify_password("mia-password", stored["password_hash"])
    assert "mia-password" not in cli_env.read_text()

    piped = runner.invoke(
        app, ["users", "add", "mia", "--role", "marketer", "--password-stdin"], input="newpass-1\n"
    )
    assert piped.exit_code == 0 and "updated mia (marketer)" in piped.output
    listed = runner.invoke(app, ["users", "list", "--json"])
    assert json.loads(listed.output) == [
        {"name": "mia", "display_name": None, "roles": ["marketer"]}
    ]
    assert runner.invoke(app, ["users", "remove", "mia"]).exit_code == 0
    assert runner.invoke(app, ["users", "list"]).output.startswith("no users in")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["bob", "--role", "boss"], "long-enough\n", "--role: unknown role(s) 'boss'"),
        (["bob", "--role", "sdr"], "short\n", "at least 8 characters"),
        (["b o b", "--role", "sdr"], "long-enough\n", "not a valid user name"),
    ],
)
def test_nurture_users_add_refuses_bad_input(
    cli_env: Path, args: list[str], stdin: str, message: str
) -> None:
    result = CliRunner().invoke(app, ["users", "add", *args, "--password-stdin"], input=stdin)
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output and not cli_env.exists()


def test_with_nurture_users_set_add_prints_the_entry_to_paste(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NURTURE_USERS", "{}")
    get_settings.cache_clear()
    result = CliRunner().invoke(
        app, ["users", "add", "sam", "--role", "sdr", "--password-stdin"], input="sam-password\n"
    )
    assert result.exit_code == 0 and not cli_env.exists()
    entry = json.loads(result.output.splitlines()[-1])["sam"]
    assert entry["roles"] == ["sdr"] and verify_password("sam-password", entry["password_hash"])
