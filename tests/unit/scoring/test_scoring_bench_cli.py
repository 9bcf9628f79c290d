"""The scoring benchmarks read the public datasets from a folder; without it they say so."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ui.cli_bench import app


@pytest.mark.parametrize("command", ["scoring", "scoring-breadth"])
def test_missing_data_folder_is_a_clear_error(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-data"
    result = CliRunner().invoke(app, [command, "--data-dir", str(missing)])
    assert result.exit_code == 2
    assert f"data folder {missing} not found (pass --data-dir)" in result.output
    assert "Traceback" not in result.output
