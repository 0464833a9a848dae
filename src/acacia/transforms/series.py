"""Ways to carry a per-customer consumption series inside a tabular generator.

Three representations, chosen per model with ``series_representation`` in params.yaml (a name,
or a mapping ``{name: compressed, n_components: 12}``):

- ``flat``: each period is a numeric column; the generator models every period itself.
- ``compressed``: the series becomes a few columns — its level and its scores on the leading
  principal components of the log-kWh curve (least squares on the periods read), a noise scale, and its
  observation window (first and last period read, share of gaps inside) — generated like any
  other column, then decoded into a full series. Daily data stays a dozen columns.
- ``two_stage``: the tabular generator sees no series column at all; a conditional series
  generator, fitted on (static attributes → compressed coordinates), draws each synthetic
  customer's series from the attributes the tabular generator produced.

A fourth, ``responses`` (:mod:`acacia.transforms.responses`), adds each customer's response to
known inputs (degree days, declared events, calendar days) to the compressed columns.

Every representation implements ``fit(matrix, static, kinds, periods)``, ``columns``,
``to_columns(matrix, static)`` and ``from_columns(table, rng)``. NaN in a series matrix means "no
reading"; decoded series reproduce that missingness (late joiners, ended contracts, gaps).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from acacia.errors import NotFittedError, ParamsError
from acacia.transforms.encoders import QuantileNormalizer


class FlatSeries:
    """Each period is a numeric column ``kwh_0000 … kwh_NNNN``; NaN where the customer had no
    reading (before its contract, after its end, meter gaps), so missingness is generated too."""

    #: decoding is NumPy on read-only fitted state: two threads may decode at once.
    thread_safe_decoding = True

    prefix = "kwh_"

    def fit(self, matrix: np.ndarray, static: pd.DataFrame | None = None,
            kinds: dict[str, str] | None = None, periods: pd.DatetimeIndex | None = None) -> FlatSeries:
        self.n_periods_ = matrix.shape[1]
        return self

    @property
    def columns(self) -> list[str]:
        return [f"{self.prefix}{i:04d}" for i in range(self.n_periods_)]

    def to_columns(self, matrix: np.ndarray, static: pd.DataFrame | None = None) -> pd.DataFrame:
        return pd.DataFrame(matrix, columns=self.columns)

    def from_columns(self, table: pd.DataFrame, rng: np.random.Generator | None = None) -> np.ndarray:
        mat = table[self.columns].to_numpy(dtype=float)
        # kWh is a meter reading: a generator's small negative excursions mean "nearly nothing".
        return np.where(np.isnan(mat), np.nan, np.clip(mat, 0.0, None))


def read_window(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: first and last period with a reading, and the share of gaps between them
    (all NaN for a row without any reading)."""
    obs = ~np.isnan(mat)
    t = np.arange(mat.shape[1])
    any_obs = obs.any(axis=1)
    first = np.where(any_obs, np.argmax(obs, axis=1), np.nan)
    last = np.where(any_obs, mat.shape[1] - 1 - np.argmax(obs[:, ::-1], axis=1), np.nan)
    inside = (t[None, :] >= np.nan_to_num(first)[:, None]) & (t[None, :] <= np.nan_to_num(last)[:, None])
    gaps = np.where(any_obs, (inside & ~obs).sum(axis=1) / np.maximum(inside.sum(axis=1), 1), np.nan)
    return first, last, gaps


def apply_window(kwh: np.ndarray, first: np.ndarray, last: np.ndarray, gaps: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Blank the periods outside each row's generated window, and random gaps inside it."""
    n, t = kwh.shape
    # A generated window may come out reversed or out of range: order and clip it.
    has = ~(np.isnan(first) | np.isnan(last))
    lo = np.clip(np.round(np.nan_to_num(np.fmin(first, last))), 0, t - 1)
    hi = np.clip(np.round(np.nan_to_num(np.fmax(first, last))), 0, t - 1)
    tt = np.arange(t)[None, :]
    keep = has[:, None] & (tt >= lo[:, None]) & (tt <= hi[:, None])
    gap = rng.random((n, t)) < np.clip(np.nan_to_num(gaps), 0.0, 1.0)[:, None]
    # The window's end points are readings by definition.
    gap &= (tt != lo[:, None]) & (tt != hi[:, None])
    return np.where(keep & ~gap, kwh, np.nan)


class CompressedSeries:
    """Level + principal-component scores of log(1 + kWh), a noise scale and the read window.

    Why log: consumption is multiplicative (a heated house scales its whole curve), so shapes
    separate from levels in log space and a handful of components carries most of the variance.
    The noise scale is per customer (the spread of what the components do not explain) so
    decoded curves are as rough as real ones, not PCA-smooth; how that noise moves from one period
    to the next is shared by all customers (:meth:`fit`'s period covariance).

    A customer's level and scores are fitted by least squares on the periods it was read only.
    Centring on the mean of the read periods and projecting a curve padded with the average shape
    (the earlier encoding) put part of the average seasonal swing back into a partly read series:
    curves the components express exactly, read for part of the grid only, came back well off;
    now only the prior's shrinkage of :meth:`fit` moves them (``tests/test_series.py``). On the
    default portfolio's real series, encoded and decoded, the winter/summer ratio came closer to
    the real one (the decoder's ceiling: ``experiments/2026-12-detection/decoder_ceiling.md``).
    """

    prefix = "kwh_"
    MAX_FIT_ROWS = 50_000  # the SVD needs only a sample of customers to find the basis
    thread_safe_decoding = True  # NumPy on read-only fitted state
    #: ridge on the component scores while the prior is being estimated (see :meth:`fit`)
    SCORE_RIDGE = 1e-3
    #: customers read on at least this share of periods estimate the scores' prior
    PRIOR_READ_SHARE = 0.9
    #: residuals are clipped at this many robust standard deviations before their RMS is the
    #: noise scale (see :meth:`_noise_scale`)
    NOISE_CLIP = 5.0
    ENCODE_CHUNK = 50_000  # customers per least-squares batch (memory ~ chunk × (k+1)²)

    def __init__(self, n_components: int = 8) -> None:
        if not isinstance(n_components, int) or n_components < 1:
            raise ParamsError(f"series_representation.n_components: expected a positive integer, got {n_components!r}")
        self.n_components = n_components

    @property
    def columns(self) -> list[str]:
        _check(self, "basis_")
        return [f"{self.prefix}level", *[f"{self.prefix}{c}" for c in self._coefficient_names()],
                f"{self.prefix}noise", f"{self.prefix}first", f"{self.prefix}last", f"{self.prefix}gap_share"]

    def _coefficient_names(self) -> list[str]:
        return [f"pc{i + 1:02d}" for i in range(self.basis_.shape[0])]

    def _designs(self) -> list[np.ndarray]:
        """The regressors of each group of customers (one group here: every customer shares
        the components); :class:`~acacia.transforms.responses.ResponseSeries` adds each climate
        zone's covariates before them."""
        return [self.basis_]

    def _groups(self, n: int, static: pd.DataFrame | None) -> np.ndarray:
        return np.zeros(n, dtype=int)

    def fit(self, matrix: np.ndarray, static: pd.DataFrame | None = None,
            kinds: dict[str, str] | None = None, periods: pd.DatetimeIndex | None = None) -> CompressedSeries:
        mat = np.asarray(matrix, dtype=float)
        self.n_periods_ = mat.shape[1]
        self._fit_basis(mat, static, periods)
        return self

    def _residual_before_basis(self, mat: np.ndarray, group: np.ndarray) -> np.ndarray:
        """What the components are fitted to: each log curve minus its own mean."""
        return self._centre(mat)[0]

    def _fit_basis(self, mat: np.ndarray, static: pd.DataFrame | None, periods: pd.DatetimeIndex | None) -> None:
        group = self._groups(len(mat), static)
        resid = self._residual_before_basis(mat, group)
        has = ~np.isnan(resid).all(axis=1)
        r = resid[has]
        self.profile_ = np.nanmean(r, axis=0) if len(r) else np.zeros(self.n_periods_)
        self.profile_ = np.nan_to_num(self.profile_)
        # One sample of customers (at most MAX_FIT_ROWS) finds the basis and the scores' prior.
        pick = (np.sort(np.random.default_rng(0).choice(len(r), self.MAX_FIT_ROWS, replace=False))
                if len(r) > self.MAX_FIT_ROWS else slice(None))
        picked = r[pick]
        filled = np.where(np.isnan(picked), self.profile_, picked) - self.profile_
        k = max(0, min(self.n_components, self.n_periods_, len(filled)))
        if k == 0:
            self.basis_ = np.zeros((0, self.n_periods_))
        else:
            _, _, vt = np.linalg.svd(filled, full_matrices=False)
            self.basis_ = vt[:k]
        rows = np.flatnonzero(has)[pick]
        self._fit_prior_and_noise(mat[rows], group[rows])

    def _fit_prior_and_noise(self, sample: np.ndarray, group: np.ndarray) -> None:
        # A customer read for a few periods does not pin down every score: least squares alone
        # gave it extreme ones, harmless on its own short window but not once a generator pairs
        # them with a full year (the copula's portfolio came out with too variable series). The
        # scores are the posterior mean under the components' own Gaussian prior instead: ridge
        # k = noise variance / variance of score k, both from (nearly) fully read customers, so a
        # full series keeps its least-squares scores and a short one shrinks to the average shape.
        self.score_ridge_ = np.full(self._designs()[0].shape[0], self.SCORE_RIDGE)
        _, scores, e = self._encode(sample, group)
        share = (~np.isnan(sample)).mean(axis=1)
        full = share >= self.PRIOR_READ_SHARE
        if full.sum() < 10:
            full = share > 0
        if full.any() and len(self.score_ridge_):
            noise_var = float(np.nanmedian(self._noise_scale(e[full]) ** 2))
            score_var = np.nanvar(scores[full], axis=0)
            self.score_ridge_ = np.maximum(noise_var, 1e-12) / np.maximum(score_var, 1e-12)
            _, _, e = self._encode(sample, group)
        scale = np.nan_to_num(self._noise_scale(e))[:, None]
        # A customer without noise (read once, or flat) says nothing about how noise moves.
        self.noise_factor_ = self._period_covariance_factor(
            np.where(scale > 1e-6, e / np.maximum(scale, 1e-6), np.nan))

    @staticmethod
    def _period_covariance_factor(z: np.ndarray) -> np.ndarray:
        """A square root L (L Lᵀ = Σ) of the period-by-period covariance of the standardised
        residuals ``z`` (customers × periods, NaN where unread), scaled to a mean variance of 1.

        What the components leave is neither white nor alike from week to week: weather persists
        for weeks, and in the school holidays many households are away for one or two, so the
        residuals of July-August spread far wider than those of January. One AR(1) for all
        periods (the earlier decoder) put the holidays' roughness into every week: heated homes,
        whose curves are dominated by winter, came out too rough (median lag-1 autocorrelation
        below the real one), the others too smooth (gas heating, for one).
        Decoding with Σ instead, every period gets its own variance and its own correlation with
        the others; the customer's noise scale still sets the amplitude (mean variance 1 over the
        periods). On the round trip of the default portfolio (train split fitted, holdout's series
        encoded and decoded, 1 − KS of the series features against the train split) it beat the
        AR(1) decoder on lag-1 autocorrelation, CV and winter/summer ratio; the round trip is
        ``experiments/2026-12-detection/decoder_ceiling.py`` (its report beside it).
        """
        read = ~np.isnan(z)
        zero = np.where(read, z, 0.0)
        pairs = read.T.astype(float) @ read.astype(float)
        cov = (zero.T @ zero) / np.maximum(pairs, 1.0)  # pairwise-complete; 0 where never read together
        var = np.diag(cov).copy()
        seen = np.diag(pairs) > 0
        # A period no fitted customer was read on gets the average variance, uncorrelated.
        var[~seen] = var[seen].mean() if seen.any() else 1.0
        np.fill_diagonal(cov, var)
        cov /= max(float(var.mean()), 1e-12)
        # Pairwise-complete estimates need not form a valid covariance: negative eigenvalues
        # (estimation noise) are dropped.
        w, v = np.linalg.eigh(cov)
        return v * np.sqrt(np.clip(w, 0.0, None))

    def _encode(self, mat: np.ndarray, group: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per customer: level and coefficients (component scores) fitted by least squares on its
        read periods (NaN for a customer never read), and the residual log-kWh (NaN where
        unread). ``group``: each row's index in :meth:`_designs` (None: all in the first)."""
        y = np.log1p(np.clip(mat, 0.0, None))
        coef, resid = self._least_squares(y, group, intercept=True)
        return coef[:, 0], coef[:, 1:], resid

    def _least_squares(self, y: np.ndarray, group: np.ndarray | None, intercept: bool) -> tuple[np.ndarray, np.ndarray]:
        """Each row of ``y`` (NaN where unread) minus the profile, regressed on its group's design
        (with an intercept first when asked) under the ridge ``score_ridge_``: coefficients and
        residuals (NaN where unread)."""
        obs = ~np.isnan(y)
        designs = [np.vstack([np.ones(self.n_periods_), d]) if intercept else d for d in self._designs()]
        m = designs[0].shape[0]
        ridge = np.diag(np.r_[0.0, self.score_ridge_] if intercept else self.score_ridge_)
        prior = getattr(self, "score_prior_", None)
        if prior is not None and intercept:
            prior = np.r_[0.0, prior]
        coef = np.full((len(y), m), np.nan)
        resid = np.empty_like(y)
        for g, design in enumerate(designs):
            rows = _rows_of(group, g, len(y))
            # Each customer's Gram matrix Σ_t read_t x_t x_tᵀ for all customers in one product.
            outer = (design[:, None, :] * design[None, :, :]).reshape(m * m, -1)
            yg, og = y[rows], obs[rows]
            cg = np.full((len(yg), m), np.nan)
            for i in range(0, len(yg), self.ENCODE_CHUNK):
                read = og[i : i + self.ENCODE_CHUNK]
                has = read.any(axis=1)
                gram = (read[has].astype(float) @ outer.T).reshape(-1, m, m) + ridge
                rhs = np.where(read[has], yg[i : i + self.ENCODE_CHUNK][has] - self.profile_, 0.0) @ design.T
                if prior is not None:  # shrink towards the population's mean, not towards 0
                    rhs += ridge @ prior
                block = cg[i : i + self.ENCODE_CHUNK]
                block[has] = np.linalg.solve(gram, rhs[..., None])[..., 0]
            coef[rows] = cg
            resid[rows] = yg - self.profile_ - np.nan_to_num(cg) @ design
        resid[~obs] = np.nan
        return coef, resid

    @classmethod
    def _noise_scale(cls, resid: np.ndarray) -> np.ndarray:
        # The RMS of residuals clipped at NOISE_CLIP robust standard deviations (MAD): the MAD
        # alone (a Gaussian core) misses the holiday weeks' dips, the plain RMS lets a few of them
        # or a meter error spike make whole curves noisy. NOISE_CLIP was chosen on the round trip
        # of the default portfolio (see _period_covariance_factor), 1 − KS of lag-1
        # autocorrelation and CV for clips from 3.5 to 6, either split fitted: tighter clips
        # favour CV, looser ones the autocorrelation, and 5 balances both. With the earlier AR(1)
        # decoder 3.5 was best.
        with np.errstate(invalid="ignore"), _quiet():
            med = np.nanmedian(resid, axis=1, keepdims=True)
            mad = 1.4826 * np.nanmedian(np.abs(resid - med), axis=1, keepdims=True)
            clipped = np.clip(resid - med, -cls.NOISE_CLIP * mad, cls.NOISE_CLIP * mad)
            return np.sqrt(np.nanmean(clipped**2, axis=1))

    def _centre(self, mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = np.log1p(np.clip(mat, 0.0, None))
        with np.errstate(invalid="ignore"), _quiet():
            level = np.nanmean(y, axis=1)
        return y - level[:, None], level

    def to_columns(self, matrix: np.ndarray, static: pd.DataFrame | None = None) -> pd.DataFrame:
        _check(self, "basis_")
        mat = np.asarray(matrix, dtype=float)
        level, scores, resid = self._encode(mat, self._groups(len(mat), static))
        noise = self._noise_scale(resid)
        first, last, gaps = read_window(mat)
        cols = [level[:, None], scores, noise[:, None], first[:, None], last[:, None], gaps[:, None]]
        return pd.DataFrame(np.hstack(cols), columns=self.columns)

    def from_columns(self, table: pd.DataFrame, rng: np.random.Generator | None = None) -> np.ndarray:
        _check(self, "basis_")
        rng = rng if rng is not None else np.random.default_rng(0)
        c = table[self.columns].to_numpy(dtype=float)
        k = len(self._coefficient_names())
        level, scores = c[:, 0], c[:, 1 : 1 + k]
        noise = np.clip(np.nan_to_num(c[:, 1 + k]), 0.0, None)
        first, last, gaps = c[:, 2 + k], c[:, 3 + k], c[:, 4 + k]
        n, t = len(c), self.n_periods_
        group = self._groups(n, table)
        # In place on one (customers × periods) array, in the order of the plain expression
        # (level + profile + scores · basis + noise · paths, then expm1 and clip): the same
        # floats without four temporaries of that size (63 MB each for 50,000 weekly customers).
        y = self._mean_curves(level, scores, group)
        self._centre_noise(y, noise)
        wiggle = self._noise_paths(n, t, rng)
        wiggle *= noise[:, None]
        y += wiggle
        kwh = np.clip(np.expm1(y, out=y), 0.0, None, out=y)
        return apply_window(kwh, np.where(np.isnan(level), np.nan, first), last, gaps, rng)


    def _mean_curves(self, level: np.ndarray, coefficients: np.ndarray, group: np.ndarray) -> np.ndarray:
        """log(1 + kWh) of each row without its noise."""
        y = level[:, None] + self.profile_[None, :]
        for g, design in enumerate(self._designs()):
            rows = _rows_of(group, g, len(y))
            y[rows] += np.nan_to_num(coefficients[rows]) @ design
        return y

    def _centre_noise(self, y: np.ndarray, noise: np.ndarray) -> None:
        """Shift the noiseless log curves ``y`` in place before the noise is added (here: no
        shift, since least squares in log space already fitted the curves the noise is around)."""

    def _noise_paths(self, n: int, t: int, rng: np.random.Generator) -> np.ndarray:
        """Gaussian paths with the residuals' period covariance (mean variance 1), one per row."""
        # One product; its cost grows with the square of the periods, so daily series cost far
        # more than weekly ones (sampling times: reports/performance.md).
        return rng.standard_normal((n, t)) @ self.noise_factor_.T


class TwoStageSeries:
    """The tabular model generates the static attributes; a conditional generator draws the series.

    ``generator: mlp`` (default) is a Gaussian-copula regression: the compressed coordinates of
    each series (see :class:`CompressedSeries`) are mapped to normal scores, an MLP predicts
    them from the encoded static attributes (with early stopping), and the residuals'
    covariance supplies the noise. The tabular model sees no series column.

    ``generator: gru`` is the sequence-aware baseline (:mod:`acacia.models.blocks.sequence`): a GRU
    draws the series period by period from the static attributes; the tabular model generates
    the read window (first and last period, share of gaps) with the attributes, since it is
    tied to them (contract start and end dates).
    """

    #: the generators are torch modules, which already use every core inside one call.
    thread_safe_decoding = False

    WINDOW = ("kwh_first", "kwh_last", "kwh_gap_share")

    def __init__(self, n_components: int = 8, hidden: tuple[int, ...] = (128, 128), seed: int = 0,
                 generator: str = "mlp", training: dict | None = None) -> None:
        if generator not in ("mlp", "gru"):
            raise ParamsError(f"series_representation.generator: '{generator}', expected 'mlp' or 'gru'")
        self.compressed = CompressedSeries(n_components)
        self.hidden = tuple(hidden)
        self.seed = seed
        self.generator = generator
        self.training = training

    @property
    def columns(self) -> list[str]:
        return list(self.WINDOW) if self.generator == "gru" else []

    def fit(self, matrix: np.ndarray, static: pd.DataFrame | None = None,
            kinds: dict[str, str] | None = None, periods: pd.DatetimeIndex | None = None) -> TwoStageSeries:
        if static is None or kinds is None:
            raise ValueError("two_stage series representation needs the static attributes to fit")
        if self.generator == "gru":
            return self._fit_gru(matrix, static, kinds, periods)
        from sklearn.neural_network import MLPRegressor

        self.compressed.fit(matrix)
        coords = self.compressed.to_columns(matrix)
        self.features_ = StaticFeatures().fit(static, kinds)
        x = self.features_.transform(static)
        self.none_rate_ = float(coords.iloc[:, 0].isna().mean()) if len(coords) else 0.0
        has = coords.notna().all(axis=1).to_numpy()
        self.targets_ = [QuantileNormalizer().fit(coords[col].to_numpy()) for col in coords.columns]
        z = np.column_stack([q.transform(coords[col].to_numpy()) for q, col in
                             zip(self.targets_, coords.columns, strict=True)])[has]
        self.regressor_ = MLPRegressor(hidden_layer_sizes=self.hidden, early_stopping=True,
                                       random_state=self.seed, max_iter=300, n_iter_no_change=10)
        if has.sum() >= 20:
            self.regressor_.fit(x[has], z)
            resid = z - self.regressor_.predict(x[has])
        else:  # too few series to learn from: unconditional Gaussian scores
            self.regressor_ = None
            resid = z
        cov = np.cov(resid, rowvar=False) if len(resid) > 1 else np.eye(z.shape[1])
        self.noise_chol_ = np.linalg.cholesky(np.atleast_2d(cov) + 1e-6 * np.eye(z.shape[1]))
        return self

    def _fit_gru(self, matrix: np.ndarray, static: pd.DataFrame, kinds: dict[str, str],
                 periods: pd.DatetimeIndex | None) -> TwoStageSeries:
        from acacia.models.blocks.sequence import SequenceGenerator

        if periods is None:
            periods = pd.date_range("2000-01-03", periods=matrix.shape[1], freq="W-MON")
        window = self.to_columns(matrix)
        conditioning = pd.concat([static.reset_index(drop=True), window], axis=1)
        self.features_ = StaticFeatures().fit(conditioning, {**kinds, **dict.fromkeys(self.WINDOW, "numerical")})
        self.sequence_ = SequenceGenerator(hidden=self.hidden[0], training=self.training, seed=self.seed)
        self.sequence_.fit(self.features_.transform(conditioning), matrix, periods)
        self.noise_chol_ = None  # fitted marker shared with the mlp generator
        return self

    def to_columns(self, matrix: np.ndarray, static: pd.DataFrame | None = None) -> pd.DataFrame:
        if self.generator == "gru":
            return pd.DataFrame(np.column_stack(read_window(np.asarray(matrix, dtype=float))), columns=list(self.WINDOW))
        return pd.DataFrame(index=range(len(matrix)))

    def from_columns(self, table: pd.DataFrame, rng: np.random.Generator | None = None) -> np.ndarray:
        _check(self, "noise_chol_")
        rng = rng if rng is not None else np.random.default_rng(0)
        n = len(table)
        if self.generator == "gru":
            kwh = self.sequence_.sample(self.features_.transform(table), rng)
            w = table[list(self.WINDOW)].to_numpy(dtype=float)
            return apply_window(kwh, w[:, 0], w[:, 1], w[:, 2], rng)
        d = self.noise_chol_.shape[0]
        mean = self.regressor_.predict(self.features_.transform(table)) if self.regressor_ is not None and n else np.zeros((n, d))
        z = np.asarray(mean).reshape(n, d) + rng.standard_normal((n, d)) @ self.noise_chol_.T
        coords = pd.DataFrame({col: q.inverse_transform(z[:, i]) for i, (q, col) in
                               enumerate(zip(self.targets_, self.compressed.columns, strict=True))})
        coords.loc[rng.random(n) < self.none_rate_, :] = np.nan
        return self.compressed.from_columns(coords, rng)


class StaticFeatures:
    """Static attributes → a dense float matrix for a regressor: quantile-normal numerics (null
    → 0 plus a null flag) and one-hot categories (null a level of its own)."""

    def fit(self, static: pd.DataFrame, kinds: dict[str, str]) -> StaticFeatures:
        self.numeric_ = {c: QuantileNormalizer(200).fit(static[c].to_numpy(dtype=float))
                         for c in static.columns if kinds[c] not in ("categorical", "boolean")}
        self.nullable_ = [c for c in self.numeric_ if static[c].isna().any()]
        self.levels_ = {c: sorted(set(_labels(static[c])))
                        for c in static.columns if kinds[c] in ("categorical", "boolean")}
        return self

    def transform(self, static: pd.DataFrame) -> np.ndarray:
        parts = []
        for c, q in self.numeric_.items():
            parts.append(np.nan_to_num(q.transform(static[c].to_numpy(dtype=float)))[:, None])
        for c in self.nullable_:
            parts.append(static[c].isna().to_numpy(dtype=float)[:, None])
        for c, levels in self.levels_.items():
            v = _labels(static[c])
            parts.append((v[:, None] == np.array(levels)[None, :]).astype(float))
        return np.hstack(parts) if parts else np.zeros((len(static), 1))


def _labels(s: pd.Series) -> np.ndarray:
    # pandas keeps NaN through astype(str); a null must be a level of its own.
    return np.array([NULL if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                     for v in s.astype(object)], dtype=object)


NULL = "<null>"

SERIES_REPRESENTATIONS: dict[str, type] = {
    "flat": FlatSeries,
    "compressed": CompressedSeries,
    "two_stage": TwoStageSeries,
}

SeriesRepresentation = FlatSeries | CompressedSeries | TwoStageSeries


def make_series_representation(spec: str | dict[str, Any]) -> SeriesRepresentation:
    """Build from params: a name (``"compressed"``) or ``{"name": "compressed", **options}``."""
    if "responses" not in SERIES_REPRESENTATIONS:
        from acacia.transforms.responses import ResponseSeries  # it builds on this module

        SERIES_REPRESENTATIONS["responses"] = ResponseSeries
    if isinstance(spec, dict):
        options = dict(spec)
        name = options.pop("name", None)
    else:
        name, options = spec, {}
    if name not in SERIES_REPRESENTATIONS:
        raise ParamsError(
            f"series_representation: '{name}' unknown, expected one of {list(SERIES_REPRESENTATIONS)}"
        )
    try:
        return SERIES_REPRESENTATIONS[name](**options)
    except TypeError as e:
        raise ParamsError(f"series_representation '{name}': bad options {sorted(options)} ({e})") from e


def _rows_of(group: np.ndarray | None, g: int, n: int) -> slice | np.ndarray:
    # One group (the plain compressed series): a slice, so that no row is copied.
    if group is None or not group.any():
        return slice(None) if g == 0 else slice(0, 0)
    return np.flatnonzero(group == g)


def _check(obj: object, attr: str) -> None:
    if not hasattr(obj, attr):
        raise NotFittedError(f"{type(obj).__name__} used before fit()")


@contextmanager
def _quiet() -> Iterator[None]:
    # Customers with no reading at all make nanmean warn; their NaN is the intended result.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
