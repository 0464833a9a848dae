"""Discrete-time noise schedules and Gaussian diffusion (DDPM: Ho et al. 2020; the cosine
schedule of Nichol & Dhariwal 2021), as TabDDPM (Kotelnikov et al. 2023) uses them.

Steps are indexed t = 0 … T−1, as in TabDDPM's code: x_t is the data after t + 1 noising steps,
so ᾱ_t = ∏_{s ≤ t} α_s with α_s = 1 − β_s, and the reverse step at t produces x_{t−1}, the clean
data when t = 0. The same α_t drive the multinomial diffusion of
:mod:`~acacia.models.diffusion.multinomial`, so both parts of a row lose information together.

- ``linear``: β from 10⁻⁴ to 0.02, rescaled by 1000 / T so that any T ends at the same noise;
- ``cosine``: ᾱ(s) = cos²((s + 0.008) / 1.008 · π/2), β_t = min(1 − ᾱ((t+1)/T) / ᾱ(t/T), 0.999).

The Gaussian part predicts the noise ε (the "simple" loss ‖ε − ε̂‖²) and samples ancestrally with
the "fixed large" variance σ²_t = β_t (TabDDPM's choice; no noise is added at the last step).

Respacing (Nichol & Dhariwal 2021, §4): a schedule restricted to the steps ``keep`` ⊂ {0 … T−1}
is the schedule of a shorter chain with ᾱ'_i = ᾱ_{keep[i]} and β'_i = 1 − ᾱ'_i / ᾱ'_{i−1}. Every
marginal q(x_t | x_0) of a kept step is unchanged, so a network trained on the T-step chain
denoises the shorter one when it is told the original step keep[i]; the reverse steps jump
between kept steps with the same posterior formulas, for both the Gaussian and the multinomial
part (whose transitions compose the same way: keep x with probability ᾱ_t / ᾱ_s).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

SCHEDULES = ("linear", "cosine")


def spaced_steps(num_timesteps: int, steps: int) -> np.ndarray:
    """``steps`` of 0 … num_timesteps − 1, evenly spaced, both ends included."""
    if not 1 <= steps <= num_timesteps:
        raise ValueError(f"steps: expected an integer in [1, {num_timesteps}], got {steps}")
    if steps == 1:
        return np.array([num_timesteps - 1])
    return np.unique(np.round(np.linspace(0, num_timesteps - 1, steps)).astype(np.int64))


def beta_schedule(name: str, num_timesteps: int) -> np.ndarray:
    """β_0 … β_{T−1} in float64 (products of a thousand α lose precision in float32)."""
    if num_timesteps < 1:
        raise ValueError(f"num_timesteps: expected a positive integer, got {num_timesteps}")
    if name == "linear":
        scale = 1000 / num_timesteps
        return np.linspace(scale * 1e-4, scale * 0.02, num_timesteps, dtype=np.float64)
    if name == "cosine":
        def alpha_bar(s: float) -> float:
            return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2

        steps = np.arange(num_timesteps, dtype=np.float64)
        return np.array([min(1 - alpha_bar((i + 1) / num_timesteps) / alpha_bar(i / num_timesteps), 0.999)
                         for i in steps])
    raise ValueError(f"schedule: expected one of {SCHEDULES}, got {name!r}")


class DiscreteSchedule(nn.Module):
    """The per-step quantities both diffusions read, as float32 buffers (they follow the module to
    its device and into the saved model)."""

    def __init__(self, num_timesteps: int, schedule: str = "cosine", keep: np.ndarray | None = None) -> None:
        super().__init__()
        betas = beta_schedule(schedule, int(num_timesteps))
        if keep is not None:  # respaced: the chain through the kept steps only (module docstring)
            kept = np.cumprod(1 - betas)[np.asarray(keep)]
            betas = 1 - kept / np.append(1.0, kept[:-1])
        self.num_timesteps, self.schedule = len(betas), schedule
        alphas = 1 - betas
        cumprod = np.cumprod(alphas)
        cumprod_prev = np.append(1.0, cumprod[:-1])
        values = {
            "betas": betas,
            "alphas": alphas,
            "log_alpha": np.log(alphas),
            "log_1m_alpha": np.log1p(-alphas),
            "alphas_cumprod": cumprod,
            "log_cumprod": np.log(cumprod),
            "log_1m_cumprod": np.log1p(-cumprod),
            # posterior q(x_{t−1} | x_t, x_0) = N(c1 x_0 + c2 x_t, β̃_t)
            "posterior_c1": betas * np.sqrt(cumprod_prev) / (1 - cumprod),
            "posterior_c2": (1 - cumprod_prev) * np.sqrt(alphas) / (1 - cumprod),
        }
        for key, v in values.items():
            self.register_buffer(key, torch.as_tensor(v, dtype=torch.float32), persistent=False)

    def at(self, name: str, t: torch.Tensor) -> torch.Tensor:
        """``name`` at steps ``t`` (b,), as a (b, 1) column that broadcasts over features."""
        return getattr(self, name)[t][:, None]


class GaussianDiffusion(nn.Module):
    """q(x_t | x_0), the noise-prediction loss and the ancestral reverse step."""

    def __init__(self, num_timesteps: int, schedule: str = "cosine", keep: np.ndarray | None = None) -> None:
        super().__init__()
        self.sched = DiscreteSchedule(num_timesteps, schedule, keep)

    @property
    def num_timesteps(self) -> int:
        return self.sched.num_timesteps

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        a = self.sched.at("alphas_cumprod", t)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def q_step(self, x_prev: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t ~ q(x_t | x_{t−1}): one forward step."""
        a = self.sched.at("alphas", t)
        return a.sqrt() * x_prev + (1 - a).sqrt() * noise

    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        a = self.sched.at("alphas_cumprod", t)
        return (x_t - (1 - a).sqrt() * eps) / a.sqrt()

    @staticmethod
    def loss(eps_hat: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Per row, the mean squared error of the predicted noise over the columns."""
        return ((eps_hat - noise) ** 2).mean(1)

    def p_sample(self, x_t: torch.Tensor, t: torch.Tensor, eps_hat: torch.Tensor,
                 noise: torch.Tensor, clip: float | None = None) -> torch.Tensor:
        """x_{t−1} ~ p(x_{t−1} | x_t): the posterior mean at the predicted x_0, variance β_t.

        ``clip`` bounds the predicted x_0 to [−clip, clip] (DDPM's ``clip_denoised``): near
        t = T the prediction is (x_t − √(1−ᾱ_t) ε̂) / √ᾱ_t, which multiplies any error of ε̂ by
        1 / √ᾱ_t (about 2,000 at the end of a 100-step cosine schedule).
        """
        x0 = self.predict_x0(x_t, t, eps_hat)
        if clip is not None:
            x0 = x0.clamp(-clip, clip)
        mean = self.sched.at("posterior_c1", t) * x0 + self.sched.at("posterior_c2", t) * x_t
        std = self.sched.at("betas", t).sqrt() * (t > 0).to(x_t.dtype)[:, None]
        return mean + std * noise
