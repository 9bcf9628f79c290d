"""Shared Markdown helpers for the offline model's answers: labels, numbers, compact JSON."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

MAX_LISTED = 8


def inner(record: Mapping[str, Any], key: str) -> dict[str, Any]:
    """`record[key]` when it is an object (a wrapped draft, lead, script), else the record."""
    value = record.get(key)
    return value if isinstance(value, dict) else dict(record)


def label(key: str) -> str:
    text = key.replace("_to_", " → ").replace("_", " ")
    text = re.sub(r"\b(mql|sql|sla|sdr)(s?)\b", lambda m: m.group(1).upper() + m.group(2), text)
    return text[:1].upper() + text[1:]


def number(key: str, value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    lowered = key.lower()
    if lowered.endswith(("_pct", "_percent")):
        return f"{value:.1f} %"
    if ("rate" in lowered or "→" in label(key) or lowered.endswith("_share")) and value <= 1:
        return f"{value * 100:.1f} %"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}"


def compact(value: Any, limit: int = 400) -> str:
    """A short readable rendering of any JSON value."""
    if isinstance(value, dict):
        text = "; ".join(f"{label(str(k))}: {inline(v)}" for k, v in value.items())
    else:
        text = inline(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def inline(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {inline(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(inline(v) for v in value)
    return str(value)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def first_sentence(text: str, limit: int = 160) -> str:
    """The first real sentence (list numbers and headings skipped), cut at `limit`."""
    sentences = re.split(r"(?<=[.!?])\s", " ".join(text.replace("#", " ").split()))
    sentence = next((s for s in sentences if len(s.split()) >= 5), sentences[0])
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def when(value: Any) -> str:
    """'2026-11-26T03:30:00+00:00' -> 'Thu 26 Nov 2026, 03:30 UTC'; other text as it is."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    zone = moment.tzname() or ""
    return f"{moment:%a %d %b %Y, %H:%M}" + (f" {zone}" if zone else "")
