"""Reading lead exports (CSV) into a DataFrame and turning the target into 0/1."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from tools.scoring.errors import DataError, TargetError

_OTHER_SEPARATORS = (";", "\t", "|")

# Lower-cased labels read as a conversion (1) or as no conversion (0).
POSITIVE_LABELS = frozenset(
    {"1", "1.0", "yes", "y", "true", "t", "won", "win", "closed won", "closed-won", "converted",
     "convert", "positive", "pos", "success", "successful", "sql", "opportunity", "customer"}
)
NEGATIVE_LABELS = frozenset(
    {"0", "0.0", "no", "n", "false", "f", "lost", "loss", "closed lost", "closed-lost",
     "not converted", "unconverted", "negative", "neg", "failure", "failed", "rejected",
     "disqualified"}
)


def read_leads_csv(path: Path | str, sep: str | None = None) -> pd.DataFrame:
    """Read a CSV export; `sep=None` sniffs `,` `;` tab or `|` from the header line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty: export the leads with a header row and at least one row")
    chosen = sep or _sniff_separator(path)
    try:
        frame = pd.read_csv(path, sep=chosen, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path} has no header row or no rows") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{path} could not be parsed with separator {chosen!r}: {exc}; "
                        "pass the right one with --sep") from exc
    if frame.empty:
        raise DataError(f"{path} has a header but no rows")
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        hint = next((s for s in _OTHER_SEPARATORS if s in header and s != chosen), None)
        if hint is not None:
            raise DataError(f"{path} reads as a single column {header[:60]!r} with separator "
                            f"{chosen!r}; it looks {hint!r}-separated: pass --sep {hint!r}")
        raise DataError(f"{path} has a single column {header[:60]!r}; a lead table needs the "
                        "target and at least one feature column (wrong --sep?)")
    return frame


def _sniff_separator(path: Path) -> str:
    with path.open("r", encoding="utf-8", errors="replace", newline="") as handle:
        header = handle.readline()
    counts = {s: header.count(s) for s in (",", *_OTHER_SEPARATORS)}
    best = max(counts, key=lambda s: counts[s])
    if counts[best] == 0:
        return ","
    try:
        return csv.Sniffer().sniff(header, delimiters="".join(counts)).delimiter
    except csv.Error:
        return best


def file_sha256(path: Path | str) -> str:
    """sha256 of a file's bytes, streamed."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_sha256(frame: pd.DataFrame) -> str:
    """sha256 of a DataFrame's content (column names, order and values)."""
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def binary_target(values: pd.Series, column: str = "target") -> np.ndarray:
    """Map a two-valued outcome (0/1, yes/no, true/false, won/lost, ...) to 0/1."""
    present = values.dropna()
    if present.empty:
        raise TargetError(f"target column {column!r} has no values")
    if len(values) != len(present):
        raise TargetError(f"target column {column!r} has {len(values) - len(present)} empty "
                          "rows: drop them or fill in the outcome")
    labels = present.astype(str).str.strip().str.lower()
    distinct = sorted(labels.unique())
    if len(distinct) == 1:
        raise TargetError(f"target column {column!r} has one class only ({distinct[0]!r}): "
                          "scoring needs both converted and not-converted leads")
    if len(distinct) > 2:
        shown = ", ".join(repr(v) for v in distinct[:6])
        raise TargetError(f"target column {column!r} is not binary: {len(distinct)} values "
                          f"({shown}{', ...' if len(distinct) > 6 else ''}); map it to two "
                          "outcomes first")
    positive = [v for v in distinct if v in POSITIVE_LABELS]
    negative = [v for v in distinct if v in NEGATIVE_LABELS]
    if len(positive) != 1 or len(negative) != 1:
        raise TargetError(f"target column {column!r} has values {distinct[0]!r} and "
                          f"{distinct[1]!r}; cannot tell which one means converted: use "
                          "1/0, yes/no, true/false or won/lost")
    return (labels == positive[0]).to_numpy(dtype=np.int8)
