"""TabDiff's denoiser (Shi et al., ICLR 2025, §3.4 and appendix): a column tokenizer, a small
transformer encoder, an MLP conditioned on the noise level, a transformer decoder and a
per-column detokenizer; wrapped in EDM preconditioning for the numerical part.

Paper defaults: 4-dimensional tokens, 2 transformer layers with 1 head and a feed-forward
width of 32 × 4, an MLP of width 1024 (hidden 2048). Categorical tokens come in padded one-hot
form (b, columns, K_max + 1), the last class being the [MASK] token of every column, so that the
soft (straight-through) masks of the learnable schedule reach the embedding.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from acacia.models.diffusion.schedules import edm_sigma


class Tokenizer(nn.Module):
    """One d-dimensional token per table column: x·w_j + b_j for a number, an embedding row for a
    code. A categorical slot may *attach* to a numerical column's token (the "is null" flag of a
    nullable number): its embedding is added to that token instead of making a token of its own,
    so the transformer sees one token per column of the table, as in the paper."""

    def __init__(self, n_num: int, n_cat: int, width: int, d_token: int, cat_token: list[int]) -> None:
        super().__init__()
        bound = 1 / math.sqrt(d_token)
        self.n_tokens = n_num + sum(1 for j in cat_token if j >= n_num)
        self.num_weight = nn.Parameter(torch.empty(n_num, d_token).uniform_(-bound, bound))
        self.num_bias = nn.Parameter(torch.empty(n_num, d_token).uniform_(-bound, bound))
        self.cat_weight = nn.Parameter(torch.empty(n_cat, width, d_token).uniform_(-bound, bound))
        self.cat_bias = nn.Parameter(torch.empty(n_cat, d_token).uniform_(-bound, bound))
        self.register_buffer("cat_token", torch.tensor(cat_token, dtype=torch.long).reshape(-1))

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        num = x_num[:, :, None] * self.num_weight + self.num_bias
        cat = torch.einsum("bck,ckd->bcd", x_cat, self.cat_weight) + self.cat_bias
        tokens = torch.cat([num, num.new_zeros(len(num), self.n_tokens - num.shape[1], num.shape[2])], 1)
        return tokens.index_add(1, self.cat_token, cat)


class Detokenizer(nn.Module):
    """Token → a number (numerical column) and K_max + 1 logits per categorical slot, read from
    the slot's token (its own, or the numerical column it is attached to)."""

    def __init__(self, n_num: int, n_cat: int, width: int, d_token: int, cat_token: list[int]) -> None:
        super().__init__()
        bound = 1 / math.sqrt(d_token)
        self.n_num = n_num
        self.num_weight = nn.Parameter(torch.empty(n_num, d_token).uniform_(-bound, bound))
        self.cat_weight = nn.Parameter(torch.empty(n_cat, d_token, width).uniform_(-bound, bound))
        self.cat_bias = nn.Parameter(torch.zeros(n_cat, width))
        self.register_buffer("cat_token", torch.tensor(cat_token, dtype=torch.long).reshape(-1))

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        num = (h[:, : self.n_num] * self.num_weight).sum(-1)
        logits = torch.einsum("bcd,cdk->bck", h[:, self.cat_token], self.cat_weight) + self.cat_bias
        return num, logits


class NoiseEmbedding(nn.Module):
    """Sinusoidal features of the (log) noise level, then a two-layer MLP, as in EDM."""

    def __init__(self, dim: int, max_period: float = 10_000.0) -> None:
        super().__init__()
        half = dim // 2
        self.register_buffer("freqs", (1 / max_period) ** (torch.arange(half) / half), persistent=False)
        self.mlp = nn.Sequential(nn.Linear(2 * half, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, c_noise: torch.Tensor) -> torch.Tensor:
        x = c_noise[:, None] * self.freqs
        return self.mlp(torch.cat([x.sin(), x.cos()], dim=1))


def _transformer(n_layers: int, d_token: int, n_heads: int, ffn_factor: int) -> nn.Sequential:
    return nn.Sequential(*[
        nn.TransformerEncoderLayer(d_token, n_heads, dim_feedforward=d_token * ffn_factor, dropout=0.0,
                                   activation="relu", batch_first=True, norm_first=True)
        for _ in range(n_layers)
    ])


class Backbone(nn.Module):
    """tokens → transformer → (flatten) MLP + noise embedding → transformer → per-column outputs."""

    def __init__(self, n_num: int, n_cat: int, width: int, cat_token: list[int] | None = None,
                 d_token: int = 4, n_layers: int = 2, n_heads: int = 1, ffn_factor: int = 32,
                 dim_t: int = 1024) -> None:
        super().__init__()
        # By default every categorical slot is a token of its own, after the numerical ones.
        cat_token = list(range(n_num, n_num + n_cat)) if cat_token is None else list(cat_token)
        self.tokenizer = Tokenizer(n_num, n_cat, width, d_token, cat_token)
        self.encoder = _transformer(n_layers, d_token, n_heads, ffn_factor)
        d_in = d_token * self.tokenizer.n_tokens
        self.proj = nn.Linear(d_in, dim_t)
        self.embed = NoiseEmbedding(dim_t)
        self.mlp = nn.Sequential(
            nn.Linear(dim_t, 2 * dim_t), nn.SiLU(), nn.Linear(2 * dim_t, 2 * dim_t), nn.SiLU(),
            nn.Linear(2 * dim_t, dim_t), nn.SiLU(), nn.Linear(dim_t, d_in),
        )
        self.decoder = _transformer(n_layers, d_token, n_heads, ffn_factor)
        self.detokenizer = Detokenizer(n_num, n_cat, width, d_token, cat_token)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor, c_noise: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(self.tokenizer(x_num, x_cat))
        shape = h.shape
        h = self.mlp(self.proj(h.flatten(1)) + self.embed(c_noise))
        return self.detokenizer(self.decoder(h.view(shape)))


class Denoiser(nn.Module):
    """EDM preconditioning (Karras et al. 2022) around the backbone, per numerical column:
    D(x; σ) = c_skip x + c_out F(c_in x), with σ_data the scale of the (normal-score) data.

    Returns the denoised numbers and raw per-class logits (b, columns, K_max + 1).
    """

    def __init__(self, backbone: Backbone, sigma_data: float = 1.0, sigma_min: float = 0.002,
                 sigma_max: float = 80.0) -> None:
        super().__init__()
        self.backbone = backbone
        self.sigma_data = sigma_data
        self.sigma_min, self.sigma_max = sigma_min, sigma_max

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor, t: torch.Tensor, sigma: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``t``: (b, 1); ``sigma``: (b, n_num), each column at its own noise level."""
        sd2 = self.sigma_data**2
        c_skip = sd2 / (sigma**2 + sd2)
        c_out = sigma * self.sigma_data / (sigma**2 + sd2).sqrt()
        c_in = 1 / (sigma**2 + sd2).sqrt()
        c_noise = edm_sigma(t[:, 0], self.sigma_min, self.sigma_max).log() / 4
        f_num, logits = self.backbone(c_in * x_num, x_cat, c_noise)
        return c_skip * x_num + c_out * f_num, logits
