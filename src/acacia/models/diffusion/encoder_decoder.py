"""MTabGen's denoiser (Villaizán-Vallelado et al. 2024, arXiv 2407.02549, §3): a transformer
encoder over the *observed* (conditioning) columns and a transformer decoder over the columns to
generate, whose cross-attention reads the encoder's output ("conditioning attention": the noised
columns are the queries, the condition supplies keys and values).

Tokens are groups of columns (:class:`GroupedTokenizer`): by default one per table column, a
"missing" flag sharing its number's token as in TabDiff's
:class:`~acacia.models.diffusion.denoiser.Tokenizer`; a wide block such as the flat consumption
series may be cut into patches of consecutive columns, one token each, because attention costs
the square of the token count. Each row says which tokens are observed:

- encoder: the clean values of the observed columns, plus a learned "no condition" token that is
  always present, so that a row with nothing observed (unconditional synthesis) still has a
  memory to attend to instead of an all-padded one (whose softmax would be NaN); unobserved
  columns are padding for the encoder's self-attention and for the decoder's cross-attention
  (a batch with nothing observed runs the encoder on that one token);
- decoder: the noised values of the columns to generate, a learned placeholder where a column is
  observed (its value is the encoder's business), a column-identity embedding and the
  noise-level embedding on every token; self-attention across the row, then cross-attention to
  the encoder, then a per-column read-out.

The numerical part is wrapped in EDM preconditioning (Karras et al. 2022) as TabDiff's
:class:`~acacia.models.diffusion.denoiser.Denoiser` is; observed numbers are returned unchanged,
so that a sampler which pins them sees them as already denoised.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from acacia.models.diffusion.denoiser import NoiseEmbedding
from acacia.models.diffusion.schedules import edm_sigma


class GroupedTokenizer(nn.Module):
    """Columns → tokens, several columns per token allowed: a number adds x·w_j + b_j to its
    token, a code (padded one-hot) its embedding row; ``num_token[j]`` / ``cat_token[i]`` say
    which token. With one column per token this is TabDiff's column tokenizer."""

    def __init__(self, n_num: int, n_cat: int, width: int, d_token: int, num_token: list[int],
                 cat_token: list[int]) -> None:
        super().__init__()
        bound = 1 / math.sqrt(d_token)
        self.n_tokens = max([*num_token, *cat_token], default=-1) + 1
        self.d_token = d_token
        self.num_weight = nn.Parameter(torch.empty(n_num, d_token).uniform_(-bound, bound))
        self.num_bias = nn.Parameter(torch.empty(n_num, d_token).uniform_(-bound, bound))
        self.cat_weight = nn.Parameter(torch.empty(n_cat, width, d_token).uniform_(-bound, bound))
        self.cat_bias = nn.Parameter(torch.empty(n_cat, d_token).uniform_(-bound, bound))
        self.register_buffer("num_token", torch.tensor(num_token, dtype=torch.long).reshape(-1))
        self.register_buffer("cat_token", torch.tensor(cat_token, dtype=torch.long).reshape(-1))

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        num = x_num[:, :, None] * self.num_weight + self.num_bias
        cat = torch.einsum("bck,ckd->bcd", x_cat, self.cat_weight) + self.cat_bias
        tokens = num.new_zeros(len(x_num), self.n_tokens, self.d_token)
        return tokens.index_add(1, self.num_token, num).index_add(1, self.cat_token, cat)


class GroupedDetokenizer(nn.Module):
    """Tokens → one number per numerical column and K_max + 1 logits per categorical slot, each
    read from its own token with weights of its own."""

    def __init__(self, n_num: int, n_cat: int, width: int, d_token: int, num_token: list[int],
                 cat_token: list[int]) -> None:
        super().__init__()
        bound = 1 / math.sqrt(d_token)
        self.num_weight = nn.Parameter(torch.empty(n_num, d_token).uniform_(-bound, bound))
        self.num_bias = nn.Parameter(torch.zeros(n_num))
        self.cat_weight = nn.Parameter(torch.empty(n_cat, d_token, width).uniform_(-bound, bound))
        self.cat_bias = nn.Parameter(torch.zeros(n_cat, width))
        self.register_buffer("num_token", torch.tensor(num_token, dtype=torch.long).reshape(-1))
        self.register_buffer("cat_token", torch.tensor(cat_token, dtype=torch.long).reshape(-1))

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        num = (h[:, self.num_token] * self.num_weight).sum(-1) + self.num_bias
        logits = torch.einsum("bcd,cdk->bck", h[:, self.cat_token], self.cat_weight) + self.cat_bias
        return num, logits


def _layer_kwargs(d_token: int, n_heads: int, ffn_factor: int) -> dict:
    return {"d_model": d_token, "nhead": n_heads, "dim_feedforward": d_token * ffn_factor, "dropout": 0.0,
            "activation": "gelu", "batch_first": True, "norm_first": True}


class EncoderDecoderDenoiser(nn.Module):
    """D(x_t; σ, x_obs, observed) → (denoised numbers (b, n_num), logits (b, n_cat, width))."""

    def __init__(self, n_num: int, n_cat: int, width: int, num_token: list[int], cat_token: list[int],
                 d_token: int = 16, n_encoder_layers: int = 2, n_decoder_layers: int = 2, n_heads: int = 2,
                 ffn_factor: int = 2, dim_t: int = 128, sigma_data: float = 1.0, sigma_min: float = 0.002,
                 sigma_max: float = 80.0) -> None:
        super().__init__()
        if d_token % n_heads:
            raise ValueError(f"d_token ({d_token}) must be a multiple of n_heads ({n_heads})")
        self.n_num = n_num
        self.sigma_data, self.sigma_min, self.sigma_max = sigma_data, sigma_min, sigma_max
        self.condition_tokens = GroupedTokenizer(n_num, n_cat, width, d_token, num_token, cat_token)
        self.noisy_tokens = GroupedTokenizer(n_num, n_cat, width, d_token, num_token, cat_token)
        self.n_tokens = self.noisy_tokens.n_tokens
        self.register_buffer("num_token", torch.tensor(num_token, dtype=torch.long).reshape(-1))
        self.register_buffer("cat_token", torch.tensor(cat_token, dtype=torch.long).reshape(-1))
        bound = 1 / math.sqrt(d_token)
        self.column = nn.Parameter(torch.empty(self.n_tokens, d_token).uniform_(-bound, bound))
        self.observed_slot = nn.Parameter(torch.empty(d_token).uniform_(-bound, bound))
        self.no_condition = nn.Parameter(torch.empty(1, 1, d_token).uniform_(-bound, bound))
        kw = _layer_kwargs(d_token, n_heads, ffn_factor)
        self.encoder = nn.ModuleList([nn.TransformerEncoderLayer(**kw) for _ in range(n_encoder_layers)])
        self.decoder = nn.ModuleList([nn.TransformerDecoderLayer(**kw) for _ in range(n_decoder_layers)])
        self.encoder_norm, self.decoder_norm = nn.LayerNorm(d_token), nn.LayerNorm(d_token)
        self.time = nn.Sequential(NoiseEmbedding(dim_t), nn.SiLU(), nn.Linear(dim_t, d_token))
        self.detokenizer = GroupedDetokenizer(n_num, n_cat, width, d_token, num_token, cat_token)

    def split_observed(self, observed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-token observation (b, n_tokens) → per numerical column and per categorical slot."""
        return observed[:, self.num_token], observed[:, self.cat_token]

    def memory(self, x_num: torch.Tensor, x_cat: torch.Tensor, observed: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """The encoded condition and its key-padding mask (True = ignore)."""
        b = len(x_num)
        head = self.no_condition.expand(b, 1, -1)
        pad_head = observed.new_zeros(b, 1)
        if bool(observed.any()):
            h = torch.cat([head, self.condition_tokens(x_num, x_cat) + self.column], 1)
            pad = torch.cat([pad_head, ~observed], 1)
        else:
            # Nothing observed in the whole batch (unconditional sampling): the encoder runs on
            # the "no condition" token alone, which is what an unobserved row's head attends to
            # in a mixed batch anyway (everything else is padding), at the cost of one token.
            h, pad = head, pad_head
        for layer in self.encoder:
            h = layer(h, src_key_padding_mask=pad)
        return self.encoder_norm(h), pad

    def forward(self, x_num_t: torch.Tensor, x_cat_t: torch.Tensor, x_num_obs: torch.Tensor,
                x_cat_obs: torch.Tensor, observed: torch.Tensor, t: torch.Tensor, sigma: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x_cat_*``: padded one-hot (b, n_cat, width); ``observed``: (b, n_tokens) bool;
        ``t``: (b, 1); ``sigma``: (b, n_num)."""
        sd2 = self.sigma_data**2
        c_skip = sd2 / (sigma**2 + sd2)
        c_out = sigma * self.sigma_data / (sigma**2 + sd2).sqrt()
        c_in = 1 / (sigma**2 + sd2).sqrt()
        memory, pad = self.memory(x_num_obs, x_cat_obs, observed)
        h = self.noisy_tokens(c_in * x_num_t, x_cat_t)
        h = torch.where(observed[..., None], self.observed_slot.expand_as(h), h)
        c_noise = edm_sigma(t[:, 0], self.sigma_min, self.sigma_max).log() / 4
        h = h + self.column + self.time(c_noise)[:, None, :]
        for layer in self.decoder:
            h = layer(h, memory, memory_key_padding_mask=pad)
        f_num, logits = self.detokenizer(self.decoder_norm(h))
        denoised = c_skip * x_num_t + c_out * f_num
        obs_num, _ = self.split_observed(observed)
        return torch.where(obs_num, x_num_obs, denoised), logits
