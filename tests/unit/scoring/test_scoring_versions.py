"""Model versions round-trip; a model from another version fails with a clear error."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools.scoring.errors import ModelVersionError
from tools.scoring.model import LeadScorer
from tools.scoring.versions import MANIFEST_FILE, load_model, save_model


@pytest.fixture
def saved(tmp_path: Path, leads: pd.DataFrame) -> tuple[Path, LeadScorer, pd.DataFrame]:
    X = leads.drop(columns="converted")
    scorer = LeadScorer(kind="linear", cv=2).fit(X, (leads["converted"] == "yes").to_numpy(int))
    save_model(scorer, tmp_path / "v1", training_data_sha256="ab" * 32, metrics={"auc": 0.8},
               target="converted", rows=len(X))
    return tmp_path / "v1", scorer, X


def test_round_trip(saved: tuple[Path, LeadScorer, pd.DataFrame]) -> None:
    folder, scorer, X = saved
    loaded, manifest = load_model(folder)
    np.testing.assert_allclose(loaded.predict_proba(X), scorer.predict_proba(X))
    assert manifest.kind == "linear" and manifest.metrics == {"auc": 0.8}
    assert manifest.training_data_sha256 == "ab" * 32
    assert "role" in manifest.features and "lead_id" not in manifest.features
    assert manifest.version.endswith("-linear-abababab")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("sklearn_version", "0.24.2", "scikit-learn 0.24.2"),
    ("catboost_version", "0.9", "catboost 0.9"),
    ("format_version", 99, "format 99"),
])
def test_other_version_is_refused(
    saved: tuple[Path, LeadScorer, pd.DataFrame], field: str, value: object, message: str
) -> None:
    folder, _, _ = saved
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest[field] = value
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelVersionError, match=message) as caught:
        load_model(folder)
    assert "nurture score retrain" in str(caught.value)


def test_missing_or_corrupt_model(
    tmp_path: Path, saved: tuple[Path, LeadScorer, pd.DataFrame]
) -> None:
    with pytest.raises(ModelVersionError, match="no model"):
        load_model(tmp_path / "nowhere")
    folder, _, _ = saved
    (folder / "model.joblib").write_bytes(b"not a pickle")
    with pytest.raises(ModelVersionError, match="cannot read"):
        load_model(folder)
