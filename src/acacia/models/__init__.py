"""Synthesizers: one file per model, all behind the contract of :mod:`acacia.models.base`.

``from acacia.models import TabDiff`` works for every model class; each is imported on first use
(a stage imports only the model it runs, so editing one model re-runs only that model's stages).
"""

from __future__ import annotations

import importlib
from typing import Any

from acacia.models.base import REGISTRY, Synthesizer, clone, make_model, register

#: class name -> module of every registered model
MODEL_CLASSES = {
    "IndependentMarginals": "independent",
    "GaussianCopula": "gaussian_copula",
    "SeriesGRUBaseline": "series_gru",
    "TVAEVariant": "tvae_variant",
    "CTGANVariant": "ctgan_variant",
    "TabDiff": "tabdiff",
    "CausalDiffTab": "causal_diff_tab",
    "TabSyn": "tabsyn",
    "MTabGen": "mtabgen",
    "TabDDPM": "tabddpm",
    "HoldoutReference": "holdout",
}

__all__ = ["REGISTRY", "Synthesizer", "clone", "make_model", "register", *MODEL_CLASSES]


def __getattr__(name: str) -> Any:
    if name in MODEL_CLASSES:
        return getattr(importlib.import_module(f"acacia.models.{MODEL_CLASSES[name]}"), name)
    raise AttributeError(f"module 'acacia.models' has no attribute {name!r}")
