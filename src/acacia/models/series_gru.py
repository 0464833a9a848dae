"""The sequence-aware baseline: static attributes from a Gaussian copula, series from a GRU.

Not a tabular model of the series: the consumption is generated period by period by a
conditional recurrent network (:mod:`acacia.models.sequence`) from each synthetic customer's
attributes, so the benchmark shows what the tabular strategies (flat, compressed, two-stage
MLP) gain or lose against a model that knows the series is a sequence. The copula also
generates each customer's read window (first and last period read, share of gaps) with the
attributes it depends on.
"""

from __future__ import annotations

from acacia.models.base import register
from acacia.models.gaussian_copula import GaussianCopula


@register("series_gru")
class SeriesGRUBaseline(GaussianCopula):
    def __init__(self, seed: int = 0, hidden: int = 64, training: dict | None = None,
                 n_quantiles: int = 1000, shrinkage: float = 1e-3) -> None:
        self.hidden = hidden
        self.training = training
        super().__init__(seed=seed, n_quantiles=n_quantiles, shrinkage=shrinkage,
                         series_representation={"name": "two_stage", "generator": "gru", "seed": seed,
                                                "hidden": (hidden,), "training": training})

    def get_params(self) -> dict:
        return {"seed": self.seed, "hidden": self.hidden, "training": self.training,
                "n_quantiles": self.n_quantiles, "shrinkage": self.shrinkage}
