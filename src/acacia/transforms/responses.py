"""The ``responses`` series representation: each customer's response to the known inputs of his
consumption, generated as columns beside his attributes.

The compressed representation (:class:`~acacia.transforms.series.CompressedSeries`) writes a
curve as a level and a few principal components shared by all customers. What every customer
does differently in a short window (a lockdown, Tempo red days) is a small share of the variance
and falls outside the leading components: decoded curves all carry the *average* dip, so a study
reading the customers' kWh-weighted response finds another one (the representation ceiling of
``reports/usecases/longitudinal.md``). And a heating gradient spread over several components is
hard for a generator to tie to the heating type.

Here the log curve of a customer is regressed on known inputs before the components:

    log(1 + kWh_t) = level + profile_t + Σ_j response_j · x_jt(zone) + Σ_k score_k · basis_kt + noise_t

- degree days of the customer's climate zone below each base of ``hdd_bases`` (and above
  ``cdd_base``), from the temperature table;
- the share of each period's days in each declared event window (``events``: a lockdown, a
  tariff trial) and in each column of a daily calendar (``calendar``: Tempo red days);
- on daily series, the weekend (``weekend``).

Each input is centred and scaled over the period grid, so a response is "log change per standard
deviation of that input". Those responses, the level, the component scores (fitted on what the
inputs leave), the noise scale and the read window are the columns a tabular model generates;
decoding rebuilds the curve from them and the same inputs, with the residuals' period covariance
of the compressed decoder. Inputs come from data (tables) and params (windows), so the same code
serves the simulated portfolio and a real one; without a temperature table (LCL) only the
calendar inputs are used.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from acacia.errors import DataError, ParamsError
from acacia.transforms.series import CompressedSeries, _labels, _rows_of

SPACES = ("relative", "log")


def period_mean(periods: pd.DatetimeIndex, days: pd.DatetimeIndex, values: np.ndarray) -> np.ndarray:
    """The mean of a daily quantity over each period's days (a period lasts until the next one
    starts; the grid's last period as long as the one before it); NaN for a period with none."""
    periods = pd.DatetimeIndex(periods)
    step = periods[1] - periods[0] if len(periods) > 1 else pd.Timedelta(days=1)
    idx = periods.searchsorted(pd.DatetimeIndex(days), side="right") - 1
    inside = (idx >= 0) & (pd.DatetimeIndex(days) < periods[np.clip(idx, 0, None)] + step)
    values = np.asarray(values, dtype=float)
    ok = inside & np.isfinite(values)
    total = np.bincount(idx[ok], weights=values[ok], minlength=len(periods))
    count = np.bincount(idx[ok], minlength=len(periods))
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _table(value: str | Path | pd.DataFrame | None, what: str) -> pd.DataFrame | None:
    if value is None or isinstance(value, pd.DataFrame):
        return value
    path = Path(value)
    if not path.is_file():
        raise DataError(f"series_representation.{what}: no file {path} (expected the {what} table that "
                        f"prepare writes beside the splits)")
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


class ResponseSeries(CompressedSeries):
    """Compressed series plus each customer's response to known inputs (module docstring)."""

    #: a zone the temperature table does not know (or a null zone) reads the zones' average
    UNKNOWN_ZONE = "<other>"

    def __init__(self, n_components: int = 8, temperature: str | Path | pd.DataFrame | None = None,
                 zone_column: str | None = None, hdd_bases: list[float] | tuple[float, ...] = (16.0,),
                 cdd_base: float | None = None, events: dict[str, list] | None = None,
                 calendar: str | Path | pd.DataFrame | None = None, weekend: bool = True,
                 space: str = "relative") -> None:
        super().__init__(n_components)
        if space not in SPACES:
            raise ParamsError(f"series_representation.space: expected one of {list(SPACES)}, got {space!r}")
        self.space = space
        if temperature is not None and not zone_column:
            raise ParamsError("series_representation.zone_column: a temperature table needs the customers' "
                              "climate-zone column (e.g. climate_zone)")
        if not isinstance(hdd_bases, list | tuple) or not all(isinstance(b, int | float) for b in hdd_bases):
            raise ParamsError(f"series_representation.hdd_bases: expected a list of temperatures (°C), got {hdd_bases!r}")
        self.temperature = temperature
        self.zone_column = zone_column
        self.hdd_bases = [float(b) for b in hdd_bases]
        self.cdd_base = cdd_base
        if events is not None and not isinstance(events, dict):
            raise ParamsError(f"series_representation.events: expected a mapping of names to windows, got {events!r}")
        # kept as ISO dates: the model file holds plain values
        self.events = {str(k): [[a.date().isoformat(), b.date().isoformat()] for a, b in _windows(v, k)]
                       for k, v in (events or {}).items()}
        self.calendar = calendar
        self.weekend = bool(weekend)

    # ------------------------------------------------------------------ inputs
    def _inputs(self, periods: pd.DatetimeIndex) -> tuple[list[str], list[str], np.ndarray]:
        """Input names, zones, and the (zones + 1) × inputs × periods array (raw units; the last
        zone is the average of the others, for unknown zones)."""
        periods = pd.DatetimeIndex(periods)
        step = periods[1] - periods[0] if len(periods) > 1 else pd.Timedelta(days=1)
        days = pd.date_range(periods[0], periods[-1] + step - pd.Timedelta(days=1), freq="D")
        shared: dict[str, np.ndarray] = {}
        for name, windows in self.events.items():
            flag = np.zeros(len(days))
            for a, b in windows:
                flag[(days >= pd.Timestamp(a)) & (days <= pd.Timestamp(b))] = 1.0
            shared[name] = period_mean(periods, days, flag)
        calendar = _table(self.calendar, "calendar")
        if calendar is not None:
            cal = calendar.assign(date=pd.to_datetime(calendar["date"]).dt.normalize()).set_index("date")
            for col in cal.columns:
                shared[str(col)] = np.nan_to_num(period_mean(periods, days, cal[col].astype(float).reindex(days).to_numpy()))
        if self.weekend:
            shared["weekend"] = period_mean(periods, days, (days.dayofweek >= 5).astype(float))
        weather: dict[str, np.ndarray] = {}
        zones: list[str] = []
        temperature = _table(self.temperature, "temperature")
        if temperature is not None:
            t = temperature.assign(date=pd.to_datetime(temperature["date"]).dt.normalize(),
                                   climate_zone=temperature["climate_zone"].astype(str))
            wide = t.pivot_table(index="date", columns="climate_zone", values="temperature_c").reindex(days)
            if wide.isna().all(axis=None):
                raise DataError("series_representation.temperature: the table covers none of the series' days")
            wide = wide.interpolate(limit_direction="both")
            zones = [str(z) for z in wide.columns]
            temps = np.column_stack([wide.to_numpy(dtype=float), wide.to_numpy(dtype=float).mean(axis=1)])
            for b in self.hdd_bases:
                weather[f"hdd{b:g}"] = np.column_stack([period_mean(periods, days, np.clip(b - temps[:, z], 0, None))
                                                        for z in range(temps.shape[1])]).T
            if self.cdd_base is not None:
                weather[f"cdd{self.cdd_base:g}"] = np.column_stack(
                    [period_mean(periods, days, np.clip(temps[:, z] - self.cdd_base, 0, None))
                     for z in range(temps.shape[1])]).T
        n_groups = len(zones) + 1
        names = [*weather, *shared]
        x = np.zeros((n_groups, len(names), len(periods)))
        for j, name in enumerate(names):
            x[:, j] = weather[name] if name in weather else shared[name][None, :]
        return names, zones, np.nan_to_num(x)

    def _groups(self, n: int, static: pd.DataFrame | None) -> np.ndarray:
        if not getattr(self, "zones_", None):
            return np.zeros(n, dtype=int)
        if static is None or self.zone_column not in static:
            raise DataError(f"responses series: the customers' '{self.zone_column}' column is needed to read "
                            "their zone's degree days")
        index = {z: i for i, z in enumerate(self.zones_)}
        unknown = len(self.zones_)
        return np.array([index.get(v, unknown) for v in _labels(static[self.zone_column])], dtype=int)

    # ------------------------------------------------------------------ fit
    def _coefficient_names(self) -> list[str]:
        return [*self.inputs_, *super()._coefficient_names()]

    def _designs(self) -> list[np.ndarray]:
        k = getattr(self, "basis_", np.zeros((0, self.n_periods_)))
        return [np.vstack([x, k]) for x in self.scaled_inputs_]

    def fit(self, matrix: np.ndarray, static: pd.DataFrame | None = None,
            kinds: dict[str, str] | None = None, periods: pd.DatetimeIndex | None = None) -> ResponseSeries:
        mat = np.asarray(matrix, dtype=float)
        self.n_periods_ = mat.shape[1]
        if periods is None or len(periods) != self.n_periods_:
            raise DataError("responses series: fit needs the series' periods (one date per column)")
        names, self.zones_, x = self._inputs(periods)
        # An input constant over the grid (the weekend share of whole weeks) is the level's.
        spread = x.reshape(-1, self.n_periods_).std(axis=1).reshape(x.shape[:2]).max(axis=0)
        keep = spread > 1e-9
        x = x[:, keep]
        self.inputs_ = [n for n, k in zip(names, keep, strict=True) if k]
        self.input_centre_ = x.mean(axis=(0, 2))
        self.input_scale_ = np.maximum(x.std(axis=(0, 2)), 1e-9)
        self.scaled_inputs_ = (x - self.input_centre_[None, :, None]) / self.input_scale_[None, :, None]
        self._fit_basis(mat, static, periods)
        return self

    def _residual_before_basis(self, mat: np.ndarray, group: np.ndarray) -> np.ndarray:
        # The components are fitted to what level and inputs leave (no profile, no components yet).
        self.basis_ = np.zeros((0, self.n_periods_))
        self.profile_ = np.zeros(self.n_periods_)
        self.score_ridge_ = np.full(len(self.inputs_), self.SCORE_RIDGE)
        if self.space == "log":
            return self._encode(mat, group)[2]
        return self._relative_fit(mat, group)[2]

    # ------------------------------------------------------------------ relative space
    # Heating adds kWh in proportion to degree days; in log space that line bends, and the misfit
    # lands in the spring weeks where a lockdown is read. ``space: relative`` fits each curve
    # divided by its mean read kWh (a linear model of the physics); the noise stays
    # multiplicative (log residuals) as in the compressed decoder.
    @staticmethod
    def _mean_level(mat: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(np.clip(mat, 0.0, None), axis=1)

    def _relative_fit(self, mat: np.ndarray, group: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean read kWh, coefficients and residuals of the relative curves kWh / mean − 1."""
        mean = self._mean_level(mat)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.clip(mat, 0.0, None) / np.where(mean > 0, mean, np.nan)[:, None] - 1.0
        coef, resid = self._least_squares(rel, group, intercept=False)
        return mean, coef, resid

    def _encode(self, mat: np.ndarray, group: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.space == "log":
            return super()._encode(mat, group)
        mean, coef, _ = self._relative_fit(mat, group)
        level = np.log1p(mean)
        fitted = self._mean_curves(level, coef, np.zeros(len(mat), dtype=int) if group is None else group)
        resid = np.log1p(np.clip(mat, 0.0, None)) - fitted
        return level, coef, resid

    def _mean_curves(self, level: np.ndarray, coefficients: np.ndarray, group: np.ndarray) -> np.ndarray:
        if self.space == "log":
            return super()._mean_curves(level, coefficients, group)
        rel = np.ones((len(level), self.n_periods_)) + self.profile_[None, :]
        for g, design in enumerate(self._designs()):
            rows = _rows_of(group, g, len(rel))
            rel[rows] += np.nan_to_num(coefficients[rows]) @ design
        # A generated combination may dip below zero: a period with (nearly) nothing.
        return np.log1p(np.expm1(level)[:, None] * np.clip(rel, 0.0, None))

    def _centre_noise(self, y: np.ndarray, noise: np.ndarray) -> None:
        if self.space == "log":
            return
        # The relative fit is of the mean kWh; a log-normal noise of variance s² around it
        # would raise that mean by exp(s²/2), most in the periods whose residuals spread
        # widest (Christmas Day on LCL came out twice the real effect): centred instead.
        variance = (self.noise_factor_**2).sum(axis=1)  # each period's, for a unit noise scale
        y -= 0.5 * (noise**2)[:, None] * variance[None, :]

    def _fit_prior_and_noise(self, sample: np.ndarray, group: np.ndarray) -> None:
        if self.space == "log":
            return super()._fit_prior_and_noise(sample, group)
        # The prior's ridge compares score and residual variances of the relative fit itself.
        self.score_ridge_ = np.full(self._designs()[0].shape[0], self.SCORE_RIDGE)
        _, scores, rel_resid = self._relative_fit(sample, group)
        share = (~np.isnan(sample)).mean(axis=1)
        full = share >= self.PRIOR_READ_SHARE
        if full.sum() < 10:
            full = share > 0
        if full.any() and len(self.score_ridge_):
            noise_var = float(np.nanmedian(self._noise_scale(rel_resid[full]) ** 2))
            self.score_ridge_ = np.maximum(noise_var, 1e-12) / np.maximum(np.nanvar(scores[full], axis=0), 1e-12)
            # A response to an event is small beside the curve's noise, so its ridge is strong:
            # shrunk towards 0 every customer's dip would shrink and the portfolio's with it.
            self.score_prior_ = np.nan_to_num(np.nanmean(scores[full], axis=0))
        _, _, e = self._encode(sample, group)
        scale = np.nan_to_num(self._noise_scale(e))[:, None]
        self.noise_factor_ = self._period_covariance_factor(
            np.where(scale > 1e-6, e / np.maximum(scale, 1e-6), np.nan))
        return None


def _windows(value: Any, name: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    where = f"series_representation.events.{name}"
    if not isinstance(value, list) or not value:
        raise ParamsError(f"{where}: expected a list of [start, end] dates, got {value!r}")
    if len(value) == 2 and not isinstance(value[0], list | tuple):
        value = [value]  # one window written as [start, end]
    out = []
    for w in value:
        try:
            a, b = (pd.Timestamp(d) for d in w)
        except (TypeError, ValueError) as e:
            raise ParamsError(f"{where}: expected [start, end] dates, got {w!r}") from e
        if b < a:
            raise ParamsError(f"{where}: {w!r} ends before it starts")
        out.append((a, b))
    return out
