"""Building blocks shared by the diffusion synthesizers (TabDiff, CausalDiffTab), separated as
in HF diffusers: noise ``schedules``, the ``denoiser`` network, the ``losses``, the
``samplers``, the ``model`` that ties them for training, and ``causal`` structure estimation."""

from acacia.models.diffusion.model import MixedDiffusion
from acacia.models.diffusion.samplers import Known, StochasticSampler

__all__ = ["Known", "MixedDiffusion", "StochasticSampler"]
