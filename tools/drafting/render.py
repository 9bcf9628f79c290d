"""The message as sent: greeting, paragraphs, the one call to action, signature, unsubscribe."""

from __future__ import annotations

import re
from html import escape
from typing import NamedTuple

from tools.drafting import personal
from tools.schemas import DecisionContext, EmailDraft, VideoScript

_GREETING = re.compile(r"^\W*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))\b", re.I)
_HTTP = re.compile(r"^https?://\S+$", re.IGNORECASE)


class RenderError(ValueError):
    """A message cannot be rendered as required (no sender, no unsubscribe link)."""


class RenderedEmail(NamedTuple):
    """What the outbox sends: subject, plain-text part and HTML part."""

    subject: str
    text: str
    html: str


def render_email(draft: EmailDraft, ctx: DecisionContext, unsubscribe_url: str) -> RenderedEmail:
    """The full message: 'Hi <name>,', the paragraphs, the CTA link, the sender's signature
    with company and postal address, and the unsubscribe line (text and HTML alike)."""
    sender = ctx.sender
    if sender is None:
        raise RenderError(
            f"lead {ctx.lead.lead_id}: no sender in the context; set the sender's name, title, "
            "company, email and postal address before rendering"
        )
    if not _HTTP.match(unsubscribe_url.strip()):
        raise RenderError(f"unsubscribe link {unsubscribe_url!r} is not an http(s) URL")
    if not _HTTP.match(draft.cta_url.strip()):
        raise RenderError(f"call-to-action link {draft.cta_url!r} is not an http(s) URL")
    paragraphs = [" ".join(p.split()) for p in draft.paragraphs if p.strip()]
    name = personal.first_name(ctx.lead)
    greeting = None if paragraphs and _GREETING.match(paragraphs[0]) else f"Hi {name or 'there'},"
    signature = [sender.name, f"{sender.title}, {sender.company}"]
    footer = f"{sender.company} · {sender.address}"
    optout = "Not useful right now? Unsubscribe"

    text_lines = [*([greeting, ""] if greeting else [])]
    for paragraph in paragraphs:
        text_lines += [paragraph, ""]
    text_lines += [f"{draft.cta_text}: {draft.cta_url}", "", *signature, "", "--", footer]
    text_lines += [f"{optout}: {unsubscribe_url}"]
    text = "\n".join(text_lines) + "\n"

    link_style = (
        "display:inline-block;padding:10px 18px;background:#1f6feb;color:#ffffff;"
        "text-decoration:none;border-radius:6px"
    )
    body = [f"<p>{escape(greeting)}</p>"] if greeting else []
    body += [f"<p>{escape(paragraph)}</p>" for paragraph in paragraphs]
    body.append(
        f'<p><a href="{escape(draft.cta_url, quote=True)}" style="{link_style}">'
        f"{escape(draft.cta_text)}</a></p>"
    )
    body.append(f"<p>{escape(signature[0])}<br>{escape(signature[1])}</p>")
    body.append(
        '<p style="color:#6e7781;font-size:12px">'
        f"{escape(footer)}<br>{escape(optout)}: "
        f'<a href="{escape(unsubscribe_url, quote=True)}">{escape(unsubscribe_url)}</a></p>'
    )
    preview = (
        f'<div style="display:none;max-height:0;overflow:hidden">{escape(draft.preview)}</div>'
    )
    html = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{escape(draft.subject)}</title></head>"
        f'<body style="font-family:Arial,sans-serif;font-size:15px;line-height:1.5">'
        f"{preview}{''.join(body)}</body></html>"
    )
    return RenderedEmail(subject=" ".join(draft.subject.split()), text=text, html=html)


def render_video_script(script: VideoScript) -> str:
    """The script as a reviewer reads it: one block per shot with its timing and notes."""
    lines = [f"{script.title} ({script.duration_s} s)"]
    if script.background_url:
        lines.append(f"Background: {script.background_url}")
    elapsed = 0
    for index, shot in enumerate(script.shots, start=1):
        lines.append(f"{index}. [{elapsed}-{elapsed + shot.seconds} s] {shot.line}")
        lines.append(f"   Shot: {shot.shot}")
        elapsed += shot.seconds
    lines.append(f"CTA: {script.cta_text} -> {script.cta_url}")
    return "\n".join(lines) + "\n"
