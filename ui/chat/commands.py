"""What a typed message asks of the chat itself rather than of the agent: the review queue,
the team view, a verdict on a draft (`approve 12`, `reject #12: wrong product`, `edit 12`)."""

from __future__ import annotations

import re

QUEUE_WORDS = re.compile(
    r"^\s*/?(?:review|approvals|queue|(?:show\s+(?:me\s+)?)?(?:the\s+)?(?:approval|review)\s+queue)"
    r"\s*[.!?]?\s*$",
    re.I,
)
TEAM_WORDS = re.compile(
    r"^\s*/?(?:team|(?:show\s+(?:me\s+)?)?(?:the|my)\s+team)\s*[.!?]?\s*$", re.I
)
DECISION_WORDS = re.compile(
    r"^\s*(approve|edit|reject)\s+(?:draft\s+|approval\s+)?#?(\d+)\b[\s:,.-]*(?:because\s+)?(.*)$",
    re.I | re.S,
)


def queue_request(text: str) -> bool:
    return bool(QUEUE_WORDS.match(text))


def team_request(text: str) -> bool:
    return bool(TEAM_WORDS.match(text))


def decision_request(text: str) -> tuple[str, int, str] | None:
    """`approve 12`, `reject #12: wrong product`, `edit 12` -> (verb, id, rest)."""
    found = DECISION_WORDS.match(text)
    if found is None:
        return None
    return found.group(1).lower(), int(found.group(2)), found.group(3).strip()


def parse_edit(text: str) -> tuple[str | None, str | None]:
    """`Subject: ...` on the first line (optional), then the body (optional)."""
    first, _, rest = text.strip().partition("\n")
    if first.lower().startswith("subject:"):
        subject = first.split(":", 1)[1].strip() or None
        return subject, rest.strip() or None
    return None, text.strip() or None
