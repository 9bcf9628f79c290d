"""The outbox over the configured transport, sender, send window and caps; opting out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agent.runtime import Runtime
from agent.settings import Settings
from agent.trigger_rules import trigger_rules
from store import crud
from store.db import session_scope
from tools.cadence import SendWindow
from tools.outbox.guard import SendPolicy
from tools.outbox.message import Composer
from tools.outbox.send import Outbox
from tools.outbox.transports import FileTransport, SentLog, SmtpTransport, Transport
from tools.schemas import Sender
from tools.senders import parse_alternates
from tools.triggers.effects import stop_lead
from tools.unsubscribe import read_token

SENT_LOG = "smtp-sent.jsonl"


def send_window(settings: Settings) -> SendWindow:
    return SendWindow(
        start=settings.send_window_start,
        end=settings.send_window_end,
        weekdays_only=not settings.send_on_weekends,
        min_gap_days=settings.min_gap_days,
    )


def send_policy(settings: Settings) -> SendPolicy:
    return SendPolicy(
        window=send_window(settings),
        daily_cap=settings.daily_send_cap,
        cap_timezone=settings.business_timezone,
        lease=timedelta(seconds=settings.send_lease_s),
        max_attempts=settings.send_max_attempts,
        batch=settings.send_batch,
    )


def email_transport(settings: Settings) -> Transport:
    """`.eml` files under the outbox folder, or SMTP with its sent log in that folder."""
    folder = settings.resolved_outbox_dir
    if settings.outbox == "smtp":
        assert settings.smtp_host is not None  # the settings refuse smtp without a host
        return SmtpTransport(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sent_log=SentLog(folder / SENT_LOG),
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout_s=settings.smtp_timeout_s,
        )
    return FileTransport(folder)


def sender_of(settings: Settings) -> Sender:
    return Sender(
        name=settings.sender_name,
        title=settings.sender_title,
        company=settings.sender_company,
        email=settings.sender_email,
        address=settings.sender_address,
    )


def alternate_senders(settings: Settings) -> tuple[Sender, ...]:
    """NURTURE_ALT_SENDERS: who signs, in turn, after an unopened streak's pause."""
    return parse_alternates(settings.alt_senders, sender_of(settings))


def build_outbox(
    runtime: Runtime,
    *,
    transport: Transport | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Outbox:
    settings = runtime.settings
    outbox = Outbox(
        engine=runtime.engine,
        email=transport or email_transport(settings),
        composer=Composer(
            sender=sender_of(settings),
            public_url=settings.public_url,
            secret=settings.session_secret,
        ),
        policy=send_policy(settings),
        rules=trigger_rules(settings),
    )
    if clock is not None:
        outbox.clock = clock
    return outbox


@dataclass(frozen=True)
class Unsubscribed:
    email: str
    lead_id: int | None
    touches_skipped: int


def unsubscribe(runtime: Runtime, token: str, *, source: str = "link") -> Unsubscribed | None:
    """Opt out the address a signed token names: suppress it, mark the lead do-not-email, skip
    every touch not sent yet and end its sequence. None when the token is not ours."""
    settings = runtime.settings
    email = read_token(token, settings.session_secret)
    if email is None:
        return None
    now = datetime.now(UTC)
    with session_scope(runtime.engine) as session:
        crud.suppress(session, email=email, reason="unsubscribe")
        lead = crud.get_lead_by_email(session, email=email)
        lead_id = lead.id if lead is not None else None
        skipped = 0
        if lead is not None and lead_id is not None:
            lead.do_not_email = True
            session.add(lead)
            skipped = stop_lead(session, lead_id=lead_id, why="unsubscribe", now=now)[
                "touches_skipped"
            ]
    if lead_id is not None:
        from agent import ingest  # ingestion loads more than sending needs

        # Also the lead's event: analytics count it, segments exclude the lead, rules see it.
        row = {
            "source_event_id": f"unsubscribe-{source}:{email}:{now:%Y-%m-%d}",
            "lead_id": lead_id,
            "type": "unsubscribe",
            "properties": {"via": source},
            "occurred_at": now,
            "source": source,
        }
        ingest.write_events(runtime.engine, [row], rules=trigger_rules(settings))
    return Unsubscribed(email=email, lead_id=lead_id, touches_skipped=skipped)
