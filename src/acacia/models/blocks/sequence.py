"""A conditional recurrent generator of consumption series: the sequence-aware baseline.

A GRU started from the customer's static attributes reads the previous period's
log-consumption and the calendar and outputs a Gaussian for the next period; trained on the
shared loop, sampled by feeding each draw back in. Used through ``series_representation:
{name: two_stage, generator: gru}`` (:class:`acacia.transforms.series.TwoStageSeries`) and by
the ``series_gru`` model.

Details, deviations from the paper and settings: docs/models.md#series_gru.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from acacia.training.loop import TrainConfig, fit, resolve_device


def calendar_features(periods: pd.DatetimeIndex) -> np.ndarray:
    """Per period: yearly and half-yearly harmonics, day of week, and the position in the grid
    (so a one-off period effect such as the 2020 lockdown can be learnt)."""
    doy = 2 * math.pi * periods.dayofyear.to_numpy() / 365.25
    dow = 2 * math.pi * periods.dayofweek.to_numpy() / 7
    pos = np.linspace(-1, 1, len(periods)) if len(periods) > 1 else np.zeros(len(periods))
    year = periods.year.to_numpy()
    years = [(year == y).astype(float) for y in sorted(set(year))]
    return np.column_stack([np.sin(doy), np.cos(doy), np.sin(2 * doy), np.cos(2 * doy),
                            np.sin(dow), np.cos(dow), pos, *years]).astype(np.float32)


class SeriesGRU(nn.Module):
    def __init__(self, n_static: int, calendar: np.ndarray, hidden: int = 64) -> None:
        super().__init__()
        self.register_buffer("calendar", torch.from_numpy(calendar))
        self.n_static = n_static
        self.start = nn.Sequential(nn.Linear(n_static, hidden), nn.Tanh())
        self.static_in = nn.Sequential(nn.Linear(n_static, 16), nn.ReLU())
        self.gru = nn.GRU(2 + calendar.shape[1] + 16, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def _inputs(self, xs: torch.Tensor, y_prev: torch.Tensor, o_prev: torch.Tensor, cal: torch.Tensor) -> torch.Tensor:
        n, t = y_prev.shape
        s = self.static_in(xs)[:, None, :].expand(n, t, -1)
        return torch.cat([y_prev[..., None], o_prev[..., None], cal[None].expand(n, t, -1), s], dim=-1)

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        t = self.calendar.shape[0]
        xs, y, obs = batch[:, : self.n_static], batch[:, self.n_static : self.n_static + t], batch[:, self.n_static + t :]
        y_prev = torch.cat([torch.zeros_like(y[:, :1]), y[:, :-1]], dim=1)
        o_prev = torch.cat([torch.zeros_like(obs[:, :1]), obs[:, :-1]], dim=1)
        out, _ = self.gru(self._inputs(xs, y_prev * o_prev, o_prev, self.calendar), self.start(xs)[None])
        mu, log_sigma = self.head(out).unbind(-1)
        log_sigma = log_sigma.clamp(-5, 3)
        nll = 0.5 * ((y - mu) / log_sigma.exp()) ** 2 + log_sigma
        return (nll * obs).sum() / obs.sum().clamp_min(1.0)

    @torch.no_grad()
    def generate(self, xs: torch.Tensor, generator: torch.Generator,
                 bounds: tuple[float, float] = (-math.inf, math.inf)) -> torch.Tensor:
        """Draw the series step by step, each draw fed back as the next step's input. ``bounds``
        (standardised log-consumption) clamp every draw: unbounded, one large draw fed back could
        drive the next ones higher still (runaway readings were written before)."""
        n, t = len(xs), self.calendar.shape[0]
        h = self.start(xs)[None]
        y_prev = torch.zeros(n, 1, device=xs.device)
        o_prev = torch.zeros(n, 1, device=xs.device)
        out = torch.empty(n, t, device=xs.device)
        for j in range(t):
            z, h = self.gru(self._inputs(xs, y_prev, o_prev, self.calendar[j : j + 1]), h)
            mu, log_sigma = self.head(z[:, 0]).unbind(-1)
            eps = torch.randn(n, generator=generator).to(xs.device)
            out[:, j] = (mu + log_sigma.clamp(-5, 3).exp() * eps).clamp(*bounds)
            y_prev, o_prev = out[:, j : j + 1], torch.ones(n, 1, device=xs.device)
        return out


class SequenceGenerator:
    """Fit / sample wrapper: static feature matrix + kWh matrix → a trained :class:`SeriesGRU`."""

    def __init__(self, hidden: int = 64, training: dict | None = None, seed: int = 0) -> None:
        self.hidden = hidden
        self.training = training
        self.seed = seed
        self.train_config  # noqa: B018 (a bad training section fails here, before any data is read)

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig.from_params({"seed": self.seed, "max_epochs": 100, "patience": 10, "progress": False,
                                        **(self.training or {})}, key="series_representation.training")

    def fit(self, x_static: np.ndarray, kwh: np.ndarray, periods: pd.DatetimeIndex) -> SequenceGenerator:
        y = np.log1p(np.clip(kwh, 0, None))
        obs = ~np.isnan(y)
        self.mean_ = float(np.nanmean(y)) if obs.any() else 0.0
        self.std_ = (float(np.nanstd(y)) or 1.0) if obs.any() else 1.0
        z = np.where(obs, (y - self.mean_) / self.std_, 0.0)
        # Generated readings stay within the observed range of log-consumption.
        self.bounds_ = (float(z[obs].min()), float(z[obs].max())) if obs.any() else (0.0, 0.0)
        data = torch.from_numpy(np.hstack([x_static, z, obs]).astype(np.float32))
        torch.manual_seed(self.seed)
        self.net_ = SeriesGRU(x_static.shape[1], calendar_features(periods), self.hidden)
        self.training_result_ = fit(self.net_, lambda m, b: m.loss(b), data, self.train_config)
        self.net_.cpu().eval()
        return self

    def sample(self, x_static: np.ndarray, rng: np.random.Generator, chunk: int = 4096) -> np.ndarray:
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        device = resolve_device(self.train_config.device)
        self.net_.to(device)
        parts = []
        for i in range(0, len(x_static), chunk):
            xs = torch.from_numpy(x_static[i : i + chunk].astype(np.float32)).to(device)
            parts.append(self.net_.generate(xs, gen, self.bounds_).cpu().numpy())
        self.net_.cpu()
        z = np.concatenate(parts) if parts else np.zeros((0, self.net_.calendar.shape[0]))
        return np.clip(np.expm1(z * self.std_ + self.mean_), 0.0, None)
