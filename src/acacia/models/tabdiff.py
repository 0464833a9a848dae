"""TabDiff (Shi et al., "TabDiff: a Mixed-type Diffusion Model for Tabular Data Generation",
ICLR 2025, arXiv 2410.20626): one continuous-time diffusion over the whole row, EDM Gaussian
noise on the numerical scores and masking diffusion on the categories, with learnable
per-column schedules and one transformer denoiser; built on
:class:`~acacia.models.diffusion.synthesizer.MixedDiffusionSynthesizer`.

Details, deviations from the paper and settings: docs/models.md#tabdiff.
"""

from __future__ import annotations

from acacia.models.base import register
from acacia.models.diffusion.synthesizer import MixedDiffusionSynthesizer


@register("tabdiff")
class TabDiff(MixedDiffusionSynthesizer):
    """TabDiff with the paper's defaults (its released configuration)."""
