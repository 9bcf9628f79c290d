"""Create/read/update helpers. Every function takes `session` keyword-only and never commits:
the caller owns the transaction, so a batch is written whole or not at all."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col, select

from store.models import (
    AgentRun,
    Approval,
    Draft,
    Enrollment,
    EvalCaseResult,
    EvalCheck,
    EvalRun,
    Event,
    Handoff,
    Lead,
    LifecycleStage,
    OutboxMessage,
    Outcome,
    Score,
    SegmentMembership,
    Suppression,
    Touch,
    TouchStatus,
    TriggerFiring,
    utcnow,
)
from store.models import (
    Sequence as SequenceRow,
)
from store.schemas import LeadCreate

# Keep statements under SQLite's bound-parameter limit (32,766) with room for wide rows.
CHUNK = 500


def _insert_ignoring_conflicts(
    session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]], *on: str
) -> int:
    """INSERT ... ON CONFLICT DO NOTHING in chunks; returns how many rows were new.

    Counted with RETURNING because drivers disagree on rowcount for multi-row inserts.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table_ = table.__table__  # type: ignore[attr-defined]
    pk = table_.primary_key.columns.values()[0]
    # Core executemany (SQLAlchemy batches it into multi-row INSERTs) skips per-call compiling.
    stmt = insert(table_).on_conflict_do_nothing(index_elements=list(on) or None).returning(pk)
    connection = session.connection()
    inserted = 0
    for batch in _chunks(_complete(table, rows)):
        inserted += len(connection.execute(stmt, batch).all())
    return inserted


def _insert_new_by_key(
    session: Session,
    table: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    key: str,
    fresh_rows: list[dict[str, Any]] | None = None,
) -> int:
    """Bulk path for high-volume rows with one unique key: skip keys already stored, then a plain
    executemany (psycopg pipelines it; RETURNING would force slow uncached multi-row statements).

    ON CONFLICT still guards against a concurrent writer; the count is exact for one writer.
    `fresh_rows`, when given, receives the rows that were new (with their defaults filled in).
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table_ = table.__table__  # type: ignore[attr-defined]
    stmt = insert(table_).on_conflict_do_nothing(index_elements=[key])
    connection = session.connection()
    inserted = 0
    for batch in _chunks(_complete(table, rows)):
        keys = [row[key] for row in batch]
        stored = set(
            connection.execute(select(table_.c[key]).where(table_.c[key].in_(keys))).scalars()
        )
        fresh: dict[Any, dict[str, Any]] = {}
        for row in batch:
            if row[key] not in stored:
                fresh.setdefault(row[key], row)
        if fresh:
            connection.execute(stmt, list(fresh.values()))
            if fresh_rows is not None:
                fresh_rows.extend(fresh.values())
        inserted += len(fresh)
    return inserted


def bulk_insert(session: Session, *, table: type[SQLModel], rows: Sequence[dict[str, Any]]) -> int:
    """Plain multi-row insert for append-only history (e.g. a full rescore's score rows)."""
    table_ = table.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    for batch in _chunks(_complete(table, rows), size=5_000):
        connection.execute(table_.insert(), batch)
    return len(rows)


def bulk_insert_columns(
    session: Session,
    *,
    table: type[SQLModel],
    per_row: Mapping[str, Sequence[Any] | np.ndarray],
    shared: Mapping[str, Any] | None = None,
    size: int = 20_000,
) -> int:
    """Columnar `bulk_insert` for very many rows: `per_row` maps columns to one value per row
    (lists or numpy arrays), `shared` to one value every row gets; other columns get the model
    defaults (computed once, as in `bulk_insert`). Values go through each column type's bind
    processing (shared ones once) and then a DBAPI executemany of plain tuples: no dict, and
    no SQLAlchemy parameter processing, per row."""
    table_ = table.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect
    fixed = {**_defaults(table), **(shared or {})}
    fixed = {k: v for k, v in fixed.items() if k not in per_row}
    lengths = {len(values) for values in per_row.values()}
    if len(lengths) > 1:
        raise ValueError(f"per_row columns differ in length: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if marker is None:  # a driver with named parameters: the row-dict path
        plain = [v.tolist() if isinstance(v, np.ndarray) else list(v) for v in per_row.values()]
        rows = [
            {**fixed, **dict(zip(per_row, values, strict=True))}
            for values in zip(*plain, strict=True)
        ]
        return bulk_insert(session, table=table, rows=rows)

    def bound(name: str) -> Any:
        return table_.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    streams: list[Iterable[Any]] = []
    for name, values in per_row.items():
        plain = values.tolist() if isinstance(values, np.ndarray) else list(values)
        process = bound(name)
        streams.append(plain if process is None else [process(v) for v in plain])
    for name, value in fixed.items():
        process = bound(name)
        streams.append(itertools.repeat(value if process is None else process(value), n))
    names = [*per_row, *fixed]
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table_)} "
        f"({', '.join(quote(name) for name in names)}) VALUES ({', '.join([marker] * len(names))})"
    )
    connection = session.connection()
    rows_iter = zip(*streams, strict=True)
    while batch := list(itertools.islice(rows_iter, size)):
        connection.exec_driver_sql(sql, batch)
    return n


def _defaults(table: type[SQLModel]) -> dict[str, Any]:
    return {
        name: info.get_default(call_default_factory=True)
        for name, info in table.model_fields.items()
        if name != "id" and not info.is_required()
    }


def _complete(table: type[SQLModel], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every row every column (multi-row VALUES needs one shape), using model defaults.

    Defaults are computed once per call: a batch shares one `received_at`/`created_at`.
    """
    defaults = _defaults(table)
    return [{**defaults, **row} for row in rows]


# --- leads -------------------------------------------------------------------------------


def upsert_leads(session: Session, *, leads: Sequence[LeadCreate]) -> dict[str, int]:
    """Insert new leads, update changed ones (matched by email); report what happened."""
    existing = {
        lead.email: lead
        for batch in _chunks([lead.email for lead in leads])
        for lead in session.exec(select(Lead).where(col(Lead.email).in_(batch)))
    }
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    now = utcnow()
    for item in leads:
        values = item.model_dump()
        row = existing.get(item.email)
        if row is None:
            row = Lead(**values, created_at=now, updated_at=now)
            session.add(row)
            existing[item.email] = row
            counts["inserted"] += 1
            continue
        changed = {k: v for k, v in _merge(row, values).items() if getattr(row, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(row, key, value)
            row.updated_at = now
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    session.flush()
    return counts


STAGE_ORDER = {"lead": 0, "mql": 1, "sql": 2, "customer": 3}


def _merge(row: Lead, values: dict[str, Any]) -> dict[str, Any]:
    """What an import may change on a stored lead. A file never undoes an opt-out (an
    unsubscribe or withdrawn consent stays) and never moves a lead back down the funnel."""
    merged = dict(values)
    if row.do_not_email:
        merged["do_not_email"] = True
    if not row.consent:
        merged["consent"] = False
    new_stage = str(merged.get("lifecycle_stage", row.lifecycle_stage))
    old_stage = str(row.lifecycle_stage)
    if STAGE_ORDER.get(new_stage, 99) < STAGE_ORDER.get(old_stage, 99):
        merged["lifecycle_stage"] = row.lifecycle_stage
    return merged


def get_lead(session: Session, *, lead_id: int) -> Lead | None:
    return session.get(Lead, lead_id)


def get_lead_by_email(session: Session, *, email: str) -> Lead | None:
    return session.exec(select(Lead).where(Lead.email == email.lower())).first()


def resolve_lead_ids(
    session: Session, *, emails: Iterable[str] = (), external_ids: Iterable[str] = ()
) -> tuple[dict[str, int], dict[str, int]]:
    """Map emails and external ids to lead ids in a few queries (for batch ingestion)."""
    by_email: dict[str, int] = {}
    by_external: dict[str, int] = {}
    for batch in _chunks(sorted(set(emails))):
        stmt = select(Lead.id, Lead.email).where(col(Lead.email).in_(batch))
        by_email.update({email: lead_id for lead_id, email in session.exec(stmt) if lead_id})
    for batch in _chunks(sorted(set(external_ids))):
        stmt2 = select(Lead.id, Lead.external_id).where(col(Lead.external_id).in_(batch))
        by_external.update({ext: i for i, ext in session.exec(stmt2) if ext and i})
    return by_email, by_external


# --- events ------------------------------------------------------------------------------


def insert_events(
    session: Session,
    *,
    rows: Sequence[dict[str, Any]],
    fresh_rows: list[dict[str, Any]] | None = None,
) -> int:
    """Insert events, silently skipping any whose source_event_id is already stored.

    Returns how many were new. Idempotent: replaying a batch inserts nothing. `fresh_rows`, when
    given, receives the new rows (what triggers evaluate: a replay fires nothing).
    """
    return _insert_new_by_key(session, Event, rows, "source_event_id", fresh_rows)


def last_event_times(session: Session, *, lead_ids: Iterable[int]) -> dict[int, datetime]:
    """Each lead's latest event time (leads without events are left out)."""
    out: dict[int, datetime] = {}
    for batch in _chunks(sorted(set(lead_ids))):
        stmt = (
            select(Event.lead_id, func.max(Event.occurred_at))
            .where(col(Event.lead_id).in_(batch))
            .group_by(col(Event.lead_id))
        )
        out.update({lead_id: at for lead_id, at in session.exec(stmt) if at is not None})
    return out


def list_events(
    session: Session, *, lead_id: int, since: datetime | None = None, types: Iterable[str] = ()
) -> list[Event]:
    stmt = select(Event).where(Event.lead_id == lead_id)
    if since is not None:
        stmt = stmt.where(Event.occurred_at >= since)
    wanted = list(types)
    if wanted:
        stmt = stmt.where(col(Event.type).in_(wanted))
    return list(session.exec(stmt.order_by(col(Event.occurred_at))))


# --- scores and segments -----------------------------------------------------------------


def add_score(session: Session, *, score: Score) -> Score:
    session.add(score)
    session.flush()
    return score


def latest_score(session: Session, *, lead_id: int) -> Score | None:
    stmt = (
        select(Score)
        .where(Score.lead_id == lead_id)
        .order_by(col(Score.scored_at).desc(), col(Score.id).desc())
    )
    return session.exec(stmt).first()


def current_segments(session: Session, *, lead_id: int) -> list[str]:
    stmt = select(SegmentMembership.segment).where(
        SegmentMembership.lead_id == lead_id, col(SegmentMembership.exited_at).is_(None)
    )
    return sorted(session.exec(stmt))


def set_segments(
    session: Session, *, lead_id: int, segments: Iterable[str]
) -> dict[str, list[str]]:
    """Make `segments` the lead's current membership, keeping history (entered / exited)."""
    wanted = set(segments)
    rows = session.exec(
        select(SegmentMembership).where(
            SegmentMembership.lead_id == lead_id, col(SegmentMembership.exited_at).is_(None)
        )
    ).all()
    now = utcnow()
    current = {row.segment for row in rows}
    for row in rows:
        if row.segment not in wanted:
            row.exited_at = now
            session.add(row)
    for name in sorted(wanted - current):
        session.add(SegmentMembership(lead_id=lead_id, segment=name, entered_at=now))
    session.flush()
    return {"entered": sorted(wanted - current), "exited": sorted(current - wanted)}


# --- sequences, touches, drafts, approvals, hand-offs ---------------------------------------


def save_sequence(session: Session, *, sequence: SequenceRow) -> SequenceRow:
    existing = session.exec(select(SequenceRow).where(SequenceRow.name == sequence.name)).first()
    if existing is not None:
        existing.description = sequence.description
        existing.definition = sequence.definition
        existing.status = sequence.status
        existing.updated_at = utcnow()
        sequence = existing
    session.add(sequence)
    session.flush()
    return sequence


def enroll(session: Session, *, lead_id: int, sequence_id: int) -> Enrollment:
    """Enroll a lead, ending any other active enrollment: one active sequence per lead."""
    now = utcnow()
    active = session.exec(
        select(Enrollment).where(Enrollment.lead_id == lead_id, Enrollment.status == "active")
    ).all()
    for row in active:
        if row.sequence_id == sequence_id:
            return row
        row.status, row.ended_at = "exited", now
        session.add(row)
    enrollment = Enrollment(lead_id=lead_id, sequence_id=sequence_id, enrolled_at=now)
    session.add(enrollment)
    session.flush()
    return enrollment


def add_touch(session: Session, *, touch: Touch) -> Touch:
    session.add(touch)
    session.flush()
    return touch


def set_touch_status(
    session: Session, *, touch_id: int, status: TouchStatus, skip_reason: str | None = None
) -> None:
    values: dict[str, Any] = {"status": status}
    if status == TouchStatus.sent:
        values["sent_at"] = utcnow()
    if skip_reason is not None:
        values["skip_reason"] = skip_reason
    session.execute(update(Touch).where(col(Touch.id) == touch_id).values(**values))


PENDING_TOUCH = (TouchStatus.planned, TouchStatus.drafted, TouchStatus.approved)


def cancel_pending_touches(session: Session, *, lead_id: int, reason: str) -> list[int]:
    """Skip every touch of the lead not sent yet (with `reason`) and cancel its queued outbox
    row; returns the skipped touch ids. A row already being sent is left to the send-time check.
    """
    return cancel_pending_touches_of(session, lead_ids=[lead_id], reason=reason)


def cancel_pending_touches_of(
    session: Session, *, lead_ids: Sequence[int], reason: str
) -> list[int]:
    """`cancel_pending_touches` for many leads in a few statements."""
    ids: list[int] = []
    for batch in _chunks(sorted(set(lead_ids))):
        stmt = select(Touch.id).where(
            col(Touch.lead_id).in_(batch), col(Touch.status).in_(list(PENDING_TOUCH))
        )
        ids += [int(i) for i in session.exec(stmt) if i is not None]
    return _skip_touches(session, ids, reason)


def _skip_touches(session: Session, ids: list[int], reason: str) -> list[int]:
    for batch in _chunks(ids):
        session.execute(
            update(Touch)
            .where(col(Touch.id).in_(batch))
            .values(status=TouchStatus.skipped, skip_reason=reason[:500])
        )
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.touch_id).in_(batch), col(OutboxMessage.status) == "queued")
            .values(status="cancelled", last_error=reason[:500])
        )
    return ids


def add_draft(session: Session, *, draft: Draft) -> Draft:
    session.add(draft)
    session.flush()
    return draft


def request_approval(session: Session, *, draft_id: int, thread_id: str | None) -> Approval:
    approval = Approval(draft_id=draft_id, thread_id=thread_id)
    session.add(approval)
    session.flush()
    return approval


def decide_approval(
    session: Session,
    *,
    approval_id: int,
    status: str,
    decided_by: str,
    reason: str | None = None,
    edited_subject: str | None = None,
    edited_body: str | None = None,
) -> bool:
    """Record a decision once. Returns False when it was already decided (double clicks)."""
    result = session.execute(
        update(Approval)
        .where(col(Approval.id) == approval_id, col(Approval.status) == "pending")
        .values(
            status=status,
            decided_by=decided_by,
            decided_at=utcnow(),
            reason=reason,
            edited_subject=edited_subject,
            edited_body=edited_body,
        )
        .returning(col(Approval.id))
    )
    return result.first() is not None


def add_handoff(session: Session, *, handoff: Handoff) -> Handoff:
    session.add(handoff)
    session.flush()
    return handoff


def add_outcomes(session: Session, *, rows: Sequence[dict[str, Any]]) -> int:
    """Insert outcomes; the same (lead, kind, time) twice is stored once."""
    return _insert_ignoring_conflicts(session, Outcome, rows)


# --- funnel stages, sequence library, enrollments, hand-off decisions ----------------------


def advance_lifecycle(
    session: Session, *, lead_id: int, stage: LifecycleStage, at: datetime
) -> bool:
    """Move a lead forward to `stage` (never back) and stamp when it first reached MQL / SQL
    (reaching SQL or customer also stamps MQL when that moment is unknown). True when moved."""
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise KeyError(f"no lead with id {lead_id}")
    if STAGE_ORDER.get(str(stage), 99) <= STAGE_ORDER.get(str(lead.lifecycle_stage), 99):
        return False
    lead.lifecycle_stage = stage
    if stage in (LifecycleStage.mql, LifecycleStage.sql, LifecycleStage.customer):
        lead.mql_at = lead.mql_at or at
    if stage in (LifecycleStage.sql, LifecycleStage.customer):
        lead.sql_at = lead.sql_at or at
    lead.updated_at = utcnow()
    session.add(lead)
    session.flush()
    return True


def get_sequence_by_name(session: Session, *, name: str) -> SequenceRow | None:
    return session.exec(select(SequenceRow).where(SequenceRow.name == name)).first()


def list_sequences(session: Session, *, status: str | None = None) -> list[SequenceRow]:
    stmt = select(SequenceRow)
    if status is not None:
        stmt = stmt.where(SequenceRow.status == status)
    return list(session.exec(stmt.order_by(col(SequenceRow.name))))


def set_sequence_status(session: Session, *, name: str, status: str) -> SequenceRow | None:
    row = get_sequence_by_name(session, name=name)
    if row is not None and row.status != status:
        row.status, row.updated_at = status, utcnow()
        session.add(row)
        session.flush()
    return row


def current_enrollment(session: Session, *, lead_id: int) -> Enrollment | None:
    """The lead's running enrollment (active, or paused by a trigger), newest first."""
    stmt = (
        select(Enrollment)
        .where(Enrollment.lead_id == lead_id, col(Enrollment.status).in_(["active", "paused"]))
        .order_by(col(Enrollment.enrolled_at).desc(), col(Enrollment.id).desc())
    )
    return session.exec(stmt).first()


def enrollment_history(session: Session, *, lead_id: int) -> list[Enrollment]:
    stmt = select(Enrollment).where(Enrollment.lead_id == lead_id)
    return list(session.exec(stmt.order_by(col(Enrollment.enrolled_at), col(Enrollment.id))))


def start_enrollment(
    session: Session, *, lead_id: int, sequence_id: int, at: datetime
) -> Enrollment:
    enrollment = Enrollment(lead_id=lead_id, sequence_id=sequence_id, enrolled_at=at)
    session.add(enrollment)
    session.flush()
    return enrollment


def end_enrollment(
    session: Session, *, enrollment: Enrollment, status: str, at: datetime
) -> Enrollment:
    enrollment.status, enrollment.ended_at = status, at
    session.add(enrollment)
    session.flush()
    return enrollment


def open_handoff(session: Session, *, lead_id: int) -> Handoff | None:
    stmt = select(Handoff).where(Handoff.lead_id == lead_id, Handoff.status == "pending")
    return session.exec(stmt).first()


def latest_decided_handoff(session: Session, *, lead_id: int) -> Handoff | None:
    stmt = (
        select(Handoff)
        .where(Handoff.lead_id == lead_id, col(Handoff.decided_at).is_not(None))
        .order_by(col(Handoff.decided_at).desc(), col(Handoff.id).desc())
    )
    return session.exec(stmt).first()


def list_handoffs(
    session: Session, *, status: str | None = None, lead_id: int | None = None
) -> list[Handoff]:
    stmt = select(Handoff)
    if status is not None:
        stmt = stmt.where(Handoff.status == status)
    if lead_id is not None:
        stmt = stmt.where(Handoff.lead_id == lead_id)
    return list(session.exec(stmt.order_by(col(Handoff.created_at), col(Handoff.id))))


def decide_handoff(
    session: Session,
    *,
    handoff_id: int,
    status: str,
    sdr: str,
    decided_at: datetime,
    reject_reason: str | None = None,
    note: str | None = None,
    latency_s: float | None = None,
    within_sla: bool | None = None,
) -> bool:
    """Record a decision once. Returns False when it was already decided (double clicks)."""
    result = session.execute(
        update(Handoff)
        .where(col(Handoff.id) == handoff_id, col(Handoff.status) == "pending")
        .values(
            status=status,
            sdr=sdr,
            decided_at=decided_at,
            reject_reason=reject_reason,
            decision_note=note,
            latency_s=latency_s,
            within_sla=within_sla,
        )
        .returning(col(Handoff.id))
    )
    return result.first() is not None


# --- trigger firings ----------------------------------------------------------------------


def add_trigger_firings(session: Session, *, rows: Sequence[dict[str, Any]]) -> int:
    """Record what triggers fired; a firing whose dedupe key is stored is skipped (replays)."""
    return _insert_ignoring_conflicts(session, TriggerFiring, rows, "dedupe_key")


def add_outbox_rows(session: Session, *, rows: Sequence[dict[str, Any]]) -> int:
    """Queue touches in the outbox; a touch already queued (same touch, key) is left alone."""
    return _insert_ignoring_conflicts(session, OutboxMessage, rows)


# --- suppression -------------------------------------------------------------------------


def suppress(session: Session, *, email: str, reason: str) -> bool:
    """Add an address to the suppression list; returns False when it was already there."""
    row = {"email": email.lower(), "reason": reason}
    return _insert_ignoring_conflicts(session, Suppression, [row], "email") == 1


def suppress_many(session: Session, *, reasons: Mapping[str, str]) -> int:
    """`suppress` for many addresses (address -> reason); returns how many were new."""
    rows = [{"email": email.lower(), "reason": reason} for email, reason in reasons.items()]
    return _insert_ignoring_conflicts(session, Suppression, rows, "email") if rows else 0


def opt_out(session: Session, *, kinds: Mapping[int, str]) -> None:
    """Leads that unsubscribed or bounced (lead id -> event type): their addresses go on the
    suppression list, and an unsubscribe also marks the lead do-not-email."""
    if not kinds:
        return
    emails: dict[int, str] = {}
    for batch in _chunks(sorted(kinds)):
        stmt = select(Lead.id, Lead.email).where(col(Lead.id).in_(batch))
        emails.update({int(i): email for i, email in session.exec(stmt) if i is not None})
    suppress_many(session, reasons={emails[i]: kinds[i] for i in emails})
    unsubscribed = sorted(i for i in emails if kinds[i] == "unsubscribe")
    for batch in _chunks(unsubscribed):
        session.execute(
            update(Lead)
            .where(col(Lead.id).in_(batch), col(Lead.do_not_email).is_(False))
            .values(do_not_email=True)
            .execution_options(synchronize_session="fetch")
        )


def is_suppressed(session: Session, *, email: str) -> bool:
    stmt = select(Suppression.id).where(Suppression.email == email.lower())
    return session.exec(stmt).first() is not None


def may_email(session: Session, *, lead: Lead) -> bool:
    """The one gate every send goes through: consent, do-not-email and suppression."""
    return lead.consent and not lead.do_not_email and not is_suppressed(session, email=lead.email)


# --- overview ----------------------------------------------------------------------------

TABLES: dict[str, type[SQLModel]] = {
    "leads": Lead,
    "events": Event,
    "scores": Score,
    "segment_memberships": SegmentMembership,
    "sequences": SequenceRow,
    "enrollments": Enrollment,
    "touches": Touch,
    "drafts": Draft,
    "approvals": Approval,
    "handoffs": Handoff,
    "outcomes": Outcome,
    "suppressions": Suppression,
    "agent_runs": AgentRun,
    "trigger_firings": TriggerFiring,
    "outbox": OutboxMessage,
}


def table_counts(session: Session) -> dict[str, int]:
    return {
        name: session.exec(select(func.count()).select_from(table)).one()
        for name, table in TABLES.items()
    }


def event_type_counts(session: Session) -> dict[str, int]:
    stmt = select(Event.type, func.count()).group_by(Event.type).order_by(func.count().desc())
    return {kind: n for kind, n in session.exec(stmt)}


def outcome_counts(session: Session) -> dict[str, int]:
    stmt = select(Outcome.kind, func.count()).group_by(Outcome.kind)
    return {str(kind): n for kind, n in session.exec(stmt)}


# --- eval runs ---------------------------------------------------------------------------


def add_eval_run(
    session: Session,
    *,
    run: EvalRun,
    results: Sequence[EvalCaseResult],
    checks: Sequence[EvalCheck],
) -> EvalRun:
    """Store a finished eval run with its case results and verdicts, all in one go."""
    session.add(run)
    session.flush()
    session.add_all([*results, *checks])
    session.flush()
    return run


def get_eval_run(session: Session, *, run_id: str) -> EvalRun | None:
    return session.get(EvalRun, run_id)


def list_eval_runs(session: Session, *, limit: int = 20) -> list[EvalRun]:
    """The newest runs first."""
    stmt = select(EvalRun).order_by(col(EvalRun.started_at).desc(), col(EvalRun.id).desc())
    return list(session.exec(stmt.limit(limit)))


def eval_case_results(session: Session, *, run_id: str) -> list[EvalCaseResult]:
    stmt = select(EvalCaseResult).where(EvalCaseResult.run_id == run_id)
    return list(session.exec(stmt.order_by(col(EvalCaseResult.id))))


def eval_checks(session: Session, *, run_id: str) -> list[EvalCheck]:
    stmt = select(EvalCheck).where(EvalCheck.run_id == run_id)
    return list(session.exec(stmt.order_by(col(EvalCheck.id))))


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
