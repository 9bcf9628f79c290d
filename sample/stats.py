"""Aggregate statistics of the X Education leads file: the only input the sample generator needs.

The output holds counts, quantiles and rank correlations per class (`Converted` 0/1). It never
holds a row, an id or free text, and every category kept was seen at least
`MIN_CATEGORY_COUNT` times in the whole file; rarer ones are merged into "Other" (and an "Other"
that is itself rarer than that is counted as missing).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import pandas as pd

SCHEMA_VERSION = 1
MIN_CATEGORY_COUNT = 10
TARGET = "Converted"
OTHER = "Other"

# Columns whose leaking of the outcome is documented (Tags, Lead Quality, Lead Profile,
# Asymmetrique *) are not read. `Last Activity` may post-date the conversion: it is kept only
# to shape the lead's closing event, never written as a lead attribute.
CATEGORICAL: dict[str, str] = {
    "lead_origin": "Lead Origin",
    "lead_source": "Lead Source",
    "do_not_email": "Do Not Email",
    "country": "Country",
    "specialization": "Specialization",
    "occupation": "What is your current occupation",
    "what_matters_most": "What matters most to you in choosing a course",
    "city": "City",
    "free_copy": "A free copy of Mastering The Interview",
    "last_activity": "Last Activity",
}
NUMERIC: dict[str, str] = {
    "total_visits": "TotalVisits",
    "time_on_site_s": "Total Time Spent on Website",
    "page_views_per_visit": "Page Views Per Visit",
}
# 21 points; the ends are the 1st and 99th percentiles so no single extreme row is published.
QUANTILE_PROBS: list[float] = [0.01, *[round(0.05 * i, 2) for i in range(1, 20)], 0.99]
# Cell values that mean "not answered" ("Select" is an untouched web-form dropdown).
MISSING_WORDS = frozenset({"select", "unknown", ""})


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _clean_categorical(values: pd.Series) -> pd.Series:
    """Blank/"Select"/"unknown" -> missing; spellings differing only in case -> the commonest."""
    text = values.astype("string").str.strip()
    text = text.mask(text.str.lower().isin(MISSING_WORDS))
    counts = text.value_counts()
    canonical: dict[str, str] = {}
    for value in counts.index:  # most frequent first, so it wins its case-folded group
        canonical.setdefault(str(value).casefold(), str(value))
    return text.map(lambda v: v if pd.isna(v) else canonical[str(v).casefold()])


def _merge_rare(values: pd.Series, minimum: int) -> pd.Series:
    counts = values.value_counts()
    rare = set(counts[counts < minimum].index)
    merged = values.map(lambda v: OTHER if (not pd.isna(v) and v in rare) else v)
    if (merged == OTHER).sum() < minimum:
        merged = merged.mask(merged == OTHER)
    return merged


def _categorical_stats(values: pd.Series, target: pd.Series, minimum: int) -> dict[str, Any]:
    merged = _merge_rare(_clean_categorical(values), minimum)
    order = [str(v) for v in merged.value_counts().index]  # by total count, descending
    counts: dict[str, dict[str, int]] = {}
    missing: dict[str, int] = {}
    for cls in (0, 1):
        part = merged[target == cls]
        tally = part.value_counts()
        counts[str(cls)] = {cat: int(tally.get(cat, 0)) for cat in order}
        missing[str(cls)] = int(part.isna().sum())
    return {"column": str(values.name), "counts": counts, "missing": missing}


def _numeric_stats(values: pd.Series, target: pd.Series) -> dict[str, Any]:
    numbers = pd.to_numeric(values, errors="coerce")
    quantiles: dict[str, list[float]] = {}
    missing: dict[str, int] = {}
    for cls in (0, 1):
        part = numbers[target == cls]
        present = part.dropna()
        qs = present.quantile(QUANTILE_PROBS).tolist() if len(present) else []
        quantiles[str(cls)] = [round(float(q), 2) for q in qs]
        missing[str(cls)] = int(part.isna().sum())
    return {
        "column": str(values.name),
        "probs": QUANTILE_PROBS,
        "quantiles": quantiles,
        "missing": missing,
    }


def _rank_correlation(frame: pd.DataFrame, target: pd.Series) -> dict[str, Any]:
    """Spearman correlations of the numeric columns per class (drives a Gaussian copula)."""
    names = list(NUMERIC)
    numbers = frame[[NUMERIC[n] for n in names]].apply(pd.to_numeric, errors="coerce")
    matrices: dict[str, list[list[float]]] = {}
    for cls in (0, 1):
        corr = numbers[target == cls].corr(method="spearman").fillna(0.0).to_numpy()
        matrices[str(cls)] = [
            [round(float(v), 4) if not math.isnan(v) else 0.0 for v in row] for row in corr
        ]
    return {"columns": names, "matrix": matrices}


def extract_stats(leads_csv: Path, *, min_count: int = MIN_CATEGORY_COUNT) -> dict[str, Any]:
    """Read the leads file and return aggregate statistics only (see the module docstring)."""
    leads_csv = Path(leads_csv)
    frame = pd.read_csv(leads_csv)
    target = pd.to_numeric(frame[TARGET], errors="raise").astype(int)
    n_by_class = {str(c): int((target == c).sum()) for c in (0, 1)}
    return {
        "schema_version": SCHEMA_VERSION,
        "source": {
            "dataset": "X Education leads (Leads.csv)",
            "sha256": file_sha256(leads_csv),
            "rows": len(frame),
        },
        "min_category_count": min_count,
        "classes": n_by_class,
        "prior": round(n_by_class["1"] / len(frame), 6),
        "categorical": {
            name: _categorical_stats(frame[column], target, min_count)
            for name, column in CATEGORICAL.items()
        },
        "numeric": {
            name: _numeric_stats(frame[column], target) for name, column in NUMERIC.items()
        },
        "rank_correlation": _rank_correlation(frame, target),
    }
