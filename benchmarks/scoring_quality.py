"""Scoring quality on the real public lead data beside the repo (`../shared/data`).

X Education (Leads.csv): stratified 5-fold CV; the leakage guard decides the exclusions and
the model is compared with `tools/scoring/rules/x_education.yaml` on the same folds.
Bank marketing: `duration` (call length, known only after the call) is excluded explicitly,
because its single-column AUC (about 0.82) is under the guard's 0.9 line. Its rows are in
time order, so besides stratified CV it is also scored on the latest 20 % of rows, trained on
the earlier 80 % (there the scorer picks its model on forward windows of those 80 %).
`x_education_fit_seconds` is one fit of the scorer on all X Education rows, as
`nurture score train` does after its evaluation.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from tools.scoring.data import read_leads_csv
from tools.scoring.model import LeadScorer
from tools.scoring.rules import RULES_DIR, load_rules
from tools.scoring.train import benchmark_frame, prepare

X_EDUCATION = Path("x_education_leads") / "Leads.csv"
BANK = Path("uci_bank_marketing") / "bank-additional-full.csv"
ROW_ORDER = "row_order"


def run(data_dir: Path) -> dict[str, Any]:
    """{"x_education": {"model", "rules", ...}, "bank_marketing": {"model", ...}}."""
    started = time.perf_counter()
    leads = read_leads_csv(data_dir / X_EDUCATION)
    x_education = benchmark_frame(
        leads, "Converted", rules=load_rules(RULES_DIR / "x_education.yaml")
    )
    fit_seconds = _fit_seconds(leads, "Converted")
    bank = read_leads_csv(data_dir / BANK, sep=";")
    bank_cv = benchmark_frame(bank, "y", exclude=["duration"])
    bank[ROW_ORDER] = range(len(bank))
    bank_time = benchmark_frame(bank, "y", exclude=["duration"], time_column=ROW_ORDER)
    bank_cv["model_time_holdout"] = bank_time["model"]
    bank_cv["untuned_logistic_time_holdout"] = bank_time["untuned_logistic"]
    return {
        "x_education": _slim(x_education),
        "x_education_fit_seconds": fit_seconds,
        "bank_marketing": _slim(bank_cv),
        "quality_seconds": round(time.perf_counter() - started, 1),
    }


def _fit_seconds(frame: pd.DataFrame, target: str) -> float:
    data = prepare(frame, target)
    started = time.perf_counter()
    LeadScorer().fit(data.X, data.y)
    return round(time.perf_counter() - started, 1)


def _slim(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "features"}
