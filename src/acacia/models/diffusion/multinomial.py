"""Multinomial diffusion (Hoogeboom et al., NeurIPS 2021, "Argmax flows and multinomial
diffusion") over several categorical columns at once, on the discrete schedule of
:mod:`~acacia.models.diffusion.discrete`, as TabDDPM (Kotelnikov et al. 2023) uses it.

Each step keeps a column's value with probability α_t and otherwise redraws it uniformly among
its K levels: q(x_t | x_{t−1}) = Cat((1 − β_t) x_{t−1} + β_t / K), hence
q(x_t | x_0) = Cat(ᾱ_t x_0 + (1 − ᾱ_t) / K). The network predicts x_0 (a softmax per column)
and the reverse step is the true posterior q(x_{t−1} | x_t, x̂_0) at that prediction
("x_0 parameterisation"). The loss of one row and column is the unbiased estimate of the ELBO
TabDDPM trains on: T · KL(q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t)) at a uniform t ≥ 1,
T · (−log p_θ(x_0 | x_1)) at t = 0, plus the (constant) prior KL(q(x_T | x_0) ‖ uniform).

Columns have different numbers of levels, and a flat consumption series brings one two-level
"is null" flag per period next to a few columns of ten levels or more: padding every column to
the largest K would multiply the work several times over. Columns are therefore grouped by their
number of levels, each group one (rows, columns, K) tensor. The arithmetic is in probability
space (every transition is a mixture with the uniform, so probabilities stay positive except at
t = 0 for a one-hot x_0): sampling runs T steps over every column of every row, and log-space
``logaddexp`` / ``logsumexp`` made it several times slower on a CPU.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from acacia.models.diffusion.discrete import DiscreteSchedule
from acacia.models.diffusion.schedules import uniform

# Logs are taken of probabilities clamped here, so that 0 · (log 0 − log 0) is 0 in the KL.
TINY = 1e-30


class MultinomialDiffusion(nn.Module):
    """Group-wise tensors: ``logits`` and probabilities are lists with one (b, n_g, K_g) tensor
    per group (:attr:`groups`); codes are (b, columns) in the caller's column order."""

    def __init__(self, n_levels: list[int], num_timesteps: int, schedule: str = "cosine",
                 keep: np.ndarray | None = None) -> None:
        super().__init__()
        self.n_levels = [int(k) for k in n_levels]
        if any(k < 1 for k in self.n_levels):
            raise ValueError(f"n_levels: every column needs at least one level, got {self.n_levels}")
        self.sched = DiscreteSchedule(num_timesteps, schedule, keep)
        offsets = [0]
        for k in self.n_levels:
            offsets.append(offsets[-1] + k)
        #: distinct numbers of levels, ascending; group g holds the columns with K = groups[g].
        self.groups = sorted(set(self.n_levels))
        for g, k in enumerate(self.groups):
            cols = [j for j, kj in enumerate(self.n_levels) if kj == k]
            # Column indices, and the (column, level) positions in the concatenated one-hot.
            self.register_buffer(f"cols_{g}", torch.tensor(cols, dtype=torch.long), persistent=False)
            self.register_buffer(f"flat_{g}", torch.tensor([[offsets[j] + i for i in range(k)] for j in cols],
                                                           dtype=torch.long).reshape(len(cols), k),
                                 persistent=False)
        self.register_buffer("offsets", torch.tensor(offsets[:-1], dtype=torch.long), persistent=False)

    @property
    def num_timesteps(self) -> int:
        return self.sched.num_timesteps

    @property
    def width(self) -> int:
        """Width of the concatenated one-hot (the network's input and output for this part)."""
        return sum(self.n_levels)

    def cols(self, g: int) -> torch.Tensor:
        return getattr(self, f"cols_{g}")

    # ------------------------------------------------------------------ layouts
    def split_logits(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """(b, Σ K) network output → one (b, n_g, K_g) logits tensor per group."""
        return [flat[:, getattr(self, f"flat_{g}")] for g in range(len(self.groups))]

    def flat_onehot(self, codes: torch.Tensor) -> torch.Tensor:
        """(b, columns) codes → the concatenated (b, Σ K) one-hot."""
        out = codes.new_zeros(len(codes), self.width, dtype=torch.float32)
        return out.scatter_(1, codes + self.offsets, 1.0)

    def onehot(self, codes: torch.Tensor, g: int) -> torch.Tensor:
        """Group ``g``'s columns of (b, columns) codes as a (b, n_g, K_g) one-hot."""
        return nn.functional.one_hot(codes[:, self.cols(g)], self.groups[g]).float()

    # ------------------------------------------------------------------ forward process
    def _mix(self, x: torch.Tensor, keep: torch.Tensor, k: int) -> torch.Tensor:
        """keep · x + (1 − keep) / K (``keep``: (b, 1))."""
        keep = keep[:, :, None]
        return keep * x + (1 - keep) / k

    def q_pred(self, x0: torch.Tensor, t: torch.Tensor, k: int) -> torch.Tensor:
        """q(x_t | x_0) for (b, n, K) ``x0``, which may be a distribution (q is linear in it)."""
        return self._mix(x0, self.sched.at("alphas_cumprod", t), k)

    def q_step(self, x_t: torch.Tensor, t: torch.Tensor, k: int) -> torch.Tensor:
        """q(x_t | x_{t−1}) as a function of x_{t−1}, given x_t (the transition is symmetric)."""
        return self._mix(x_t, self.sched.at("alphas", t), k)

    def q_posterior(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """q(x_{t−1} | x_t, x_0) ∝ q(x_t | x_{t−1}) q(x_{t−1} | x_0); at t = 0, x_{t−1} is x_0."""
        k = x0.shape[-1]
        prev = torch.where((t == 0)[:, None, None], x0, self.q_pred(x0, (t - 1).clamp_min(0), k))
        post = prev * self.q_step(x_t, t, k)
        return post / post.sum(-1, keepdim=True)

    @staticmethod
    def sample_codes(probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One draw per column, ∝ ``probs``: the arg-max of p / Exp(1) (the Gumbel-max trick)."""
        u = uniform(tuple(probs.shape), generator, probs.device)
        return (probs / -torch.log(u.clamp(TINY, 1 - 1e-7))).argmax(-1)

    def _assemble(self, like: torch.Tensor, parts: list[torch.Tensor]) -> torch.Tensor:
        out = torch.empty_like(like) if parts else like.clone()
        for g, part in enumerate(parts):
            out[:, self.cols(g)] = part.to(out.dtype)
        return out

    def q_sample(self, codes: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None = None
                 ) -> torch.Tensor:
        return self._assemble(codes, [
            self.sample_codes(self.q_pred(self.onehot(codes, g), t, k), generator)
            for g, k in enumerate(self.groups)])

    def q_step_sample(self, codes: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None = None
                      ) -> torch.Tensor:
        """x_t ~ q(x_t | x_{t−1}): one forward step from ``codes`` = x_{t−1}."""
        return self._assemble(codes, [
            self.sample_codes(self.q_step(self.onehot(codes, g), t, k), generator)
            for g, k in enumerate(self.groups)])

    def prior_sample(self, n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
        """x_T: every column uniform over its levels."""
        codes = torch.zeros(n, len(self.n_levels), dtype=torch.long, device=device)
        return self._assemble(codes, [
            self.sample_codes(torch.full((n, len(self.cols(g)), k), 1 / k, device=device), generator)
            for g, k in enumerate(self.groups)])

    # ------------------------------------------------------------------ model side
    def p_probs(self, logits: list[torch.Tensor], codes_t: torch.Tensor, t: torch.Tensor) -> list[torch.Tensor]:
        """p_θ(x_{t−1} | x_t) per group: the posterior at x̂_0 = softmax(logits)."""
        return [self.q_posterior(lg.softmax(-1), self.onehot(codes_t, g), t) for g, lg in enumerate(logits)]

    def p_sample(self, logits: list[torch.Tensor], codes_t: torch.Tensor, t: torch.Tensor,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        return self._assemble(codes_t, [self.sample_codes(p, generator) for p in self.p_probs(logits, codes_t, t)])

    @staticmethod
    def kl(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """KL(p ‖ q) per row and column."""
        return (p * (p.clamp_min(TINY).log() - q.clamp_min(TINY).log())).sum(-1)

    def prior_kl(self, x0: torch.Tensor) -> torch.Tensor:
        """KL(q(x_T | x_0) ‖ uniform) for one group's (b, n, K) one-hot ``x0``."""
        k = x0.shape[-1]
        last = torch.full((len(x0),), self.num_timesteps - 1, dtype=torch.long, device=x0.device)
        return self.kl(self.q_pred(x0, last, k), torch.full_like(x0, 1 / k))

    def loss(self, logits: list[torch.Tensor], codes0: torch.Tensor, codes_t: torch.Tensor, t: torch.Tensor
             ) -> torch.Tensor:
        """Per row and column (b, columns): the ELBO estimate of the module docstring."""
        parts = []
        for g, lg in enumerate(logits):
            x0, x_t = self.onehot(codes0, g), self.onehot(codes_t, g)
            model = self.q_posterior(lg.softmax(-1), x_t, t)
            true = self.q_posterior(x0, x_t, t)
            nll = -(model * x0).sum(-1).clamp_min(TINY).log()
            term = torch.where((t == 0)[:, None], nll, self.kl(true, model))
            parts.append(self.num_timesteps * term + self.prior_kl(x0))
        return self._assemble(codes0.float(), parts)
