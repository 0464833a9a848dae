"""Wide table ⇄ one float matrix for neural generators, with the column spans they need.

Numeric, integer and date columns become one quantile-normal score each (nulls → 0) plus, when
the column has nulls, a two-level categorical span saying whether it is null. Categorical and
boolean columns become one-hot spans (null a level of its own). Models read ``spans`` to put
a Gaussian head on numeric slots and a softmax head on each categorical span.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from acacia.errors import NotFittedError
from acacia.transforms.encoders import OneHotEncoder, QuantileNormalizer


@dataclass(frozen=True)
class Span:
    column: str
    role: str  # "numeric" | "categorical" | "missing"
    start: int
    end: int

    @property
    def width(self) -> int:
        return self.end - self.start


class TensorCodec:
    def __init__(self, n_quantiles: int = 1000) -> None:
        self.n_quantiles = n_quantiles

    def fit(self, table: pd.DataFrame, kinds: dict[str, str]) -> TensorCodec:
        self.columns_ = list(table.columns)
        self.encoders_: dict[tuple[str, str], object] = {}
        spans, pos = [], 0
        for col in self.columns_:
            x = table[col]
            if kinds[col] in ("categorical", "boolean"):
                enc = OneHotEncoder().fit(x)
                spans.append(Span(col, "categorical", pos, pos + len(enc.categories_)))
                self.encoders_[(col, "categorical")] = enc
            else:
                v = x.to_numpy(dtype=float)
                self.encoders_[(col, "numeric")] = QuantileNormalizer(self.n_quantiles).fit(v)
                spans.append(Span(col, "numeric", pos, pos + 1))
                if np.isnan(v).any():
                    pos += 1
                    spans.append(Span(col, "missing", pos, pos + 2))
                    pos += 1
            pos = spans[-1].end
        self.spans_ = spans
        self.width_ = pos
        return self

    def _check(self) -> None:
        if not hasattr(self, "spans_"):
            raise NotFittedError("TensorCodec used before fit()")

    def transform(self, table: pd.DataFrame) -> np.ndarray:
        self._check()
        out = np.zeros((len(table), self.width_), dtype=np.float32)
        for s in self.spans_:
            x = table[s.column]
            if s.role == "categorical":
                out[:, s.start : s.end] = self.encoders_[(s.column, "categorical")].transform(x)
            elif s.role == "numeric":
                z = self.encoders_[(s.column, "numeric")].transform(x.to_numpy(dtype=float))
                out[:, s.start] = np.nan_to_num(z, nan=0.0)
            else:
                null = x.isna().to_numpy()
                out[:, s.start] = ~null
                out[:, s.start + 1] = null
        return out

    def inverse_transform(self, matrix: np.ndarray) -> pd.DataFrame:
        """Decode; categorical spans may hold one-hot rows, probabilities or logits (arg-max)."""
        self._check()
        m = np.asarray(matrix, dtype=float)
        out: dict[str, np.ndarray] = {}
        for s in self.spans_:
            if s.role == "categorical":
                out[s.column] = self.encoders_[(s.column, "categorical")].inverse_transform(m[:, s.start : s.end])
            elif s.role == "numeric":
                out[s.column] = self.encoders_[(s.column, "numeric")].inverse_transform(m[:, s.start])
            else:
                null = m[:, s.start + 1] > m[:, s.start]
                out[s.column] = np.where(null, np.nan, out[s.column])
        return pd.DataFrame(out)[self.columns_]
