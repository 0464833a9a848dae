"""Chunked sampling straight to Parquet: same files as one call when it fits, valid and
reproducible when it does not, nothing left behind on failure."""

from __future__ import annotations

import pandas as pd
import pytest

from acacia.data.portfolio import Portfolio
from acacia.errors import DataError, ParamsError
from acacia.models import make_model
from acacia.sampling import sample_to_parquet


@pytest.fixture(scope="module")
def copula(tiny_portfolio):
    return make_model("gaussian_copula").fit(tiny_portfolio)


def test_one_chunk_is_exactly_one_sample_call(copula, tmp_path):
    sample_to_parquet(copula, 120, tmp_path / "s", seed=4, chunk_size=500)
    got, want = Portfolio.load(tmp_path / "s"), copula.sample(120, seed=4)
    pd.testing.assert_frame_equal(got.customers, want.customers)
    pd.testing.assert_frame_equal(got.consumption, want.consumption)


def test_chunks_give_unique_ids_valid_tables_and_reproducible_files(copula, tmp_path):
    assert sample_to_parquet(copula, 250, tmp_path / "a", seed=4, chunk_size=60) == 250
    sample_to_parquet(copula, 250, tmp_path / "b", seed=4, chunk_size=60)
    a, b = Portfolio.load(tmp_path / "a").validate("chunked"), Portfolio.load(tmp_path / "b")
    assert a.customers["customer_id"].is_unique and len(a) == 250
    assert set(a.consumption["customer_id"]) <= set(a.customers["customer_id"])
    pd.testing.assert_frame_equal(a.customers, b.customers)
    pd.testing.assert_frame_equal(a.consumption, b.consumption)
    # Chunks are independent draws, not copies of the first one.
    first, second = a.customers.iloc[:60], a.customers.iloc[60:120]
    assert not first["surface_m2"].reset_index(drop=True).equals(second["surface_m2"].reset_index(drop=True))
    # Dtypes survive the row groups (a chunk's all-null column keeps the first chunk's type).
    one = copula.sample(10, seed=0).customers
    assert list(a.customers.dtypes.astype(str)) == list(one.dtypes.astype(str))


def test_two_draw_threads_write_what_one_writes(copula, tmp_path, monkeypatch):
    import acacia.sampling

    assert acacia.sampling._draw_threads(copula) == 2  # NumPy only: chunks drawn two at a time
    sample_to_parquet(copula, 250, tmp_path / "two", seed=4, chunk_size=60)
    monkeypatch.setattr(acacia.sampling, "_draw_threads", lambda model: 1)
    sample_to_parquet(copula, 250, tmp_path / "one", seed=4, chunk_size=60)
    two, one = Portfolio.load(tmp_path / "two"), Portfolio.load(tmp_path / "one")
    pd.testing.assert_frame_equal(two.customers, one.customers)
    pd.testing.assert_frame_equal(two.consumption, one.consumption)
    # Chunk k is model.sample(seed=chunk_seed(seed, k), id_start=k * chunk_size), in order.
    third = copula.sample(60, seed=acacia.sampling.chunk_seed(4, 2), id_start=120)
    pd.testing.assert_frame_equal(two.customers.iloc[120:180].reset_index(drop=True), third.customers)
    assert make_model("tabddpm").thread_safe_sampling is False
    from acacia.transforms.series import TwoStageSeries

    assert TwoStageSeries.thread_safe_decoding is False  # torch generators: one draw at a time


def test_holdout_is_never_chunked(tiny_portfolio, tmp_path):
    holdout = make_model("holdout").fit(tiny_portfolio)
    assert sample_to_parquet(holdout, 500, tmp_path / "h", seed=0, chunk_size=50) == len(tiny_portfolio)
    out = Portfolio.load(tmp_path / "h")
    assert out.customers.drop(columns="customer_id").duplicated().sum() == 0


def test_failure_leaves_nothing_and_bad_chunk_size_is_named(copula, tmp_path, monkeypatch):
    with pytest.raises(ParamsError, match="chunk_size"):
        sample_to_parquet(copula, 10, tmp_path / "x", seed=0, chunk_size=0)
    calls = {"n": 0}
    real = copula.sample

    def flaky(n, conditions=None, seed=None, id_start=0):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real(n, conditions, seed, id_start)

    monkeypatch.setattr(copula, "sample", flaky)
    with pytest.raises(RuntimeError, match="killed"):
        sample_to_parquet(copula, 100, tmp_path / "y", seed=0, chunk_size=40)
    assert list(tmp_path.iterdir()) == []

    # A chunk that fails validation (checked on the writer thread) stops the run the same way.
    def negative_kwh(n, conditions=None, seed=None, id_start=0):
        part = real(n, conditions, seed, id_start)
        if id_start == 40:
            part.consumption.loc[0, "kwh"] = -1.0
        return part

    monkeypatch.setattr(copula, "sample", negative_kwh)
    with pytest.raises(DataError, match="synthetic chunk 1/consumption: negative kwh"):
        sample_to_parquet(copula, 100, tmp_path / "z", seed=0, chunk_size=40)
    assert list(tmp_path.iterdir()) == []
