"""Masked-condition diffusion (MTabGen's "dynamic masking", Villaizán-Vallelado et al. 2024):
one mixed-type diffusion model of p(unobserved columns | observed columns) for *any* split of
the row, trained by drawing a fresh split for every row of every batch.

The diffusion processes are the continuous-time ones of :mod:`~acacia.models.diffusion.schedules`
with fixed schedules: EDM Gaussian noise on the numerical scores (σ ∈ [σ_min, σ_max], ρ = 7) and
absorbing-state masking with the log-linear schedule (k = 1) on the categorical codes. The network
is :class:`~acacia.models.diffusion.encoder_decoder.EncoderDecoderDenoiser`; the loss of a row is
the EDM loss plus the masked-diffusion ELBO (:mod:`~acacia.models.diffusion.losses`) over its
*unobserved* columns only: the observed ones are given, there is nothing to learn about them.

The module exposes what :class:`~acacia.models.diffusion.samplers.StochasticSampler` reads
(``num_schedule``, ``cat_schedule``, ``denoise``, ``log_probs``, ``mask_index``, ...), so the
same sampler draws from it: unconditionally (nothing observed), or, inside
:meth:`MaskedConditionDiffusion.conditioned_on`, with the condition fed to the encoder clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from acacia.models.diffusion import losses
from acacia.models.diffusion.encoder_decoder import EncoderDecoderDenoiser
from acacia.models.diffusion.model import MixedLayout
from acacia.models.diffusion.schedules import MaskingSchedule, PowerMeanSchedule, mask_tokens


def draw_observed(b: int, n_tokens: int, p_unconditional: float, device: torch.device) -> torch.Tensor:
    """Which tokens of each row are observed, (b, n_tokens) bool, from torch's global generator.

    A share ``p_unconditional`` of the rows observe nothing (the synthesis task); the others
    observe each column with a probability drawn uniformly per row, so every amount of
    conditioning, from one column to all but one, is trained. At least one column of a row is
    always left to generate, or the row would carry no loss.
    """
    ratio = torch.rand(b, 1, device=device)
    observed = torch.rand(b, n_tokens, device=device) < ratio
    observed &= (torch.rand(b, 1, device=device) >= p_unconditional)
    full = observed.all(1)
    if bool(full.any()):
        free = torch.randint(0, n_tokens, (b,), device=device)
        observed[full.nonzero()[:, 0], free[full]] = False
    return observed


class MaskedConditionDiffusion(MixedLayout):
    def __init__(self, n_num: int, n_levels: list[int], attach: list[int | None] | None = None,
                 num_token: list[int] | None = None, d_token: int = 16, n_encoder_layers: int = 2,
                 n_decoder_layers: int = 2, n_heads: int = 2, ffn_factor: int = 2, dim_t: int = 128,
                 sigma_min: float = 0.002, sigma_max: float = 80.0,
                 sigma_data: float = 1.0, eps_max: float = 1e-3, eps_min: float = 1e-5,
                 p_unconditional: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p_unconditional <= 1:
            raise ValueError(f"p_unconditional: expected a probability, got {p_unconditional}")
        self._set_layout(n_num, n_levels)
        self.num_schedule = PowerMeanSchedule(n_num, sigma_min, sigma_max, learnable=False)
        self.cat_schedule = MaskingSchedule(self.n_cat, eps_max, eps_min, learnable=False)
        # Numbers: one token each unless grouped; a slot attached to number j (its "missing" flag)
        # shares j's token; the other slots get tokens of their own.
        num_token = list(range(n_num)) if num_token is None else list(num_token)
        if len(num_token) != n_num:
            raise ValueError(f"num_token: expected {n_num} entries, got {len(num_token)}")
        attach = list(attach) if attach is not None else [None] * self.n_cat
        own = iter(range(max(num_token, default=-1) + 1, max(num_token, default=-1) + 1 + self.n_cat))
        cat_token = [num_token[a] if a is not None else next(own) for a in attach]
        self.net = EncoderDecoderDenoiser(n_num, self.n_cat, self.width, num_token, cat_token, d_token,
                                          n_encoder_layers, n_decoder_layers, n_heads, ffn_factor, dim_t,
                                          sigma_data, sigma_min, sigma_max)
        self.n_tokens = self.net.n_tokens
        self.sigma_data = sigma_data
        self.p_unconditional = p_unconditional
        self._condition: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    # ------------------------------------------------------------------ helpers
    def observed_tokens(self, num_mask: torch.Tensor, cat_mask: torch.Tensor) -> torch.Tensor:
        """Per-column masks (numbers, categorical slots) → per-token observation: a token is
        observed when any value it carries is (a number and its "missing" flag go together; so
        do the columns of a patch)."""
        tok = torch.zeros(len(num_mask), self.n_tokens, dtype=torch.long, device=num_mask.device)
        tok = tok.index_add(1, self.net.num_token.to(tok.device), num_mask.long())
        return tok.index_add(1, self.net.cat_token.to(tok.device), cat_mask.long()) > 0

    @contextmanager
    def conditioned_on(self, num: torch.Tensor, codes: torch.Tensor, num_mask: torch.Tensor,
                       cat_mask: torch.Tensor) -> Iterator[None]:
        """Within the block, :meth:`denoise` feeds this condition to the encoder. Arguments are one
        row, (1, n_num) / (1, n_cat): the same condition holds for every row sampled, so it
        does not depend on how the sampler splits the rows into chunks."""
        self._condition = (num, codes, self.observed_tokens(num_mask, cat_mask))
        try:
            yield
        finally:
            self._condition = None

    def denoise(self, x_num: torch.Tensor, codes: torch.Tensor, t: torch.Tensor, sigma: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        b = len(x_num)
        if self._condition is None:
            obs_num, obs_codes = torch.zeros_like(x_num), torch.zeros_like(codes)
            observed = torch.zeros(b, self.n_tokens, dtype=torch.bool, device=x_num.device)
        else:
            num, c, tok = (x.to(x_num.device) for x in self._condition)
            obs_num, obs_codes, observed = num.expand(b, -1), c.expand(b, -1), tok.expand(b, -1)
        return self.net(x_num, self.one_hot(codes), obs_num, self.one_hot(obs_codes), observed, t, sigma)

    # ------------------------------------------------------------------ training
    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        x_num, x_cat = self.split(batch)
        b, device = len(batch), batch.device
        observed = draw_observed(b, self.n_tokens, self.p_unconditional, device)
        obs_num, obs_cat = self.net.split_observed(observed)
        t = torch.rand(b, 1, device=device).clamp_min(1e-6)
        sigma = self.num_schedule.sigma(t)
        x_num_t = x_num + torch.randn_like(x_num) * sigma
        codes_t = mask_tokens(x_cat, self.cat_schedule.move_chance(t), self.mask_index)
        denoised, logits = self.net(x_num_t, self.one_hot(codes_t), x_num, self.one_hot(x_cat), observed, t, sigma)
        total = batch.new_zeros(())
        if self.n_num:
            num = losses.edm_loss(denoised, x_num, sigma, self.sigma_data)
            target = ~obs_num
            total = total + (num * target).sum() / target.sum().clamp_min(1)
        if self.n_cat:
            logp = self.log_probs(logits, codes_t)
            cat = losses.masked_diffusion_loss(logp, x_cat, self.cat_schedule.sigma(t), self.cat_schedule.rate(t))
            target = ~obs_cat
            total = total + (cat * target).sum() / target.sum().clamp_min(1)
        return total
