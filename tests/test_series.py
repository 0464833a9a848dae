"""Series representations (flat, compressed, two-stage) and the time-series fidelity metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from acacia.data.schema import SeriesSpec
from acacia.errors import NotFittedError, ParamsError
from acacia.evaluation.series import degree_days, mean_acf, series_metrics, thermosensitivity
from acacia.models import make_model
from acacia.transforms.series import CompressedSeries, TwoStageSeries, make_series_representation


def seasonal_matrix(n: int = 300, t: int = 104, seed: int = 0, heated: np.ndarray | None = None) -> np.ndarray:
    """Weekly kWh: a level, a winter bump for heated customers, AR noise, late joiners, gaps."""
    rng = np.random.default_rng(seed)
    heated = rng.random(n) < 0.4 if heated is None else heated
    week = np.arange(t)
    winter = np.cos(2 * np.pi * week / 52.18) + 1
    level = rng.lognormal(3.5, 0.4, n)
    noise = np.zeros((n, t))
    for j in range(1, t):
        noise[:, j] = 0.7 * noise[:, j - 1] + 0.1 * rng.standard_normal(n)
    mat = level[:, None] * (1 + 1.5 * heated[:, None] * winter[None, :]) * np.exp(noise)
    start = np.where(rng.random(n) < 0.2, rng.integers(1, t // 2, n), 0)
    mat[week[None, :] < start[:, None]] = np.nan
    mat[rng.random((n, t)) < 0.02] = np.nan
    return mat


def test_make_series_representation_validates():
    assert isinstance(make_series_representation({"name": "compressed", "n_components": 3}), CompressedSeries)
    with pytest.raises(ParamsError, match="'wavelet' unknown"):
        make_series_representation("wavelet")
    with pytest.raises(ParamsError, match="n_components"):
        make_series_representation({"name": "compressed", "n_components": 0})
    with pytest.raises(ParamsError, match="bad options"):
        make_series_representation({"name": "flat", "n_components": 3})
    with pytest.raises(NotFittedError):
        CompressedSeries().to_columns(np.zeros((2, 3)))


def test_compressed_round_trip_keeps_level_shape_and_missingness():
    mat = seasonal_matrix()
    rep = CompressedSeries(6).fit(mat)
    cols = rep.to_columns(mat)
    assert list(cols.columns) == rep.columns and len(rep.columns) == 6 + 5
    back = rep.from_columns(cols, np.random.default_rng(0))
    assert back.shape == mat.shape
    assert abs(np.isnan(back).mean() - np.isnan(mat).mean()) < 0.01
    # Late joiners keep their start; decoded readings stay non-negative.
    np.testing.assert_array_equal(np.argmax(~np.isnan(back), 1), np.argmax(~np.isnan(mat), 1))
    assert np.nanmin(back) >= 0
    assert abs(np.nanmean(back) / np.nanmean(mat) - 1) < 0.05
    # The decoding noise's period covariance keeps the week-to-week persistence of real curves.
    assert np.abs(mean_acf(back, 3) - mean_acf(mat, 3)).max() < 0.1
    again = rep.from_columns(cols, np.random.default_rng(0))
    np.testing.assert_array_equal(np.isnan(again), np.isnan(back))
    np.testing.assert_allclose(np.nan_to_num(again), np.nan_to_num(back))


def test_compressed_noise_keeps_each_periods_own_spread():
    # Holiday weeks: households away or not, so the residuals of a few periods spread far wider
    # than the rest. The decoder must put that roughness in those periods, not spread it evenly
    # (the AR(1) it replaced had one variance for every period).
    mat = seasonal_matrix(n=400, t=52, seed=3)
    rng = np.random.default_rng(3)
    holiday = np.arange(28, 32)
    mat[:, holiday] *= np.exp(rng.normal(0, 0.6, (len(mat), len(holiday))))
    rep = CompressedSeries(4).fit(mat)
    back = rep.from_columns(rep.to_columns(mat), np.random.default_rng(0))
    _, _, real_resid = rep._encode(mat)
    _, _, decoded_resid = rep._encode(back)
    other = np.setdiff1d(np.arange(52), holiday)
    real_ratio = np.nanstd(real_resid[:, holiday]) / np.nanstd(real_resid[:, other])
    decoded_ratio = np.nanstd(decoded_resid[:, holiday]) / np.nanstd(decoded_resid[:, other])
    assert real_ratio > 1.5, real_ratio
    assert abs(decoded_ratio / real_ratio - 1) < 0.2, (decoded_ratio, real_ratio)


def test_compressed_encodes_a_partly_read_series_from_its_read_periods():
    # A curve the representation can express exactly (level + average shape + components) must
    # come back exactly when only a window of it was read. Centring on the window's mean and
    # padding the unread periods with the average shape (the earlier encoding) did not: it put
    # part of the seasonal swing back inside the window.
    mat = seasonal_matrix(n=300, t=104, seed=5)
    rep = CompressedSeries(6).fit(mat)
    rng = np.random.default_rng(5)
    full = ~np.isnan(mat).any(axis=1)
    spread = rep.to_columns(mat[full])[rep.columns[1:7]].std().to_numpy()
    scores = rng.normal(0, 1, (40, 6)) * spread  # curves as the components' prior draws them
    y = 3.5 + rep.profile_[None, :] + scores @ rep.basis_
    curves = np.expm1(y)
    window = (np.arange(104) >= 30) & (np.arange(104) <= 52)
    curves[:, ~window] = np.nan
    cols = rep.to_columns(curves)
    assert (cols["kwh_noise"] < 0.05).all()  # little left to call noise (the prior's shrinkage)
    back = rep.from_columns(cols.assign(kwh_noise=0.0), np.random.default_rng(0))
    error = np.abs(back[:, window] / curves[:, window] - 1)
    # Measured: 1.3 % on average, 4.8 % at most (the prior's shrinkage); the earlier encoding
    # 10 % and 61 %.
    assert error.mean() < 0.03 and error.max() < 0.10


def test_compressed_shrinks_the_scores_of_briefly_read_customers():
    # Three readings cannot pin down six scores: least squares alone gave such customers extreme
    # ones, which a generator then paired with a full year of readings. The components' prior
    # keeps them within the spread of fully read customers.
    mat = seasonal_matrix(n=300, t=104, seed=6)
    mat[:50, 3:] = np.nan
    rep = CompressedSeries(6).fit(mat)
    scores = rep.to_columns(mat)[rep.columns[1:7]].to_numpy()
    full = ~np.isnan(mat).any(axis=1)
    # Per component (rows 0-49 never read in their first weeks have no scores at all: NaN).
    assert (np.nanmax(np.abs(scores[:50]), axis=0) <= np.abs(scores[full]).max(axis=0)).all()
    assert rep.score_ridge_.shape == (6,) and (rep.score_ridge_ > 0).all()


def test_compressed_handles_daily_length_and_empty_rows():
    mat = seasonal_matrix(n=120, t=1096)
    mat[:5] = np.nan  # customers without a single reading
    rep = CompressedSeries(8).fit(mat)
    cols = rep.to_columns(mat)
    assert cols.iloc[:5].isna().all().all()
    back = rep.from_columns(cols, np.random.default_rng(1))
    assert np.isnan(back[:5]).all() and back.shape == (120, 1096)


def test_two_stage_series_follow_the_static_attributes():
    n = 400
    rng = np.random.default_rng(3)
    heated = rng.random(n) < 0.5
    mat = seasonal_matrix(n=n, heated=heated)
    static = pd.DataFrame({"heating": np.where(heated, "electric", "gas").astype(object),
                           "surface": rng.normal(80, 20, n)})
    kinds = {"heating": "categorical", "surface": "numerical"}
    rep = TwoStageSeries(n_components=4, hidden=(32,)).fit(mat, static, kinds)
    assert rep.columns == [] and rep.to_columns(mat).shape == (n, 0)
    gen = rep.from_columns(static, np.random.default_rng(0))
    months = pd.date_range("2019-01-07", periods=mat.shape[1], freq="W-MON").month
    winter = np.isin(months, (12, 1, 2))
    summer = np.isin(months, (6, 7, 8))
    with np.errstate(invalid="ignore"):
        ratio = np.nanmean(gen[:, winter], 1) / np.nanmean(gen[:, summer], 1)
    # The generated heated customers are the thermosensitive ones, as in the real data.
    assert np.nanmedian(ratio[heated]) > 1.8 * np.nanmedian(ratio[~heated])
    with pytest.raises(ValueError, match="static attributes"):
        TwoStageSeries().fit(mat)


@pytest.mark.parametrize("representation", ["compressed", "two_stage"])
def test_models_sample_valid_portfolios_with_each_representation(tiny_portfolio, representation):
    model = make_model("gaussian_copula", {"seed": 0, "series_representation": representation})
    out = model.fit(tiny_portfolio).sample(120, seed=4)
    out.validate("synthetic")
    assert list(out.customers.columns) == list(tiny_portfolio.customers.columns)
    real_rows = len(tiny_portfolio.consumption) / len(tiny_portfolio)
    assert abs(len(out.consumption) / len(out) - real_rows) / real_rows < 0.1
    again = model.sample(120, seed=4)
    pd.testing.assert_frame_equal(out.consumption, again.consumption)


def _spec(t: int) -> SeriesSpec:
    return SeriesSpec(frequency="weekly", start="2019-01-07", n_periods=t)


def test_series_metrics_are_zero_on_identical_data_and_flag_errors():
    mat = seasonal_matrix(n=400, t=104, seed=5)
    heated = ~np.isnan(mat).all(1)
    groups = np.where(np.random.default_rng(0).random(400) < 0.4, "electric", "gas").astype(object)
    m, plots = series_metrics(mat, mat, mat, _spec(104), groups, groups, seed=0, max_rows=400, folds=3,
                              lightgbm={"n_estimators": 20})
    assert heated.all()
    for key in ("profile_mean_nmae", "profile_quantile_nmae", "acf_distance", "annual_total_ks", "winter_summer_error"):
        assert m[key] == pytest.approx(0.0, abs=1e-12), key
    assert m["detection_score"] > 0.8 and m["next_step_score"] == pytest.approx(1.0)
    assert set(plots) == {"bands", "conditional"} and not plots["bands"].empty

    # Periods shuffled per customer: same marginals, no persistence, detectable.
    rng = np.random.default_rng(1)
    shuffled = np.take_along_axis(mat, rng.permuted(np.tile(np.arange(104), (400, 1)), axis=1), 1)
    s, _ = series_metrics(mat, shuffled, mat, _spec(104), seed=0, max_rows=400, folds=3,
                          lightgbm={"n_estimators": 20})
    assert s["acf_distance"] > 0.3 and s["detection_score"] < 0.5 and s["next_step_score"] < 0.9


def test_conditional_error_catches_swapped_groups():
    rng = np.random.default_rng(2)
    heated = rng.random(400) < 0.4
    mat = seasonal_matrix(n=400, heated=heated, seed=2)
    real_g = np.where(heated, "electric", "gas").astype(object)
    m, _ = series_metrics(mat, mat, mat, _spec(104), real_g, real_g[::-1].copy(), seed=0, max_rows=300,
                          folds=3, lightgbm={"n_estimators": 10})
    assert m["winter_summer_error"] > 0.3


def test_thermosensitivity_recovers_a_planted_slope():
    spec = _spec(52)
    days = pd.date_range("2019-01-07", periods=52 * 7, freq="D")
    temp = pd.concat([pd.DataFrame({"date": days, "climate_zone": z,
                                    "temperature_c": 12 + off + 8 * np.cos(2 * np.pi * np.arange(len(days)) / 365)})
                      for z, off in (("H1", -2), ("H3", 3))])
    hdd = degree_days(temp, spec)
    assert list(hdd.columns) == ["H1", "H3"] and (hdd["H1"] >= hdd["H3"]).all()
    zones = np.array(["H1"] * 10 + ["H3"] * 10, dtype=object)
    x = np.vstack([hdd[z].to_numpy() for z in zones])
    slope = np.r_[np.full(10, 2.0), np.full(10, 0.5)]
    mat = 30 + slope[:, None] * x
    np.testing.assert_allclose(thermosensitivity(mat, zones, hdd), slope, rtol=1e-9)


def test_gru_generator_learns_who_heats():
    n = 300
    rng = np.random.default_rng(4)
    heated = rng.random(n) < 0.5
    mat = seasonal_matrix(n=n, t=104, heated=heated, seed=4)
    static = pd.DataFrame({"heating": np.where(heated, "electric", "gas").astype(object)})
    periods = pd.date_range("2019-01-07", periods=104, freq="W-MON")
    rep = TwoStageSeries(generator="gru", hidden=(16,), training={"max_epochs": 25, "batch_size": 32}, seed=0)
    rep.fit(mat, static, {"heating": "categorical"}, periods)
    window = rep.to_columns(mat)
    assert list(window.columns) == rep.columns == ["kwh_first", "kwh_last", "kwh_gap_share"]
    gen = rep.from_columns(pd.concat([static, window], axis=1), np.random.default_rng(0))
    assert np.array_equal(np.argmax(~np.isnan(gen), 1), np.argmax(~np.isnan(mat), 1))
    winter, summer = np.isin(periods.month, (12, 1, 2)), np.isin(periods.month, (6, 7, 8))
    with np.errstate(invalid="ignore"):
        ratio = np.nanmean(gen[:, winter], 1) / np.nanmean(gen[:, summer], 1)
    assert np.nanmedian(ratio[heated]) > 1.5 * np.nanmedian(ratio[~heated])
    with pytest.raises(ParamsError, match="generator"):
        TwoStageSeries(generator="lstm")


def test_gru_draws_stay_within_the_observed_consumption():
    # A head whose mean sits far above anything seen in training: each draw is clamped to the
    # training range, and so is what is fed back (series_gru once wrote weekly readings of 1e17 kWh).
    from acacia.models.blocks.sequence import SequenceGenerator

    rng = np.random.default_rng(0)
    kwh = rng.uniform(50, 150, size=(20, 30))
    periods = pd.date_range("2019-01-07", periods=30, freq="W-MON")
    gen = SequenceGenerator(hidden=8, training={"max_epochs": 1, "batch_size": 10}).fit(np.zeros((20, 1)), kwh, periods)
    with torch.no_grad():
        gen.net_.head.bias[0] = 5.0  # five standard deviations of log-consumption above the mean
    out = gen.sample(np.zeros((20, 1)), np.random.default_rng(0))
    assert np.isfinite(out).all() and out.max() <= kwh.max() * (1 + 1e-6) and out.min() >= kwh.min() * (1 - 1e-6)
