"""SQLModel tables: leads, their behaviour, and everything nurture does about them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# JSONB on PostgreSQL (indexable), plain JSON text on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JsonType, nullable=False))


class LifecycleStage(StrEnum):
    lead = "lead"
    mql = "mql"
    sql = "sql"
    customer = "customer"
    disqualified = "disqualified"


class TouchStatus(StrEnum):
    planned = "planned"
    drafted = "drafted"
    approved = "approved"
    sent = "sent"
    skipped = "skipped"


class OutcomeKind(StrEnum):
    won = "won"
    lost = "lost"
    rejected_mql = "rejected_mql"


# --- leads -------------------------------------------------------------------------------


class LeadBase(SQLModel):
    email: str = Field(index=True, unique=True, max_length=320)
    external_id: str | None = Field(default=None, index=True, unique=True, max_length=128)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    company: str | None = Field(default=None, max_length=200)
    industry: str | None = Field(default=None, max_length=120)
    company_size: int | None = Field(default=None, ge=0)
    role: str | None = Field(default=None, max_length=120)
    country: str | None = Field(default=None, max_length=80)
    timezone: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=120)
    consent: bool = True
    do_not_email: bool = False
    owner: str | None = Field(default=None, max_length=120)
    lifecycle_stage: LifecycleStage = LifecycleStage.lead


class Lead(LeadBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Columns of the source file that have no field of their own (kept for scoring).
    attributes: dict[str, Any] = json_field()
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # When the lead first became an MQL / SQL (funnel timing; None when it never did or when
    # it arrived already past that stage from an import).
    mql_at: datetime | None = None
    sql_at: datetime | None = None

    @property
    def display_name(self) -> str:
        """First and last name, or the address when neither is known."""
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email


# --- behaviour ---------------------------------------------------------------------------


class Event(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Dedupe key: the sender's id, or a content hash when the sender gave none.
    source_event_id: str = Field(unique=True, max_length=200)
    lead_id: int = Field(foreign_key="lead.id")
    type: str = Field(index=True, max_length=64)
    properties: dict[str, Any] = json_field()
    occurred_at: datetime = Field(index=True)
    received_at: datetime = Field(default_factory=utcnow)
    source: str | None = Field(default=None, max_length=64)

    # A lead's events in time order with their types, read from the index alone (profiles);
    # it also serves every lookup by lead id.
    __table_args__ = (Index("ix_event_lead_id_occurred_at_type", "lead_id", "occurred_at", "type"),)


# --- scoring and segments ----------------------------------------------------------------


class ModelVersion(SQLModel, table=True):
    version: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=64)
    metrics: dict[str, Any] = json_field()
    features: list[str] = json_field(list)
    data_hash: str = Field(max_length=64)
    trained_at: datetime = Field(default_factory=utcnow)
    path: str | None = None
    active: bool = False


class Score(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    score: float = Field(ge=0, le=100)
    decile: int | None = Field(default=None, ge=1, le=10)
    fit: float | None = None
    behaviour: float | None = None
    model_version: str = Field(max_length=64)
    factors: list[Any] = json_field(list)
    scored_at: datetime = Field(default_factory=utcnow, index=True)


class SegmentMembership(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    segment: str = Field(index=True, max_length=80)
    entered_at: datetime = Field(default_factory=utcnow)
    exited_at: datetime | None = None  # None while the lead is a member


# --- sequences and touches ---------------------------------------------------------------


class Sequence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=120)
    description: str | None = None
    definition: dict[str, Any] = json_field()
    status: str = Field(default="active", max_length=16)  # active | paused | archived
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Enrollment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    sequence_id: int = Field(foreign_key="sequence.id", index=True)
    status: str = Field(default="active", max_length=16)  # active | paused | completed | exited
    current_step: int = 0
    enrolled_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    # When the next step of the sequence is due (None: not computed yet, or no step left).
    next_step_at: datetime | None = Field(default=None, index=True)

    # One active nurture sequence per lead, even with concurrent writers.
    __table_args__ = (
        Index(
            "uq_enrollment_active_lead",
            "lead_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )


class Touch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    enrollment_id: int | None = Field(default=None, foreign_key="enrollment.id")
    step: int | None = None
    channel: str = Field(default="email", max_length=16)  # email | video | sdr_task
    status: TouchStatus = TouchStatus.planned
    # One touch is sent at most once: the outbox keys sends on this.
    idempotency_key: str = Field(unique=True, max_length=128)
    due_at: datetime | None = Field(default=None, index=True)
    sent_at: datetime | None = None
    skip_reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # Who signs it, `Name <address>`, chosen when it was drafted (a retry sends from the same
    # person); None: the configured main sender.
    sender: str | None = Field(default=None, max_length=400)


class Draft(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    touch_id: int | None = Field(default=None, foreign_key="touch.id", index=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    kind: str = Field(default="email", max_length=16)  # email | video_script
    subject: str | None = None
    preview: str | None = None
    body: str
    # The HTML part of an email as sent (the text part is `body`); None for plain text only.
    html: str | None = None
    sources: list[Any] = json_field(list)
    model: str | None = Field(default=None, max_length=120)
    prompt_version: str | None = Field(default=None, max_length=64)
    tokens: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    # Guardrail findings: a draft with any is never queued for sending.
    guardrails: list[Any] = json_field(list)
    created_at: datetime = Field(default_factory=utcnow)


class Approval(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True, unique=True)
    thread_id: str | None = Field(default=None, max_length=120)  # the paused agent thread
    status: str = Field(default="pending", max_length=16)  # pending|approved|edited|rejected
    decided_by: str | None = Field(default=None, max_length=120)
    decided_at: datetime | None = None
    reason: str | None = None
    edited_subject: str | None = None
    edited_body: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Handoff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    reason: str
    talk_track: str | None = None
    status: str = Field(default="pending", max_length=16)  # pending | accepted | rejected
    sdr: str | None = Field(default=None, max_length=120)
    reject_reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sla_due_at: datetime | None = None
    decided_at: datetime | None = None
    # Which rule fired: demo_request | score_and_intent | mql | manual
    rule: str | None = Field(default=None, max_length=32)
    # why_now, the structured talk track, score and intent events behind the hand-off
    details: dict[str, Any] = json_field()
    decision_note: str | None = None
    latency_s: float | None = None  # created -> decided, wall clock
    within_sla: bool | None = None

    # One open hand-off per lead, even with concurrent writers.
    __table_args__ = (
        Index(
            "uq_handoff_pending_lead",
            "lead_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class AgentRun(SQLModel, table=True):
    """One pass of the per-lead nurture graph: what woke it, what it decided, where it stands."""

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    thread_id: str = Field(max_length=120, index=True)
    # Unique per pass: side-effecting nodes key their writes on it, so a re-run writes once.
    run_key: str = Field(unique=True, max_length=160)
    trigger: str | None = Field(default=None, max_length=64)
    # running | awaiting_approval | done | failed
    status: str = Field(default="running", max_length=24, index=True)
    action: str | None = Field(default=None, max_length=24)
    reason: str | None = None
    touch_id: int | None = Field(default=None, foreign_key="touch.id")
    handoff_id: int | None = Field(default=None, foreign_key="handoff.id")
    next_check_at: datetime | None = Field(default=None, index=True)
    error: str | None = None
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class Outcome(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    kind: OutcomeKind
    reason: str | None = None
    amount: float | None = None
    occurred_at: datetime = Field(default_factory=utcnow)

    __table_args__ = (UniqueConstraint("lead_id", "kind", "occurred_at"),)


class Suppression(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)
    reason: str = Field(max_length=64)  # unsubscribe | bounce | complaint | manual
    created_at: datetime = Field(default_factory=utcnow)


# --- triggers and the outbox ---------------------------------------------------------------


class TriggerFiring(SQLModel, table=True):
    """A trigger rule that fired on an event: the action it scheduled and what became of it."""

    __tablename__ = "trigger_firing"

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    rule: str = Field(max_length=80, index=True)
    action: str = Field(max_length=32)  # run_agent | hand_off | stop | pause
    params: dict[str, Any] = json_field()
    # One firing per rule, lead and event: a replayed event fires nothing twice.
    dedupe_key: str = Field(unique=True, max_length=300)
    source_event_id: str | None = Field(default=None, max_length=200)
    event_type: str | None = Field(default=None, max_length=64)
    event_at: datetime | None = None  # when the lead did it
    received_at: datetime | None = None  # when nurture got the event
    fired_at: datetime = Field(default_factory=utcnow)
    due_at: datetime = Field(default_factory=utcnow)  # when the action runs
    status: str = Field(default="pending", max_length=16)  # pending|done|skipped|cancelled|failed
    done_at: datetime | None = None
    result: str | None = None

    __table_args__ = (Index("ix_trigger_firing_status_due_at", "status", "due_at"),)


class OutboxMessage(SQLModel, table=True):
    """One touch on its way out, keyed by the touch's idempotency key: claimed with a lease,
    delivered with a Message-ID derived from the key, then marked sent."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    touch_id: int = Field(foreign_key="touch.id", unique=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    idempotency_key: str = Field(unique=True, max_length=128)
    message_id: str = Field(unique=True, max_length=255)
    channel: str = Field(default="email", max_length=16)  # email | video | sdr_task
    status: str = Field(default="queued", max_length=16)  # queued|sending|sent|cancelled|failed
    due_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = None
    transport: str | None = Field(default=None, max_length=16)  # smtp | file | task
    recipient: str | None = Field(default=None, max_length=320)
    defer_reason: str | None = None  # why the last attempt was put off
    deferrals: int = 0
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None, index=True)

    __table_args__ = (Index("ix_outbox_status_due_at", "status", "due_at"),)


class DeliveryTask(SQLModel, table=True):
    """A touch a person delivers: a personal video to record, a call or note for an SDR."""

    __tablename__ = "delivery_task"

    id: int | None = Field(default=None, primary_key=True)
    touch_id: int = Field(foreign_key="touch.id", unique=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    kind: str = Field(max_length=16)  # video | sdr_task
    assignee: str | None = Field(default=None, max_length=120)  # the lead's owner, if known
    title: str
    body: str
    status: str = Field(default="open", max_length=16)  # open | done
    created_at: datetime = Field(default_factory=utcnow)
    done_by: str | None = Field(default=None, max_length=120)
    done_at: datetime | None = None


class SlackCard(SQLModel, table=True):
    """The Slack message that carries an approval, a hand-off or a delivery task: where it was
    posted, and the reminder and escalation already sent for it (each at most once)."""

    __tablename__ = "slack_card"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # approval | handoff | task
    ref_id: int  # the approval's, the hand-off's or the delivery task's id
    channel: str | None = Field(default=None, max_length=32)  # None while being posted
    ts: str | None = Field(default=None, max_length=32)
    claimed_at: datetime = Field(default_factory=utcnow)
    posted_at: datetime | None = None
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    closed_at: datetime | None = None  # the card shows the decision
    last_error: str | None = None

    __table_args__ = (UniqueConstraint("kind", "ref_id", name="uq_slack_card_kind_ref"),)


# --- prompt regression evals ---------------------------------------------------------------


class EvalRun(SQLModel, table=True):
    """One run of the eval suite: what ran (model, prompts, cases) and how it scored."""

    __tablename__ = "eval_run"

    id: str = Field(primary_key=True, max_length=64)  # the run id users pass around
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    model: str = Field(max_length=200)
    judge_model: str | None = Field(default=None, max_length=200)
    prompts_dir: str | None = None
    prompt_versions: dict[str, Any] = json_field()  # prompt id -> version and content hash
    dataset: dict[str, Any] = json_field()  # files, their sha256 and the run's clock
    baseline_id: str | None = Field(default=None, max_length=64)
    cases: int = 0
    passed: int = 0
    pass_rate: float = 0.0
    evaluator_rates: dict[str, Any] = json_field()  # evaluator -> pass rate (None: all skipped)
    must_pass_failures: list[Any] = json_field(list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    cached_calls: int = 0
    latency: dict[str, Any] = json_field()  # seconds per case: mean, p50, p95, max
    gate: dict[str, Any] = json_field()  # passed, reasons, max_drop


class EvalCaseResult(SQLModel, table=True):
    """One case of a run: whether it passed, and what the agent did (draft included)."""

    __tablename__ = "eval_case_result"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="eval_run.id", index=True, max_length=64)
    case_id: str = Field(max_length=120)
    must_pass: bool = False
    passed: bool = False
    segment: str | None = Field(default=None, max_length=80)
    outcome: dict[str, Any] = json_field()  # result, action, stage, steps, tools, draft
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    cached_calls: int = 0
    error: str | None = None

    __table_args__ = (UniqueConstraint("run_id", "case_id"),)


class EvalCheck(SQLModel, table=True):
    """One evaluator's verdict on one case of a run."""

    __tablename__ = "eval_check"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="eval_run.id", max_length=64)
    case_id: str = Field(max_length=120)
    evaluator: str = Field(max_length=64)
    status: str = Field(max_length=8)  # pass | fail | skip
    score: float | None = None
    reason: str | None = None
    details: dict[str, Any] = json_field()

    __table_args__ = (Index("ix_eval_check_run_id_case_id", "run_id", "case_id"),)


# --- experiments (bandit tests of variants) -------------------------------------------------


class Experiment(SQLModel, table=True):
    """A continuous test of one dimension of the touches sent to one segment."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=120)
    segment: str = Field(max_length=80)  # a segment name, or "*" for every lead
    dimension: str = Field(max_length=24)  # subject | cta | format | send_hour_band
    objective: str = Field(max_length=16)  # reply | click | meeting
    status: str = Field(default="running", max_length=16)  # running | paused | done
    round: int = 1  # goes up each time a winner is promoted and new challengers start
    threshold: float = 0.95  # P(best) that declares a winner
    min_trials: int = 200  # sends per arm before a winner can be declared
    floor: float = 0.02  # the least share of sends each arm keeps
    last_verdict: dict[str, Any] = json_field()  # p_best per arm id, leader, reason, at
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    # One running experiment per segment and dimension, even with concurrent writers.
    __table_args__ = (
        Index(
            "uq_experiment_running_segment_dimension",
            "segment",
            "dimension",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
    )


class ExperimentArm(SQLModel, table=True):
    """One variant under test, with the sends it got and the successes they brought."""

    __tablename__ = "experiment_arm"

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: int = Field(foreign_key="experiment.id", index=True)
    value: str  # the variant: a subject or CTA template, text | video, or an hour band
    source: str = Field(default="marketer", max_length=16)  # marketer | draft | model
    # active: being sent; queued: waits for the next round; retired: lost a round
    status: str = Field(default="active", max_length=16)
    is_control: bool = False
    successes: int = 0
    trials: int = 0
    round_added: int = 1
    won_rounds: int = 0
    p_best: float | None = None  # at the last verdict
    created_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None

    __table_args__ = (UniqueConstraint("experiment_id", "value", name="uq_experiment_arm_value"),)


class ExperimentAssignment(SQLModel, table=True):
    """Which arm a lead's touch was given, so that its engagement rewards the right arm once."""

    __tablename__ = "experiment_assignment"

    id: int | None = Field(default=None, primary_key=True)
    experiment_id: int = Field(foreign_key="experiment.id", index=True)
    arm_id: int = Field(foreign_key="experiment_arm.id", index=True)
    lead_id: int = Field(foreign_key="lead.id", index=True)
    # The draft made with the variant, then the touch that carries it (set when the touch is
    # queued); None while not known, and for ever when the draft is never queued.
    draft_id: int | None = Field(default=None, foreign_key="draft.id", index=True)
    touch_id: int | None = Field(default=None, foreign_key="touch.id", index=True)
    assigned_at: datetime = Field(default_factory=utcnow)
    # When the touch went out: the arm's trial is counted then, once (an assignment whose
    # touch is held, rejected or cancelled is no trial).
    sent_at: datetime | None = None
    rewarded_at: datetime | None = None
    reward_event_id: str | None = Field(default=None, max_length=200)
