"""Bad input files and targets give clear errors, never a traceback."""

from pathlib import Path

import pandas as pd
import pytest

from tools.scoring.data import binary_target, read_leads_csv
from tools.scoring.errors import DataError, TargetError


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_leads_csv(path)


def test_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("a,b,converted\n")
    with pytest.raises(DataError, match="no rows"):
        read_leads_csv(path)


def test_wrong_separator_suggests_sep(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text('"age";"job";"y"\n30;"admin.";"no"\n40;"services";"yes"\n')
    with pytest.raises(DataError, match="--sep ';'"):
        read_leads_csv(path, sep=",")
    assert list(read_leads_csv(path).columns) == ["age", "job", "y"]


@pytest.mark.parametrize(("values", "expected"), [
    (["yes", "no", "Yes"], [1, 0, 1]),
    ([1, 0, 0], [1, 0, 0]),
    (["Won", "Lost", "won"], [1, 0, 1]),
    ([True, False, True], [1, 0, 1]),
    (["converted", "not converted", "converted"], [1, 0, 1]),
])
def test_binary_target_mappings(values: list[object], expected: list[int]) -> None:
    assert binary_target(pd.Series(values), "t").tolist() == expected


def test_target_errors() -> None:
    with pytest.raises(TargetError, match="one class only"):
        binary_target(pd.Series(["yes"] * 5), "y")
    with pytest.raises(TargetError, match="not binary"):
        binary_target(pd.Series(["a", "b", "c"]), "stage")
    with pytest.raises(TargetError, match="cannot tell"):
        binary_target(pd.Series(["red", "blue"]), "colour")
    with pytest.raises(TargetError, match="empty rows"):
        binary_target(pd.Series(["yes", None, "no"]), "y")
