"""The mixed-type diffusion module: schedules + denoiser + forward process, trained by the shared
loop through :meth:`MixedDiffusion.loss`.

A batch is one float tensor: the numerical scores, then the categorical codes (as floats), which
is how :class:`~acacia.transforms.tensor.CodesCodec` lays a table out. ``attach`` maps a
categorical slot to the numerical column whose token it shares (the "is null" flag of a nullable
number), so that the transformer sees one token per table column: the flat weekly series would
otherwise double the token count, and attention cost grows with its square.
"""

from __future__ import annotations

import torch
from torch import nn

from acacia.models.diffusion import losses
from acacia.models.diffusion.denoiser import Backbone, Denoiser
from acacia.models.diffusion.schedules import (
    MaskingSchedule,
    PowerMeanSchedule,
    mask_tokens,
    soft_mask_tokens,
)

# Large and finite: -inf would give NaN in (0 · -inf) when a row's probabilities are combined.
NEG_INF = -1e6


class MixedLayout(nn.Module):
    """A row as numbers then categorical codes, each categorical column one-hot over
    ``width`` = max levels + 1 slots (real classes, padding, then [MASK]): what every masking
    diffusion over this codec shares."""

    def _set_layout(self, n_num: int, n_levels: list[int]) -> None:
        self.n_num, self.n_levels = n_num, list(n_levels)
        self.n_cat = len(self.n_levels)
        self.width = max(self.n_levels, default=0) + 1
        self.mask_index = self.width - 1
        valid = torch.zeros(self.n_cat, self.width, dtype=torch.bool)
        for i, k in enumerate(self.n_levels):
            valid[i, :k] = True
        self.register_buffer("valid", valid)

    def split(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return batch[:, : self.n_num], batch[:, self.n_num :].round().long()

    def one_hot(self, codes: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(codes, self.width).float()

    def log_probs(self, logits: torch.Tensor, codes_t: torch.Tensor) -> torch.Tensor:
        """log p_θ(x₀ | x_t) per column: the network's softmax over real classes where x_t is
        masked, a point mass on x_t where it is not (the "substitution" parameterisation)."""
        logp = logits.masked_fill(~self.valid, NEG_INF).log_softmax(-1)
        copy = torch.where(self.one_hot(codes_t) > 0, 0.0, NEG_INF)
        return torch.where((codes_t != self.mask_index)[..., None], copy, logp)


class MixedDiffusion(MixedLayout):
    def __init__(self, n_num: int, n_levels: list[int], attach: list[int | None] | None = None,
                 d_token: int = 4, n_layers: int = 2, n_heads: int = 1, ffn_factor: int = 32, dim_t: int = 1024, sigma_min: float = 0.002,
                 sigma_max: float = 80.0, rho_init: float = 7.0, rho_offset: float = 5.0,
                 k_init: float = -6.0, k_offset: float = 1.0, eps_max: float = 1e-3,
                 eps_min: float = 1e-5, sigma_data: float = 1.0, learnable_schedule: bool = True,
                 c_lambda: float = 1.0, d_lambda: float = 1.0, closs_schedule: str = "anneal") -> None:
        super().__init__()
        self._set_layout(n_num, n_levels)
        self.num_schedule = PowerMeanSchedule(n_num, sigma_min, sigma_max, rho_init, rho_offset, learnable_schedule)
        self.cat_schedule = MaskingSchedule(self.n_cat, eps_max, eps_min, k_init, k_offset, learnable_schedule)
        # A slot attached to numerical column j shares its token; the others get tokens of their own.
        attach = list(attach) if attach is not None else [None] * self.n_cat
        own = iter(range(n_num, n_num + self.n_cat))
        cat_token = [a if a is not None else next(own) for a in attach]
        backbone = Backbone(n_num, self.n_cat, self.width, cat_token, d_token, n_layers, n_heads, ffn_factor, dim_t)
        self.denoiser = Denoiser(backbone, sigma_data, sigma_min, sigma_max)
        self.sigma_data = sigma_data
        self.learnable_schedule = learnable_schedule
        self.c_lambda, self.d_lambda, self.closs_schedule = c_lambda, d_lambda, closs_schedule
        # Counts optimisation steps inside the module, so the loss-weight schedules follow the
        # epoch through checkpoint/resume without the loop having to know about them.
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self.steps_per_epoch, self.max_epochs = 1, 1

    # ------------------------------------------------------------------ helpers
    def set_budget(self, steps_per_epoch: int, max_epochs: int) -> None:
        self.steps_per_epoch, self.max_epochs = max(1, steps_per_epoch), max(1, max_epochs)

    def epoch(self) -> int:
        """0-based index of the epoch being trained."""
        return int(self.steps_done) // self.steps_per_epoch

    def denoise(self, x_num: torch.Tensor, codes: torch.Tensor, t: torch.Tensor,
                sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.denoiser(x_num, self.one_hot(codes), t, sigma)

    # ------------------------------------------------------------------ training
    def terms(self, batch: torch.Tensor) -> losses.Terms:
        x_num, x_cat = self.split(batch)
        b = len(batch)
        # t = 0 exactly would give 0 · log 0 = NaN in the gradient of t^k with respect to k.
        t = torch.rand(b, 1, device=batch.device).clamp_min(1e-6)
        sigma = self.num_schedule.sigma(t)
        x_num_t = x_num + torch.randn_like(x_num) * sigma
        move = self.cat_schedule.move_chance(t)
        if self.learnable_schedule and self.n_cat:
            codes_t, onehot_t = soft_mask_tokens(x_cat, move, self.width)
        else:
            codes_t = mask_tokens(x_cat, move, self.mask_index)
            onehot_t = self.one_hot(codes_t)
        denoised, logits = self.denoiser(x_num_t, onehot_t, t, sigma)
        num = losses.edm_loss(denoised, x_num, sigma, self.sigma_data)
        logp = self.log_probs(logits, codes_t)
        cat = losses.masked_diffusion_loss(logp, x_cat, self.cat_schedule.sigma(t), self.cat_schedule.rate(t))
        zero = batch.new_zeros(())
        return losses.Terms(
            num=num.mean() if num.numel() else zero,
            cat=cat.mean() if cat.numel() else zero,
            eps_hat=(x_num_t - denoised) / sigma,
            cat_probs=logp.exp(),
        )

    def penalty(self, terms: losses.Terms) -> torch.Tensor:
        """An extra training term (none for TabDiff; CausalDiffTab's causal regulariser)."""
        return terms.num.new_zeros(())

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        terms = self.terms(batch)
        if not self.training:
            return terms.num + terms.cat + self.penalty(terms)
        c_weight = losses.num_weight(self.c_lambda, self.closs_schedule, self.epoch() / self.max_epochs)
        loss = losses.joint_loss(terms, c_weight, self.d_lambda) + self.penalty(terms)
        self.steps_done += 1
        return loss
