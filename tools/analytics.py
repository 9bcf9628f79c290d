"""The pipeline summary managers ask for (DOMAIN.md "Metrics people ask for"), by segment, by
sequence and by week, with plotly figure builders for the funnel and the trend.

Definitions (all times UTC; a period is [since, until)):
- a lead starts at the earlier of its creation and its first event;
- it reached MQL when it has `mql_at`, is past the lead stage, or has a rejected-MQL outcome;
  it reached SQL when it has `sql_at` or is SQL or customer (a won outcome alone does not make
  an SQL: imported history would inflate MQL->SQL). When the moment is not recorded (e.g. a
  CRM import), the next known moment stands in: SQL time, then the first outcome, then the
  lead's start;
- lead->MQL is the share of leads that started in the period and reached MQL (by now);
  MQL->SQL the share of the period's MQLs that reached SQL;
- contacts in nurture are leads enrolled in a sequence at any time in the period (open leads
  that are not excluded, while the store has no enrolments yet: `nurture_basis` says which);
- revenue influenced is the won amount of leads that were enrolled or sent a touch before the
  win; email rates are events per email sent by nurture in the period;
- nurture against the holdout (when a holdout is given): the leads created in the period,
  split by the holdout hash, each cohort's conversion to SQL or won and the uplift's 95 %
  interval, as `nurture report experiments` computes them (`tools.bandit.cohorts`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sqlalchemy import String, func, select, type_coerce
from sqlmodel import Session, col

from store.models import (
    Enrollment,
    Event,
    Handoff,
    Lead,
    Outcome,
    SegmentMembership,
    Touch,
    utcnow,
)
from store.models import Sequence as SequenceRow
from tools.bandit.cohorts import holdout_report
from tools.bandit.holdout import HoldoutCohort

MQL_TO_SQL_BENCHMARK = 0.13
MQL_TO_SQL_TOP_QUARTILE = 0.22
EMAIL_TARGETS = {
    "open_rate": "25-35 %",
    "click_rate": "3-5 %",
    "unsubscribe_rate": "below 0.5 %",
}
EMAIL_EVENTS = {
    "email_open": "opens",
    "email_click": "clicks",
    "email_reply": "replies",
    "unsubscribe": "unsubscribes",
}
PAST_LEAD = ("mql", "sql", "customer")
PAST_MQL = ("sql", "customer")
MAX_TREND_WEEKS = 52


class AnalyticsError(ValueError):
    """A report request that cannot be answered as asked; the message says what to change."""


def pipeline_summary(
    session: Session,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    segment: str | None = None,
    *,
    now: datetime | None = None,
    trend_weeks: int = 12,
    holdout: HoldoutCohort | None = None,
) -> dict[str, Any]:
    """The pipeline over [since, until) (all time when `since` is None), for the leads now in
    `segment` (a name or a pattern such as `mofu:*`) or everyone. JSON-ready. `since` and
    `until` may be words a person types: see `parse_moment`. With the `holdout` cohort,
    `holdout` compares nurtured leads with it (else it is None)."""
    now = _utc(now or utcnow())
    if isinstance(since, str):
        since = parse_moment(since, now=now) if since.strip() else None
    if isinstance(until, str):
        until = parse_moment(until, end=True, now=now) if until.strip() else None
    until = _utc(until) if until is not None else now
    since = _utc(since) if since is not None else None
    if since is not None and since >= until:
        raise AnalyticsError(f"since ({since:%Y-%m-%d}) must be before until ({until:%Y-%m-%d})")
    leads_filter = _segment_filter(session, segment)
    funnel = _funnel_frame(session, leads_filter)
    enrol = _enrollments(session, leads_filter)
    trend_start = _trend_start(since, until, trend_weeks)
    touches = _touches(session, leads_filter, until)
    handoffs = _handoffs(session, leads_filter)
    won = _won(session, leads_filter)
    period = (since, until)
    in_nurture, basis = _in_nurture(funnel, enrol, period, session, leads_filter)
    return {
        "period": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat(),
            "segment": segment,
            "generated_at": now.isoformat(),
        },
        "totals": _totals(funnel, enrol, touches, handoffs, won, period, in_nurture, now),
        "conversion": _conversion(funnel, period, in_nurture),
        "nurture_basis": basis,
        "handoffs": _handoff_figures(handoffs, period, min(until, now)),
        "revenue": _revenue(won, enrol, touches, period),
        "email": _email(session, leads_filter, touches, period),
        "by_segment": _by_segment(session, funnel, won, leads_filter, period),
        "by_sequence": _by_sequence(session, funnel, enrol, touches, won, period, now),
        "trend": _trend(funnel, touches, handoffs, won, trend_start, since, until),
        "holdout": None
        if holdout is None
        else holdout_report(
            session,
            share=holdout.share,
            salt=holdout.salt,
            since=since,
            until=until,
            lead_ids=leads_filter,
        ),
    }


RELATIVE = re.compile(r"^(\d{1,4})\s*(d|day|days|w|week|weeks)(\s+ago)?$")


def parse_moment(text: str, *, end: bool = False, now: datetime | None = None) -> datetime:
    """A moment from what a person types: `2026-11-01`, an ISO time, `30d` / `4 weeks`, or
    today, yesterday, this/last week, this/last month, this quarter, this year. With `end`, a
    day or a named span means its end (so `--until 2026-11-30` includes the 30th)."""
    now = _utc(now or utcnow())
    word = " ".join(text.strip().lower().split())
    relative = RELATIVE.match(word)
    if relative:
        days = int(relative.group(1)) * (7 if relative.group(2).startswith("w") else 1)
        return now - timedelta(days=days)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = today.replace(day=1)
    spans = {
        "today": (today, today + timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "this week": (_monday(today), _monday(today) + timedelta(weeks=1)),
        "last week": (_monday(today) - timedelta(weeks=1), _monday(today)),
        "this month": (month, _add_months(month, 1)),
        "last month": (_add_months(month, -1), month),
        "this quarter": (_quarter(month), _add_months(_quarter(month), 3)),
        "last quarter": (_add_months(_quarter(month), -3), _quarter(month)),
        "this year": (month.replace(month=1), month.replace(year=month.year + 1, month=1)),
    }
    if word in spans:
        start, stop = spans[word]
        return min(stop, now) if end else start
    try:
        moment = datetime.fromisoformat(word.upper().replace("Z", "+00:00"))
    except ValueError:
        raise AnalyticsError(
            f"{text!r} is not a date: use YYYY-MM-DD, an ISO time such as 2026-11-01T09:00:00Z, "
            "30d for 30 days ago, or this month / last month / this week / this quarter"
        ) from None
    moment = _utc(moment)
    if end and len(word) == 10:  # a whole day
        moment += timedelta(days=1)
    return moment


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1)


def _quarter(month: datetime) -> datetime:
    return month.replace(month=(month.month - 1) // 3 * 3 + 1)


# --- loading -------------------------------------------------------------------------------


def _segment_filter(session: Session, segment: str | None) -> Any:
    """A subquery of lead ids now in `segment`, or None for everyone."""
    if segment is None or not segment.strip():
        return None
    pattern = segment.strip()
    like = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace("*", "%")
    matches = col(SegmentMembership.segment).like(like, escape="\\")
    ever = session.execute(select(col(SegmentMembership.segment)).where(matches).limit(1)).first()
    if ever is None:
        known = session.execute(
            select(col(SegmentMembership.segment))
            .where(col(SegmentMembership.exited_at).is_(None))
            .group_by(col(SegmentMembership.segment))
            .order_by(func.count().desc())
            .limit(12)
        ).scalars()
        names = list(known)
        hint = f"; current segments include {', '.join(names)}" if names else ""
        raise AnalyticsError(f"no lead has ever been in segment {pattern!r}{hint}")
    return (
        select(col(SegmentMembership.lead_id))
        .where(matches, col(SegmentMembership.exited_at).is_(None))
        .scalar_subquery()
    )


def _only(stmt: Any, column: Any, leads_filter: Any) -> Any:
    return stmt if leads_filter is None else stmt.where(col(column).in_(leads_filter))


def _raw(column: Any) -> Any:
    """A time column as the driver returns it (SQLite: its stored text): pandas parses a whole
    column far faster than SQLAlchemy converts each value."""
    return type_coerce(column, String)


def _frame(
    session: Session, stmt: Any, columns: Sequence[str], times: Sequence[str]
) -> pd.DataFrame:
    # Core rows through the session's connection: the ORM result layer costs more than the
    # query on a whole-store report. Pending changes are flushed first, as `execute` would.
    session.flush()
    rows = [tuple(row) for row in session.connection().execute(stmt)]
    frame = pd.DataFrame(rows, columns=list(columns))
    for name in times:
        frame[name] = _stamps(frame[name])
    return frame


def _stamps(values: pd.Series) -> pd.Series:
    first = values.first_valid_index()
    text = first is not None and isinstance(values[first], str)
    return pd.to_datetime(values, utc=True, format="ISO8601" if text else None)


def _funnel_frame(session: Session, leads_filter: Any) -> pd.DataFrame:
    """One row per lead: start, funnel moments (`mql_time`, `sql_time`) and outcomes."""
    leads = _frame(
        session,
        _only(
            select(
                col(Lead.id),
                _raw(Lead.created_at),
                col(Lead.lifecycle_stage),
                _raw(Lead.mql_at),
                _raw(Lead.sql_at),
            ),
            Lead.id,
            leads_filter,
        ),
        ["lead_id", "created_at", "stage", "mql_at", "sql_at"],
        ["created_at", "mql_at", "sql_at"],
    ).set_index("lead_id")
    first = _frame(
        session,
        _only(
            select(col(Event.lead_id), _raw(func.min(Event.occurred_at))).group_by(
                col(Event.lead_id)
            ),
            Event.lead_id,
            leads_filter,
        ),
        ["lead_id", "first_event_at"],
        ["first_event_at"],
    ).set_index("lead_id")
    outcomes = _frame(
        session,
        _only(
            select(col(Outcome.lead_id), col(Outcome.kind), _raw(Outcome.occurred_at)),
            Outcome.lead_id,
            leads_filter,
        ),
        ["lead_id", "kind", "occurred_at"],
        ["occurred_at"],
    )
    outcomes["kind"] = outcomes["kind"].astype(str)
    firsts = outcomes.groupby(["lead_id", "kind"])["occurred_at"].min().unstack()
    frame = leads.join(first, how="left")
    for kind in ("won", "rejected_mql"):
        column = firsts[kind] if kind in firsts.columns else pd.Series(dtype="datetime64[ns, UTC]")
        frame[f"{kind}_at"] = column.reindex(frame.index)
    frame["stage"] = frame["stage"].astype(str)
    frame["start"] = _times(frame[["created_at", "first_event_at"]].min(axis=1))
    first_outcome = _times(frame[["won_at", "rejected_mql_at"]].min(axis=1))
    # Outcomes alone do not make an SQL: imported history often carries won deals that never
    # passed through a recorded hand-off, and counting them would inflate MQL->SQL.
    reached_sql = frame["sql_at"].notna() | frame["stage"].isin(PAST_MQL)
    reached_mql = (
        reached_sql
        | frame["mql_at"].notna()
        | frame["stage"].isin(PAST_LEAD)
        | frame["rejected_mql_at"].notna()
    )
    frame["mql_time"] = (
        frame["mql_at"].fillna(frame["sql_at"]).fillna(first_outcome).fillna(frame["start"])
    ).where(reached_mql)
    frame["sql_time"] = (
        frame["sql_at"].fillna(frame["won_at"]).fillna(frame["mql_time"]).fillna(frame["start"])
    ).where(reached_sql)
    return frame


def _enrollments(session: Session, leads_filter: Any) -> pd.DataFrame:
    stmt = select(
        col(Enrollment.id),
        col(Enrollment.lead_id),
        col(SequenceRow.name),
        col(Enrollment.status),
        _raw(Enrollment.enrolled_at),
        _raw(Enrollment.ended_at),
    ).join(SequenceRow, col(SequenceRow.id) == col(Enrollment.sequence_id))
    return _frame(
        session,
        _only(stmt, Enrollment.lead_id, leads_filter),
        ["enrollment_id", "lead_id", "sequence", "status", "enrolled_at", "ended_at"],
        ["enrolled_at", "ended_at"],
    )


def _touches(session: Session, leads_filter: Any, until: datetime) -> pd.DataFrame:
    """Every send before `until`: earlier ones decide "influenced"; periods filter later."""
    stmt = (
        select(
            col(Touch.id),
            col(Touch.lead_id),
            col(Touch.enrollment_id),
            col(Touch.channel),
            _raw(Touch.sent_at),
        )
        .where(col(Touch.sent_at).is_not(None), col(Touch.sent_at) < until)
        .where(col(Touch.status) == "sent")
    )
    return _frame(
        session,
        _only(stmt, Touch.lead_id, leads_filter),
        ["touch_id", "lead_id", "enrollment_id", "channel", "sent_at"],
        ["sent_at"],
    )


def _handoffs(session: Session, leads_filter: Any) -> pd.DataFrame:
    stmt = select(
        col(Handoff.lead_id),
        col(Handoff.status),
        _raw(Handoff.created_at),
        _raw(Handoff.decided_at),
        _raw(Handoff.sla_due_at),
        col(Handoff.latency_s),
        col(Handoff.within_sla),
    )
    return _frame(
        session,
        _only(stmt, Handoff.lead_id, leads_filter),
        ["lead_id", "status", "created_at", "decided_at", "sla_due_at", "latency_s", "within_sla"],
        ["created_at", "decided_at", "sla_due_at"],
    )


def _won(session: Session, leads_filter: Any) -> pd.DataFrame:
    stmt = select(col(Outcome.lead_id), col(Outcome.amount), _raw(Outcome.occurred_at)).where(
        col(Outcome.kind) == "won"
    )
    frame = _frame(
        session,
        _only(stmt, Outcome.lead_id, leads_filter),
        ["lead_id", "amount", "won_at"],
        ["won_at"],
    )
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce")
    return frame


# --- figures -----------------------------------------------------------------------------


def _in(times: pd.Series, period: tuple[datetime | None, datetime]) -> pd.Series:
    since, until = period
    mask = times.notna() & (times < until)
    return mask & (times >= since) if since is not None else mask


def _in_nurture(
    funnel: pd.DataFrame,
    enrol: pd.DataFrame,
    period: tuple[datetime | None, datetime],
    session: Session,
    leads_filter: Any,
) -> tuple[set[int], str]:
    since, until = period
    if not enrol.empty:
        overlap = enrol["enrolled_at"] < until
        if since is not None:
            overlap &= enrol["ended_at"].isna() | (enrol["ended_at"] >= since)
        return set(enrol.loc[overlap, "lead_id"].astype(int)), "enrollments"
    excluded = set(
        session.execute(
            _only(
                select(col(SegmentMembership.lead_id)).where(
                    col(SegmentMembership.segment) == "excluded",
                    col(SegmentMembership.exited_at).is_(None),
                ),
                SegmentMembership.lead_id,
                leads_filter,
            )
        ).scalars()
    )
    started = funnel["start"] < until
    not_sql_yet = funnel["sql_time"].isna() | (
        funnel["sql_time"] >= since if since is not None else True
    )
    open_ids = funnel.index[
        started & not_sql_yet & funnel["stage"].isin(["lead", "mql", *PAST_MQL])
    ]
    return {int(i) for i in open_ids if int(i) not in excluded}, "open leads (no enrolments yet)"


def _totals(
    funnel: pd.DataFrame,
    enrol: pd.DataFrame,
    touches: pd.DataFrame,
    handoffs: pd.DataFrame,
    won: pd.DataFrame,
    period: tuple[datetime | None, datetime],
    in_nurture: set[int],
    now: datetime,
) -> dict[str, Any]:
    active = (
        enrol[(enrol["status"] == "active") & (enrol["enrolled_at"] <= now)]
        if len(enrol)
        else enrol
    )
    return {
        "leads": int((funnel["start"] < period[1]).sum()),
        "new_leads": int(_in(funnel["start"], period).sum()),
        "mqls": int(_in(funnel["mql_time"], period).sum()),
        "sqls": int(_in(funnel["sql_time"], period).sum()),
        "won": int(_in(won["won_at"], period).sum()),
        "in_nurture": len(in_nurture),
        "active_enrollments": int(active["lead_id"].nunique()) if len(active) else 0,
        "touches_sent": int(_in(touches["sent_at"], period).sum()),
        "handoffs": int(_in(handoffs["created_at"], period).sum()),
    }


def _rate(numerator: float, denominator: float, digits: int = 3) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def _median(values: pd.Series, digits: int = 1) -> float | None:
    values = values.dropna()
    return round(float(values.median()), digits) if len(values) else None


def _days(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 86400


def _conversion(
    funnel: pd.DataFrame, period: tuple[datetime | None, datetime], in_nurture: set[int]
) -> dict[str, Any]:
    new = funnel[_in(funnel["start"], period)]
    mqls = funnel[_in(funnel["mql_time"], period)]
    mql_to_sql = _rate(mqls["sql_time"].notna().sum(), len(mqls))
    nurtured = funnel[funnel.index.isin(list(in_nurture))]
    nurtured_sqls = int(_in(nurtured["sql_time"], period).sum())
    known_mql = funnel[_in(funnel["mql_at"], period)]
    known_sql = funnel[_in(funnel["sql_at"], period) & funnel["mql_at"].notna()]
    versus = None
    if mql_to_sql is not None:
        versus = "above" if mql_to_sql > MQL_TO_SQL_BENCHMARK else "below"
        if mql_to_sql >= MQL_TO_SQL_TOP_QUARTILE:
            versus = "top quartile"
        elif mql_to_sql == MQL_TO_SQL_BENCHMARK:
            versus = "at"
    return {
        "lead_to_mql": _rate(new["mql_time"].notna().sum(), len(new)),
        "mql_to_sql": mql_to_sql,
        "mql_to_sql_benchmark": MQL_TO_SQL_BENCHMARK,
        "mql_to_sql_top_quartile": MQL_TO_SQL_TOP_QUARTILE,
        "mql_to_sql_vs_benchmark": versus,
        "sqls_per_1000_in_nurture": _rate(nurtured_sqls * 1000, len(nurtured), 1),
        "median_days_to_mql": _median(_days(known_mql["mql_at"] - known_mql["start"])),
        "median_days_mql_to_sql": _median(_days(known_sql["sql_at"] - known_sql["mql_at"])),
    }


def _handoff_figures(
    handoffs: pd.DataFrame, period: tuple[datetime | None, datetime], moment: datetime
) -> dict[str, Any]:
    rows = handoffs[_in(handoffs["created_at"], period)]
    decided = rows[rows["decided_at"].notna()]
    pending = rows[rows["status"] == "pending"]
    breached = pending[pending["sla_due_at"].notna() & (pending["sla_due_at"] < moment)]
    within = decided["within_sla"].fillna(True).astype(bool)
    judged = len(decided) + len(breached)
    return {
        "created": len(rows),
        "accepted": int((rows["status"] == "accepted").sum()),
        "rejected": int((rows["status"] == "rejected").sum()),
        "pending": len(pending),
        "pending_past_sla": len(breached),
        "median_latency_hours": _median(pd.to_numeric(decided["latency_s"]) / 3600, 2),
        "within_sla": _rate(within.sum(), judged),
        "accept_rate": _rate((rows["status"] == "accepted").sum(), len(decided)),
    }


def _revenue(
    won: pd.DataFrame,
    enrol: pd.DataFrame,
    touches: pd.DataFrame,
    period: tuple[datetime | None, datetime],
) -> dict[str, Any]:
    wins = won[_in(won["won_at"], period)]
    first_enrolled = enrol.groupby("lead_id")["enrolled_at"].min() if len(enrol) else pd.Series()
    first_touch = touches.groupby("lead_id")["sent_at"].min() if len(touches) else pd.Series()
    nurtured_since = pd.concat([first_enrolled, first_touch], axis=1).min(axis=1)
    started = _lookup(wins["lead_id"], nurtured_since)
    influenced = wins[started.notna() & (started <= wins["won_at"])]
    amount = wins["amount"].fillna(0)
    return {
        "won_deals": len(wins),
        "won_amount": round(float(amount.sum()), 2),
        "influenced_deals": len(influenced),
        "influenced_amount": round(float(influenced["amount"].fillna(0).sum()), 2),
        "average_deal_size": round(float(wins["amount"].mean()), 2)
        if wins["amount"].notna().any()
        else None,
    }


def _email(
    session: Session,
    leads_filter: Any,
    touches: pd.DataFrame,
    period: tuple[datetime | None, datetime],
) -> dict[str, Any]:
    since, until = period
    stmt = (
        select(col(Event.type), func.count(), func.count(func.distinct(col(Event.lead_id))))
        .where(col(Event.type).in_(list(EMAIL_EVENTS)), col(Event.occurred_at) < until)
        .group_by(col(Event.type))
    )
    if since is not None:
        stmt = stmt.where(col(Event.occurred_at) >= since)
    counts = {
        kind: (n, leads)
        for kind, n, leads in session.execute(_only(stmt, Event.lead_id, leads_filter))
    }
    sent = int((_in(touches["sent_at"], period) & (touches["channel"] == "email")).sum())
    out: dict[str, Any] = {"emails_sent": sent}
    for kind, name in EMAIL_EVENTS.items():
        total, leads = counts.get(kind, (0, 0))
        out[name] = int(total)
        out[f"leads_with_{name}"] = int(leads)
    out["open_rate"] = _rate(out["opens"], sent)
    out["click_rate"] = _rate(out["clicks"], sent)
    out["reply_rate"] = _rate(out["replies"], sent)
    out["unsubscribe_rate"] = _rate(out["unsubscribes"], sent, 4)
    out["click_to_open"] = _rate(out["clicks"], out["opens"])
    out["targets"] = dict(EMAIL_TARGETS)
    return out


def _group_figures(
    members: pd.DataFrame, period: tuple[datetime | None, datetime], won: pd.DataFrame
) -> dict[str, Any]:
    new = members[_in(members["start"], period)]
    mqls = members[_in(members["mql_time"], period)]
    wins = won[won["lead_id"].isin(members.index) & _in(won["won_at"], period)]
    return {
        "leads": len(members),
        "new_leads": len(new),
        "mqls": len(mqls),
        "sqls": int(_in(members["sql_time"], period).sum()),
        "lead_to_mql": _rate(new["mql_time"].notna().sum(), len(new)),
        "mql_to_sql": _rate(mqls["sql_time"].notna().sum(), len(mqls)),
        "won_deals": len(wins),
        "won_amount": round(float(wins["amount"].fillna(0).sum()), 2),
    }


def _by_segment(
    session: Session,
    funnel: pd.DataFrame,
    won: pd.DataFrame,
    leads_filter: Any,
    period: tuple[datetime | None, datetime],
) -> list[dict[str, Any]]:
    stmt = select(col(SegmentMembership.lead_id), col(SegmentMembership.segment)).where(
        col(SegmentMembership.exited_at).is_(None)
    )
    members = _frame(
        session, _only(stmt, SegmentMembership.lead_id, leads_filter), ["lead_id", "segment"], []
    )
    rows = []
    for name, group in members.groupby("segment"):
        ids = group["lead_id"].astype(int).tolist()
        rows.append(
            {
                "segment": str(name),
                **_group_figures(funnel.loc[funnel.index.intersection(ids)], period, won),
            }
        )
    return sorted(rows, key=lambda row: (-row["leads"], row["segment"]))


def _by_sequence(
    session: Session,
    funnel: pd.DataFrame,
    enrol: pd.DataFrame,
    touches: pd.DataFrame,
    won: pd.DataFrame,
    period: tuple[datetime | None, datetime],
    now: datetime,
) -> list[dict[str, Any]]:
    since, until = period
    statuses = dict(session.execute(select(col(SequenceRow.name), col(SequenceRow.status))).all())
    rows = []
    for name in sorted(statuses):
        runs = enrol[enrol["sequence"] == name]
        overlap = runs["enrolled_at"] < until
        if since is not None:
            overlap &= runs["ended_at"].isna() | (runs["ended_at"] >= since)
        runs = runs[overlap]
        first = runs.groupby("lead_id")["enrolled_at"].min()
        members = funnel.loc[funnel.index.intersection(first.index)]
        entered = _times(first.reindex(members.index))
        mqls = _in(members["mql_time"], period) & (members["mql_time"] >= entered)
        sqls = _in(members["sql_time"], period) & (members["sql_time"] >= entered)
        wins = won[won["lead_id"].isin(first.index) & _in(won["won_at"], period)]
        wins = wins[wins["won_at"] >= _lookup(wins["lead_id"], first)]
        sent = _sent_during(touches, runs)
        close_days = _days(wins["won_at"] - _lookup(wins["lead_id"], first))
        rows.append(
            {
                "sequence": name,
                "status": statuses[name],
                "enrolled": len(first),
                "active": int(((runs["status"] == "active") & (runs["enrolled_at"] <= now)).sum()),
                "touches_sent": int(_in(sent["sent_at"], period).sum()),
                "mqls": int(mqls.sum()),
                "sqls": int(sqls.sum()),
                "won_deals": len(wins),
                "won_amount": round(float(wins["amount"].fillna(0).sum()), 2),
                "close_rate": _rate(wins["lead_id"].nunique(), len(first)),
                "average_deal_size": round(float(wins["amount"].mean()), 2)
                if wins["amount"].notna().any()
                else None,
                "median_days_to_close": _median(close_days),
            }
        )
    return rows


def _sent_during(touches: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Touches a lead got while it ran in one of `runs`: the sequence's own steps and the agent's
    touches between them (a lead is nurtured on its track by both)."""
    if touches.empty or runs.empty:
        return touches.iloc[0:0]
    spans = runs[["lead_id", "enrollment_id", "enrolled_at", "ended_at"]]
    joined = touches.merge(spans, on="lead_id", suffixes=("", "_run"))
    inside = (joined["enrollment_id"] == joined["enrollment_id_run"]) | (
        (joined["sent_at"] >= joined["enrolled_at"])
        & (joined["ended_at"].isna() | (joined["sent_at"] < joined["ended_at"]))
    )
    return joined[inside].drop_duplicates(subset="touch_id")


def _trend_start(since: datetime | None, until: datetime, weeks: int) -> datetime:
    """The Monday the weekly series starts on: the week of `since`, or `weeks` weeks ending with
    the week of `until` (a year at most)."""
    last = _monday(until if until > _monday(until) else until - timedelta(days=1))
    earliest = last - timedelta(weeks=MAX_TREND_WEEKS - 1)
    start = _monday(since) if since is not None else last - timedelta(weeks=max(1, weeks) - 1)
    return max(start, earliest)


def _monday(moment: datetime) -> datetime:
    day = moment - timedelta(days=moment.weekday())
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def _trend(
    funnel: pd.DataFrame,
    touches: pd.DataFrame,
    handoffs: pd.DataFrame,
    won: pd.DataFrame,
    start: datetime,
    since: datetime | None,
    until: datetime,
) -> list[dict[str, Any]]:
    weeks = []
    cursor = start
    while cursor < until:
        # The first week starts at `since`: no bucket counts what the period leaves out.
        window: tuple[datetime | None, datetime] = (
            max(cursor, since) if since is not None else cursor,
            min(cursor + timedelta(days=7), until),
        )
        wins = won[_in(won["won_at"], window)]
        weeks.append(
            {
                "week_start": cursor.date().isoformat(),
                "new_leads": int(_in(funnel["start"], window).sum()),
                "mqls": int(_in(funnel["mql_time"], window).sum()),
                "sqls": int(_in(funnel["sql_time"], window).sum()),
                "handoffs": int(_in(handoffs["created_at"], window).sum()),
                "touches_sent": int(_in(touches["sent_at"], window).sum()),
                "won_deals": len(wins),
                "won_amount": round(float(wins["amount"].fillna(0).sum()), 2),
            }
        )
        cursor += timedelta(days=7)
    return weeks


# --- charts ------------------------------------------------------------------------------


def funnel_figure(summary: dict[str, Any]) -> go.Figure:
    """New leads -> MQLs -> SQLs -> won deals in the period."""
    totals = summary["totals"]
    stages = ["New leads", "MQLs", "SQLs", "Won deals"]
    values = [totals["new_leads"], totals["mqls"], totals["sqls"], totals["won"]]
    figure = go.Figure(go.Funnel(y=stages, x=values, textinfo="value+percent initial"))
    figure.update_layout(title=f"Pipeline funnel, {_period_label(summary)}", margin={"l": 120})
    return figure


def trend_figure(summary: dict[str, Any]) -> go.Figure:
    """Weekly new leads, MQLs, SQLs and hand-offs, with won revenue on a second axis."""
    weeks = summary["trend"]
    x = [week["week_start"] for week in weeks]
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(
        go.Bar(x=x, y=[w["won_amount"] for w in weeks], name="Won revenue", opacity=0.35),
        secondary_y=True,
    )
    for key, label in (
        ("new_leads", "New leads"),
        ("mqls", "MQLs"),
        ("sqls", "SQLs"),
        ("handoffs", "Hand-offs"),
    ):
        figure.add_trace(
            go.Scatter(x=x, y=[w[key] for w in weeks], name=label, mode="lines+markers"),
            secondary_y=False,
        )
    figure.update_layout(title=f"Weekly trend, {_period_label(summary)}", hovermode="x unified")
    figure.update_xaxes(title_text="week starting")
    figure.update_yaxes(title_text="leads", secondary_y=False)
    figure.update_yaxes(title_text="revenue", secondary_y=True)
    return figure


def holdout_figure(summary: dict[str, Any]) -> go.Figure | None:
    """Conversion to SQL or won, nurtured leads against the holdout, each with its 95 %
    interval; the uplift and the verdict in the title. None when the summary has no holdout."""
    holdout = summary.get("holdout")
    if not holdout:
        return None
    bars = [
        ("Nurtured", holdout["nurtured"], holdout["nurtured_rate"], holdout["nurtured_ci"]),
        ("Holdout", holdout["holdout"], holdout["holdout_rate"], holdout["holdout_ci"]),
    ]
    rates = [(rate or 0) * 100 for _, _, rate, _ in bars]
    figure = go.Figure(
        go.Bar(
            x=[f"{name} ({count:,} leads)" for name, count, _, _ in bars],
            y=rates,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [ci[1] * 100 - y for (_, _, _, ci), y in zip(bars, rates, strict=True)],
                "arrayminus": [
                    y - ci[0] * 100 for (_, _, _, ci), y in zip(bars, rates, strict=True)
                ],
            },
            text=[f"{y:.1f} %" for y in rates],
        )
    )
    figure.update_layout(
        title=f"Nurture vs holdout, {_period_label(summary)}<br><sub>"
        f"{holdout['verdict_text']}</sub>",
        yaxis_title=f"{holdout['conversion']} (%)",
    )
    return figure


def _period_label(summary: dict[str, Any]) -> str:
    period = summary["period"]
    since = period["since"][:10] if period["since"] else "the start"
    label = f"{since} to {period['until'][:10]}"
    return f"{label} ({period['segment']})" if period.get("segment") else label


def _lookup(keys: pd.Series, times: pd.Series) -> pd.Series:
    """`times` (indexed by lead id) for each key, aligned with `keys`; NaT where missing."""
    return _times(pd.Series(times.reindex(keys.to_numpy()).to_numpy(), index=keys.index))


def _times(values: pd.Series) -> pd.Series:
    """Timestamps in UTC whatever pandas made of them (an all-missing column comes back float)."""
    return pd.to_datetime(values, utc=True)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
