"""Round trips of every reversible encoder, on the representable domain (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from acacia.errors import NotFittedError
from acacia.transforms.encoders import (
    CategoricalCodes,
    FrequencyIntervalEncoder,
    MissingIndicator,
    OneHotEncoder,
    QuantileNormalizer,
)
from acacia.transforms.numeric import (
    DateEncoder,
    IntegerBounds,
    MinMaxScaler,
    OutlierClipper,
    StandardScaler,
)

FAST = settings(max_examples=60, deadline=None, derandomize=True)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
with_nulls = st.lists(st.one_of(finite, st.just(float("nan"))), min_size=1, max_size=40)
labels = st.lists(st.one_of(st.sampled_from(["a", "b", "heat_pump", "é"]), st.none()), min_size=1, max_size=40)


def same(a, b, tol=1e-6):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=tol, atol=tol * (1 + np.nanmax(np.abs(a), initial=0)))


@FAST
@given(with_nulls)
def test_scalers_round_trip(xs):
    x = np.array(xs)
    for enc in (MinMaxScaler(), StandardScaler(), OutlierClipper((0.0, 1.0))):
        assert same(enc.fit(x).inverse_transform(enc.transform(x)), x), type(enc).__name__


@FAST
@given(with_nulls)
def test_quantile_normalizer_round_trip_on_observed_values(xs):
    x = np.array(xs)
    qn = QuantileNormalizer().fit(x)
    z = qn.transform(x)
    assert np.isnan(z[np.isnan(x)]).all()
    back = qn.inverse_transform(z[~np.isnan(x)])
    obs = x[~np.isnan(x)]
    # Exact on observed values (up to float resolution relative to the column's range) while
    # the column has no more distinct values than n_quantiles: the representable domain.
    span = float(np.ptp(obs)) if len(obs) else 0.0
    assert np.allclose(back, obs, atol=1e-6 * (1 + span))


@FAST
@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=40), st.floats(-0.49, 0.49))
def test_integer_bounds_rounds_back(xs, jitter):
    x = np.array(xs, dtype=float)
    enc = IntegerBounds(integer=True).fit(x)
    assert same(enc.inverse_transform(enc.transform(x) + jitter), x)
    assert enc.inverse_transform(np.array([1e9]))[0] == x.max()


@FAST
@given(st.lists(st.one_of(st.dates(pd.Timestamp("1900-01-01").date(), pd.Timestamp("2100-12-31").date()), st.none()), min_size=1, max_size=30), st.booleans())
def test_dates_round_trip(ds, cyclical):
    s = pd.Series(pd.to_datetime(ds)).astype("datetime64[s]")
    enc = DateEncoder(cyclical=cyclical).fit(s)
    z = enc.transform(s)
    back = enc.inverse_transform(z + 0.3)  # a generator's fractional day still decodes to the date
    pd.testing.assert_series_equal(back, s, check_names=False, check_index=False)


@FAST
@given(labels)
def test_categorical_encoders_round_trip(xs):
    s = pd.Series(xs, dtype=object)
    expected = s.to_numpy(dtype=object)
    for enc in (CategoricalCodes(), OneHotEncoder()):
        back = enc.fit(s).inverse_transform(enc.transform(s))
        assert list(back) == list(expected)
    fie = FrequencyIntervalEncoder().fit(s)
    from acacia.transforms.encoders import from_tokens

    back = from_tokens(fie.inverse_transform(fie.transform(s, np.random.default_rng(0))))
    assert list(back) == list(expected)


@FAST
@given(with_nulls)
def test_missing_indicator_round_trip(xs):
    x = np.array(xs)
    mi = MissingIndicator().fit(x)
    assert (mi.inverse_transform(mi.transform(x)) == np.isnan(x)).all()


@pytest.mark.parametrize("x", [np.full(5, np.nan), np.full(5, 3.25), np.array([7.0])])
def test_degenerate_numeric_columns(x):
    for enc in (MinMaxScaler(), StandardScaler(), OutlierClipper(), IntegerBounds(), QuantileNormalizer()):
        enc.fit(x)
        z = enc.transform(x)
        back = enc.inverse_transform(z)
        if np.isnan(x).all():
            assert np.isnan(z).all()
        else:
            assert np.allclose(back, x), type(enc).__name__


def test_single_category_and_all_null():
    for values in (["x"] * 4, [None] * 4):
        s = pd.Series(values, dtype=object)
        assert list(OneHotEncoder().fit(s).inverse_transform(OneHotEncoder().fit(s).transform(s))) == values


def test_clipping_is_configurable_and_clips():
    x = np.r_[np.arange(100.0), 1e6]
    clipped = OutlierClipper((0.0, 0.99)).fit(x).transform(x)
    assert clipped.max() < 1e3
    assert OutlierClipper((0.0, 1.0)).fit(x).transform(x).max() == 1e6
    with pytest.raises(ValueError, match="quantiles"):
        OutlierClipper((0.9, 0.1))


def test_unfitted_encoders_say_so():
    for enc in (MinMaxScaler(), StandardScaler(), OutlierClipper(), IntegerBounds(), DateEncoder(),
                QuantileNormalizer(), CategoricalCodes(), OneHotEncoder()):
        with pytest.raises(NotFittedError, match="fit"):
            enc.transform(np.array([1.0]))


@pytest.mark.parametrize("representation", ["flat", "compressed", "two_stage"])
def test_table_without_series_takes_any_series_representation(representation, tiny_portfolio):
    """A customers-only table (e.g. Adult) with a model configured for series: no series columns."""
    from acacia.data.portfolio import Portfolio
    from acacia.data.schema import Schema
    from acacia.transforms.table import TableCodec

    schema = Schema(columns=list(tiny_portfolio.schema.columns), series=None)
    p = Portfolio(tiny_portfolio.customers, tiny_portfolio.consumption.iloc[:0], schema)
    codec = TableCodec(representation).fit(p)
    wide = codec.to_table(p)
    assert list(wide.columns) == list(codec.kinds) and len(wide) == len(p)
    assert set(codec.kinds) == {c.name for c in schema.feature_columns}


def test_quantile_normalizer_spreads_ties_over_their_band_and_inverts_exactly():
    rng = np.random.default_rng(0)
    # An integer column with a big atom at 0, as payment incidents or a read window's first week.
    x = np.concatenate([np.zeros(8500), rng.integers(1, 5, 1500)]).astype(float)
    enc = QuantileNormalizer().fit(x)
    mid = enc.transform(x)
    spread = enc.transform(x, rng=np.random.default_rng(1))
    assert len(np.unique(mid)) == 5  # one score per value
    assert len(np.unique(spread)) > 9000  # no point masses left
    assert stats.kstest(spread, "norm").statistic < 0.02
    assert np.array_equal(np.round(enc.inverse_transform(spread)), x)
    assert np.array_equal(np.round(enc.inverse_transform(mid)), x)
    # Values seen once are not ties: both encodings agree on them.
    y = rng.normal(size=500)
    cont = QuantileNormalizer().fit(y)
    assert np.allclose(cont.transform(y), cont.transform(y, rng=np.random.default_rng(2)))
