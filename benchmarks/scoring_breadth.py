"""The scorer against an untuned logistic regression on many tables it was never tuned on.

The quality bar: beat a textbook logistic regression on any reasonable CSV, not only on the
two full datasets the scoring benchmark reports. The tables here are random samples of
different sizes from both public lead datasets (X Education and bank marketing without
`duration`, the leakage guard deciding the rest), which change how much history there is,
how rare conversions are and which categories appear at all, plus scikit-learn's bundled
breast-cancer table (numbers only, nothing like a lead export). Each table: 5-fold CV, both
models on the same folds (`nurture score benchmark` does the same per CSV). A difference
under about 0.005 AUC on a table of a few thousand rows is within the noise of the split.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

from benchmarks.scoring_quality import BANK, X_EDUCATION
from tools.scoring.data import read_leads_csv
from tools.scoring.train import benchmark_frame

SIZES = (500, 1500, 5000)
SEEDS = (0, 1, 2)


def run(
    data_dir: Path, *, sizes: Iterable[int] = SIZES, seeds: Iterable[int] = SEEDS
) -> dict[str, Any]:
    """{"tables": [...], "wins", "losses", "mean_difference", "worst_difference", ...}."""
    started = time.perf_counter()
    sources = [
        ("x_education", read_leads_csv(data_dir / X_EDUCATION), "Converted", []),
        ("bank_marketing", read_leads_csv(data_dir / BANK, sep=";"), "y", ["duration"]),
    ]
    tables = [
        _compare(
            f"{name} sample of {n:,} (seed {seed})",
            frame.sample(n, random_state=seed),
            target,
            exclude,
        )
        for name, frame, target, exclude in sources
        for n in sizes
        if n < len(frame)
        for seed in seeds
    ]
    cancer = load_breast_cancer(as_frame=True).frame
    tables.append(_compare("scikit-learn breast cancer (numbers only)", cancer, "target", []))
    differences = np.array([t["difference"] for t in tables])
    return {
        "tables": tables,
        "wins": int((differences > 0).sum()),
        "ties": int((differences == 0).sum()),
        "losses": int((differences < 0).sum()),
        "mean_difference": round(float(differences.mean()), 4),
        "worst_difference": round(float(differences.min()), 4),
        "seconds": round(time.perf_counter() - started, 1),
        "method": "5-fold stratified CV per table (seed 0), pooled out-of-fold AUC; samples "
        "drawn without replacement with pandas' seeded sample",
    }


def _compare(name: str, frame: pd.DataFrame, target: str, exclude: list[str]) -> dict[str, Any]:
    result = benchmark_frame(frame.reset_index(drop=True), target, exclude=exclude)
    model, baseline = result["model"], result["untuned_logistic"]
    return {
        "table": name,
        "rows": result["rows"],
        "positive_rate": result["positive_rate"],
        "model_auc": model["auc"],
        "model_kind": model["kind"],
        "untuned_logistic_auc": baseline["auc"],
        "difference": round(model["auc"] - baseline["auc"], 4),
    }
