"""The holdout reference: real customers the generators never saw, evaluated as if synthetic,
i.e. what a perfect generator would score with this much data.

Details, deviations from the paper and settings: docs/models.md#holdout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from acacia.models.base import Synthesizer, register


@register("holdout")
class HoldoutReference(Synthesizer):
    fit_split = "holdout"
    chunkable = False  # two chunks would repeat customers, which reads as memorisation

    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        self.table_ = table.reset_index(drop=True)

    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        return self.table_.iloc[rng.permutation(len(self.table_))[:n]]
