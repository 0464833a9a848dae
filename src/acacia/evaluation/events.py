"""A customer's response to an event: the regression behind the studies' ``event`` block and
the evaluation's per-customer response fidelity (``series.response_event_score``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from acacia.errors import ParamsError


def parse_windows(value: Any, where: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """``[[start, end], ...]`` (or one ``[start, end]``) as timestamps; a ParamsError names
    ``where`` for anything else."""
    if not isinstance(value, list) or not value:
        raise ParamsError(f"{where}: expected a list of [start, end] dates, got {value!r}")
    if len(value) == 2 and not isinstance(value[0], list | tuple):
        value = [value]
    out = []
    for w in value:
        try:
            a, b = (pd.Timestamp(x) for x in w)
        except (TypeError, ValueError) as e:
            raise ParamsError(f"{where}: expected [start, end] dates, got {w!r}") from e
        if b < a:
            raise ParamsError(f"{where}: ends before it starts ({w!r})")
        out.append((a, b))
    return out


def window_share(periods: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Share of each period's days that fall in [start, end] (the grid's last period is as long
    as the one before it)."""
    step = periods[1] - periods[0] if len(periods) > 1 else pd.Timedelta(days=1)
    days = (step / pd.Timedelta(days=1))
    first = np.maximum(periods, start)
    last = np.minimum(periods + step - pd.Timedelta(days=1), end)
    return np.clip(((last - first) / pd.Timedelta(days=1) + 1) / days, 0, 1).to_numpy(dtype=float)


def event_terms(mat: np.ndarray, hdd_x: list[np.ndarray], periods: pd.DatetimeIndex,
                window: tuple[pd.Timestamp, pd.Timestamp] | np.ndarray,
                exclude: list[tuple[pd.Timestamp, pd.Timestamp]]) -> tuple[np.ndarray, np.ndarray]:
    """Per customer (event coefficient, weather-normal kWh over the event's periods);
    ``hdd_x``: customers × periods degree days at each base (empty: no weather term);
    ``window``: [start, end], or the share of each period's days in the event."""
    share = window if isinstance(window, np.ndarray) else window_share(periods, *window)
    other = np.zeros(len(periods), dtype=bool)
    for a, b in exclude:
        other |= window_share(periods, a, b) > 0
    n, t = mat.shape
    ok = np.isfinite(mat) & ~other[None, :]
    for h in hdd_x:
        ok &= np.isfinite(h)
    # An annual harmonic absorbs the seasonality degree days do not explain (lighting, summer
    # absence), so the event is read against the same season of the other years.
    angle = 2 * np.pi * periods.day_of_year.to_numpy() / 365.25
    cols = [np.ones((n, t)), *hdd_x, *(np.broadcast_to(f(angle), (n, t)) for f in (np.cos, np.sin)),
            np.broadcast_to(share, (n, t))]
    x = np.stack(cols, -1) * ok[..., None]
    y = np.where(ok, mat, 0.0)
    xtx = np.einsum("ntk,ntl->nkl", x, x)
    xty = np.einsum("ntk,nt->nk", x, y)
    # A customer needs readings both in and out of the window for his coefficient to exist.
    inside = (ok & (share > 0)[None, :]).sum(1)
    good = (inside >= 1) & (ok.sum(1) - inside >= x.shape[-1]) & (np.abs(np.linalg.det(xtx)) > 1e-9)
    beta = np.full((n, x.shape[-1]), np.nan)
    if good.any():
        beta[good] = np.linalg.solve(xtx[good], xty[good][..., None])[..., 0]
    weights = share / share.sum() if share.sum() else share
    # Weather-normal consumption of the event's periods: every term but the event's.
    design = np.stack(cols[:-1], -1)
    normal = np.einsum("ntk,nk->n", np.nan_to_num(design) * weights[None, :, None], beta[:, :-1])
    return beta[:, -1], normal


