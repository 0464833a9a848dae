"""Score-based diffusion of a flat continuous vector in the EDM formulation (Karras et al.,
NeurIPS 2022): the variance-exploding process x_t = x_0 + σ(t) ε with the linear noise level
σ(t) = t, trained with log-normal noise levels, sampled by the second-order Heun solver with
stochastic churn. TabSyn (Zhang et al., ICLR 2024) runs it in its VAE's latent space.

Blocks, each usable alone:
- :class:`MLPScoreNet`: TabSyn's MLP denoiser F(x, c_noise): a projection of x plus the noise
  embedding (sinusoidal features then an MLP, :class:`~acacia.models.diffusion.denoiser.NoiseEmbedding`),
  then a four-layer SiLU MLP back to the input width;
- :class:`EDMPrecond`: D(x; σ) = c_skip(σ) x + c_out(σ) F(c_in(σ) x, log σ / 4), one σ per row;
- :class:`VectorEDM`: the module the shared training loop fits, through :meth:`VectorEDM.loss`
  (the EDM loss of :func:`~acacia.models.diffusion.losses.edm_loss` at ln σ ~ N(P_mean, P_std²));
- :class:`EDMSampler`: the time grid σ_i = (σ_max^{1/ρ} + i/(N−1) (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, then
  σ_N = 0, and per step churn (γ = min(S_churn/N, √2 − 1)), an Euler step and Heun's correction
  (not on the last step). ``known`` pins coordinates (noised to the current level, as in
  RePaint's replacement), for imputation in the vector space.

Every random draw of the sampler comes from one CPU ``torch.Generator``, chunk after chunk: a seed
and a chunk size give the same output on every run and device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from acacia.models.diffusion.denoiser import NoiseEmbedding
from acacia.models.diffusion.losses import edm_loss
from acacia.models.diffusion.schedules import normal


class MLPScoreNet(nn.Module):
    """F(x, c_noise) for x of width ``d_in``: TabSyn's MLP (hidden widths dim_t, 2 dim_t, 2 dim_t, dim_t)."""

    def __init__(self, d_in: int, dim_t: int = 1024) -> None:
        super().__init__()
        self.proj = nn.Linear(d_in, dim_t)
        self.embed = NoiseEmbedding(dim_t)
        self.mlp = nn.Sequential(
            nn.Linear(dim_t, 2 * dim_t), nn.SiLU(), nn.Linear(2 * dim_t, 2 * dim_t), nn.SiLU(),
            nn.Linear(2 * dim_t, dim_t), nn.SiLU(), nn.Linear(dim_t, d_in),
        )

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.proj(x) + self.embed(c_noise))


class EDMPrecond(nn.Module):
    """EDM preconditioning with one noise level per row; σ_data is the scale of the clean data."""

    def __init__(self, net: nn.Module, sigma_data: float = 0.5) -> None:
        super().__init__()
        self.net = net
        self.sigma_data = sigma_data

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """``x``: (b, d); ``sigma``: (b,) → the denoised estimate of x_0, (b, d)."""
        s = sigma.reshape(-1, 1)
        sd2 = self.sigma_data**2
        c_skip = sd2 / (s**2 + sd2)
        c_out = s * self.sigma_data / (s**2 + sd2).sqrt()
        c_in = 1 / (s**2 + sd2).sqrt()
        return c_skip * x + c_out * self.net(c_in * x, s[:, 0].log() / 4)


class VectorEDM(nn.Module):
    """EDM diffusion over rows of a (b, d) tensor; ``loss`` is what the shared loop minimises."""

    def __init__(self, d_in: int, dim_t: int = 1024, sigma_data: float = 0.5, p_mean: float = -1.2,
                 p_std: float = 1.2) -> None:
        super().__init__()
        self.d_in = d_in
        self.denoiser = EDMPrecond(MLPScoreNet(d_in, dim_t), sigma_data)
        self.sigma_data, self.p_mean, self.p_std = sigma_data, p_mean, p_std

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.denoiser(x, sigma)

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        sigma = (torch.randn(len(batch), device=batch.device) * self.p_std + self.p_mean).exp()
        noisy = batch + torch.randn_like(batch) * sigma[:, None]
        return edm_loss(self.denoiser(noisy, sigma), batch, sigma[:, None], self.sigma_data).mean()


@dataclass
class EDMKnown:
    """Coordinates pinned during sampling: values (n, d) and a boolean mask (n, d)."""

    values: torch.Tensor
    mask: torch.Tensor


@dataclass
class EDMSampler:
    num_steps: int = 50
    sigma_min: float = 0.002
    sigma_max: float = 80.0
    rho: float = 7.0
    churn: float = 1.0
    s_noise: float = 1.0
    second_order: bool = True
    chunk_size: int = 4096

    def sigmas(self, device: torch.device | None = None) -> torch.Tensor:
        """The N + 1 noise levels visited, from σ_max down to 0."""
        i = torch.arange(self.num_steps, dtype=torch.float64)
        lo, hi = self.sigma_min ** (1 / self.rho), self.sigma_max ** (1 / self.rho)
        steps = (hi + i / max(self.num_steps - 1, 1) * (lo - hi)) ** self.rho
        return torch.cat([steps, torch.zeros(1, dtype=torch.float64)]).float().to(device)

    @torch.no_grad()
    def sample(self, model: nn.Module, n: int, dim: int, generator: torch.Generator,
               known: EDMKnown | None = None) -> torch.Tensor:
        """``n`` rows of width ``dim`` from ``model(x, sigma) → D(x; σ)``, on the CPU."""
        if self.num_steps < 1:
            raise ValueError(f"num_steps: expected a positive integer, got {self.num_steps}")
        model.eval()
        device = next(model.parameters()).device
        sigmas = self.sigmas(device)
        out = []
        for start in range(0, n, self.chunk_size):
            sl = slice(start, min(n, start + self.chunk_size))
            k = None if known is None else EDMKnown(known.values[sl].to(device), known.mask[sl].to(device))
            out.append(self._chunk(model, sl.stop - sl.start, dim, sigmas, generator, k).cpu())
        return torch.cat(out) if out else torch.zeros(0, dim)

    def _chunk(self, model: nn.Module, b: int, dim: int, sigmas: torch.Tensor, gen: torch.Generator,
               known: EDMKnown | None) -> torch.Tensor:
        device = sigmas.device
        x = normal((b, dim), gen, device) * sigmas[0]
        gamma = min(self.churn / self.num_steps, math.sqrt(2) - 1) if self.churn > 0 else 0.0
        for i in range(self.num_steps):
            s, s_next = sigmas[i], sigmas[i + 1]
            if known is not None:
                x = torch.where(known.mask, known.values + normal((b, dim), gen, device) * s, x)
            s_hat = s * (1 + gamma)
            x_hat = x + (s_hat**2 - s**2).clamp_min(0).sqrt() * self.s_noise * normal((b, dim), gen, device)
            d = (x_hat - model(x_hat, s_hat.expand(b))) / s_hat
            x_next = x_hat + (s_next - s_hat) * d
            if self.second_order and i < self.num_steps - 1:
                d2 = (x_next - model(x_next, s_next.expand(b))) / s_next
                x_next = x_hat + (s_next - s_hat) * (0.5 * d + 0.5 * d2)
            x = x_next
        if known is not None:
            x = torch.where(known.mask, known.values, x)
        return x
