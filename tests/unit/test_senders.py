"""NURTURE_ALT_SENDERS: colleagues who sign after an unopened streak's pause, checked early."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent.outbox import alternate_senders
from agent.settings import Settings
from tests.nurture_fakes import SENDER
from tools.senders import SenderError, as_header, from_header, parse_alternates


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_colleagues_share_the_main_senders_title_company_and_address() -> None:
    team = parse_alternates(
        'Rahul Mehta <rahul@x-education.example>, "Shah, Meera" <meera@x-education.example>,',
        SENDER,
    )
    assert [(s.name, s.email) for s in team] == [
        ("Rahul Mehta", "rahul@x-education.example"),
        ("Shah, Meera", "meera@x-education.example"),
    ]
    assert {(s.title, s.company, s.address) for s in team} == {
        (SENDER.title, SENDER.company, SENDER.address)
    }
    assert parse_alternates("  ", SENDER) == () == parse_alternates(None, SENDER)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Rahul", "'Rahul' is not 'Name <address>'"),
        ("rahul@x-education.example", "'rahul@x-education.example' is not 'Name <address>'"),
        ("Rahul <rahul>", "'Rahul <rahul>' is not 'Name <address>'"),
        ("Priya <priya@x-education.example>", "is listed twice or is the main sender"),
        ("A <a@x.example>, B <A@x.example>", "A@x.example is listed twice"),  # any case
    ],
)
def test_entries_that_cannot_sign_are_refused(value: str, message: str) -> None:
    with pytest.raises(SenderError, match=message):
        parse_alternates(value, SENDER)


def test_settings_refuse_a_bad_list_by_name() -> None:
    with pytest.raises(ValidationError, match="NURTURE_ALT_SENDERS: 'Rahul' is not"):
        settings(NURTURE_ALT_SENDERS="Rahul")
    team = alternate_senders(settings(NURTURE_ALT_SENDERS="Rahul Mehta <rahul@x.example>"))
    assert [s.email for s in team] == ["rahul@x.example"]
    assert alternate_senders(settings()) == ()


def test_a_recorded_sender_round_trips_with_the_main_senders_footer() -> None:
    rahul = SENDER.model_copy(update={"name": "Rahul Mehta", "email": "rahul@x.example"})
    assert as_header(rahul) == "Rahul Mehta <rahul@x.example>"
    assert from_header(as_header(rahul), SENDER) == rahul
    assert from_header("", SENDER) == SENDER
