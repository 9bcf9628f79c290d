"""Reference model every scorer must beat: an untuned, textbook logistic regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

# The level a blank categorical cell gets: a field nobody filled in is information of its own
# (another form, another channel), not a vote for the most common answer.
MISSING_LEVEL = "__missing__"


def untuned_logistic() -> Pipeline:
    """Median imputation and scaling for numbers, one-hot with blanks as their own level for
    categories (as `pandas.get_dummies` would do), default LogisticRegression."""
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        FunctionTransformer(_objects_with_nan, feature_names_out="one-to-one"),
        SimpleImputer(strategy="constant", fill_value=MISSING_LEVEL),
        OneHotEncoder(handle_unknown="ignore"),
    )
    prepare = ColumnTransformer([
        ("numeric", numeric, make_column_selector(dtype_include="number")),
        ("categorical", categorical, make_column_selector(dtype_exclude="number")),
    ])
    return make_pipeline(prepare, LogisticRegression(max_iter=1000))


def _objects_with_nan(frame: pd.DataFrame) -> pd.DataFrame:
    # Nullable string columns hold pd.NA, which the imputer cannot compare: make it NaN.
    return frame.astype(object).where(frame.notna(), np.nan)
