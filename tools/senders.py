"""Who signs a lead's touches: the main sender, or the next one of the team after a pause.

A trigger whose hint says `sender: next` (the unopened streak's pause) switches the lead to the
next sender of the team once the pause is over: the first touch after it and every one after
that, until another such pause moves on again (wrapping round to the main sender). The turn is
counted from the lead's firings, so it is the same in every process and after a restart; the
agent records the chosen sender on the touch, and the outbox sends from what the touch says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import formataddr, getaddresses, parseaddr

from sqlmodel import Session, col, select

from store.models import TriggerFiring
from tools.schemas import Sender

SETTING = "NURTURE_ALT_SENDERS"
NEXT = "next"


class SenderError(ValueError):
    """A sender list that cannot be used; the message names the entry and what to write."""


def parse_alternates(text: str | None, main: Sender) -> tuple[Sender, ...]:
    """`Name <address>, Name <address>`: colleagues who sign after a pause. They share the main
    sender's title, company and postal address (the footer every email needs)."""
    if not text or not text.strip():
        return ()
    found: list[Sender] = []
    seen = {main.email.casefold()}
    for raw_name, address in getaddresses([text]):
        if not raw_name and not address:  # a stray comma
            continue
        name = " ".join(raw_name.split())
        local, _, domain = address.partition("@")
        if not name or not local or "." not in domain:
            entry = f"{raw_name} <{address}>" if raw_name else address
            raise SenderError(
                f"{SETTING}: {entry.strip() or text.strip()!r} is not 'Name <address>'; write "
                "each sender as Rahul Mehta <rahul@example.com>, separated by commas"
            )
        if address.casefold() in seen:
            raise SenderError(
                f"{SETTING}: {address} is listed twice or is the main sender "
                "(NURTURE_SENDER_EMAIL); list each colleague once"
            )
        seen.add(address.casefold())
        found.append(main.model_copy(update={"name": name, "email": address}))
    return tuple(found)


def turns(session: Session, *, lead_id: int, now: datetime) -> int:
    """How many `sender: next` pauses of this lead are over by `now`."""
    stmt = select(TriggerFiring.params).where(
        TriggerFiring.lead_id == lead_id,
        col(TriggerFiring.status) != "cancelled",  # a stop ended the lead's nurture instead
        col(TriggerFiring.due_at) <= _aware(now),
    )
    return sum(1 for params in session.exec(stmt) if _rotates(params))


def sender_for(session: Session, *, lead_id: int, team: Sequence[Sender], now: datetime) -> Sender:
    """The team member whose turn it is for this lead (the main sender when alone)."""
    if len(team) == 1:
        return team[0]
    return team[turns(session, lead_id=lead_id, now=now) % len(team)]


def as_header(sender: Sender) -> str:
    """How a touch records its sender: `Name <address>` (the From header's value)."""
    return formataddr((sender.name, sender.email))


def from_header(value: str, main: Sender) -> Sender:
    """The sender a touch recorded, with the main sender's title, company and address."""
    name, address = parseaddr(value)
    if not address:
        return main
    return main.model_copy(update={"name": name or main.name, "email": address})


def _rotates(params: object) -> bool:
    hint = params.get("hint") if isinstance(params, dict) else None
    return isinstance(hint, dict) and hint.get("sender") == NEXT


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
