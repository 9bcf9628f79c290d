"""`nurture score benchmark` and `train` end to end on a small CSV."""

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from tools.scoring.versions import load_model
from ui.cli_score import app

RULES = """
fit:
  - column: role
    values: {VP: 70, Manager: 40}
behaviour:
  - column: visits
    each: 10
    max: 60
"""


def _csv(tmp_path: Path, leads: pd.DataFrame, sep: str = ",") -> Path:
    leads = leads.assign(lead_stage=leads["converted"].map({"yes": "won", "no": "open"}))
    path = tmp_path / "leads.csv"
    leads.to_csv(path, index=False, sep=sep)
    return path


def test_benchmark_writes_the_json_contract(tmp_path: Path, leads: pd.DataFrame) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    out = tmp_path / "out" / "bench.json"
    result = CliRunner().invoke(app, [
        "benchmark", "--data", str(_csv(tmp_path, leads)), "--target", "converted",
        "--id", "lead_id", "--exclude", "country", "--rules", str(rules), "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    for part in ("model", "rules"):
        assert {"auc", "brier", "top_decile_lift", "top_decile_vs_rest", "kind"} <= set(
            report[part])
    assert report["model"]["auc"] > 0.7
    assert report["rows"] == len(leads)
    assert abs(report["positive_rate"] - (leads["converted"] == "yes").mean()) < 1e-3
    reasons = {e["column"]: e["reason"] for e in report["excluded"]}
    assert "lead_stage" in reasons and "country" in reasons and "lead_id" in reasons
    assert "lead_stage" in result.output and "--exclude" in result.output


def test_benchmark_time_column(tmp_path: Path, leads: pd.DataFrame) -> None:
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, [
        "benchmark", "--data", str(_csv(tmp_path, leads)), "--target", "converted",
        "--time-column", "created_at", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert "time-ordered" in report["model"]["split"]
    assert "rules" not in report


def test_bad_inputs_exit_cleanly(tmp_path: Path, leads: pd.DataFrame) -> None:
    runner = CliRunner()
    semi = _csv(tmp_path, leads, sep=";")
    out = tmp_path / "x.json"
    wrong_sep = runner.invoke(app, ["benchmark", "--data", str(semi), "--target", "converted",
                                    "--sep", ",", "--json", str(out)])
    assert wrong_sep.exit_code == 2 and "--sep ';'" in wrong_sep.output
    assert wrong_sep.exception is None or isinstance(wrong_sep.exception, SystemExit)
    no_target = runner.invoke(app, ["benchmark", "--data", str(semi), "--target", "convrted",
                                    "--json", str(out)])
    assert no_target.exit_code == 2 and "did you mean 'converted'" in no_target.output
    one_class = tmp_path / "one.csv"
    leads.assign(converted="yes").to_csv(one_class, index=False)
    only = runner.invoke(app, ["benchmark", "--data", str(one_class), "--target", "converted",
                               "--json", str(out)])
    assert only.exit_code == 2 and "one class only" in only.output
    assert not out.exists()


def test_train_saves_a_loadable_version(tmp_path: Path, leads: pd.DataFrame) -> None:
    result = CliRunner().invoke(app, [
        "train", "--data", str(_csv(tmp_path, leads)), "--target", "converted",
        "--out", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    scorer, manifest = load_model(tmp_path / "model")
    assert manifest.rows == len(leads) and manifest.metrics["auc"] > 0.7
    assert "lead_stage" not in manifest.features
    assert 0 <= scorer.score_lead({"role": "VP", "visits": 5}) <= 100
