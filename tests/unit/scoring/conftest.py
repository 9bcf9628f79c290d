"""Synthetic lead tables for the scoring tests (never the real datasets)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest


def make_leads(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Leads whose conversion depends on role, visits and time on site, with export quirks."""
    rng = np.random.default_rng(seed)
    role = rng.choice(["VP", "Manager", "Student", "Select"], size=n, p=[0.2, 0.35, 0.25, 0.2])
    visits = rng.poisson(3, size=n)
    seconds = rng.exponential(400, size=n).round()
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    logit = (-1.0 + 1.8 * (role == "VP") - 1.5 * (role == "Student") + 0.35 * visits
             + 0.002 * seconds - 1.2)
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({
        "lead_id": [f"L{i:05d}" for i in range(n)],
        "role": role,
        "country": rng.choice(["India", "US", "", "N/A"], size=n),
        "visits": visits,
        "time_on_site_s": seconds,
        "created_at": created.strftime("%Y-%m-%d"),
        "notes": np.nan,
        "converted": np.where(converted, "yes", "no"),
    })


@pytest.fixture
def leads() -> pd.DataFrame:
    return make_leads()


@pytest.fixture
def leads_factory() -> Callable[..., pd.DataFrame]:
    return make_leads
