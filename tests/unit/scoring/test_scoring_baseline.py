"""The untuned logistic regression every scorer is compared with."""

import numpy as np
import pandas as pd

from tools.scoring.baseline import untuned_logistic


def _blank_means_cold(rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A form field left blank on cold leads, whose most common answer marks warm ones."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["blank", "common", "rare"], size=rows, p=[0.3, 0.5, 0.2])
    rate = np.select([group == "blank", group == "common"], [0.1, 0.6], 0.4)
    y = (rng.random(rows) < rate).astype(int)
    answers = {"blank": None, "common": "Employed", "rare": "Student"}
    occupation = pd.Series([answers[g] for g in group], dtype="string")
    visits = pd.Series(rng.poisson(3, rows).astype(float))
    visits[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame({"occupation": occupation, "visits": visits}), y


def test_a_blank_category_is_its_own_level_not_the_most_common_answer() -> None:
    X, y = _blank_means_cold()
    model = untuned_logistic().fit(X, y)
    p = model.predict_proba(X)[:, 1]
    blank = X["occupation"].isna().to_numpy()
    common = (X["occupation"] == "Employed").fillna(False).to_numpy()
    # Imputing the most common answer would give blank rows the "Employed" estimate.
    assert p[blank].mean() < 0.25 < 0.45 < p[common].mean()


def test_scores_unseen_categories_and_blank_numbers() -> None:
    X, y = _blank_means_cold()
    model = untuned_logistic().fit(X, y)
    new = pd.DataFrame(
        {"occupation": pd.Series(["Retired", None], dtype="string"), "visits": [np.nan, 2.0]}
    )
    p = model.predict_proba(new)[:, 1]
    assert np.isfinite(p).all() and p.shape == (2,)
