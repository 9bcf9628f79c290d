"""Scoring the leads in the store: train on their outcomes, score on arrival, rescore everyone.

Until a model is trained (the seeds: ~90 days of won/lost history) the rules baseline scores
leads; every score row keeps the version that made it (`rules:<name>` or the model version).
Deciles: 1 is the top 10 % of the current lead population, 10 the bottom.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from store import crud
from store.models import Lead, LifecycleStage, ModelVersion, Outcome, OutcomeKind, Score
from tools import profile
from tools.scoring.errors import ScoringError
from tools.scoring.explain import explain
from tools.scoring.model import LeadScorer
from tools.scoring.rules import RULES_DIR, RuleSet, load_rules
from tools.scoring.train import train_from_frame
from tools.scoring.versions import load_model, save_model
from tools.workers import map_chunks

TARGET = "converted"
# Never features: identity, consent state, and windows relative to "now" (they mean something
# else for a lead closed months ago). Unsubscribes are not a buying signal (the seeds).
NOT_FEATURES = [
    "email", "first_name", "last_name", "company", "owner", "lifecycle_stage", "consent",
    "do_not_email", "timezone", "unsubscribes", "bounces", "events_7d", "events_30d",
    "pricing_page_views_7d", "high_intent_48h",
]  # fmt: skip
MIN_PER_CLASS = 30


@dataclass(frozen=True)
class Scorer:
    """What scores leads right now: a trained model, or the rules baseline alone."""

    version: str
    rules: RuleSet
    model: LeadScorer | None = None
    # Population decile edges (ascending score cut points) from the last full rescore.
    edges: tuple[float, ...] = ()

    @property
    def columns(self) -> set[str]:
        """The profile columns this scorer reads."""
        used = set(self.rules.columns)
        return used | set(self.model.features_.kinds_) if self.model is not None else used

    def decile(self, scores: np.ndarray) -> np.ndarray:
        if not self.edges:
            return np.zeros(len(scores), dtype=int)
        return 10 - np.searchsorted(np.asarray(self.edges), scores, side="right")


# --- training ----------------------------------------------------------------------------


def training_frame(session: Session, *, now: datetime | None = None) -> pd.DataFrame:
    """One row per lead with a closed outcome: its profile as of that outcome, and `converted`.

    Rejected MQLs count as not converted: the SDR's verdict feeds back as a label.
    """
    now = now or datetime.now(UTC)
    rows = session.execute(
        select(col(Outcome.lead_id), col(Outcome.kind), func.max(Outcome.occurred_at)).group_by(
            col(Outcome.lead_id), col(Outcome.kind)
        )
    ).all()
    latest: dict[int, tuple[datetime, str]] = {}
    for lead_id, kind, when in rows:
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        if lead_id not in latest or when > latest[lead_id][0]:
            latest[lead_id] = (when, str(kind))
    if not latest:
        return pd.DataFrame()
    frame = profile.profile_frame(session, now=now, lead_ids=sorted(latest))
    closed_at = pd.Series({i: latest[i][0] for i in frame.index})
    # Recency as of the outcome, not as of today: shift by the time since it closed.
    days_since_close = (pd.Timestamp(now) - pd.to_datetime(closed_at, utc=True)).dt.days
    for column in ("days_since_last_event", "days_since_first_event"):
        frame[column] = (frame[column] - days_since_close).clip(lower=0)
    frame[TARGET] = [int(latest[i][1] == OutcomeKind.won) for i in frame.index]
    return frame


def train_from_store(
    session: Session, *, models_dir: Path, now: datetime | None = None
) -> ModelVersion:
    """Train on the store's outcomes, save the model, and make it the active version."""
    frame = training_frame(session, now=now)
    counts = frame[TARGET].value_counts() if not frame.empty else pd.Series(dtype=int)
    won, lost = int(counts.get(1, 0)), int(counts.get(0, 0))
    if min(won, lost) < MIN_PER_CLASS:
        raise ScoringError(
            f"the store has {won} won and {lost} lost/rejected outcomes; a model needs at least "
            f"{MIN_PER_CLASS} of each (import them with `nurture import outcomes`). "
            "Until then leads are scored by the rules baseline."
        )
    exclude = [c for c in NOT_FEATURES if c in frame.columns]
    scorer, report = train_from_frame(frame, TARGET, exclude=exclude)
    staging = models_dir / f".staging-{uuid.uuid4().hex}"
    manifest = save_model(
        scorer,
        staging,
        training_data_sha256=report.training_data_sha256,
        metrics=report.metrics,
        excluded=report.excluded,
        target=TARGET,
        rows=report.rows,
        positive_rate=report.positive_rate,
    )
    final = models_dir / manifest.version
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    session.execute(update(ModelVersion).values(active=False))
    row = ModelVersion(
        version=manifest.version,
        kind=manifest.kind,
        metrics={
            **report.metrics,
            "rows": report.rows,
            "positive_rate": report.positive_rate,
            "excluded": report.excluded,
        },
        features=manifest.features,
        data_hash=report.training_data_sha256,
        path=str(final),
        active=True,
    )
    session.add(row)
    session.flush()
    return row


# --- the current scorer --------------------------------------------------------------------


@lru_cache(maxsize=4)
def _load(path: str) -> LeadScorer:
    return load_model(path)[0]


def default_rules() -> RuleSet:
    """The built-in rules, parsed again only when their file changes (the live path needs them
    on every event, and parsing the YAML costs more than scoring a lead)."""
    path = RULES_DIR / "default.yaml"
    try:
        stat = path.stat()
    except OSError:
        return load_rules(path)  # its error names the file
    return _parsed_rules(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _parsed_rules(path: str, mtime_ns: int, size: int) -> RuleSet:
    return load_rules(path)


def current_scorer(session: Session, *, rules: RuleSet | None = None) -> Scorer:
    """The active model version if one is trained and loadable, else the rules baseline."""
    rules = rules or default_rules()
    row = session.exec(select(ModelVersion).where(col(ModelVersion.active))).first()
    if row is None or not row.path:
        edges = _rules_edges(session, rules)
        return Scorer(version=f"rules:{rules.name}", rules=rules, edges=edges)
    edges = tuple(row.metrics.get("population_edges") or ())
    return Scorer(version=row.version, rules=rules, model=_load(row.path), edges=edges)


def _rules_edges(session: Session, rules: RuleSet) -> tuple[float, ...]:
    row = session.get(ModelVersion, f"rules:{rules.name}")
    return tuple(row.metrics.get("population_edges") or ()) if row else ()


# --- scoring -----------------------------------------------------------------------------


def score_frame(scorer: Scorer, frame: pd.DataFrame) -> pd.DataFrame:
    """Vectorised: score, fit, behaviour, mql and decile for every row of a profile frame."""
    rules = scorer.rules.score(frame)
    if scorer.model is not None:
        scores = scorer.model.score_leads(frame).astype(float)
    else:
        scores = np.rint(rules["composite"].to_numpy())
    out = pd.DataFrame(
        {
            "score": scores,
            "fit": rules["fit"].round(1),
            "behaviour": rules["behaviour"].round(1),
            "mql": rules["mql"],
        },
        index=frame.index,
    )
    out["decile"] = scorer.decile(scores)
    return out


def score_leads(
    session: Session,
    *,
    lead_ids: Sequence[int],
    scorer: Scorer | None = None,
    now: datetime | None = None,
    explain_top: bool = True,
    loaded: dict[str, Any] | None = None,
) -> list[Score]:
    """Score these leads now and store the scores (the live path after events arrive).

    One lead takes the pandas-free profile path (`loaded`: its profile as of `now`, when the
    caller has it already); many are scored as one frame. Factors are explained for the top
    decile (they feed the approval card) and for a single lead.
    """
    if not lead_ids:
        return []
    scorer = scorer or current_scorer(session)
    now = now or datetime.now(UTC)
    # (lead id, scores, the profile when already loaded)
    results: list[tuple[int, dict[str, Any], dict[str, Any] | None]]
    if len(lead_ids) == 1:
        lead = loaded or profile.profile_of(session, lead_id=lead_ids[0], now=now)
        results = [(lead_ids[0], score_record(scorer, lead), lead)]
    else:
        frame = profile.profile_frame(session, now=now, lead_ids=list(lead_ids))
        scored = score_frame(scorer, frame)
        results = [
            (int(i), row, None)
            for i, row in zip(scored.index, scored.to_dict("records"), strict=True)
        ]
    rows = []
    for lead_id, result, loaded in results:
        factors: list[dict[str, Any]] = []
        if explain_top and result["decile"] == 1:
            record = loaded or profile.profile_of(session, lead_id=lead_id, now=now)
            factors = factors_for(scorer, record)
        rows.append(
            Score(
                lead_id=lead_id,
                score=float(result["score"]),
                decile=int(result["decile"]) or None,
                fit=round(result["fit"], 1),
                behaviour=round(result["behaviour"], 1),
                model_version=scorer.version,
                factors=factors,
                scored_at=now,
            )
        )
    session.add_all(rows)
    _promote_mqls(session, [lead_id for lead_id, result, _ in results if result["mql"]], now)
    session.flush()
    return rows


def score_record(scorer: Scorer, lead: dict[str, Any]) -> dict[str, Any]:
    """One lead as a dict, without pandas: score, fit, behaviour, mql and decile."""
    result = scorer.rules.score_record(lead)
    if scorer.model is not None:
        score = float(scorer.model.score_lead(lead))
    else:
        score = float(round(result["composite"]))
    return {**result, "score": score, "decile": int(scorer.decile(np.array([score]))[0])}


def reasons(
    session: Session, score: Score, *, scorer: Scorer | None = None
) -> list[dict[str, Any]]:
    """Why this score: the factors stored with it, else explained now (a batch rescore stores
    none, to stay fast over a million leads)."""
    if score.factors:
        return list(score.factors)
    scorer = scorer or current_scorer(session)
    return factors_for(scorer, profile.profile_of(session, lead_id=score.lead_id))


def factors_for(scorer: Scorer, lead: dict[str, Any], top: int = 3) -> list[dict[str, Any]]:
    """Why this score, in a rep's words (model factors; the rules axes when there is no model)."""
    if scorer.model is not None:
        return explain(scorer.model, lead, top=top)
    axes = scorer.rules.score_record(lead)
    return [
        {"factor": f"fit {axes['fit']:.0f}/100", "direction": "+", "weight": axes["fit"]},
        {
            "factor": f"behaviour {axes['behaviour']:.0f}/100",
            "direction": "+",
            "weight": axes["behaviour"],
        },
    ]


def _promote_mqls(session: Session, lead_ids: list[int], now: datetime) -> None:
    """Leads that pass the two-axis MQL rule move from lead to MQL (never backwards); `mql_at`
    records when, for the funnel figures."""
    if not lead_ids:
        return
    for start in range(0, len(lead_ids), crud.CHUNK):  # stay under SQLite's parameter limit
        session.execute(
            update(Lead)
            .where(
                col(Lead.id).in_(lead_ids[start : start + crud.CHUNK]),
                col(Lead.lifecycle_stage) == LifecycleStage.lead,
            )
            .values(lifecycle_stage=LifecycleStage.mql, mql_at=now)
        )


def rescore_all(
    session: Session,
    *,
    scorer: Scorer | None = None,
    now: datetime | None = None,
    chunk_size: int = 20_000,
    workers: int = 1,
) -> dict[str, Any]:
    """Rescore the whole store in chunks; deciles against the whole population.

    Two passes: score every chunk of lead ids (keeping only ids and numbers), then cut the
    population into deciles, store those edges for the live path, and write the score rows in
    bulk. `workers` > 1 spreads the chunks over that many processes (this one included); the
    others open their own connection, so they read what is committed: call it at the start of
    a transaction. A chunk a worker cannot do (say, it sees other leads) is done here.
    """
    scorer = scorer or current_scorer(session)
    now = now or datetime.now(UTC)
    chunks = profile.lead_id_ranges(session, chunk_size=chunk_size)
    # A small store is scored before a worker would have started.
    worth_sharing = workers > 1 and len(chunks) >= MIN_CHUNKS_TO_SHARE
    url = _shareable_url(session) if worth_sharing else None
    parts = map_chunks(
        chunks,
        partial(score_id_range, session, scorer, now),
        workers=workers if url else 1,
        remote=_score_in_worker,
        setup=_start_worker,
        setup_args=(url, scorer, now),
    )
    if not parts:
        return {"leads": 0, "version": scorer.version}
    # Columns, not row dicts: a million leads stay a few arrays until the bulk insert.
    columns = {name: np.concatenate([p[name] for p in parts]) for name in SCORED_COLUMNS}
    del parts
    mql_ids = columns["lead_id"][columns.pop("mql")].tolist()
    scores = columns["score"]
    edges = tuple(float(x) for x in np.quantile(scores, np.linspace(0.1, 0.9, 9)))
    scorer = Scorer(version=scorer.version, rules=scorer.rules, model=scorer.model, edges=edges)
    deciles = scorer.decile(scores).astype(np.int64)
    _save_edges(session, scorer, edges)
    per_row = {**columns, "decile": deciles}
    leads = 0
    for start in range(0, len(scores), WRITE_SLICE):  # rows become Python objects a slice at a time
        leads += crud.bulk_insert_columns(
            session,
            table=Score,
            per_row={name: values[start : start + WRITE_SLICE] for name, values in per_row.items()},
            shared={"model_version": scorer.version, "factors": [], "scored_at": now},
        )
    _promote_mqls(session, mql_ids, now)
    top = scores[deciles == 1]
    return {
        "leads": leads,
        "version": scorer.version,
        "decile_edges": edges,
        "top_decile_min_score": float(top.min()) if len(top) else None,
        "mqls": len(mql_ids),
    }


SCORED_COLUMNS = ("lead_id", "score", "fit", "behaviour", "mql")
MIN_CHUNKS_TO_SHARE = 4
WRITE_SLICE = 100_000


def default_workers() -> int:
    """Processes for a full rescore: one per core, up to four (reads share one database)."""
    return max(1, min(4, os.cpu_count() or 1))


def score_id_range(
    session: Session,
    scorer: Scorer,
    now: datetime,
    chunk: tuple[int, int, int],
    *,
    expected: bool = False,
) -> dict[str, np.ndarray]:
    """Scores of the leads with ids in [first, last]: columns `SCORED_COLUMNS` as arrays.

    `expected` checks that the chunk still holds the planned number of leads (a worker's view
    of the store must be the caller's, or its chunk is redone by the caller).
    """
    first, last, planned = chunk
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SCORED_COLUMNS}
    for frame in profile.profile_chunks(
        session,
        now=now,
        chunk_size=max(planned, 1),
        id_range=(first, last),
        fields=scorer.columns,
    ):
        scored = score_frame(scorer, frame)
        parts["lead_id"].append(scored.index.to_numpy(dtype=np.int64))
        for name in ("score", "fit", "behaviour"):
            parts[name].append(scored[name].to_numpy(dtype=float))
        parts["mql"].append(scored["mql"].to_numpy(dtype=bool))
    columns = {
        name: np.concatenate(chunks) if chunks else np.zeros(0) for name, chunks in parts.items()
    }
    columns["lead_id"] = columns["lead_id"].astype(np.int64)
    columns["mql"] = columns["mql"].astype(bool)
    if expected and len(columns["lead_id"]) != planned:
        raise ScoringError(
            f"leads {first}-{last}: found {len(columns['lead_id'])}, expected {planned}"
        )
    return columns


def _shareable_url(session: Session) -> str | None:
    """A URL other processes can open for the same store (None for in-memory SQLite)."""
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


_WORKER: dict[str, Any] = {}


def _start_worker(url: str, scorer: Scorer, now: datetime) -> None:
    from store.db import make_engine  # pulls in alembic: only workers need it here

    _WORKER.update(engine=make_engine(url), scorer=scorer, now=now)


def _score_in_worker(chunk: tuple[int, int, int]) -> dict[str, np.ndarray]:
    with Session(_WORKER["engine"]) as session:
        return score_id_range(session, _WORKER["scorer"], _WORKER["now"], chunk, expected=True)


def _save_edges(session: Session, scorer: Scorer, edges: tuple[float, ...]) -> None:
    row = session.get(ModelVersion, scorer.version)
    if row is None:  # the rules baseline gets a version row of its own to hold its edges
        row = ModelVersion(
            version=scorer.version, kind="rules", data_hash="-", features=scorer.rules.columns
        )
    row.metrics = {**row.metrics, "population_edges": list(edges)}
    session.add(row)
    session.flush()
