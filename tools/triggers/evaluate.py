"""Evaluate the trigger rules on a batch of new events, and on nurture's own sends.

Runs inside the transaction that stores the events, so an event and what it fired commit
together: a firing row records the scheduled action (run the agent, hand off, resume after a
pause), and `stop` / `pause` take effect at once. The work per batch is a fixed number of
queries (the leads' previous event times, counts in a window, earlier firings), not per event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from store import crud
from store.models import Event, Touch, TouchStatus, TriggerFiring, utcnow
from tools.triggers.effects import pause_lead, stop_leads
from tools.triggers.rules import ENGAGED, Rule, RuleSet


@dataclass(frozen=True)
class Before:
    """What the rules need from before a batch landed: each lead's latest event time."""

    last_event_at: Mapping[int, datetime] = field(default_factory=dict)


def snapshot(session: Session, rows: Sequence[Mapping[str, Any]], rules: RuleSet) -> Before:
    """Read, before the batch is inserted, what dormancy rules compare against."""
    if not rows or not any(rule.dormant_days for rule in rules.active):
        return Before()
    lead_ids = {int(row["lead_id"]) for row in rows}
    return Before(crud.last_event_times(session, lead_ids=lead_ids))


@dataclass
class _Candidate:
    rule: Rule
    row: Mapping[str, Any]
    due_at: datetime


def on_events(
    session: Session,
    rows: Sequence[Mapping[str, Any]],
    *,
    rules: RuleSet,
    before: Before | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Fire the rules on newly stored events; returns the firing rows written."""
    if not rows:
        return []
    now = _aware(now or utcnow())
    before = before or Before()
    at_of = {id(row): _aware(row["occurred_at"]) for row in rows}

    def in_order(row: Mapping[str, Any]) -> tuple[int, datetime]:
        return int(row["lead_id"]), at_of[id(row)]

    ordered = sorted(rows, key=in_order)
    by_type: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in ordered:
        by_type[str(row["type"])].append(row)
    previous = _previous_event_times(ordered, before)
    fired: list[_Candidate] = []
    for rule in rules.active:
        if rule.on_sends:
            continue
        oldest = now - timedelta(hours=rule.max_age_hours) if rule.max_age_hours else None
        candidates = [row for kind in rule.event_types for row in by_type.get(kind, ())]
        if len(rule.event_types) > 1:
            candidates.sort(key=in_order)
        matched = [
            row
            for row in candidates
            if (oldest is None or at_of[id(row)] >= oldest)
            and rule.matches(str(row["type"]), row.get("properties"))
        ]
        if rule.dormant_days:
            gap = timedelta(days=rule.dormant_days)
            matched = [
                row
                for row in matched
                if (before_at := previous.get(id(row))) is not None
                and at_of[id(row)] - before_at >= gap
            ]
        if rule.count and matched:
            matched = _reaching_count(session, rule, matched)
        if matched:
            fired += _after_cooldown(session, rule, matched, now)
    return _record(session, fired, now)


def on_send(
    session: Session, *, lead_id: int, touch_id: int, rules: RuleSet, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Fire the rules on nurture's own send of a touch (e.g. a third unopened email)."""
    now = _aware(now or utcnow())
    send_rules = [rule for rule in rules.active if rule.on_sends]
    if not send_rules:
        return []
    unopened = unopened_in_a_row(session, lead_id=lead_id)
    row = {
        "lead_id": lead_id,
        "type": "touch_sent",
        "occurred_at": now,
        "received_at": now,
        "source_event_id": f"touch-{touch_id}",
        "properties": {"unopened_in_a_row": unopened},
    }
    fired = []
    for rule in send_rules:
        if rule.unopened_at_least is not None and unopened < rule.unopened_at_least:
            continue
        fired += _after_cooldown(session, rule, [row], now)
    return _record(session, fired, now)


def unopened_in_a_row(session: Session, *, lead_id: int) -> int:
    """Emails sent since the lead last opened, clicked or replied to one."""
    last_engaged = session.exec(
        select(func.max(Event.occurred_at)).where(
            Event.lead_id == lead_id, col(Event.type).in_(ENGAGED)
        )
    ).first()
    stmt = select(func.count()).where(
        Touch.lead_id == lead_id,
        Touch.status == TouchStatus.sent,
        Touch.channel == "email",
        col(Touch.sent_at).is_not(None),
    )
    if last_engaged is not None:
        stmt = stmt.where(col(Touch.sent_at) > _aware(last_engaged))
    return int(session.exec(stmt).one())


def _previous_event_times(
    ordered: Sequence[Mapping[str, Any]], before: Before
) -> dict[int, datetime | None]:
    """For each row (by identity): the lead's latest event strictly before it."""
    out: dict[int, datetime | None] = {}
    lead: int | None = None
    latest: datetime | None = None
    for row in ordered:
        lead_id, at = int(row["lead_id"]), _aware(row["occurred_at"])
        if lead_id != lead:
            lead = lead_id
            stored = before.last_event_at.get(lead_id)
            latest = _aware(stored) if stored is not None else None
        # A stored event later than this one (a late arrival) says nothing about the gap.
        out[id(row)] = latest if latest is not None and latest < at else None
        if latest is None or at > latest:
            latest = at
    return out


def _reaching_count(
    session: Session, rule: Rule, matched: list[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The matched events at which the lead has done `at_least` matching events in the window."""
    assert rule.count is not None
    window = timedelta(days=rule.count.within_days)
    lead_ids = sorted({int(row["lead_id"]) for row in matched})
    since = min(_aware(row["occurred_at"]) for row in matched) - window
    stmt = select(Event.lead_id, Event.type, Event.occurred_at, Event.properties).where(
        col(Event.lead_id).in_(lead_ids),
        col(Event.type).in_(sorted(rule.event_types)),
        col(Event.occurred_at) >= since,
    )
    times: dict[int, list[datetime]] = defaultdict(list)
    for lead_id, kind, at, props in session.exec(stmt):
        if rule.matches(kind, props):
            times[lead_id].append(_aware(at))
    out = []
    for row in matched:
        at = _aware(row["occurred_at"])
        done = sum(1 for t in times[int(row["lead_id"])] if at - window <= t <= at)
        if done >= rule.count.at_least:
            out.append(row)
    return out


def _after_cooldown(
    session: Session, rule: Rule, matched: Iterable[Mapping[str, Any]], now: datetime
) -> list[_Candidate]:
    """One firing per lead per batch, and none within the rule's cooldown of an earlier one."""
    rows = list(matched)
    lead_ids = sorted({int(row["lead_id"]) for row in rows})
    last: dict[int, datetime] = {}
    if rule.cooldown_hours and lead_ids:
        stmt = (
            select(
                TriggerFiring.lead_id,
                func.max(func.coalesce(TriggerFiring.event_at, TriggerFiring.fired_at)),
            )
            .where(
                TriggerFiring.rule == rule.name,
                col(TriggerFiring.lead_id).in_(lead_ids),
                col(TriggerFiring.status) != "cancelled",
            )
            .group_by(col(TriggerFiring.lead_id))
        )
        last = {lead_id: _aware(at) for lead_id, at in session.exec(stmt) if at is not None}
    cooldown = timedelta(hours=rule.cooldown_hours)
    out: list[_Candidate] = []
    done: set[int] = set()
    for row in rows:
        lead_id, at = int(row["lead_id"]), _aware(row["occurred_at"])
        if lead_id in done:
            continue
        earlier = last.get(lead_id)
        if earlier is not None and abs(at - earlier) < cooldown:
            continue
        done.add(lead_id)
        out.append(_Candidate(rule, row, _due_at(rule, at, now, row)))
    return out


def _due_at(rule: Rule, at: datetime, now: datetime, row: Mapping[str, Any]) -> datetime:
    if rule.follow_up is not None:
        return at + timedelta(days=rule.follow_up.after_days)
    if rule.action.kind == "pause":
        return now + timedelta(days=_pause_days(rule, row))
    return now


def _pause_days(rule: Rule, row: Mapping[str, Any]) -> int:
    """The rule's pause; after a second streak of silence (twice the threshold) the long one."""
    days = rule.action.days or 1
    streak = int((row.get("properties") or {}).get("unopened_in_a_row") or 0)
    threshold = rule.unopened_at_least or 0
    if rule.action.long_days and threshold and streak >= 2 * threshold:
        return rule.action.long_days
    return days


def _record(session: Session, fired: list[_Candidate], now: datetime) -> list[dict[str, Any]]:
    """Write the firings (a replayed event fires nothing twice) and apply stop / pause."""
    if not fired:
        return []
    rows = [_firing_row(candidate, now) for candidate in fired]
    crud.add_trigger_firings(session, rows=rows)
    stops: dict[int, str] = {}
    for candidate, row in zip(fired, rows, strict=True):
        lead_id = int(candidate.row["lead_id"])
        if candidate.rule.action.kind == "stop":
            stops[lead_id] = str(candidate.row["type"])
        elif candidate.rule.action.kind == "pause":
            pause_lead(session, lead_id=lead_id, until=row["due_at"], why=candidate.rule.name)
    stop_leads(session, whys=stops, now=now)
    return rows


def _firing_row(candidate: _Candidate, now: datetime) -> dict[str, Any]:
    rule, event = candidate.rule, candidate.row
    action = rule.action
    params: dict[str, Any] = {"trigger": action.trigger or str(event["type"])}
    if action.hint is not None:
        params["hint"] = action.hint.model_dump(exclude_none=True)
    if action.reason:
        params["reason"] = action.reason
    if rule.follow_up is not None:
        params["silent_on"] = list(rule.follow_up.silent_on)
    if action.kind == "pause":
        params["pause_days"] = _pause_days(rule, event)
    key = str(event.get("source_event_id") or f"at-{_aware(event['occurred_at']).isoformat()}")
    received = event.get("received_at")
    return {
        "lead_id": int(event["lead_id"]),
        "rule": rule.name,
        "action": action.kind,
        "params": params,
        "dedupe_key": f"{rule.name}:{event['lead_id']}:{key}"[:300],
        "source_event_id": event.get("source_event_id"),
        "event_type": str(event["type"]),
        "event_at": _aware(event["occurred_at"]),
        "received_at": _aware(received) if isinstance(received, datetime) else None,
        "fired_at": utcnow(),
        "due_at": candidate.due_at,
        # A stop is done the moment it is recorded; everything else waits for the worker.
        "status": "done" if action.kind == "stop" else "pending",
        "done_at": now if action.kind == "stop" else None,
        "result": "stopped at once" if action.kind == "stop" else None,
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
