"""Gaussian copula: every column's exact marginal, dependence through one correlation matrix of
normal scores; categories ordered along the numeric columns' first principal component so that
the copula's monotone dependence can carry them.

Details, deviations from the paper and settings: docs/models.md#gaussian_copula.
"""

from __future__ import annotations

from acacia.models.base import register
from acacia.models.blocks.copula import CopulaSynthesizer


@register("gaussian_copula")
class GaussianCopula(CopulaSynthesizer):
    """The copula on its own: attributes and the series representation's columns alike."""
