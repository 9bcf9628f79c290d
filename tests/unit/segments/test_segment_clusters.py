"""Behavioural clusters on a planted population: k, readable labels, determinism, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from tools.segments.clusters import FEATURES, feature_matrix, fit_clusters
from tools.segments.errors import ClusterError


def planted(n_per_group: int = 150, seed: int = 0) -> pd.DataFrame:
    """Three behaviours: pricing + demo buyers, email-only readers, long-silent browsers."""
    rng = np.random.default_rng(seed)
    groups: list[dict[str, Any]] = []
    base: dict[str, Any] = dict.fromkeys(FEATURES, 0)
    for kind in ("buyers", "readers", "dormant"):
        for _ in range(n_per_group):
            row = dict(base)
            if kind == "buyers":
                row.update(page_views=rng.integers(8, 20), pricing_page_views=rng.integers(3, 8),
                           demo_requests=1, email_opens=rng.integers(0, 3),
                           days_since_last_event=rng.uniform(0, 5))  # fmt: skip
            elif kind == "readers":
                row.update(email_opens=rng.integers(6, 12),
                           days_since_last_event=rng.uniform(2, 20))  # fmt: skip
            else:
                row.update(page_views=rng.integers(1, 4), email_opens=rng.integers(0, 2),
                           days_since_last_event=rng.uniform(95, 120))  # fmt: skip
            row["kind"] = kind
            groups.append(row)
    return pd.DataFrame(groups, index=pd.RangeIndex(1, len(groups) + 1, name="id"))


def test_planted_groups_are_found_and_labelled_by_what_sets_them_apart() -> None:
    frame = planted()
    fit = fit_clusters(frame, k_range=(2, 5), seed=0)
    assert fit.k == 3
    labels = [info.label for info in fit.clusters]
    assert len(set(labels)) == 3 and len({i.segment for i in fit.clusters}) == 3
    by_kind = {
        kind: fit.assignments[frame.index[frame["kind"] == kind]].value_counts()
        for kind in ("buyers", "readers", "dormant")
    }
    names = {info.segment: info for info in fit.clusters}
    for kind, counts in by_kind.items():
        assert len(counts) == 1, f"{kind} split across clusters: {counts.to_dict()}"
        info = names[counts.index[0]]
        assert info.size == 150
    buyers = names[by_kind["buyers"].index[0]]
    readers = names[by_kind["readers"].index[0]]
    dormant = names[by_kind["dormant"].index[0]]
    assert "pricing-page visitors" in buyers.label or "demo requesters" in buyers.label
    assert readers.label.startswith("email readers") and "no site visits" in readers.label
    assert dormant.label == "dormant"
    assert dormant.segment == "cluster:dormant"
    assert all(z > 0 for z in buyers.distinguishing.values())
    assert buyers.means["pricing_page_views"] > fit.overall_means["pricing_page_views"]


def test_same_seed_same_clusters() -> None:
    frame = planted(seed=4)
    first, second = fit_clusters(frame, seed=7), fit_clusters(frame, seed=7)
    assert first.assignments.equals(second.assignments)
    assert [c.label for c in first.clusters] == [c.label for c in second.clusters]


def test_leads_without_events_count_as_most_dormant() -> None:
    frame = pd.DataFrame({"days_since_last_event": [3.0, None, 40.0], "page_views": [1, 0, None]})
    raw = feature_matrix(frame)
    assert raw["days_since_last_event"].tolist() == [3.0, 40.0, 40.0]
    assert raw["page_views"].tolist() == [1.0, 0.0, 0.0]
    assert raw["trial_signups"].tolist() == [0.0, 0.0, 0.0]


def test_too_few_or_identical_leads_is_a_clear_error() -> None:
    with pytest.raises(ClusterError, match="at least 20 leads"):
        fit_clusters(planted(n_per_group=3))
    same = pd.DataFrame([{"page_views": 1, "days_since_last_event": 2.0}] * 50)
    with pytest.raises(ClusterError, match="distinct behaviour patterns"):
        fit_clusters(same)
