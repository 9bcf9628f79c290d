"""Turn a raw lead export into model-ready columns: numeric, categorical, dates, placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from tools.scoring.errors import DataError

# Answers that mean "not answered": CRM forms default to "Select", exports write "N/A" etc.
PLACEHOLDERS = (
    "",
    "select",
    "n/a",
    "na",
    "none",
    "null",
    "nan",
    "unknown",
    "-",
    "--",
    "?",
    "not provided",
    "not specified",
    "not available",
    "undefined",
)
OTHER = "__other__"
_FLAG_VALUES = {"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0, "y": 1.0, "n": 0.0}
_ID_TOKENS = {"id", "uuid", "guid", "key", "number", "no", "num", "email", "phone", "name"}
_DATE_SHAPE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
# Codes like 999 in "days since last contact" mean "never": treat them as missing.
_SENTINELS = (99.0, 999.0, 9999.0, 99999.0, -999.0)


def name_tokens(column: str) -> list[str]:
    """Words of a column name: `LeadSource`, `lead_source`, `Lead Source` all give lead, source."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(column))
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def id_like_reason(column: str, values: pd.Series) -> str | None:
    """Why a column looks like an identifier (unique per lead, or named like one), else None."""
    present = values.dropna()
    if len(present) < 2:
        return None
    unique_ratio = present.nunique() / len(present)
    tokens = name_tokens(column)
    is_float = pd.api.types.is_float_dtype(values)
    if tokens and tokens[-1] in _ID_TOKENS and unique_ratio > 0.5 and not is_float:
        return f"identifier: named like an id and {unique_ratio:.0%} of values are distinct"
    if len(present) >= 20 and unique_ratio == 1.0 and not is_float:
        return "identifier: a different value on every row"
    return None


def distinct_values(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(codes, distinct): each row's position in `distinct` (-1 where missing), and the distinct
    values as text. Text work on `distinct` then costs per distinct value, not per row."""
    codes, uniques = pd.factorize(values)
    # Hashing treats 1, 1.0 and True as one value, but their texts differ: stringify first
    # unless every distinct value already is a string.
    if not all(isinstance(u, str) for u in uniques):
        codes, uniques = pd.factorize(values.astype("string"))
    return codes, pd.Series(uniques, dtype="string")


def spread(per_value: pd.Series | np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Rows from per-distinct-value results; the entry after the last one is for missing rows."""
    return np.asarray(per_value)[np.where(codes < 0, len(per_value) - 1, codes)]


def clean_strings(values: pd.Series, placeholders: Iterable[str]) -> pd.Series:
    """Strip text and turn placeholder answers ("Select", "N/A", "") into missing values."""
    codes, distinct = distinct_values(values)
    text = distinct.str.strip()
    cleaned = text.mask(text.str.lower().isin(list(placeholders)))
    rows = cleaned.array.take(codes, allow_fill=True)  # -1 (missing) -> NA
    return pd.Series(rows, index=values.index, name=values.name)


class LeadFeatures(TransformerMixin, BaseEstimator):
    """Learn each column's kind on a training export and convert any later export the same way.

    Output: a float matrix, one column per `output_columns_`; categorical columns hold codes
    into `categories_` (rare and unseen values share the `__other__` code) and
    `categorical_mask_` marks them, ready for a linear or a tree model.
    Columns missing at transform time are treated as all-missing, so a lead dict that lacks a
    field still scores.
    """

    def __init__(
        self,
        placeholders: tuple[str, ...] = PLACEHOLDERS,
        max_categories: int = 50,
        min_category_count: int = 5,
        drop: tuple[str, ...] = (),
    ) -> None:
        self.placeholders = placeholders
        self.max_categories = max_categories
        self.min_category_count = min_category_count
        self.drop = drop

    def fit(self, X: pd.DataFrame, y: Any = None) -> LeadFeatures:
        frame = _as_frame(X)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.kinds_: dict[str, str] = {}
        self.dropped_: list[dict[str, str]] = []
        self.categories_: dict[str, list[str]] = {}
        self.frequencies_: dict[str, dict[str, float]] = {}
        self.date_formats_: dict[str, str | None] = {}
        self.sentinels_: dict[str, float] = {}
        self.typical_: dict[str, Any] = {}
        for column in frame.columns:
            reason = self._fit_column(str(column), frame[column])
            if reason:
                self.dropped_.append({"column": str(column), "reason": reason})
        if not self.kinds_:
            raise DataError(
                "no usable feature columns: every column is empty, constant or an "
                "identifier (see the excluded list)"
            )
        self.output_columns_ = self._output_columns()
        return self

    def _fit_column(self, column: str, raw: pd.Series) -> str | None:
        if column in self.drop:
            return "excluded by the caller"
        reason = id_like_reason(column, raw)
        if reason:
            return reason
        kind, values = self._infer_kind(column, raw)
        present = values.dropna()
        if present.empty:
            return "empty: no values (after treating placeholders like 'Select' as missing)"
        if present.nunique() == 1 and len(present) == len(values):
            return f"constant: every row is {raw.dropna().iloc[0]!s}"
        self.kinds_[column] = kind
        if kind == "categorical":
            self._fit_categories(column, values)
            self.typical_[column] = present.mode().iloc[0]
        elif kind == "date":
            self.typical_[column] = present.median()
        else:
            self.typical_[column] = float(present.median())
        return None

    def _infer_kind(self, column: str, raw: pd.Series) -> tuple[str, pd.Series]:
        if pd.api.types.is_datetime64_any_dtype(raw):
            self.date_formats_[column] = None
            return "date", _naive(raw)
        if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
            numeric = raw.astype("float64")
            self._fit_sentinel(column, numeric)
            return "numeric", self._apply_sentinel(column, numeric)
        text = clean_strings(raw, self.placeholders)
        present = text.dropna()
        lowered = present.str.lower()
        if not present.empty and lowered.isin(list(_FLAG_VALUES)).all():
            return "flag", lowered.map(_FLAG_VALUES).reindex(text.index).astype("float64")
        numeric = pd.to_numeric(present, errors="coerce")
        if not present.empty and numeric.notna().mean() >= 0.95:
            as_float = pd.to_numeric(text, errors="coerce").astype("float64")
            self._fit_sentinel(column, as_float)
            return "numeric", self._apply_sentinel(column, as_float)
        date_format = _date_format(present)
        if date_format is not None:
            self.date_formats_[column] = date_format
            return "date", _parse_dates(text, date_format)
        return "categorical", text

    def _fit_sentinel(self, column: str, values: pd.Series) -> None:
        present = values.dropna()
        if len(present) < 20:
            return
        for code in _SENTINELS:
            share = float((present == code).mean())
            rest = present[present != code]
            if share >= 0.05 and not rest.empty and rest.abs().max() < abs(code) / 2:
                self.sentinels_[column] = code
                return

    def _apply_sentinel(self, column: str, values: pd.Series) -> pd.Series:
        code = self.sentinels_.get(column)
        return values if code is None else values.mask(values == code)

    def _fit_categories(self, column: str, values: pd.Series) -> None:
        counts = values.value_counts()
        kept = counts[counts >= self.min_category_count].index[: self.max_categories]
        self.categories_[column] = [*map(str, kept), OTHER]
        if len(counts) > self.max_categories:
            self.frequencies_[column] = (counts / counts.sum()).astype(float).to_dict()

    def _output_columns(self) -> list[str]:
        out: list[str] = []
        for column, kind in self.kinds_.items():
            if kind == "date":
                out += [f"{column}__{part}" for part in _date_parts(self, column)]
            else:
                out.append(column)
                if column in self.frequencies_:
                    out.append(f"{column}__frequency")
        return out

    @property
    def categorical_columns_(self) -> list[str]:
        return [c for c, k in self.kinds_.items() if k == "categorical"]

    @property
    def categorical_mask_(self) -> np.ndarray:
        return np.array([c in self.categories_ for c in self.output_columns_], dtype=bool)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.output_columns_, dtype=object)

    def transform(self, X: pd.DataFrame | dict[str, Any]) -> np.ndarray:
        """Float matrix (rows x `output_columns_`): categories as codes, NaN where missing."""
        check_is_fitted(self, "kinds_")
        if isinstance(X, dict):
            return self._transform_records([X])
        frame = _as_frame(X)
        if len(frame) <= _SMALL_BATCH:
            return self._transform_records(_records(frame, list(self.kinds_)))
        out: dict[str, Any] = {}
        for column, kind in self.kinds_.items():
            raw = (
                frame[column]
                if column in frame.columns
                else pd.Series(np.nan, index=frame.index, dtype="float64")
            )
            out.update(self._transform_column(column, kind, raw))
        return np.column_stack([np.asarray(out[c], dtype="float64") for c in self.output_columns_])

    def transform_frame(self, X: pd.DataFrame | dict[str, Any]) -> pd.DataFrame:
        """Readable version of `transform`: categories as labels, for inspection and tests."""
        matrix = self.transform(X)
        frame = pd.DataFrame(matrix, columns=self.output_columns_)
        for column, categories in self.categories_.items():
            codes = frame[column].fillna(-1).astype(int)
            frame[column] = pd.Categorical.from_codes(codes, categories=categories)
        return frame

    def _transform_column(self, column: str, kind: str, raw: pd.Series) -> dict[str, Any]:
        if (
            kind == "numeric"
            and pd.api.types.is_numeric_dtype(raw)
            and not pd.api.types.is_bool_dtype(raw)
        ):
            return {column: self._apply_sentinel(column, raw.astype("float64"))}
        if kind == "flag" and pd.api.types.is_bool_dtype(raw):
            return {column: raw.astype("float64")}
        if kind == "date" and pd.api.types.is_datetime64_any_dtype(raw):
            dates = _naive(raw)
            return {f"{column}__{p}": _date_part(dates, p) for p in _date_parts(self, column)}
        # Text: convert each distinct value once (a million rows hold a few hundred), plus one
        # missing value at the end for the rows that have none.
        codes, distinct = distinct_values(raw)
        values = pd.concat([distinct, pd.Series([pd.NA], dtype="string")], ignore_index=True)
        converted = self._transform_text(column, kind, values)
        return {
            name: spread(np.asarray(v, dtype="float64"), codes) for name, v in converted.items()
        }

    def _transform_text(self, column: str, kind: str, raw: pd.Series) -> dict[str, Any]:
        if kind == "numeric":
            values = pd.to_numeric(clean_strings(raw, self.placeholders), errors="coerce")
            return {column: self._apply_sentinel(column, values.astype("float64"))}
        if kind == "flag":
            lowered = clean_strings(raw, self.placeholders).str.lower()
            return {column: lowered.map(_FLAG_VALUES).astype("float64")}
        if kind == "date":
            dates = _parse_dates(
                clean_strings(raw, self.placeholders), self.date_formats_.get(column)
            )
            return {f"{column}__{p}": _date_part(dates, p) for p in _date_parts(self, column)}
        text = clean_strings(raw, self.placeholders)
        categories = self.categories_[column]
        known = text.where(text.isin(categories[:-1]) | text.isna(), OTHER)
        codes = pd.Categorical(known, categories=categories).codes.astype("float64")
        result: dict[str, Any] = {column: np.where(codes < 0, np.nan, codes)}
        if column in self.frequencies_:
            freq = text.map(self.frequencies_[column])
            result[f"{column}__frequency"] = freq.astype("float64").fillna(0.0)
        return result

    def _transform_records(self, records: list[dict[Any, Any]]) -> np.ndarray:
        # Plain Python per value: a single lead converts in microseconds instead of the
        # milliseconds that per-column pandas calls cost.
        lookup = self._record_lookup()
        # An explanation converts ~30 variants of one lead: each column holds one value or two,
        # so each (column, value) is converted once. The type is in the key: 1, 1.0 and True
        # hash alike but convert differently.
        done: dict[tuple[str, type, Any], list[float]] = {}
        rows = []
        for record in records:
            row: list[float] = []
            for column, kind in self.kinds_.items():
                value = record.get(column)
                key = (column, type(value), value)
                try:
                    converted = done[key]
                except KeyError:
                    converted = done[key] = self._convert_value(column, kind, value, lookup)
                except TypeError:  # an unhashable value (a list): converted every time
                    converted = self._convert_value(column, kind, value, lookup)
                row.extend(converted)
            rows.append(row)
        return np.asarray(rows, dtype="float64").reshape(len(records), len(self.output_columns_))

    def _record_lookup(self) -> dict[str, dict[str, int]]:
        cached: dict[str, dict[str, int]] | None = getattr(self, "_lookup_cache", None)
        if cached is None:
            cached = {c: {v: i for i, v in enumerate(cats)} for c, cats in self.categories_.items()}
            self._lookup_cache = cached
        return cached

    def _convert_value(
        self, column: str, kind: str, value: Any, lookup: dict[str, dict[str, int]]
    ) -> list[float]:
        text = _clean_value(value, self.placeholders)
        if kind == "numeric":
            number = _to_float(value if not isinstance(value, str) else text)
            return [np.nan if number == self.sentinels_.get(column) else number]
        if kind == "flag":
            if isinstance(value, bool | np.bool_):
                return [float(value)]
            return [_FLAG_VALUES.get(text.lower(), np.nan) if text is not None else np.nan]
        if kind == "date":
            stamp = _to_timestamp(value, text, self.date_formats_.get(column))
            return [_stamp_part(stamp, p) for p in _date_parts(self, column)]
        codes = lookup[column]
        code = np.nan if text is None else float(codes.get(text, codes[OTHER]))
        if column in self.frequencies_:
            return [code, self.frequencies_[column].get(text, 0.0) if text is not None else 0.0]
        return [code]


_SMALL_BATCH = 64


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[Any, Any]]:
    """A few rows as dicts of the `columns` the frame has: the same Python values as
    `to_dict("records")` at a fraction of its cost (it boxes every cell of every column)."""
    if not frame.columns.is_unique:
        return frame.to_dict("records")
    present = [c for c in columns if c in frame.columns]
    if not present:
        return [{} for _ in range(len(frame))]
    values = [frame[c].tolist() for c in present]
    return [dict(zip(present, row, strict=True)) for row in zip(*values, strict=True)]


def _clean_value(value: Any, placeholders: tuple[str, ...]) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return None if text.lower() in placeholders else text


def _to_float(value: Any) -> float:
    if value is None:
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _to_timestamp(value: Any, text: str | None, date_format: str | None) -> pd.Timestamp | None:
    if text is None:
        return None
    try:
        stamp = (
            pd.Timestamp(value)
            if not isinstance(value, str)
            else pd.to_datetime(text, format=date_format)
        )
    except (TypeError, ValueError):
        return None
    if stamp is pd.NaT:
        return None
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


def _stamp_part(stamp: pd.Timestamp | None, part: str) -> float:
    return np.nan if stamp is None else float(getattr(stamp, part))


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, dict):
        return pd.DataFrame([X])
    raise DataError("expected a pandas DataFrame of leads (or one lead as a dict)")


def _naive(values: pd.Series) -> pd.Series:
    dates = pd.to_datetime(values, errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert(None)
    return dates


def _date_format(present: pd.Series) -> str | None:
    sample = present.iloc[:200]
    if sample.empty or not sample.str.match(_DATE_SHAPE).mean() >= 0.9:
        return None
    guessed = guess_datetime_format(str(sample.iloc[0]))
    if guessed is None:
        return None
    parsed = pd.to_datetime(sample, format=guessed, errors="coerce")
    return guessed if parsed.notna().mean() >= 0.9 else None


def _parse_dates(text: pd.Series, date_format: str | None) -> pd.Series:
    dates = pd.to_datetime(text, format=date_format, errors="coerce", utc=True)
    return dates.dt.tz_convert(None)


_DATE_PARTS = ("year", "month", "day", "dayofweek", "hour")


def _date_parts(features: LeadFeatures, column: str) -> tuple[str, ...]:
    fmt = features.date_formats_.get(column)
    has_time = fmt is None or "%H" in fmt or "%I" in fmt
    return _DATE_PARTS if has_time else _DATE_PARTS[:-1]


def _date_part(dates: pd.Series, part: str) -> pd.Series:
    return getattr(dates.dt, part).astype("float64")
