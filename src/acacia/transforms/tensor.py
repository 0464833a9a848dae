"""Wide table ⇄ one float matrix for neural generators, with the column spans they need.

Numeric, integer and date columns become one quantile-normal score each (nulls → 0) plus, when
the column has nulls, a two-level categorical span saying whether it is null. Categorical and
boolean columns become one-hot spans (null a level of its own). Models read ``spans`` to put
a Gaussian head on numeric slots and a softmax head on each categorical span.

:class:`CodesCodec` is the variant for masked diffusion: numeric scores plus one integer code
per categorical column (and per nullable numeric column, its "missing" flag).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from acacia.errors import NotFittedError
from acacia.transforms.encoders import CategoricalCodes, OneHotEncoder, QuantileNormalizer


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


@dataclass(frozen=True)
class CategoricalSlot:
    column: str
    role: str  # "categorical" | "missing" (is a nullable numeric column null: 0 = no, 1 = yes)
    n_levels: int


class CodesCodec:
    """Wide table ⇄ (numeric scores, integer category codes), for masked (absorbing-state)
    diffusion, which needs one token per categorical column rather than a one-hot span.

    Numeric, integer and date columns become one quantile-normal score each (nulls → 0) plus,
    when the column has nulls, a two-level "missing" categorical slot; categorical and boolean
    columns become codes 0..K−1 (null a level of its own, see :class:`CategoricalCodes`).
    """

    def __init__(self, n_quantiles: int = 1000) -> None:
        self.n_quantiles = n_quantiles

    def fit(self, table: pd.DataFrame, kinds: dict[str, str]) -> CodesCodec:
        self.columns_ = list(table.columns)
        self.numeric_: list[str] = []
        self.slots_: list[CategoricalSlot] = []
        self.encoders_: dict[str, object] = {}
        for col in self.columns_:
            if kinds[col] in ("categorical", "boolean"):
                enc = CategoricalCodes().fit(table[col])
                self.encoders_[col] = enc
                self.slots_.append(CategoricalSlot(col, "categorical", len(enc.categories_)))
                continue
            v = table[col].to_numpy(dtype=float)
            self.encoders_[col] = QuantileNormalizer(self.n_quantiles).fit(v)
            self.numeric_.append(col)
            if np.isnan(v).any():
                self.slots_.append(CategoricalSlot(col, "missing", 2))
        return self

    def _check(self) -> None:
        if not hasattr(self, "slots_"):
            raise NotFittedError("CodesCodec used before fit()")

    @property
    def n_levels(self) -> list[int]:
        self._check()
        return [s.n_levels for s in self.slots_]

    @property
    def attach(self) -> list[int | None]:
        """Per categorical slot, the numeric column it describes (its "missing" flag), else None."""
        self._check()
        return [self.numeric_.index(s.column) if s.role == "missing" else None for s in self.slots_]

    def encode_numeric(self, column: str, values: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        z = self.encoders_[column].transform(np.asarray(values, dtype=float), rng=rng)
        null = np.isnan(z)
        if rng is None or not null.any():
            return np.nan_to_num(z, nan=0.0).astype(np.float32)
        # A column null on most rows would otherwise hold a point mass of that share at 0, which
        # the non-null values' scores get pulled into; the "missing" slot says the value is absent.
        z[null] = rng.standard_normal(int(null.sum()))
        return z.astype(np.float32)

    def encode_codes(self, slot: CategoricalSlot, values: pd.Series) -> np.ndarray:
        if slot.role == "missing":
            return pd.isna(values).to_numpy(dtype=np.int64)
        return self.encoders_[slot.column].transform(values).astype(np.int64)

    def transform(self, table: pd.DataFrame, rng: np.random.Generator | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """``rng``: dequantise the numeric scores, i.e. spread repeated values over their CDF
        band (see :meth:`QuantileNormalizer.transform`) instead of mapping them to its middle,
        and give null rows a standard-normal draw instead of 0: no point masses left."""
        self._check()
        num = np.zeros((len(table), len(self.numeric_)), dtype=np.float32)
        for j, col in enumerate(self.numeric_):
            num[:, j] = self.encode_numeric(col, table[col].to_numpy(dtype=float), rng=rng)
        codes = np.zeros((len(table), len(self.slots_)), dtype=np.int64)
        for j, slot in enumerate(self.slots_):
            codes[:, j] = self.encode_codes(slot, table[slot.column])
        return num, codes

    def inverse_transform(self, num: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
        self._check()
        num = np.asarray(num, dtype=float)
        codes = np.asarray(codes)
        out: dict[str, np.ndarray] = {}
        for j, col in enumerate(self.numeric_):
            out[col] = self.encoders_[col].inverse_transform(num[:, j])
        for j, slot in enumerate(self.slots_):
            if slot.role == "categorical":
                out[slot.column] = self.encoders_[slot.column].inverse_transform(codes[:, j])
            else:
                out[slot.column] = np.where(codes[:, j] == 1, np.nan, out[slot.column])
        return pd.DataFrame(out, index=range(len(num)))[self.columns_]
