"""The static / series split of benchmarks/marginal_ceiling.py (nothing is fitted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "marginal_ceiling.py"
_spec = importlib.util.spec_from_file_location("marginal_ceiling", _PATH)
ceiling = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ceiling)


def test_shapes_split_into_static_columns_and_series_features():
    model = pd.DataFrame({"column": ["region", "surface_m2", "series_cv"], "score": [0.99, 0.95, 0.90]})
    holdout = pd.DataFrame({"column": ["series_cv", "surface_m2", "region"], "score": [0.98, 0.97, 0.98]})
    split = ceiling.shape_split(model, holdout)
    assert split["static"] == (0.99 + 0.95) / 2 and split["series"] == 0.90
    assert (split["n_static"], split["n_series"], split["at_least_holdout"]) == (2, 1, 1)
    static, series = ceiling.split_sum_of_squares(["region=a", "series_acf1", "surface_m2"], np.array([0.1, 0.2, 0.3]))
    assert np.isclose(static, 0.1**2 + 0.3**2) and np.isclose(series, 0.04)


def test_a_copy_of_the_unseen_rows_scores_one_and_a_shift_less():
    rng = np.random.default_rng(0)
    unseen = pd.DataFrame({"surface_m2": rng.normal(90, 30, 400), "series_cv": rng.uniform(0.1, 0.5, 400)})
    kinds = {"surface_m2": "numerical", "series_cv": "numerical"}
    table = pd.concat([unseen, unseen], ignore_index=True)
    assert ceiling.unseen_shapes(unseen, table.iloc[:400], kinds, draws=2) == (1.0, 1.0)
    static, series = ceiling.unseen_shapes(unseen, table.assign(surface_m2=table.surface_m2 + 30), kinds, draws=2)
    assert static < 0.7 and series > 0.9
