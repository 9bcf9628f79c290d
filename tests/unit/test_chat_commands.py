"""What the web chat handles itself: the review queue, the team view, verdicts on drafts."""

from __future__ import annotations

import pytest

from ui.chat.commands import decision_request, parse_edit, queue_request, team_request


@pytest.mark.parametrize(
    "text", ["review", "/review", "Approvals", "queue", "show the approval queue", "review queue."]
)
def test_queue_words(text: str) -> None:
    assert queue_request(text)


@pytest.mark.parametrize(
    "text", ["review lead 12", "how many approvals are pending?", "queue it", "approve 3"]
)
def test_questions_about_approvals_go_to_the_agent(text: str) -> None:
    assert not queue_request(text)


def test_team_words() -> None:
    assert team_request("team") and team_request("Show me the team") and team_request("/team")
    assert not team_request("which team owns lead 4?")


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("approve 12", ("approve", 12, "")),
        ("Approve #12", ("approve", 12, "")),
        ("approve draft 12", ("approve", 12, "")),
        ("reject 7: they bought elsewhere", ("reject", 7, "they bought elsewhere")),
        ("reject #7 because wrong product", ("reject", 7, "wrong product")),
        ("edit 3 Subject: New line\n\nHello", ("edit", 3, "Subject: New line\n\nHello")),
    ],
)
def test_verdicts_typed_in_the_chat(text: str, wanted: tuple[str, int, str]) -> None:
    assert decision_request(text) == wanted


@pytest.mark.parametrize(
    "text", ["approve the Acme sequence", "please approve 12", "reject it", "approve12"]
)
def test_other_sentences_are_not_verdicts(text: str) -> None:
    assert decision_request(text) is None


def test_an_edit_is_a_subject_line_then_the_body() -> None:
    assert parse_edit("Subject: Ravi, one question\n\nHi Ravi,\nshort.") == (
        "Ravi, one question",
        "Hi Ravi,\nshort.",
    )
    assert parse_edit("subject: Only the subject") == ("Only the subject", None)
    assert parse_edit("Just a new body.") == (None, "Just a new body.")
    assert parse_edit("   ") == (None, None)
