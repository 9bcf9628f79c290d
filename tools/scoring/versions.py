"""Model versions on disk: `model.joblib` plus a JSON manifest checked before anything loads."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import catboost
import joblib
import sklearn

from tools.scoring.errors import ModelVersionError
from tools.scoring.model import LeadScorer

# 2: scorers pick models on forward windows and keep drifting columns from the trees.
# 3: the trees read categories as ordered target statistics and frequencies.
# 4: the trees are the average of those and CatBoost's.
FORMAT_VERSION = 4
MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
_RETRAIN = "run `nurture score retrain` (or `nurture score train`) to build a fresh model"


@dataclass(frozen=True)
class Manifest:
    """What a saved model is, what it was trained on and how well it did."""

    version: str
    kind: str
    trained_at: str
    training_data_sha256: str
    features: list[str]
    metrics: dict[str, Any] = field(default_factory=dict)
    excluded: list[dict[str, str]] = field(default_factory=list)
    target: str = ""
    rows: int = 0
    positive_rate: float = 0.0
    sklearn_version: str = sklearn.__version__
    catboost_version: str = catboost.__version__
    format_version: int = FORMAT_VERSION


def save_model(
    scorer: LeadScorer,
    directory: Path | str,
    *,
    training_data_sha256: str,
    metrics: dict[str, Any] | None = None,
    excluded: list[dict[str, str]] | None = None,
    target: str = "",
    rows: int = 0,
    positive_rate: float = 0.0,
) -> Manifest:
    """Write the fitted scorer and its manifest into `directory` (created if needed)."""
    now = datetime.now(UTC)
    manifest = Manifest(
        version=f"{now:%Y%m%dT%H%M%SZ}-{scorer.kind_}-{training_data_sha256[:8]}",
        kind=scorer.kind_,
        trained_at=now.isoformat(timespec="seconds"),
        training_data_sha256=training_data_sha256,
        features=[str(c) for c in scorer.features_.kinds_],
        metrics=metrics or {},
        excluded=excluded or [],
        target=target,
        rows=rows,
        positive_rate=positive_rate,
    )
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(scorer, folder / MODEL_FILE)
    (folder / MANIFEST_FILE).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


def read_manifest(directory: Path | str) -> Manifest:
    """The manifest of a saved model, after checking it was written by a compatible version."""
    path = Path(directory) / MANIFEST_FILE
    if not path.is_file():
        raise ModelVersionError(f"no model at {directory} ({MANIFEST_FILE} missing): {_RETRAIN}")
    try:
        raw = json.loads(path.read_text())
        manifest = Manifest(**raw)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ModelVersionError(f"{path} is not a nurture model manifest: {_RETRAIN}") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise ModelVersionError(
            f"model {manifest.version} uses model format {manifest.format_version}; this nurture "
            f"reads format {FORMAT_VERSION}: {_RETRAIN}"
        )
    for library, trained, installed in (
        ("scikit-learn", manifest.sklearn_version, sklearn.__version__),
        ("catboost", manifest.catboost_version, catboost.__version__),
    ):
        if trained != installed:
            raise ModelVersionError(
                f"model {manifest.version} was trained with {library} {trained}; this install "
                f"has {installed}, which may load it wrongly: {_RETRAIN}"
            )
    return manifest


def load_model(directory: Path | str) -> tuple[LeadScorer, Manifest]:
    """Load a saved scorer. Only load model directories you created: joblib runs pickled code."""
    manifest = read_manifest(directory)
    try:
        scorer = joblib.load(Path(directory) / MODEL_FILE)
    except Exception as exc:  # an unreadable pickle fails in many ways, all with one remedy
        raise ModelVersionError(
            f"cannot read {Path(directory) / MODEL_FILE} ({exc}): {_RETRAIN}"
        ) from exc
    if not isinstance(scorer, LeadScorer):
        raise ModelVersionError(f"{directory} does not hold a LeadScorer: {_RETRAIN}")
    return scorer, manifest
