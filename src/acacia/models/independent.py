"""Independent marginals: every column drawn on its own from its training values.

The floor of the benchmark: marginals are exact in expectation, every dependence is lost.

Details, deviations from the paper and settings: docs/models.md#independent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from acacia.models.base import Synthesizer, register


@register("independent")
class IndependentMarginals(Synthesizer):
    thread_safe_sampling = True  # NumPy draws only

    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        self.columns_ = {c: table[c].to_numpy() for c in table.columns}

    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        return pd.DataFrame({c: v[rng.integers(0, len(v), size=n)] for c, v in self.columns_.items()})
