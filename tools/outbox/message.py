"""What a touch sends: the email as MIME (Message-ID from the touch's key, one-click unsubscribe
headers, text and HTML parts) or, for videos and SDR steps, the task a person delivers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, formataddr

from store.models import Approval, Draft, Lead, Touch
from tools.schemas import Sender
from tools.senders import from_header
from tools.unsubscribe import unsubscribe_url

HEADERS_ON_ONE_LINE = default.clone(max_line_length=998)  # RFC 5322's line limit


class ComposeError(ValueError):
    """A touch that cannot be turned into a message (no draft, no address)."""


def message_id_for(idempotency_key: str, sender_email: str) -> str:
    """The same key always gives the same Message-ID, so a resend is recognisable as one."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = sender_email.rpartition("@")[2] or "nurture.invalid"
    return f"<{digest}@{domain}>"


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str | None


@dataclass(frozen=True)
class TaskSpec:
    """A touch delivered by a person: a personal video to record, a note or call for an SDR."""

    kind: str  # video | sdr_task
    title: str
    body: str
    assignee: str | None


def content_of(draft: Draft, approval: Approval | None) -> Content:
    """The draft as approved: an edited subject or body wins (an edited body drops the HTML
    part, which would no longer match)."""
    subject = (approval.edited_subject if approval else None) or draft.subject or ""
    edited = approval.edited_body if approval else None
    if edited:
        return Content(subject=subject, text=edited, html=None)
    return Content(subject=subject, text=draft.body, html=draft.html)


@dataclass(frozen=True)
class Composer:
    """Builds what goes out, from `sender` (or the colleague a touch names), with links to
    `public_url`."""

    sender: Sender
    public_url: str
    secret: str

    def unsubscribe_link(self, lead: Lead) -> str:
        return unsubscribe_url(self.public_url, lead.email, self.secret)

    def email(
        self,
        *,
        touch: Touch,
        lead: Lead,
        draft: Draft,
        approval: Approval | None,
        message_id: str,
        now: datetime,
    ) -> EmailMessage:
        content = content_of(draft, approval)
        if not content.subject.strip():
            raise ComposeError(f"touch {touch.id}: the draft has no subject")
        link = self.unsubscribe_link(lead)
        text = self._with_footer(content.text, link)
        # The touch says who signed its draft (after a pause, a colleague may take over).
        sender = from_header(touch.sender, self.sender) if touch.sender else self.sender
        message = EmailMessage()
        message["From"] = formataddr((sender.name, sender.email))
        message["To"] = formataddr((full_name(lead), lead.email))
        message["Subject"] = " ".join(content.subject.split())
        message["Date"] = format_datetime(now)
        message["Message-ID"] = message_id
        # RFC 8058 one-click unsubscribe: mail clients POST to the link without a page visit.
        message["List-Unsubscribe"] = f"<{link}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["X-Nurture-Touch"] = touch.idempotency_key
        message.set_content(text)
        if content.html:
            message.add_alternative(content.html, subtype="html")
        # Long headers stay on one line: folding would encode the unsubscribe URL (one token,
        # no spaces) as an encoded word that mail clients do not read as a link.
        message.policy = HEADERS_ON_ONE_LINE
        return message

    def task(
        self, *, touch: Touch, lead: Lead, draft: Draft, approval: Approval | None
    ) -> TaskSpec:
        content = content_of(draft, approval)
        who = f"{lead.display_name} <{lead.email}>"
        if lead.company:
            who += f", {lead.company}"
        if touch.channel == "video":
            title = f"Record a personal video for {lead.display_name}"
            body = f"For: {who}\nTitle: {content.subject}\n\n{content.text}"
            return TaskSpec("video", title, body, lead.owner)
        title = f"Reach out to {lead.display_name}: {content.subject}"
        body = f"For: {who}\nSuggested message:\n\n{content.text}"
        return TaskSpec("sdr_task", title, body, lead.owner)

    def _with_footer(self, text: str, link: str) -> str:
        """An edited body may have lost the signature or the way out: put them back."""
        if link in text:
            return text
        footer = (
            f"\n--\n{self.sender.company} · {self.sender.address}\n"
            f"Not useful right now? Unsubscribe: {link}\n"
        )
        return text.rstrip("\n") + "\n" + footer


def full_name(lead: Lead) -> str:
    return " ".join(part for part in (lead.first_name, lead.last_name) if part)
