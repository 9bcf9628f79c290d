"""Leakage guard: find columns that give the outcome away before a model is trained on them.

A column is excluded when, on its own, it predicts the outcome almost perfectly
(cross-validated single-column AUC above 0.9), or when its name says it is recorded after the
outcome or by a sales rep judging the lead (status, stage, tags, quality, score, the last
activity at export time, ...), or when its values are outcome words ("closed", "won",
"lost", ...). A scorer trained on such columns looks excellent offline and fails on new leads,
whose record does not have them yet. Name rules are deliberately cautious: a flagged column
the user knows to be available before the outcome goes back in with `include=`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from tools.scoring.features import PLACEHOLDERS, clean_strings, id_like_reason, name_tokens

AUC_THRESHOLD = 0.9

# Words in a column name that mean the value is the outcome, or is set once it is known.
OUTCOME_WORDS = frozenset(
    {
        "status",
        "stage",
        "outcome",
        "result",
        "closed",
        "close",
        "won",
        "lost",
        "converted",
        "conversion",
        "disposition",
        "churn",
        "churned",
        "reason",
        "qualified",
        "disqualified",
    }
)
# Words naming a rep's or a vendor's verdict on the lead: filled in after talking to it.
JUDGEMENT_WORDS = frozenset(
    {
        "tag",
        "tags",
        "quality",
        "grade",
        "rating",
        "profile",
        "score",
        "scoring",
        "index",
    }
)
# Outcome words inside values (a "Tags" column with "Closed by ...", "Lost to ...").
_OUTCOME_VALUE_WORDS = (
    "closed",
    "won",
    "lost",
    "churned",
    "disqualified",
    "not interested",
    "junk",
    "revert",
)


def screen_columns(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    include: Iterable[str] = (),
    threshold: float = AUC_THRESHOLD,
    random_state: int = 0,
) -> list[dict[str, str]]:
    """Columns to leave out of training, each as {"column", "reason"}; `include` overrides."""
    keep = set(include)
    flagged: list[dict[str, str]] = []
    for column in X.columns:
        name = str(column)
        if name in keep:
            continue
        reason = id_like_reason(name, X[column])
        if reason is None:
            reasons = [post_outcome_reason(name, X[column])]
            auc = single_column_auc(X[column], y, random_state=random_state)
            if auc > threshold:
                reasons.insert(
                    0,
                    f"predicts the outcome almost alone (single-column AUC "
                    f"{auc:.3f} > {threshold})",
                )
            reason = "; ".join(r for r in reasons if r) or None
        if reason:
            flagged.append({"column": name, "reason": reason})
    return flagged


def post_outcome_reason(column: str, values: pd.Series) -> str | None:
    """Why a column's name or values suggest it is recorded after the outcome, else None."""
    tokens = name_tokens(column)
    hits = [t for t in tokens if t in OUTCOME_WORDS]
    if hits:
        return f"looks post-outcome: the name says {hits[0]!r}"
    hits = [t for t in tokens if t in JUDGEMENT_WORDS]
    if hits:
        return f"looks post-outcome: a verdict on the lead (the name says {hits[0]!r})"
    if "last" in tokens and ("activity" in tokens or "action" in tokens):
        return (
            "looks post-outcome: the latest activity at export time, which for converted "
            "leads is often the conversion's own follow-up"
        )
    if pd.api.types.is_numeric_dtype(values):
        return None
    distinct = clean_strings(pd.Series(values.dropna().unique()), PLACEHOLDERS).dropna()
    lowered = distinct.str.lower()
    words = [w for w in _OUTCOME_VALUE_WORDS if lowered.str.contains(w, regex=False).any()]
    if len(words) >= 2:
        return f"looks post-outcome: values mention {words[0]!r} and {words[1]!r}"
    return None


def single_column_auc(
    values: pd.Series, y: np.ndarray, *, folds: int = 3, random_state: int = 0
) -> float:
    """Cross-validated AUC of one column alone (out-of-fold target rate per value or bin)."""
    groups = _groups(values)
    y = np.asarray(y)
    if len(np.unique(y)) < 2 or min(np.bincount(y)) < folds:
        return 0.5
    oof = np.zeros(len(y), dtype=float)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    for train, test in splitter.split(groups, y):
        prior = float(y[train].mean())
        stats = (
            pd.DataFrame({"g": groups[train], "y": y[train]})
            .groupby("g")["y"]
            .agg(["sum", "count"])
        )
        # Shrink rare values towards the prior so a value seen once cannot look perfect.
        rate = (stats["sum"] + 10 * prior) / (stats["count"] + 10)
        oof[test] = pd.Series(groups[test]).map(rate).fillna(prior).to_numpy()
    auc = float(roc_auc_score(y, oof))
    return max(auc, 1.0 - auc)


def _groups(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > 100:
        numeric = values.astype("float64")
        # Bins on values, not ranks: rank ties broken by row order would leak the row order.
        bins = pd.qcut(numeric, 20, labels=False, duplicates="drop")
        return bins.astype("float64").fillna(-1).astype(str).to_numpy()
    text = clean_strings(values, PLACEHOLDERS)
    return text.fillna("__missing__").astype(str).to_numpy()
