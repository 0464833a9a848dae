"""The holdout reference: real customers the generators never saw, evaluated as if synthetic,
i.e. what a perfect generator would score with this much data.

Its model and its "synthetic" portfolio are DVC outputs of the ``train@holdout`` and
``sample@holdout`` stages, which ``dvc push`` sends to the shared remote like every model's. So
neither may hold a real customer: the saved model keeps only the split's size, and the sample
stage writes the drawn rows' positions in the split (:func:`acacia.data.portfolio.save_reference`),
which ``Portfolio.load`` reads back from ``data/processed/holdout`` on this machine.

Details, deviations from the paper and settings: docs/models.md#holdout.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from acacia.errors import NotFittedError
from acacia.models.base import Synthesizer, register


@register("holdout")
class HoldoutReference(Synthesizer):
    fit_split = "holdout"
    chunkable = False  # two chunks would repeat customers, which reads as memorisation

    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        self.table_ = table.reset_index(drop=True)
        self.n_rows_ = len(table)

    def __getstate__(self) -> dict[str, Any]:
        # the split's rows stay on this machine: the saved model is shared (module docstring)
        return {k: v for k, v in super().__getstate__().items() if k != "table_"}

    def reference_rows(self, n: int, seed: int) -> np.ndarray:
        """Positions in the split of the ``n`` customers a sample of ``seed`` draws (the rows
        :meth:`sample` returns, in its order)."""
        self._check_fitted()
        size = self.n_rows_ if hasattr(self, "n_rows_") else len(self.table_)  # a model saved before n_rows_
        return np.random.default_rng(seed).permutation(size)[:n]

    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        if not hasattr(self, "table_"):
            raise NotFittedError("holdout: a saved holdout reference holds no customer (they stay in "
                                 "data/processed/holdout); its sample is written by `acacia sample holdout` "
                                 "as row positions (reference_rows)")
        return self.table_.iloc[rng.permutation(len(self.table_))[:n]]
