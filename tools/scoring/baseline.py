"""Reference model every scorer must beat: an untuned, textbook logistic regression."""

from __future__ import annotations

from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler


def untuned_logistic() -> Pipeline:
    """Median/most-frequent imputation, scaling, one-hot, default LogisticRegression."""
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        FunctionTransformer(lambda frame: frame.astype(object), feature_names_out="one-to-one"),
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore"))
    prepare = ColumnTransformer([
        ("numeric", numeric, make_column_selector(dtype_include="number")),
        ("categorical", categorical, make_column_selector(dtype_exclude="number")),
    ])
    return make_pipeline(prepare, LogisticRegression(max_iter=1000))
