"""TabDDPM's denoiser (Kotelnikov et al. 2023, §3 and appendix): the input row (noisy numbers
and one-hot categories) projected to ``dim_t``, plus an embedding of the step t (sinusoidal
features, then Linear–SiLU–Linear), then an MLP of Linear–ReLU–Dropout blocks and a linear
head back to the input width (predicted noise for numbers, logits for categories).

Paper: ``dim_t`` 128; the block widths and dropout are tuned per dataset (2–8 layers of 128–1024
units, dropout 0 in the released best configurations).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from acacia.models.diffusion.denoiser import NoiseEmbedding


class MLPDenoiser(nn.Module):
    def __init__(self, d_in: int, d_layers: Sequence[int] = (256, 1024, 1024, 1024, 1024, 256),
                 dim_t: int = 128, dropout: float = 0.0) -> None:
        super().__init__()
        if not d_layers:
            raise ValueError("d_layers: expected at least one hidden layer width")
        self.proj = nn.Linear(d_in, dim_t)
        # The step index is the "noise level" here; the same sinusoidal embedding as TabDiff's.
        self.embed = NoiseEmbedding(dim_t)
        blocks: list[nn.Module] = []
        width = dim_t
        for d in d_layers:
            blocks += [nn.Linear(width, int(d)), nn.ReLU(), nn.Dropout(dropout)]
            width = int(d)
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(width, d_in)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``x``: (b, d_in); ``t``: (b,) integer steps → (b, d_in)."""
        return self.head(self.blocks(self.proj(x) + self.embed(t.to(x.dtype))))
