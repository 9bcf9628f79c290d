"""Behavioural clusters: KMeans on the profile's behaviour, each cluster with a readable label.

Refreshed in batch. Features are log1p counts (and recency), standardized; k is picked by
silhouette on a seeded sample. A cluster is named after the 1-2 features whose cluster mean
sits furthest above the overall mean (in standard deviations), e.g. "pricing-page visitors".
Memberships are `cluster:<slug>`; a refresh replaces only those, never the rule segments.
Leads excluded from nurture are not clustered and lose their cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from sqlmodel import Session
from threadpoolctl import threadpool_limits

from tools.profile import profile_chunks
from tools.segments.assign import add_themes, is_cluster
from tools.segments.errors import ClusterError
from tools.segments.membership import merged_targets, open_memberships, replace_segments
from tools.segments.rules import CLUSTER_PREFIX, Definitions, default_definitions

RECENCY = "days_since_last_event"
# Feature -> how a cluster high on it is called.
FEATURES: dict[str, str] = {
    "page_views": "site browsers",
    "pricing_page_views": "pricing-page visitors",
    "content_downloads": "content downloaders",
    "email_opens": "email readers",
    "email_clicks": "email clickers",
    "email_replies": "email repliers",
    "webinars_attended": "webinar attendees",
    "videos_watched": "video watchers",
    "demo_requests": "demo requesters",
    "trial_signups": "trial users",
    RECENCY: "dormant",
}
# A cluster that nearly never does something most leads do says so: "email readers, no site
# visits".
ABSENCE = {"page_views": "no site visits", "email_opens": "no email opens"}
MIN_Z = 0.25  # below this nothing stands out: "low activity"
SECOND_Z = 0.5  # a second feature joins the label when it is this high too
MIN_LEADS = 20
MINIBATCH_ABOVE = 100_000
# OpenMP start-up dominates KMeans on small data (100x slower than one thread, measured).
ONE_THREAD_BELOW = 50_000


@dataclass(frozen=True)
class ClusterInfo:
    segment: str  # cluster:<slug>
    label: str
    size: int
    distinguishing: dict[str, float]  # feature -> z of the cluster mean (the label's features)
    means: dict[str, float]  # raw mean of every feature in this cluster

    def as_dict(self) -> dict[str, Any]:
        return {"segment": self.segment, "label": self.label, "size": self.size,
                "distinguishing": self.distinguishing, "means": self.means}  # fmt: skip


@dataclass(frozen=True)
class ClusterFit:
    k: int
    silhouette: float
    assignments: pd.Series  # lead id -> segment name
    clusters: list[ClusterInfo]
    overall_means: dict[str, float]


@dataclass
class ClusterRefresh:
    k: int
    silhouette: float
    leads: int  # clustered
    excluded: int  # not clustered (out of nurture)
    clusters: list[ClusterInfo]
    overall_means: dict[str, float]
    entered: int = 0
    exited: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "silhouette": self.silhouette,
            "leads": self.leads,
            "excluded": self.excluded,
            "entered": self.entered,
            "exited": self.exited,
            "overall_means": self.overall_means,
            "clusters": [c.as_dict() for c in self.clusters],
        }


def feature_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """The raw behaviour features; a lead with no events counts as the most dormant."""
    raw = pd.DataFrame(index=frame.index)
    for name in FEATURES:
        column = frame[name] if name in frame.columns else pd.Series(0.0, index=frame.index)
        raw[name] = pd.to_numeric(column, errors="coerce").astype(float)
    fill = raw[RECENCY].max()
    raw[RECENCY] = raw[RECENCY].fillna(0.0 if pd.isna(fill) else fill)
    return raw.fillna(0.0).clip(lower=0.0)


def fit_clusters(
    frame: pd.DataFrame,
    *,
    k_range: tuple[int, int] = (3, 6),
    sample_size: int = 2_000,
    seed: int = 0,
) -> ClusterFit:
    """Cluster the leads of a profile frame; pure (no store), deterministic for a seed."""
    raw = feature_matrix(frame)
    if len(raw) < MIN_LEADS:
        raise ClusterError(f"need at least {MIN_LEADS} leads to cluster, got {len(raw)}")
    scaled = StandardScaler().fit_transform(np.log1p(raw.to_numpy()))
    distinct = len(np.unique(scaled.round(6), axis=0))
    with threadpool_limits(1 if len(scaled) < ONE_THREAD_BELOW else None):
        k, score = _pick_k(scaled, k_range, sample_size, seed, distinct)
        model: Any = (
            MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
            if len(scaled) > MINIBATCH_ABOVE
            else KMeans(n_clusters=k, random_state=seed, n_init=4)
        )
        labels = model.fit_predict(scaled)
    clusters, names = _describe(raw, scaled, labels)
    assignments = pd.Series([names[c] for c in labels], index=raw.index, dtype=object)
    overall = {name: round(float(v), 3) for name, v in raw.mean().items()}
    return ClusterFit(k, score, assignments, clusters, overall)


def _pick_k(
    scaled: np.ndarray, k_range: tuple[int, int], sample_size: int, seed: int, distinct: int
) -> tuple[int, float]:
    low, high = k_range
    if not 2 <= low <= high:
        raise ClusterError(f"k range {k_range} is not 2 <= low <= high")
    high = min(high, distinct - 1, len(scaled) - 1)
    if high < low:
        raise ClusterError(
            f"only {distinct} distinct behaviour patterns; cannot form {low} clusters"
        )
    rng = np.random.default_rng(seed)
    sample = scaled
    if len(scaled) > sample_size:
        sample = scaled[rng.choice(len(scaled), size=sample_size, replace=False)]
    best = (low, -1.0)
    for k in range(low, high + 1):
        labels = KMeans(n_clusters=k, random_state=seed, n_init=4).fit_predict(sample)
        if len(set(labels)) < 2:
            continue
        score = float(silhouette_score(sample, labels, random_state=seed))
        if score > best[1] + 1e-9:
            best = (k, score)
    return best[0], round(best[1], 4)


def _describe(
    raw: pd.DataFrame, scaled: np.ndarray, labels: np.ndarray
) -> tuple[list[ClusterInfo], dict[int, str]]:
    """Label each cluster by its standout features; labels are made distinct."""
    overall = raw.mean()
    order = sorted(set(labels.tolist()), key=lambda c: -int((labels == c).sum()))
    used: set[str] = set()
    infos: list[ClusterInfo] = []
    names: dict[int, str] = {}
    for cluster in order:
        members = labels == cluster
        z = pd.Series(scaled[members].mean(axis=0), index=raw.columns)
        means = raw[members].mean()
        label, picked = _label(z, means, overall, used)
        used.add(label)
        segment = CLUSTER_PREFIX + _slug(label)
        names[cluster] = segment
        infos.append(
            ClusterInfo(
                segment=segment,
                label=label,
                size=int(members.sum()),
                distinguishing={f: round(float(z[f]), 2) for f in picked},
                means={f: round(float(v), 3) for f, v in means.items()},
            )
        )
    return infos, names


def _label(
    z: pd.Series, means: pd.Series, overall: pd.Series, used: set[str]
) -> tuple[str, list[str]]:
    ranked = [f for f in z.sort_values(ascending=False).index if z[f] >= MIN_Z]
    if not ranked:
        absent = [ABSENCE[f] for f in ABSENCE if means[f] < 0.5 <= overall[f]]
        return _unique(", ".join(["low activity", *absent[:1]]), used), []
    picked = [ranked[0]]
    if len(ranked) > 1 and z[ranked[1]] >= max(SECOND_Z, z[ranked[0]] / 2):
        picked.append(ranked[1])
    # A name already taken by a bigger cluster: add the next standout feature to tell them apart.
    candidates = [picked, *([*picked[:1], f] for f in ranked[1:] if f not in picked)]
    for features in candidates:
        absent = [ABSENCE[f] for f in ABSENCE
                  if f not in features and means[f] < 0.5 <= overall[f]]  # fmt: skip
        label = ", ".join([" + ".join(FEATURES[f] for f in features), *absent[:1]])
        if label not in used:
            return label, features
    return _unique(label, used), picked


def _unique(label: str, used: set[str]) -> str:
    n, candidate = 2, label
    while candidate in used:
        candidate, n = f"{label} ({n})", n + 1
    return candidate


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[: 80 - len(CLUSTER_PREFIX)]


def refresh_clusters(
    session: Session,
    *,
    now: datetime | None = None,
    definitions: Definitions | None = None,
    k_range: tuple[int, int] = (3, 6),
    sample_size: int = 2_000,
    seed: int = 0,
    chunk_size: int = 5_000,
) -> ClusterRefresh:
    """Re-cluster every lead still in nurture and store `cluster:*` memberships.

    Rule segments are left as they are. Does not commit: the caller owns the transaction.
    """
    definitions = definitions or default_definitions()
    now = now or datetime.now(UTC)
    kept: list[pd.DataFrame] = []
    all_ids: list[int] = []
    for frame in profile_chunks(session, now=now, chunk_size=chunk_size):
        all_ids.extend(int(i) for i in frame.index)
        if definitions.exclude is not None:
            frame = add_themes(session, frame, definitions, now=now)
            frame = frame[~definitions.exclude.mask(frame)]
        kept.append(feature_matrix(frame))
    eligible = pd.concat(kept) if kept else pd.DataFrame(columns=list(FEATURES))
    fit = fit_clusters(eligible, k_range=k_range, sample_size=sample_size, seed=seed)
    result = ClusterRefresh(
        k=fit.k,
        silhouette=fit.silhouette,
        leads=len(eligible),
        excluded=len(all_ids) - len(eligible),
        clusters=fit.clusters,
        overall_means=fit.overall_means,
    )
    assigned = fit.assignments.to_dict()
    for start in range(0, len(all_ids), chunk_size):
        ids = all_ids[start : start + chunk_size]
        current = open_memberships(session, lead_ids=ids)
        computed = {i: [assigned[i]] if i in assigned else [] for i in ids}
        targets = merged_targets(current, computed, keep=lambda s: not is_cluster(s))
        changes = replace_segments(session, targets=targets, current=current)
        result.entered += changes.entered
        result.exited += changes.exited
    return result
