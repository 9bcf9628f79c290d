"""LeadFeatures: kinds, placeholders, ids, dates, unseen values, fast single-lead path."""

import numpy as np
import pandas as pd

from tools.scoring.features import OTHER, LeadFeatures, id_like_reason


def test_kinds_placeholders_ids_and_empty_columns(leads: pd.DataFrame) -> None:
    features = LeadFeatures().fit(leads.drop(columns="converted"))
    dropped = {d["column"]: d["reason"] for d in features.dropped_}
    assert "identifier" in dropped["lead_id"]
    assert "empty" in dropped["notes"]
    assert features.kinds_["role"] == "categorical"
    assert features.kinds_["visits"] == "numeric"
    assert features.kinds_["created_at"] == "date"
    assert "Select" not in features.categories_["role"]
    assert "" not in features.categories_["country"]
    assert "N/A" not in features.categories_["country"]


def test_select_is_missing_not_a_category(leads: pd.DataFrame) -> None:
    features = LeadFeatures().fit(leads)
    frame = features.transform_frame(pd.DataFrame({"role": ["Select", " select ", "VP"]}))
    assert frame["role"].isna().tolist() == [True, True, False]


def test_dates_expand_to_parts() -> None:
    raw = pd.DataFrame({"created": ["2024-03-15", "2023-12-01", "2024-07-04"] * 10,
                        "x": range(30)})
    features = LeadFeatures().fit(raw)
    out = features.transform_frame(raw.iloc[:1])
    assert {"created__year", "created__month", "created__dayofweek"} <= set(out.columns)
    assert "created__hour" not in out.columns
    assert out.loc[0, "created__year"] == 2024
    assert out.loc[0, "created__month"] == 3
    assert out.loc[0, "created__dayofweek"] == 4


def test_unseen_category_and_missing_column_at_scoring_time(leads: pd.DataFrame) -> None:
    features = LeadFeatures().fit(leads)
    out = features.transform_frame(pd.DataFrame({"role": ["Astronaut"]}))
    assert out.loc[0, "role"] == OTHER
    assert np.isnan(out.loc[0, "visits"])


def test_single_lead_path_matches_vectorised_path(leads: pd.DataFrame) -> None:
    features = LeadFeatures().fit(leads)
    big = features.transform(pd.concat([leads] * 2, ignore_index=True))[: len(leads)]
    one_by_one = np.vstack([features.transform(r) for r in leads.head(50).to_dict("records")])
    np.testing.assert_allclose(big[:50], one_by_one, equal_nan=True)


def test_yes_no_columns_become_flags() -> None:
    raw = pd.DataFrame({"do_not_email": ["Yes", "No", "no", "Select"] * 10, "v": range(40)})
    features = LeadFeatures().fit(raw)
    assert features.kinds_["do_not_email"] == "flag"
    values = features.transform_frame(raw.head(4))["do_not_email"].tolist()
    assert values[:3] == [1.0, 0.0, 0.0] and np.isnan(values[3])


def test_numeric_sentinel_becomes_missing() -> None:
    raw = pd.DataFrame({"pdays": [999] * 80 + list(range(20))})
    features = LeadFeatures().fit(raw)
    assert features.sentinels_ == {"pdays": 999.0}
    assert np.isnan(features.transform(raw.head(1))[0, 0])


def test_id_like_by_name_but_not_measurements() -> None:
    assert id_like_reason("Lead Number", pd.Series(range(100)))
    assert id_like_reason("anything", pd.Series([f"u{i}" for i in range(50)]))
    assert id_like_reason("amount", pd.Series(np.linspace(0, 1, 50))) is None
    assert id_like_reason("country", pd.Series(["a", "b"] * 30)) is None
