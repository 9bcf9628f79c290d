"""The batch transform converts each distinct value once: the same numbers as one lead at a time."""

import numpy as np
import pandas as pd
import pytest

from tools.scoring.features import PLACEHOLDERS, LeadFeatures, clean_strings


def texts(*values: str | None) -> np.ndarray:
    return np.array(values, dtype=object)


def messy_export(n: int = 400, seed: int = 1, junk: bool = False) -> pd.DataFrame:
    """Text columns as real exports hold them: padding, placeholders, mixed types, many values;
    `junk` adds text where a number belongs."""
    rng = np.random.default_rng(seed)
    numbers = ["1", " 2.5 ", "N/A", "999", "7", *(["x"] if junk else [])]
    mixed = np.array([1, 1.0, True, "1", " b ", None, "Select"], dtype=object)
    return pd.DataFrame(
        {
            "role": rng.choice(texts("VP", " vp ", "Manager", "Select", "N/A", "", None), n),
            "mixed": pd.Series(rng.choice(mixed, n), dtype=object),
            "city": [f"city {i % 80}" for i in rng.integers(0, 10_000, n)],  # high cardinality
            "visits_text": rng.choice(numbers, n),
            "opted_in": rng.choice(texts("Yes", "no", " TRUE ", "Select", None), n),
            "signed_up": rng.choice(
                texts("2024-01-03 10:00", "2023-05-06 11:30", "Select", None), n
            ),
            "score": rng.normal(size=n),
        }
    )


def test_clean_strings_per_distinct_value_keeps_row_order_and_types() -> None:
    raw = pd.Series([" a ", 1, 1.0, True, None, np.nan, "Select", "a"], dtype=object, name="x")
    cleaned = clean_strings(raw, PLACEHOLDERS)
    assert cleaned.name == "x" and str(cleaned.dtype) == "string"
    assert cleaned.tolist()[:4] == ["a", "1", "1.0", "True"]
    assert cleaned.isna().tolist() == [False] * 4 + [True] * 3 + [False]
    assert clean_strings(pd.Series([], dtype=object), PLACEHOLDERS).empty
    assert clean_strings(pd.Series([None, np.nan]), PLACEHOLDERS).isna().all()


@pytest.mark.parametrize("seed", [1, 2])
def test_batch_transform_equals_one_lead_at_a_time(seed: int) -> None:
    train = messy_export(seed=seed)
    features = LeadFeatures(max_categories=20).fit(train)
    assert {"role", "mixed", "city"} <= set(features.categorical_columns_)
    assert features.kinds_["visits_text"] == "numeric" and features.kinds_["opted_in"] == "flag"
    assert features.kinds_["signed_up"] == "date" and "city" in features.frequencies_
    # Unseen values and a shuffled order at scoring time.
    later = messy_export(seed=seed + 10, junk=True).sample(frac=1.0, random_state=seed)
    later.loc[later.index[:5], "role"] = "Astronaut"
    batch = features.transform(later)
    one_by_one = np.vstack([features.transform(r) for r in later.to_dict("records")])
    np.testing.assert_array_equal(batch, one_by_one)


def test_small_frames_convert_like_to_dict_records() -> None:
    train = messy_export(seed=3)
    train["joined"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(train)), "D")
    train["vip"] = np.arange(len(train)) % 3 == 0
    features = LeadFeatures().fit(train)
    small = messy_export(n=30, seed=4, junk=True)
    small["joined"] = pd.to_datetime(["2024-03-05", None, "2023-12-31"] * 10)
    small["vip"] = [True, False, True] * 10
    small["unused"] = "anything"
    expected = features._transform_records(small.to_dict("records"))
    np.testing.assert_array_equal(features.transform(small), expected)
    np.testing.assert_array_equal(
        features.transform(small[["unused"]]),
        np.vstack([features.transform({"unused": "anything"})] * 30),
    )


def test_values_repeated_in_one_batch_convert_as_when_alone() -> None:
    features = LeadFeatures().fit(messy_export(seed=5))
    tricky = [1, 1.0, True, "1", " b ", ["a list"], None, np.nan, "Select"]
    rows = [{c: v for c in ("mixed", "opted_in", "visits_text", "role")} for v in tricky * 2]
    together = features._transform_records(rows)
    alone = np.vstack([features._transform_records([row]) for row in rows])
    np.testing.assert_array_equal(together, alone)
    flag = features.output_columns_.index("opted_in")
    assert together[2, flag] == 1.0 and np.isnan(together[0, flag])  # True, and 1 is no answer
