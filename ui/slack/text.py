"""Slack mrkdwn helpers: escaping, Markdown to mrkdwn, dates every reader sees in their zone."""

from __future__ import annotations

import re
from datetime import datetime

from ui.when import as_utc, plain_when

# Slack refuses section texts over 3,000 characters and headers over 150.
SECTION_LIMIT = 2900
HEADER_LIMIT = 150

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)\)")


def escape(text: str | None) -> str:
    """Lead-provided text shown as data: no mentions, links or formatting of its own."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_to_mrkdwn(text: str) -> str:
    """The talk track's Markdown (bold, links) in Slack's dialect, everything else escaped."""
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        links.append(f"<{match.group(2)}|{escape(match.group(1))}>")
        return f"\x00{len(links) - 1}\x00"

    out = escape(_LINK.sub(keep_link, text))
    out = _BOLD.sub(r"*\1*", out)
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], out)


def link(url: str, title: str | None = None) -> str:
    return f"<{url}|{escape(title or url)}>"


def when(moment: datetime | str | None) -> str:
    """A date Slack shows in each reader's own time zone (UTC in notifications and logs)."""
    if moment is None:
        return "?"
    at = as_utc(moment)
    fallback = plain_when(at, year=True)
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def quote(text: str) -> str:
    """A block quote, so a draft reads as the draft and not as the card's own words."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


def chunks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split at line ends into pieces Slack accepts; a single over-long line is cut."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines():
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces or [""]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
