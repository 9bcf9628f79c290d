"""The web approval queue for teams without Slack: cards with approve / edit / reject, the same
rules as Slack and the CLI (`agent.approvals.decide`: the first decision wins; only SDRs decide),
and the team's view for managers."""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import chainlit as cl

from agent.approvals import ApprovalError, Outcome, decide, list_approvals
from agent.nurture.run import Verdict
from agent.wiring import WiringError
from store.db import session_scope
from ui.chat.commands import parse_edit
from ui.chat.services import services
from ui.chat.users import ChatUser

# How many pending drafts one queue shows (oldest decisions matter most: SLA).
QUEUE_PAGE = 10
TEAM_DAYS = 30
VERBS = {"approved": "Approved", "edited": "Edited and approved", "rejected": "Rejected"}


async def show_queue(user: ChatUser) -> None:
    """The pending drafts, each a card (see `pending_for`); SDRs get the decision buttons."""
    items = await asyncio.to_thread(pending_for, user)
    if user.sees_team():
        await show_team(user)
    if not items:
        await cl.Message(content="No drafts are waiting for approval.").send()
        return
    deciding = user.may_decide_drafts()
    shown = items[:QUEUE_PAGE]
    intro = f"**{len(items)} draft{'s' if len(items) != 1 else ''} waiting for approval**"
    if len(items) > len(shown):
        intro += f" (the first {len(shown)} below: your leads, then the oldest)"
    if not deciding:
        intro += (
            f". You are signed in as {user.label} ({', '.join(user.roles)}): "
            "only SDRs approve, edit or reject drafts."
        )
    await cl.Message(content=intro).send()
    cards: dict[int, cl.Message] = cl.user_session.get("cards") or {}
    for item in shown:
        actions = _buttons(item["id"]) if deciding else []
        card = cl.Message(content=card_text(item), actions=actions)
        await card.send()
        cards[int(item["id"])] = card
    cl.user_session.set("cards", cards)


def card_text(item: dict[str, Any]) -> str:
    lead, draft = item["lead"], item["draft"]
    who = ", ".join(p for p in (lead["role"], lead["company"]) if p) or lead["email"]
    score = (
        f"score {lead['score']:.0f}, decile {lead['decile']}" if lead["score"] is not None else ""
    )
    lines = [
        f"### Draft #{item['id']} · {lead['name']} ({who})",
        " · ".join(
            p for p in (score, f"owner {lead['owner']}" if lead["owner"] else "", _age(item)) if p
        ),
    ]
    if lead["factors"]:
        lines.append("**Why this lead:** " + "; ".join(map(str, lead["factors"][:5])))
    kind = "Video script" if draft["kind"] == "video_script" else "Email"
    lines.append(f"**{kind}:** {draft['subject'] or '(no subject)'}")
    lines.append("```text\n" + (draft["body"] or "").strip().replace("```", "'''") + "\n```")
    if draft["sources"]:
        lines.append("**Sources:** " + ", ".join(draft["sources"]))
    return "\n\n".join(lines)


def _buttons(approval_id: int) -> list[cl.Action]:
    payload = {"approval_id": approval_id}
    return [
        cl.Action(name="approve_draft", payload=payload, label="Approve", icon="check"),
        cl.Action(name="edit_draft", payload=payload, label="Edit", icon="pencil"),
        cl.Action(name="reject_draft", payload=payload, label="Reject", icon="x"),
    ]


async def decide_draft(
    user: ChatUser | None, approval_id: int, verb: str, given: str = ""
) -> Outcome | None:
    """Ask what is missing (a reason, the new text), record the verdict, say what happened."""
    if user is None:
        await cl.ErrorMessage(content="Your sign-in is no longer valid: sign in again.").send()
        return None
    if not user.may_decide_drafts():
        await cl.ErrorMessage(
            content=(
                f"Only SDRs approve, edit or reject drafts, and you are signed in as {user.label} "
                f"({', '.join(user.roles)}): draft #{approval_id} is unchanged. Ask an SDR, or an "
                f"admin to add the sdr role (`nurture users add {user.name} "
                + " ".join(f"--role {r}" for r in (*user.roles, "sdr"))
                + "`)."
            )
        ).send()
        return None
    verdict = await _verdict(user, approval_id, verb, given)
    if verdict is None:
        return None
    try:
        outcome = await asyncio.to_thread(_decide, approval_id, verdict)
    except (ApprovalError, WiringError) as exc:
        await cl.ErrorMessage(content=f"Draft #{approval_id}: {exc}").send()
        return None
    if outcome.already_decided:
        await cl.Message(
            content=(
                f"Draft #{approval_id} was already {outcome.status} by {outcome.decided_by}; "
                "the first decision stands, yours changed nothing."
            )
        ).send()
    else:
        result = f" ({outcome.result})" if outcome.result else ""
        await cl.Message(
            content=f"{VERBS[outcome.status]} draft #{approval_id} as {user.label}{result}."
        ).send()
    await _close_card(approval_id, outcome)
    return outcome


async def _verdict(user: ChatUser, approval_id: int, verb: str, given: str) -> Verdict | None:
    if verb == "approve":
        return Verdict(status="approved", by=user.name)
    if verb == "reject":
        reason = given or await _ask(
            f"Why reject draft #{approval_id}? One line: the reason feeds scoring and evals."
        )
        if not reason:
            await cl.Message(
                content=f"No reason given: draft #{approval_id} is still pending."
            ).send()
            return None
        return Verdict(status="rejected", by=user.name, reason=reason)
    text = given or await _ask(
        f"Send the new text for draft #{approval_id}: `Subject: ...` on the first line, then the "
        "body (Shift+Enter for new lines). Only a subject line keeps the body."
    )
    if not text:
        await cl.Message(content=f"No new text: draft #{approval_id} is still pending.").send()
        return None
    subject, body = parse_edit(text)
    return Verdict(status="edited", by=user.name, subject=subject, body=body)


async def _ask(question: str) -> str:
    reply = await cl.AskUserMessage(content=question, timeout=600).send()
    return str((reply or {}).get("output") or "").strip()


def _decide(approval_id: int, verdict: Verdict) -> Outcome:
    chat = services()
    return decide(chat.engine, chat.nurture_agent(), approval_id, verdict)


async def _close_card(approval_id: int, outcome: Outcome) -> None:
    cards: dict[int, cl.Message] = cl.user_session.get("cards") or {}
    card = cards.pop(approval_id, None)
    if card is None:
        return
    await card.remove_actions()
    card.actions = []
    decider = services().users().get(outcome.decided_by or "")
    who = decider.label if decider else outcome.decided_by
    card.content += f"\n\n**{outcome.status.capitalize()} by {who}.**"
    await card.update()


async def show_team(user: ChatUser) -> None:
    """For managers: who decided what in the last 30 days, how fast, and what waits on whom."""
    overview = await asyncio.to_thread(team_overview, services().users())
    await cl.Message(content=overview).send()


def team_overview(users: dict[str, ChatUser], now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    with session_scope(services().engine) as session:
        items = list_approvals(session, status="all")
    since = now - timedelta(days=TEAM_DAYS)
    decided: dict[str, Counter[str]] = defaultdict(Counter)
    hours: dict[str, list[float]] = defaultdict(list)
    waiting: Counter[str] = Counter()
    for item in items:
        if item["status"] == "pending":
            waiting[item["lead"]["owner"] or "no owner"] += 1
            continue
        at = _when(item["decided_at"])
        if at is None or at < since:
            continue
        who = item["decided_by"] or "unknown"
        decided[who][item["status"]] += 1
        created = _when(item["created_at"])
        if created is not None:
            hours[who].append((at - created).total_seconds() / 3600)
    lines = [f"**The team, last {TEAM_DAYS} days**", ""]
    lines += ["| person | roles | approved | edited | rejected | median hours to decide |"]
    lines += ["|---|---|---:|---:|---:|---:|"]
    people = {u.name: u for u in users.values()}
    for name in sorted(set(people) | set(decided)):
        member = people.get(name)
        counts = decided.get(name, Counter())
        median = f"{statistics.median(hours[name]):.1f}" if hours.get(name) else "-"
        lines.append(
            f"| {member.label if member else name} | "
            f"{', '.join(member.roles) if member else 'not a chat user'} | "
            f"{counts['approved']} | {counts['edited']} | {counts['rejected']} | {median} |"
        )
    if waiting:
        lines += ["", "**Waiting for approval, by lead owner:** "]
        lines[-1] += ", ".join(f"{owner} {n}" for owner, n in waiting.most_common())
    else:
        lines += ["", "Nothing is waiting for approval."]
    return "\n".join(lines)


def pending_for(user: ChatUser) -> list[dict[str, Any]]:
    """Pending drafts: the person's own leads first (lead owner = their name), then leads with
    no owner, then the rest; oldest first within each."""
    with session_scope(services().engine) as session:
        items = list_approvals(session, status="pending")
    mine = {user.name, user.label}

    def order(item: dict[str, Any]) -> tuple[int, str, int]:
        owner = item["lead"]["owner"]
        return (0 if owner in mine else 1 if not owner else 2, item["created_at"], item["id"])

    return sorted(items, key=order)


def _age(item: dict[str, Any]) -> str:
    created = _when(item["created_at"])
    if created is None:
        return ""
    hours = (datetime.now(UTC) - created).total_seconds() / 3600
    return f"waiting {hours:.0f} h" if hours >= 1 else "waiting under an hour"


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
