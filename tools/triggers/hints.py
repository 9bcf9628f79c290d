"""Hints from a sequence step or a trigger steer a send: its stage, what to retrieve, the channel.

A hint never overrides a wait or a hand-off (the hard rules chose those), never moves a lead back
before its funnel stage, and a video still needs a first name to greet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.decide import QUERIES, STAGES, main_theme
from tools.schemas import LeadBrief, NextAction, Stage

SENDS = ("send_email", "send_video")


def apply_hint(action: NextAction, hint: Mapping[str, Any] | None, lead: LeadBrief) -> NextAction:
    """The action with the hint applied (the same action when nothing applies)."""
    if not hint or action.action not in SENDS:
        return action
    update: dict[str, Any] = {}
    stage: Stage = action.stage
    wanted = hint.get("stage")
    if wanted in STAGES:
        stage = max(wanted, lead.stage, key=STAGES.index)
        update["stage"] = stage
    theme = main_theme(lead)
    topic = theme.replace("-", " ") if theme else ""
    if hint.get("angle") == "different":
        update["query"] = QUERIES[stage][1].format(topic=topic, industry="").strip()
    elif hint.get("query") or hint.get("theme"):
        update["query"] = " ".join(f"{hint.get('query') or hint.get('theme')} {topic}".split())
    channel = hint.get("channel")
    if channel == "video" and lead.first_name and lead.first_name.strip():
        update["action"] = "send_video"
    elif channel in ("email", "sdr_task"):
        update["action"] = "send_email"
    why = hint.get("reason")
    if why:
        update["reason"] = f"{action.reason} {why}".strip()
    return action.model_copy(update=update)
