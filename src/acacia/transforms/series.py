"""Ways to carry a per-customer consumption series inside a tabular generator.

Only the *flat* representation exists yet (one numeric column per period); the compressed and
two-stage representations of the series-strategies issue plug in behind the same interface.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class FlatSeries:
    """Each period is a numeric column ``kwh_0000 … kwh_NNNN``; NaN where the customer had no
    reading (before its contract, after its end, meter gaps), so missingness is generated too."""

    prefix = "kwh_"

    def fit(self, matrix: np.ndarray) -> FlatSeries:
        self.n_periods_ = matrix.shape[1]
        return self

    @property
    def columns(self) -> list[str]:
        return [f"{self.prefix}{i:04d}" for i in range(self.n_periods_)]

    def to_columns(self, matrix: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(matrix, columns=self.columns)

    def from_columns(self, table: pd.DataFrame) -> np.ndarray:
        mat = table[self.columns].to_numpy(dtype=float)
        # kWh is a meter reading: a generator's small negative excursions mean "nearly nothing".
        return np.where(np.isnan(mat), np.nan, np.clip(mat, 0.0, None))


SERIES_REPRESENTATIONS = {"flat": FlatSeries}


def make_series_representation(name: str) -> FlatSeries:
    from acacia.errors import ParamsError

    if name not in SERIES_REPRESENTATIONS:
        raise ParamsError(
            f"series representation '{name}' unknown, expected one of {list(SERIES_REPRESENTATIONS)}"
        )
    return SERIES_REPRESENTATIONS[name]()
