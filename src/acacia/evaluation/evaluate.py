"""All metrics of one synthetic portfolio against the real splits: a flat dict + plot tables.

Protocol (../shared/DESIGN.md §4):
- every tabular metric reads the :func:`analysis_table` (customers' columns + series summaries);
- train and synthetic are compared at the same size: the larger is subsampled (seeded), so a
  generator is not rewarded or penalised for how many customers it was asked for;
- detection and distance metrics are further capped at ``max_rows`` rows per side (their cost
  grows faster than linearly);
- privacy compares train with the holdout split, the real customers no generator saw. When the
  portfolio being scored *is* the holdout (``synthetic_is_holdout``, the reference row of the
  benchmark) the test split plays the unseen side instead, since holdout-vs-holdout distances
  are all zero. The same unseen side is Anonymeter's control set (singling out, linkability,
  inference: :mod:`acacia.evaluation.anonymeter`), its main attacks aimed at the whole train split;
- utility trains on synthetic vs on the size-matched train rows and tests on the test split;
- detection, Shape and Trend are also measured against the test split, which no generator (and
  not the holdout reference) saw (``detection.<detector>_unseen``, ``fidelity.shape_mean_unseen``,
  ``fidelity.trend_mean_unseen``), the larger side subsampled to the smaller.

The metrics dict is flat, plain Python floats, JSON-ready; an undefined metric (no series, a
single-class test split...) keeps its key with the value ``None``, so every model's JSON has the
same keys and DVC's metrics diff lines up.
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from acacia.data.portfolio import Portfolio
from acacia.errors import ParamsError
from acacia.evaluation.anonymeter import anonymeter_config, anonymeter_metrics
from acacia.evaluation.detection import DETECTORS, detection_score
from acacia.evaluation.features import analysis_table
from acacia.evaluation.fidelity import column_pair_trends, column_shapes, missingness_similarity
from acacia.evaluation.plot_data import marginal_table, pair_table, projection_table
from acacia.evaluation.privacy import dcr_metrics, membership_inference
from acacia.evaluation.quality import quality_scores
from acacia.evaluation.series import series_metrics
from acacia.evaluation.utility import tstr

DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "max_rows": 5000,
    "detection_folds": 5,
    "detectors": list(DETECTORS),
    "lightgbm": {},
    "targets": None,
    "trend_binning": "uniform",
    # Series metrics: group_by = the column whose groups conditional series fidelity compares
    # (heating type), zone_column = the column matching the temperature table's climate_zone.
    "series": {},
    # Anonymeter attacks: n_attacks, n_cols, n_neighbors, max_attempts, confidence, tolerance.
    "anonymeter": {},
}
SERIES_DEFAULTS: dict[str, Any] = {"group_by": None, "zone_column": None, "lags": None, "events": None}
PROFILE_COLUMNS = ["period_start", "real_mean", "syn_mean", "real_p10", "real_p90", "syn_p10", "syn_p90"]


def _config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    cfg = dict(cfg or {})
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise ParamsError(
            f"evaluate: unknown key(s) {sorted(unknown)}, expected some of {sorted(DEFAULTS)}"
        )
    # null means "no cap" for max_rows and "the schema's" for targets; elsewhere the default.
    out = {**DEFAULTS, **{k: v for k, v in cfg.items() if v is not None or k in ("max_rows", "targets")}}
    out["lightgbm"] = dict(out["lightgbm"] or {})
    series = dict(out["series"] or {})
    unknown = set(series) - set(SERIES_DEFAULTS)
    if unknown:
        raise ParamsError(
            f"evaluate.series: unknown key(s) {sorted(unknown)}, expected some of {sorted(SERIES_DEFAULTS)}"
        )
    out["series"] = {**SERIES_DEFAULTS, **series}
    events = out["series"]["events"]
    if events is not None and (not isinstance(events, dict) or not all(isinstance(v, list) and v for v in events.values())):
        raise ParamsError(f"evaluate.series.events: expected a mapping of names to lists of [start, end] "
                          f"windows, got {events!r}")
    out["anonymeter"] = anonymeter_config(out["anonymeter"])
    bad = [d for d in out["detectors"] if d not in DETECTORS]
    if bad:
        raise ParamsError(f"evaluate.detectors: unknown {bad}, expected some of {list(DETECTORS)}")
    if out["trend_binning"] not in ("uniform", "quantile"):
        raise ParamsError(
            f"evaluate.trend_binning: '{out['trend_binning']}', expected 'uniform' or 'quantile'"
        )
    return out


def _same_size_index(n_a: int, n_b: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = min(n_a, n_b)

    def pick(m: int) -> np.ndarray:
        return np.sort(rng.choice(m, n, replace=False)) if m > n else np.arange(m)

    return pick(n_a), pick(n_b)


def profile_table(real_mat: np.ndarray, syn_mat: np.ndarray, periods: pd.DatetimeIndex) -> pd.DataFrame:
    """Per period: mean and 10 % / 90 % quantiles of kWh across customers with a reading."""
    out: dict[str, Any] = {"period_start": periods.strftime("%Y-%m-%d")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # periods without any reading → NaN
        for who, m in (("real", real_mat), ("syn", syn_mat)):
            out[f"{who}_mean"] = np.nanmean(m, axis=0) if len(m) else np.full(len(periods), np.nan)
            if len(m):
                p10, p90 = np.nanpercentile(m, [10, 90], axis=0)
            else:
                p10 = p90 = np.full(len(periods), np.nan)
            out[f"{who}_p10"], out[f"{who}_p90"] = p10, p90
    return pd.DataFrame(out)[PROFILE_COLUMNS]


def _profile_error(profile: pd.DataFrame) -> float:
    """Mean |real − synthetic| of the per-period mean kWh, relative to the real mean level."""
    r, s = profile["real_mean"].to_numpy(float), profile["syn_mean"].to_numpy(float)
    ok = np.isfinite(r) & np.isfinite(s)
    if not ok.any() or np.mean(np.abs(r[ok])) == 0:
        return float("nan")
    return float(np.mean(np.abs(r[ok] - s[ok])) / np.mean(np.abs(r[ok])))


def _mean(values: dict[str, float]) -> float:
    v = np.array(list(values.values()), dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def evaluate(
    train: Portfolio,
    holdout: Portfolio,
    test: Portfolio,
    synthetic: Portfolio,
    cfg: dict[str, Any] | None = None,
    synthetic_is_holdout: bool = False,
    temperature: pd.DataFrame | None = None,
) -> tuple[dict[str, float | None], dict[str, pd.DataFrame]]:
    """Flat metrics (floats or None) and plot tables ``shapes``, ``dcr``, ``profile``,
    ``marginals``, ``pairs``, ``projection`` (:mod:`acacia.evaluation.plot_data`), ``timings``
    (wall seconds per metric family),
    ``anonymeter`` (one row per attack and inference secret), and for
    portfolios with series ``bands`` and ``conditional`` (see :mod:`acacia.evaluation.series`).

    ``temperature`` (date, climate_zone, temperature_c), when given, enables the
    thermosensitivity metric.

    ``cfg`` keys (see :data:`DEFAULTS`): ``seed``, ``max_rows`` (cap per side for detection and
    DCR; null = no cap), ``detection_folds``, ``detectors``, ``lightgbm`` (overrides of
    n_estimators / num_leaves / learning_rate...), ``targets`` (null = the schema's targets),
    ``trend_binning`` (``uniform`` as sdmetrics, or ``quantile``), ``anonymeter`` (see
    :data:`acacia.evaluation.anonymeter.DEFAULTS`).
    """
    c = _config(cfg)
    # The matrices here are small: one BLAS/OpenMP thread avoids spin-waiting against other busy
    # processes on small machines (see detection.py), at no cost when the machine is idle.
    with threadpool_limits(1):
        return _evaluate(train, holdout, test, synthetic, c, synthetic_is_holdout, temperature)


def _evaluate(
    train: Portfolio,
    holdout: Portfolio,
    test: Portfolio,
    synthetic: Portfolio,
    c: dict[str, Any],
    synthetic_is_holdout: bool,
    temperature: pd.DataFrame | None = None,
) -> tuple[dict[str, float | None], dict[str, pd.DataFrame]]:
    start = time.perf_counter()
    seconds: dict[str, float] = {}
    clock = [start]

    def lap(family: str) -> None:
        # Wall time per metric family (plot table ``timings``): where a larger portfolio's cost goes.
        now = time.perf_counter()
        seconds[family] = seconds.get(family, 0.0) + now - clock[0]
        clock[0] = now

    seed, max_rows = int(c["seed"]), c["max_rows"]
    rng = np.random.default_rng(seed)

    spec = train.schema.series
    mats = {name: p.series_matrix() for name, p in
            (("train", train), ("holdout", holdout), ("test", test), ("syn", synthetic))}
    tr, kinds = analysis_table(train, mats["train"])
    ho, _ = analysis_table(holdout, mats["holdout"])
    te, _ = analysis_table(test, mats["test"])
    sy, _ = analysis_table(synthetic, mats["syn"])
    i_tr, i_sy = _same_size_index(len(tr), len(sy), rng)
    tr_eq, sy_eq = tr.iloc[i_tr].reset_index(drop=True), sy.iloc[i_sy].reset_index(drop=True)
    lap("analysis tables")

    m: dict[str, float] = {}
    # ---- fidelity
    shapes = column_shapes(tr_eq, sy_eq, kinds)
    trends = column_pair_trends(tr_eq, sy_eq, kinds, binning=c["trend_binning"])
    m["fidelity.shape_mean"] = _mean(shapes)
    m["fidelity.trend_mean"] = _mean(trends)
    # The same against the test split, at its size (``_unseen``). Against train, a generator that
    # draws each column from the train split's own marginal scores beyond the real holdout (the
    # copula's static-column Shape on the default portfolio,
    # experiments/2026-12-detection/marginal_ceiling.md); against customers no model saw the
    # holdout is the ceiling.
    # Its own generator: the draws of ``rng`` below stay those of the earlier metrics.
    i_te, i_un = _same_size_index(len(te), len(sy), np.random.default_rng([seed, 1]))
    te_eq, sy_un = te.iloc[i_te].reset_index(drop=True), sy.iloc[i_un].reset_index(drop=True)
    m["fidelity.shape_mean_unseen"] = _mean(column_shapes(te_eq, sy_un, kinds))
    m["fidelity.trend_mean_unseen"] = _mean(column_pair_trends(te_eq, sy_un, kinds, binning=c["trend_binning"]))
    lap("shape, trend")
    # α-precision / β-recall in the standardised one-hot embedding, capped like detection (its
    # nearest-neighbour searches are O(n²)).
    quality = quality_scores(tr_eq, sy_eq, kinds, seed=seed, max_rows=max_rows)
    m["fidelity.alpha_precision"] = quality["alpha_precision"]
    m["fidelity.beta_recall"] = quality["beta_recall"]
    m["fidelity.missingness"] = missingness_similarity(tr_eq, sy_eq, list(kinds))
    lap("alpha-precision, beta-recall, missingness")

    # ---- series (the summaries' shapes are in fidelity.*; these read the profile itself)
    if spec is not None:
        profile = profile_table(mats["train"][i_tr], mats["syn"][i_sy], spec.periods)
        m["series.profile_nmae"] = _profile_error(profile)
        sc = dict(c["series"])
        for key in ("group_by", "zone_column"):
            if sc[key] is not None and sc[key] not in train.customers.columns:
                # A params file written for another portfolio (the simulator's heating type on a
                # real one): the conditional metrics are skipped, not the whole evaluation.
                print(f"acacia evaluate: evaluate.series.{key} '{sc[key]}' is not a column of this "
                      f"portfolio: the metrics that need it are skipped", file=sys.stderr)
                sc[key] = None

        def column(p: Portfolio, name: str | None, idx: np.ndarray) -> np.ndarray | None:
            return None if name is None else p.customers[name].to_numpy(dtype=object)[idx]

        zone = sc["zone_column"]
        sm, series_plots = series_metrics(
            mats["train"][i_tr], mats["syn"][i_sy], mats["test"], spec,
            column(train, sc["group_by"], i_tr), column(synthetic, sc["group_by"], i_sy),
            column(train, zone, i_tr), column(synthetic, zone, i_sy),
            temperature if zone is not None else None,
            seed=seed, max_rows=max_rows, lags=sc["lags"], lightgbm=c["lightgbm"],
            folds=int(c["detection_folds"]), events=sc["events"],
        )
        m.update({f"series.{k}": v for k, v in sm.items()})
        m["series.annual_total_shape"] = shapes.get("series_annual_kwh", float("nan"))
    else:
        profile = pd.DataFrame({k: pd.Series(dtype=float) for k in PROFILE_COLUMNS})
        series_plots = {}
    lap("series")

    # ---- detection
    # Against the train split (the papers' protocol) and against the test split, real customers
    # no generator saw (``_unseen``). On the first, a generator that reproduces the train sample's
    # own moments beats unseen real data: on the default portfolio the Gaussian copula's logistic
    # AUC against train is below the real holdout's, and above it against the test split
    # (experiments/2026-12-detection/detection_features.md).
    for model in c["detectors"]:
        for suffix, real_side in (("", tr_eq), ("_unseen", te)):
            d = detection_score(real_side, sy_eq, kinds, model=model, folds=int(c["detection_folds"]),
                                seed=seed, max_rows=max_rows, lightgbm=c["lightgbm"])
            m[f"detection.{model}{suffix}"] = d["score"]
            m[f"detection.{model}{suffix}_auc"] = d["auc"]
        lap(f"detection ({model})")

    # ---- privacy
    unseen = te if synthetic_is_holdout else ho
    priv, dcr = dcr_metrics(tr, unseen, sy_eq, kinds, seed=seed, max_rows=max_rows)
    m.update({f"privacy.{k}": v for k, v in priv.items()})
    lap("DCR, NNDR, exact copies")
    # The attacker's candidates and reference come from real customers no generator saw.
    mia = membership_inference(tr, unseen, sy_eq, kinds, seed=seed, max_rows=max_rows)
    m.update({f"privacy.{k}": v for k, v in mia.items()})
    lap("membership inference")
    risks, risk_table = anonymeter_metrics(tr, sy_eq, unseen, kinds, c["anonymeter"], seed=seed)
    m.update({f"privacy.{k}": v for k, v in risks.items()})
    lap("Anonymeter")

    # ---- utility
    targets = c["targets"] if c["targets"] is not None else train.schema.targets
    for target in targets:
        if target not in kinds:
            raise ParamsError(
                f"evaluate.targets: '{target}' is not a column of the customers table, "
                f"expected one of {sorted(k for k in kinds if not k.startswith('series_'))}"
            )
        u = tstr(sy_eq, tr_eq, te, target, kinds, seed=seed, params=c["lightgbm"])
        m.update({f"utility.{target}.{k}": v for k, v in u.items() if k != "n_test"})
    lap("utility (TSTR, TRTR, importances)")

    plots = {
        "shapes": pd.DataFrame(
            {
                "column": list(shapes),
                "kind": [kinds[k] for k in shapes],
                "score": np.round(list(shapes.values()), 6),
            }
        ),
        "dcr": dcr,
        "marginals": marginal_table(tr_eq, sy_eq, kinds).round(6),
        "pairs": pair_table(trends).round(6),
        # A scatter shows nothing more beyond a couple of thousand points per side.
        "projection": projection_table(tr_eq, sy_eq, kinds, seed=seed,
                                       max_rows=min(max_rows or 2000, 2000)),
        "anonymeter": risk_table.round(6),
        "profile": profile.round(4),
        **{k: v.round({c: 4 for c in v.select_dtypes("number").columns}) for k, v in series_plots.items()},
    }
    lap("plot tables")
    plots["timings"] = pd.DataFrame({"family": list(seconds), "seconds": np.round(list(seconds.values()), 3)})

    m["n_real"] = float(len(tr_eq))
    m["n_synthetic"] = float(len(sy_eq))
    m["evaluate_seconds"] = round(time.perf_counter() - start, 3)
    flat: dict[str, float | None] = {
        k: (float(v) if v is not None and np.isfinite(v) else None) for k, v in m.items()
    }
    return flat, plots
