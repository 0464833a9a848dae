"""Noise schedules of TabDiff (Shi et al., ICLR 2025, §3.2), one per column.

Numerical columns: the EDM power-mean schedule σ(t) = (σ_min^{1/ρ} + t (σ_max^{1/ρ} − σ_min^{1/ρ}))^ρ
with a learnable ρ per column (ρ = softplus(raw) + offset keeps it above the offset), so each
column chooses how fast it loses information; σ(0) = σ_min and σ(1) = σ_max whatever ρ.

Categorical columns: absorbing-state (masking) diffusion with the log-linear schedule
σ(t) = −log(1 − ((1 − ε_max − ε_min) t^k + ε_min)) and a learnable exponent k per column, so the
probability that a token is masked at time t is 1 − e^{−σ(t)} = (1 − ε_max − ε_min) t^k + ε_min:
ε_min at t = 0, 1 − ε_max at t = 1, monotone in between.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.functional import softplus

# The network is conditioned on the noise level of the default EDM schedule (ρ = 7) at t: with
# per-column σ there is no single σ to feed it, and t alone is what all columns share.
EDM_RHO = 7.0


def edm_sigma(t: torch.Tensor, sigma_min: float = 0.002, sigma_max: float = 80.0) -> torch.Tensor:
    lo, hi = sigma_min ** (1 / EDM_RHO), sigma_max ** (1 / EDM_RHO)
    return (lo + t * (hi - lo)) ** EDM_RHO


class PowerMeanSchedule(nn.Module):
    """σ(t) per numerical column; ``learnable=False`` is the fixed EDM schedule (ρ = 7)."""

    def __init__(self, n_columns: int, sigma_min: float = 0.002, sigma_max: float = 80.0,
                 rho_init: float = 7.0, rho_offset: float = 5.0, learnable: bool = True) -> None:
        super().__init__()
        self.sigma_min, self.sigma_max = sigma_min, sigma_max
        self.rho_offset = rho_offset
        self.learnable = learnable
        self.rho_raw = nn.Parameter(torch.full((n_columns,), float(rho_init)), requires_grad=learnable)

    def rho(self) -> torch.Tensor:
        if not self.learnable:
            return torch.full_like(self.rho_raw, EDM_RHO)
        return softplus(self.rho_raw) + self.rho_offset

    def _ends(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rho = self.rho()
        return rho, self.sigma_min ** (1 / rho), self.sigma_max ** (1 / rho)

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        """``t``: (b, 1) in [0, 1] → σ: (b, n_columns)."""
        rho, lo, hi = self._ends()
        return (lo + t * (hi - lo)) ** rho

    def inverse(self, sigma: torch.Tensor) -> torch.Tensor:
        """The t at which each column reaches ``sigma`` (used by the sampler's churn)."""
        rho, lo, hi = self._ends()
        return (sigma ** (1 / rho) - lo) / (hi - lo)


class MaskingSchedule(nn.Module):
    """Total noise σ(t), its rate dσ/dt and the masking probability, per categorical column;
    ``learnable=False`` is the plain log-linear schedule (k = 1)."""

    def __init__(self, n_columns: int, eps_max: float = 1e-3, eps_min: float = 1e-5,
                 k_init: float = -6.0, k_offset: float = 1.0, learnable: bool = True) -> None:
        super().__init__()
        self.eps_max, self.eps_min = eps_max, eps_min
        self.k_offset = k_offset
        self.learnable = learnable
        self.k_raw = nn.Parameter(torch.full((n_columns,), float(k_init)), requires_grad=learnable)

    def k(self) -> torch.Tensor:
        if not self.learnable:
            return torch.ones_like(self.k_raw)
        return softplus(self.k_raw) + self.k_offset

    def move_chance(self, t: torch.Tensor) -> torch.Tensor:
        """P(token masked at t): (b, 1) → (b, n_columns)."""
        return (1 - self.eps_max - self.eps_min) * t ** self.k() + self.eps_min

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        return -torch.log1p(-self.move_chance(t))

    def rate(self, t: torch.Tensor) -> torch.Tensor:
        k = self.k()
        scale = 1 - self.eps_max - self.eps_min
        return scale * k * t ** (k - 1) / (1 - self.move_chance(t))


# ----------------------------------------------------------------------------- forward process
def uniform(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """U(0, 1) draws; with a generator they come from the CPU so a seed gives the same samples
    on every device."""
    if generator is None:
        return torch.rand(shape, device=device)
    return torch.rand(shape, generator=generator).to(device)


def normal(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    if generator is None:
        return torch.randn(shape, device=device)
    return torch.randn(shape, generator=generator).to(device)


def mask_tokens(codes: torch.Tensor, move_chance: torch.Tensor, mask_index: int,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Replace each code by [MASK] with its column's probability (already-masked stay masked)."""
    moved = uniform(tuple(codes.shape), generator, codes.device) < move_chance
    return torch.where(moved, torch.full_like(codes, mask_index), codes)


def soft_mask_tokens(codes: torch.Tensor, move_chance: torch.Tensor, width: int,
                     tau: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    """Masking with a straight-through Gumbel-softmax coin per token (TabDiff's trick for the
    learnable schedule): the forward pass is the hard 0/1 draw, but the one-hot fed to the
    network carries a gradient to ``move_chance``, hence to the schedule's k.

    Returns the hard codes and the padded one-hot (b, columns, width), [MASK] being the last class.
    """
    logits = torch.stack([torch.log1p(-move_chance), torch.log(move_chance)], dim=-1)
    gumbel = -torch.log(-torch.log(uniform(tuple(logits.shape), None, codes.device).clamp_min(1e-20)))
    soft = torch.softmax((logits + gumbel) / tau, dim=-1)
    hard = nn.functional.one_hot(soft.argmax(-1), 2).to(soft)
    coin = hard - soft.detach() + soft
    keep = nn.functional.one_hot(codes, width).to(soft)
    mask = nn.functional.one_hot(torch.full_like(codes, width - 1), width).to(soft)
    onehot = coin[..., :1] * keep + coin[..., 1:] * mask
    hard_codes = torch.where(hard[..., 1] > 0, torch.full_like(codes, width - 1), codes)
    return hard_codes, onehot
