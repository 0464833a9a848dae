"""Use case: detect electric heating from a customer's consumption series, pre-trained on
synthetic customers and fine-tuned on a few real labelled ones.

Protocol (issue 9): for every pre-training source (each generator's synthetic portfolio, and the
``holdout`` reference) a model is pre-trained on all its labelled customers, then fine-tuned on
``n`` real labelled customers drawn from the real train split, for each ``n`` of ``n_values``
(``"all"``: the whole split); the line ``real_only`` trains the same model on the ``n`` real
customers alone. Every model is scored by its AUC on the real test split. Small ``n`` are drawn
``repeats`` times (seeded) and the AUCs averaged: at n = 100 one draw says little.

Two learners:

- ``cnn``: a small 1-D CNN over the weekly (or daily) series: input channels log(1 + kWh)
  standardised with the pre-training data's statistics, an observed-reading mask, and the
  cosine / sine of the day of year of each period (so the network knows which readings are
  winter ones: a global pooling alone would not). Three convolutions (dilations 1, 2, 4: a
  receptive field of 29 periods, about half a year of weeks), global mean and max pooling, one
  linear logit. Pre-training and fine-tuning both run on the shared loop (``training/loop.py``:
  AdamW, early stopping on a validation split of the rows it is given); fine-tuning starts from
  the pre-trained weights and uses its own (smaller) learning rate.
- ``lightgbm``: LightGBM on per-customer series features (monthly shares, level, variability,
  autocorrelations: ``evaluation/series.py``; winter/summer ratio, coefficient of variation:
  ``evaluation/features.py``). Fine-tuning continues the pre-trained booster on the real
  customers (``init_model``) for ``finetune_estimators`` more trees.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from acacia.data.portfolio import Portfolio
from acacia.errors import DataError, ParamsError
from acacia.evaluation.detection import lightgbm_params
from acacia.evaluation.features import series_features_from_matrix
from acacia.evaluation.series import series_feature_frame
from acacia.training.loop import TrainConfig, fit
from acacia.usecases.common import REAL_ONLY, binary_target, check_keys

LEARNERS = ("cnn", "lightgbm")
DEFAULTS: dict[str, Any] = {
    "label": "electric_heating",
    "positive": None,  # labels counted as electric heating; None = True of a boolean column
    "n_values": [100, 300, 1000, 3000, "all"],
    "repeats": 3,
    "seed": 0,
    "learners": list(LEARNERS),
    "cnn": {},
    "lightgbm": {},
}
CNN_DEFAULTS: dict[str, Any] = {
    "channels": 16,
    "kernel": 5,
    "pretrain": {"max_epochs": 30, "patience": 5, "batch_size": 128, "lr": 0.003},
    "finetune": {"max_epochs": 30, "patience": 5, "batch_size": 64, "lr": 0.001},
}
LGBM_DEFAULTS: dict[str, Any] = {
    "params": {"n_estimators": 100, "num_leaves": 15, "learning_rate": 0.05, "min_child_samples": 10},
    "finetune_estimators": 50,
}


def config(cfg: dict[str, Any] | None) -> dict[str, Any]:
    """The checked ``usecases.heating_detection`` section with defaults filled in."""
    section = "usecases.heating_detection"
    c = check_keys(cfg, DEFAULTS, section)
    c["cnn"] = check_keys(c["cnn"], CNN_DEFAULTS, f"{section}.cnn")
    c["lightgbm"] = check_keys(c["lightgbm"], LGBM_DEFAULTS, f"{section}.lightgbm")
    bad = [x for x in c["n_values"] if not (x == "all" or (isinstance(x, int) and not isinstance(x, bool) and x > 0))]
    if not c["n_values"] or bad:
        raise ParamsError(f"{section}.n_values: expected positive integers or 'all', got {c['n_values']!r}")
    unknown = set(c["learners"]) - set(LEARNERS)
    if not c["learners"] or unknown:
        raise ParamsError(f"{section}.learners: expected some of {list(LEARNERS)}, got {c['learners']!r}")
    if not isinstance(c["repeats"], int) or c["repeats"] < 1:
        raise ParamsError(f"{section}.repeats: expected a positive integer, got {c['repeats']!r}")
    for k in ("pretrain", "finetune"):
        TrainConfig.from_params(c["cnn"][k], f"{section}.cnn.{k}")
    return c


def resolve_n(n_values: list[int | str], pool: int) -> list[int]:
    """The fine-tuning sizes, capped by the real customers available, sorted, without repeats."""
    return sorted({pool if x == "all" else min(int(x), pool) for x in n_values})


# ----------------------------------------------------------------------------- data
class SeriesData:
    """One portfolio's labelled customers: the kWh matrix, series features and labels."""

    def __init__(self, p: Portfolio, cfg: dict[str, Any], source: str) -> None:
        if p.schema.series is None:
            raise DataError(f"{source}: heating detection needs consumption series, the schema has none")
        y = binary_target(p.customers, cfg["label"], cfg["positive"], source)
        keep = np.isfinite(y)
        self.y = y[keep]
        self.mat = p.series_matrix()[keep]
        spec = p.schema.series
        self.periods = spec.periods
        self.features = pd.concat(
            [series_feature_frame(self.mat, self.periods),
             series_features_from_matrix(self.mat, spec).reset_index(drop=True)], axis=1)

    def __len__(self) -> int:
        return len(self.y)

    def take(self, idx: np.ndarray) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
        return self.mat[idx], self.features.iloc[idx].reset_index(drop=True), self.y[idx]


# ----------------------------------------------------------------------------- CNN
class SeriesCNN(nn.Module):
    """log-kWh, mask and a fixed day-of-year encoding → dilated convolutions → pooled logit."""

    def __init__(self, periods: pd.DatetimeIndex, channels: int = 16, kernel: int = 5) -> None:
        super().__init__()
        angle = 2 * np.pi * periods.day_of_year.to_numpy() / 365.25
        self.register_buffer("season", torch.tensor(np.stack([np.cos(angle), np.sin(angle)]), dtype=torch.float32))
        self.register_buffer("scale", torch.tensor([0.0, 1.0]))  # mean and sd of log(1 + kWh)
        pad = kernel // 2
        self.conv = nn.Sequential(
            nn.Conv1d(4, channels, kernel, padding=pad), nn.GELU(),
            nn.Conv1d(channels, channels, kernel, padding=2 * pad, dilation=2), nn.GELU(),
            nn.Conv1d(channels, 2 * channels, kernel, padding=4 * pad, dilation=4), nn.GELU(),
        )
        self.head = nn.Linear(4 * channels, 1)
        self.n_periods = len(periods)

    def set_scale(self, mat: np.ndarray) -> None:
        v = np.log1p(np.clip(mat[np.isfinite(mat)], 0, None))
        self.scale.copy_(torch.tensor([float(v.mean()) if len(v) else 0.0, float(v.std()) if len(v) > 1 else 1.0]))

    def forward(self, raw: torch.Tensor) -> torch.Tensor:
        # raw: rows × periods log(1 + kWh) with NaN for missing readings
        mask = torch.isfinite(raw)
        z = (torch.nan_to_num(raw) - self.scale[0]) / self.scale[1].clamp_min(1e-6)
        z = torch.where(mask, z, torch.zeros_like(z))
        x = torch.stack([z, mask.float()], 1)
        x = torch.cat([x, self.season.expand(len(raw), -1, -1)], 1)
        h = self.conv(x)
        return self.head(torch.cat([h.mean(-1), h.amax(-1)], 1)).squeeze(-1)


def _tensor(mat: np.ndarray, y: np.ndarray) -> torch.Tensor:
    # label in the last column: the shared loop batches one tensor
    x = np.log1p(np.clip(mat, 0, None))
    return torch.tensor(np.column_stack([x, y]), dtype=torch.float32)


def _bce(module: SeriesCNN, batch: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(module(batch[:, :-1]), batch[:, -1])


def train_cnn(mat: np.ndarray, y: np.ndarray, periods: pd.DatetimeIndex, cnn_cfg: dict[str, Any],
              phase: str, seed: int, init: SeriesCNN | None = None) -> SeriesCNN:
    """Pre-train (``init`` None) or fine-tune a copy of ``init`` on these customers."""
    torch.manual_seed(seed)
    if init is None:
        module = SeriesCNN(periods, cnn_cfg["channels"], cnn_cfg["kernel"])
        module.set_scale(mat)
    else:
        # The pre-training scale stays: the filters were learnt on it.
        module = copy.deepcopy(init)
    cfg = TrainConfig.from_params({**cnn_cfg[phase], "seed": seed, "progress": False})
    fit(module, _bce, _tensor(mat, y), cfg)
    return module.cpu()


@torch.no_grad()
def predict_cnn(module: SeriesCNN, mat: np.ndarray) -> np.ndarray:
    module.eval()
    x = _tensor(mat, np.zeros(len(mat)))[:, :-1]
    return torch.cat([module(x[i : i + 1024]) for i in range(0, len(x), 1024)]).numpy()


# ----------------------------------------------------------------------------- LightGBM
def train_lgbm(x: pd.DataFrame, y: np.ndarray, lgbm_cfg: dict[str, Any], seed: int, init: Any = None):
    import lightgbm as lgb

    params = lightgbm_params(seed, lgbm_cfg["params"])
    if init is not None:
        params["n_estimators"] = lgbm_cfg["finetune_estimators"]
    model = lgb.LGBMClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit(x, y.astype(int), init_model=None if init is None else init.booster_)
    return model


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else np.nan


# ----------------------------------------------------------------------------- protocol
def learning_curve(real_train: Portfolio, real_test: Portfolio, sources: dict[str, Portfolio],
                   cfg: dict[str, Any] | None = None) -> pd.DataFrame:
    """AUC on the real test split per learner, pre-training source (``real_only`` included),
    fine-tuning size ``n`` and repeat: columns ``learner, source, n, repeat, auc``."""
    c = config(cfg)
    pool = SeriesData(real_train, c, "real train split")
    test = SeriesData(real_test, c, "real test split")
    if len(pool) < 2 or len(np.unique(test.y)) < 2:
        raise DataError(f"heating detection: '{c['label']}' needs both classes in the real train and test splits")
    pre = {name: SeriesData(p, c, f"synthetic/{name}") for name, p in sources.items()}
    ns = resolve_n(c["n_values"], len(pool))
    rng = np.random.default_rng(c["seed"])
    # The same real draws for every source, so the lines differ by pre-training only.
    draws = {n: [rng.permutation(len(pool))[:n] for _ in range(1 if n == len(pool) else c["repeats"])] for n in ns}
    rows = []
    for learner in c["learners"]:
        for source in [REAL_ONLY, *pre]:
            base = None
            if source != REAL_ONLY:
                d = pre[source]
                if len(np.unique(d.y)) < 2:
                    # A generator that produced one class only gives nothing to pre-train on.
                    base = "degenerate"
                elif learner == "cnn":
                    base = train_cnn(d.mat, d.y, d.periods, c["cnn"], "pretrain", c["seed"])
                else:
                    base = train_lgbm(d.features, d.y, c["lightgbm"], c["seed"])
            for n in ns:
                for r, idx in enumerate(draws[n]):
                    mat, feats, y = pool.take(idx)
                    seed = c["seed"] + 1000 * r + n
                    init = None if base == "degenerate" else base
                    if len(np.unique(y)) < 2:
                        # One class among the n real customers: nothing to fine-tune on.
                        score = (np.full(len(test), 0.5) if init is None else predict_cnn(init, test.mat)
                                 if learner == "cnn" else init.predict_proba(test.features)[:, 1])
                    elif learner == "cnn":
                        model = train_cnn(mat, y, pool.periods, c["cnn"], "finetune", seed, init)
                        score = predict_cnn(model, test.mat)
                    else:
                        model = train_lgbm(feats, y, c["lightgbm"], seed, init)
                        score = model.predict_proba(test.features)[:, 1]
                    rows.append({"learner": learner, "source": source, "n": n, "repeat": r,
                                 "auc": _auc(test.y, score)})
    return pd.DataFrame(rows, columns=["learner", "source", "n", "repeat", "auc"])


def summarise(curve: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Mean AUC per (learner, source, n) and the flat metrics.

    Metrics: ``<learner>.<source>.auc_small_n`` and ``.auc_all`` (the smallest and largest n),
    and for every pre-training source ``<learner>.<source>.auc_gain_small_n``: its AUC minus the
    real-only AUC at the smallest n (positive = pre-training on this source helps), plus
    ``small_n`` and ``all_n``.
    """
    agg = (curve.groupby(["learner", "source", "n"], sort=False)["auc"]
           .agg(auc="mean", auc_std=lambda s: float(s.std(ddof=0)), repeats="count").reset_index())
    out: dict[str, float] = {}
    if agg.empty:
        return agg, out
    small, large = int(agg["n"].min()), int(agg["n"].max())
    out["small_n"], out["all_n"] = float(small), float(large)
    for (learner, source), g in agg.groupby(["learner", "source"], sort=False):
        at = dict(zip(g["n"], g["auc"], strict=True))
        out[f"{learner}.{source}.auc_small_n"] = float(at[small])
        out[f"{learner}.{source}.auc_all"] = float(at[large])
    for learner in agg["learner"].unique():
        ref = out.get(f"{learner}.{REAL_ONLY}.auc_small_n", np.nan)
        for source in agg.loc[agg["learner"] == learner, "source"].unique():
            if source != REAL_ONLY:
                out[f"{learner}.{source}.auc_gain_small_n"] = float(out[f"{learner}.{source}.auc_small_n"] - ref)
    return agg, out
