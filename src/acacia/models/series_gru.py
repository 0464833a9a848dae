"""The sequence-aware baseline: static attributes (and the read window) from a Gaussian copula,
the consumption series period by period from a conditional GRU
(:mod:`acacia.models.blocks.sequence`), so the benchmark shows what the tabular strategies gain
or lose against a model that knows the series is a sequence.

Details, deviations from the paper and settings: docs/models.md#series_gru.
"""

from __future__ import annotations

from typing import Any

from acacia.models.base import register
from acacia.models.blocks.copula import CopulaSynthesizer


@register("series_gru")
class SeriesGRUBaseline(CopulaSynthesizer):
    def __init__(self, seed: int = 0, hidden: int = 64, training: dict | None = None,
                 n_quantiles: int = 1000, shrinkage: float = 1e-3) -> None:
        self.seed = seed
        self.hidden = hidden
        self.training = training
        self.n_quantiles = n_quantiles
        self.shrinkage = shrinkage

    def representation(self) -> dict[str, Any]:
        return {"name": "two_stage", "generator": "gru", "seed": self.seed, "hidden": (self.hidden,),
                "training": self.training}
