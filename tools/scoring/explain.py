"""Why a lead scored what it did: the few fields that moved its score most, in a rep's words."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tools.scoring.features import name_tokens
from tools.scoring.model import LeadScorer

# Phrases for the lead store's event aggregates; `{n}` is the value, `{s}` the plural "s"
# ("clicked 1 email", "clicked 2 emails").
PHRASES: dict[str, str] = {
    "page_views": "{n} page view{s}",
    "pricing_page_views": "visited pricing {n}×",
    "content_downloads": "downloaded {n} piece{s} of content",
    "email_opens": "opened {n} email{s}",
    "email_clicks": "clicked {n} email{s}",
    "email_replies": "replied to {n} email{s}",
    "demo_requests": "asked for a demo {n}×",
    "webinars_attended": "attended {n} webinar{s}",
    "videos_watched": "watched {n} video{s}",
    "form_submits": "filled in {n} form{s}",
    "trial_signups": "started {n} trial{s}",
    "product_milestones": "reached {n} product milestone{s}",
    "unsubscribes": "unsubscribed {n}×",
    "bounces": "{n} bounced email{s}",
    "events_total": "{n} interaction{s} in all",
    "events_7d": "{n} interaction{s} in the last 7 days",
    "events_30d": "{n} interaction{s} in the last 30 days",
    "pricing_page_views_7d": "visited pricing {n}× this week",
    "high_intent_48h": "{n} buying signal{s} in the last 48 h",
    "days_since_last_event": "last active {n} day{s} ago",
    "days_since_first_event": "first seen {n} day{s} ago",
}
# Flags read as a person says them: "free copy: yes", not "free copy: True".
_YES_NO = {"true": "yes", "false": "no"}


def explain(
    scorer: LeadScorer,
    lead: Mapping[str, Any],
    *,
    top: int = 3,
    phrases: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Top factors as [{"factor", "direction" "+"/"-", "weight" (score points)}], biggest first.

    Each field's weight is how much the lead's 0-100 score changes when that field alone is
    replaced by its typical training value: one batch of n_fields + 1 predictions, the same
    for linear, boosted and blended models.
    """
    record = dict(lead)
    typical = scorer.features_.typical_
    columns = list(typical)
    variants = [record] + [{**record, column: typical[column]} for column in columns]
    p = scorer.predict_proba(pd.DataFrame(variants, columns=_all_keys(variants)))[:, 1]
    deltas = 100.0 * (p[0] - p[1:])
    # Rank on log-odds: near a score of 0 or 100 the points barely move, the odds still do.
    odds = np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1))
    strength = odds[0] - odds[1:]
    order = np.argsort(-np.abs(strength), kind="stable")[:top]
    chosen = [i for i in order if abs(strength[i]) >= 0.05]
    words = {**PHRASES, **(phrases or {})}
    return [{
        "factor": describe(columns[i], record.get(columns[i]), words),
        "direction": "+" if strength[i] > 0 else "-",
        "weight": round(float(deltas[i]), 1),
    } for i in chosen]


def describe(column: str, value: Any, phrases: Mapping[str, str] = PHRASES) -> str:
    """One field as a rep would say it: "role: VP", "12 page views", "spent 25 min on the site"."""
    label = " ".join(name_tokens(column)) or str(column)
    if _missing(value):
        return f"{label}: not given"
    number = _number(value)
    if column in phrases and number is not None:
        n = _fmt(number)
        return phrases[column].format(n=n, s="" if n == "1" else "s")
    tokens = set(name_tokens(column))
    if number is not None and "time" in tokens and tokens & {"s", "seconds", "spent", "site"}:
        return f"spent {_fmt(number / 60)} min on the site"
    if number is not None:
        return f"{label}: {_fmt(number)}"
    text = str(value).strip()
    return f"{label}: {_YES_NO.get(text.lower(), text)}"


def _all_keys(rows: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return list(keys)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in {"", "select", "n/a", "unknown"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return None


def _fmt(number: float) -> str:
    return f"{number:.0f}" if abs(number - round(number)) < 0.05 or abs(number) >= 10 \
        else f"{number:.1f}"
