"""The table every tabular metric reads: static columns plus per-customer series summaries,
and the embedding used by distance-based metrics and the logistic detector."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from acacia.data.portfolio import Portfolio

SERIES_FEATURES = ("kwh_mean", "kwh_annual", "winter_summer_ratio", "kwh_cv", "missing_share", "acf1")


def series_features(p: Portfolio) -> pd.DataFrame:
    """Per-customer summaries robust to missing periods (late joiners, gaps)."""
    spec = p.schema.series
    if spec is None:
        return pd.DataFrame(index=range(len(p)))
    m = p.series_matrix()
    per = spec.periods
    per_year = 52.18 if spec.frequency == "weekly" else 365.25
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN rows give NaN, as they should
        mean = np.nanmean(m, axis=1)
        winter = np.nanmean(m[:, np.isin(per.month, [12, 1, 2])], axis=1)
        summer = np.nanmean(m[:, np.isin(per.month, [6, 7, 8])], axis=1)
        cv = np.nanstd(m, axis=1) / np.where(mean > 0, mean, np.nan)
        a, b = m[:, :-1], m[:, 1:]
        am, bm = np.nanmean(a, axis=1, keepdims=True), np.nanmean(b, axis=1, keepdims=True)
        cov = np.nanmean((a - am) * (b - bm), axis=1)
        acf1 = cov / (np.nanstd(a, axis=1) * np.nanstd(b, axis=1))
    return pd.DataFrame({
        "kwh_mean": mean, "kwh_annual": mean * per_year,
        "winter_summer_ratio": winter / np.where(summer > 0, summer, np.nan),
        "kwh_cv": cv, "missing_share": np.isnan(m).mean(axis=1), "acf1": acf1,
    })


def analysis_table(p: Portfolio) -> tuple[pd.DataFrame, dict[str, str]]:
    """Non-id customer columns + series features, and the kind of each column."""
    cols = [c.name for c in p.schema.feature_columns]
    kinds = {c.name: c.kind for c in p.schema.feature_columns}
    static = p.customers[cols].reset_index(drop=True)
    feats = series_features(p)
    kinds.update({c: "numerical" for c in feats.columns})
    return pd.concat([static, feats], axis=1), kinds


def as_numbers(s: pd.Series, kind: str) -> np.ndarray:
    """Numeric view of a numeric or date column (dates as days), NaN for nulls."""
    if kind == "date":
        v = pd.to_datetime(s)
        out = (v.to_numpy(dtype="datetime64[D]").astype("int64")).astype(float)
        out[v.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)


def as_labels(s: pd.Series) -> np.ndarray:
    """Categorical view with null as its own level."""
    return s.astype(object).where(s.notna(), "__null__").astype(str).to_numpy()


class Embedding:
    """Numbers standardised by robust scale (median/IQR) with a missing flag, categories one-hot
    (null its own level); fitted on real training data so distances mean the same for everyone."""

    def fit(self, df: pd.DataFrame, kinds: dict[str, str]) -> Embedding:
        self.kinds_ = kinds
        self.num_: dict[str, tuple[float, float, bool]] = {}
        self.cat_: dict[str, np.ndarray] = {}
        for c, k in kinds.items():
            if k in ("categorical", "boolean"):
                self.cat_[c] = np.unique(as_labels(df[c]))
            else:
                v = as_numbers(df[c], k)
                fin = v[np.isfinite(v)]
                med = float(np.median(fin)) if len(fin) else 0.0
                q1, q3 = (np.percentile(fin, [25, 75]) if len(fin) else (0.0, 1.0))
                scale = float(q3 - q1) or float(np.std(fin)) if len(fin) else 1.0
                self.num_[c] = (med, scale or 1.0, bool(np.isnan(v).any()))
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        blocks = []
        for c, (med, scale, has_null) in self.num_.items():
            v = (as_numbers(df[c], self.kinds_[c]) - med) / scale
            v = np.clip(v, -10, 10)   # one meter spike must not dominate every distance
            missing = ~np.isfinite(v)
            blocks.append(np.where(missing, 0.0, v)[:, None])
            if has_null:
                blocks.append(missing[:, None].astype(float))
        for c, levels in self.cat_.items():
            lab = as_labels(df[c])
            blocks.append((lab[:, None] == levels[None, :]).astype(float))
        return np.hstack(blocks).astype(np.float32) if blocks else np.zeros((len(df), 0), np.float32)
