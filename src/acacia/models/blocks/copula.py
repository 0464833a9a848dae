"""Gaussian copula block: exact marginals, dependence through one correlation matrix of normal
scores, categories ordered along the numeric columns' first principal component, missingness
indicators inside the copula (the ``gaussian_copula`` model; ``series_gru`` draws its
attributes with it).

Details, deviations from SDV and settings: docs/models.md#gaussian_copula.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from acacia.models.base import Synthesizer
from acacia.transforms.encoders import (
    FrequencyIntervalEncoder,
    MissingIndicator,
    QuantileNormalizer,
    from_tokens,
)


class CopulaSynthesizer(Synthesizer):
    """The copula over the encoded table (attributes, and the series representation's columns)."""

    thread_safe_sampling = True  # NumPy draws only

    def __init__(
        self,
        seed: int = 0,
        series_representation: str | dict = "flat",
        n_quantiles: int = 1000,
        shrinkage: float = 1e-3,
    ) -> None:
        super().__init__(seed=seed, series_representation=series_representation)
        self.n_quantiles = n_quantiles
        self.shrinkage = shrinkage

    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        self.layout_: list[tuple[str, str, object]] = []  # (column, role, encoder)
        scores: list[np.ndarray] = []
        axis = self._principal_axis(table, kinds)
        for col in table.columns:
            x = table[col]
            if kinds[col] in ("categorical", "boolean"):
                enc = FrequencyIntervalEncoder().fit(x, order_by=axis)
                self.layout_.append((col, "category", enc))
                scores.append(enc.transform(x, rng))
                continue
            v = x.to_numpy(dtype=float)
            qn = QuantileNormalizer(self.n_quantiles).fit(v)
            z = qn.transform(v)
            nulls = np.isnan(z)
            # Null rows carry no value: a random score adds no spurious correlation.
            z[nulls] = rng.standard_normal(int(nulls.sum()))
            self.layout_.append((col, "value", qn))
            scores.append(z)
            if nulls.any():
                mi = MissingIndicator().fit(v)
                fenc = FrequencyIntervalEncoder().fit(pd.Series(mi.transform(v)))
                self.layout_.append((col, "missing", fenc))
                scores.append(fenc.transform(pd.Series(mi.transform(v)), rng))
        z = np.column_stack(scores)
        # A constant column has no correlation (NaN): it is independent of the rest, i.e. 0.
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(z, rowvar=False)
        corr = np.nan_to_num(corr, nan=0.0)
        np.fill_diagonal(corr, 1.0)
        corr = (1 - self.shrinkage) * corr + self.shrinkage * np.eye(len(corr))
        # Eigen-decomposition rather than Cholesky: pairwise-estimated matrices can be slightly
        # indefinite, and clipping eigenvalues repairs that.
        w, v = np.linalg.eigh(corr)
        self.factor_ = v * np.sqrt(np.clip(w, 1e-9, None))
        self.columns_ = list(table.columns)

    def _principal_axis(self, table: pd.DataFrame, kinds: dict[str, str]) -> np.ndarray | None:
        numeric = [c for c in table.columns if kinds[c] not in ("categorical", "boolean")]
        if not numeric:
            return None
        z = np.column_stack(
            [QuantileNormalizer(self.n_quantiles).fit(table[c]).transform(table[c]) for c in numeric]
        )
        z = np.nan_to_num(z - np.nanmean(z, axis=0))
        _, _, vt = np.linalg.svd(z, full_matrices=False)
        pc1 = z @ vt[0]
        # The sign of a singular vector is arbitrary; fix it so results do not flip.
        return pc1 if np.corrcoef(pc1, z.sum(axis=1))[0, 1] >= 0 else -pc1

    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        z = rng.standard_normal((n, self.factor_.shape[0])) @ self.factor_.T
        # Φ once for every column, written transposed so each column's uniforms are contiguous
        # for its inverse.
        u = np.empty((z.shape[1], n))
        special.ndtr(z, out=u.T)
        out: dict[str, np.ndarray] = {}
        for j, (col, role, enc) in enumerate(self.layout_):
            if role == "category":
                out[col] = from_tokens(enc.categories_)[enc.codes_from_uniform(u[j])]
            elif role == "value":
                out[col] = enc.from_uniform(u[j])
            else:
                is_null = enc.categories_.astype(float)[enc.codes_from_uniform(u[j])] >= 0.5
                out[col] = np.where(is_null, np.nan, out[col])
        return pd.DataFrame(out)[self.columns_]
