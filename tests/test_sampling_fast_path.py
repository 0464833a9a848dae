"""The vectorised sampling hot path gives exactly what the per-row code gave: same files, same
in-memory tables (values, dtypes, column and row order) for a seed and a chunk size, and the
same verdicts from validation."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from acacia.data.ids import id_positions, take_ids
from acacia.data.portfolio import Portfolio
from acacia.data.simulator import SimulatorConfig, simulate_portfolio
from acacia.errors import DataError
from acacia.models import make_model
from acacia.sampling import sample_to_parquet

sys.path.insert(0, str(Path(__file__).with_name("reference")))
import slow_sampling  # noqa: E402


@pytest.fixture(scope="module")
def simulated() -> Portfolio:
    # The simulator's schema has every kind (dates, integers, nullable categories, booleans).
    return simulate_portfolio(SimulatorConfig(n_customers=300, seed=0))


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes)


@pytest.mark.parametrize("series", ["flat", "compressed"])
@pytest.mark.parametrize("name", ["gaussian_copula", "independent"])
def test_fast_path_gives_exactly_what_the_per_row_code_gave(
    name, series, tiny_portfolio, simulated, tmp_path, monkeypatch
):
    for k, real in enumerate((tiny_portfolio, simulated)):
        model = make_model(name, {"seed": 0, "series_representation": series}).fit(real)
        sample_to_parquet(model, 250, tmp_path / f"fast{k}", seed=4, chunk_size=90)
        fast = model.sample(70, seed=2)
        with slow_sampling.slow_path(monkeypatch):
            sample_to_parquet(model, 250, tmp_path / f"slow{k}", seed=4, chunk_size=90)
            slow = model.sample(70, seed=2)
        assert_same(fast.customers, slow.customers)
        assert_same(fast.consumption, slow.consumption)
        got, want = Portfolio.load(tmp_path / f"fast{k}"), Portfolio.load(tmp_path / f"slow{k}")
        assert_same(got.customers, want.customers)
        assert_same(got.consumption, want.consumption)
        assert len(got.consumption) > 250  # the series really went through


def _verdict(check, df: pd.DataFrame, p: Portfolio) -> str:
    try:
        check(p.schema, df, p.ids, source="c")
    except DataError as e:
        return str(e)
    return "ok"


def test_vectorised_validation_gives_the_row_checks_verdicts(tiny_portfolio):
    p = tiny_portfolio
    cons = p.consumption
    week = pd.Timedelta(days=7)

    def edit(col: str, row: int, value) -> pd.DataFrame:
        out = cons.copy()
        out.loc[row, col] = value
        return out

    cases = {
        "as written": cons,
        "shuffled": cons.sample(frac=1.0, random_state=0).reset_index(drop=True),
        "object ids": cons.astype({"customer_id": object}),
        "nanosecond dates": cons.astype({"period_start": "datetime64[ns]"}),
        "unknown customer": edit("customer_id", 5, "nobody"),
        "off the grid": edit("period_start", 7, cons["period_start"].iloc[7] + pd.Timedelta(days=1)),
        "before the grid": edit("period_start", 0, cons["period_start"].min() - week),
        "negative kwh": edit("kwh", 3, -1.0),
        "duplicate, adjacent": pd.concat([cons.iloc[:4], cons.iloc[3:]], ignore_index=True),
        "duplicate, far apart": pd.concat([cons, cons.iloc[[2]]], ignore_index=True),
        "empty": cons.iloc[:0],
    }
    for case, df in cases.items():
        want = _verdict(slow_sampling.validate_consumption, df, p)
        got = _verdict(type(p.schema).validate_consumption, df, p)
        assert got == want, case
    assert _verdict(type(p.schema).validate_consumption, cases["duplicate, far apart"], p) != "ok"


def test_id_helpers_match_the_pandas_lookups():
    rng = np.random.default_rng(0)
    ids = pd.Series([f"S{i:07d}" for i in range(1, 41)], dtype=str)
    pos = rng.integers(0, 40, size=500)
    assert_same(take_ids(ids, pos).to_frame(), pd.Series(np.asarray(ids)[pos]).to_frame())
    values = pd.Series(np.asarray(ids)[np.sort(pos)].tolist() + ["nobody", None, None, "S0000003"], dtype=str)
    for v in (values, values.astype(object), values.sample(frac=1.0, random_state=1)):
        np.testing.assert_array_equal(id_positions(v, ids), pd.Index(ids).get_indexer(v))
