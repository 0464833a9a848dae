"""Gaussian diffusion on the numerical columns and multinomial diffusion on the categorical ones,
one denoiser for both, on one discrete schedule: TabDDPM's model (Kotelnikov et al. 2023, §3),
trained by the shared loop through :meth:`GaussianMultinomialDiffusion.loss`.

A batch is one float tensor: the numerical (quantile-normal) scores, then the categorical codes
as floats, the layout of :class:`~acacia.transforms.tensor.CodesCodec`. The denoiser is any
module ``(x, t) → out`` whose input and output are the numbers followed by the concatenated
one-hot of the categories (:class:`~acacia.models.diffusion.mlp.MLPDenoiser` in TabDDPM); it
predicts the Gaussian noise and the logits of x_0.

Loss per row: the mean over numerical columns of ‖ε − ε̂‖² plus the mean over categorical
columns of their multinomial ELBO terms (TabDDPM's L_simple + Σ_i L_i / C), both at one t drawn
uniformly from 0 … T−1.

Sampling is ancestral, t = T−1 … 0, or through fewer, evenly spaced steps (``steps``: the
respaced chain of Nichol & Dhariwal 2021, see :mod:`~acacia.models.diffusion.discrete`);
``clip_denoised`` bounds the predicted clean numbers (to
the range of the normal scores, say), which keeps an imperfect noise prediction near t = T from
blowing up the chain. Imputation (conditional generation) replaces the known columns at every
step (the "replacement" method of Song et al. 2021): numbers by a forward-process draw of their
value at the current step, categories by their value itself (under multinomial noise x_t = x_0
is the most likely draw at every step, so it carries the condition all along instead of with
probability ᾱ_t), and the exact values at the end; ``resample_rounds`` > 1 adds RePaint's
rounds (Lugmayr et al. 2022): one forward step back to t, and denoise again.
"""

from __future__ import annotations

import torch
from torch import nn

from acacia.models.diffusion.discrete import GaussianDiffusion, spaced_steps
from acacia.models.diffusion.multinomial import MultinomialDiffusion
from acacia.models.diffusion.samplers import Known
from acacia.models.diffusion.schedules import normal


class GaussianMultinomialDiffusion(nn.Module):
    def __init__(self, n_num: int, n_levels: list[int], denoiser: nn.Module, num_timesteps: int = 1000,
                 schedule: str = "cosine", clip_denoised: float | None = None) -> None:
        super().__init__()
        self.n_num, self.n_cat = int(n_num), len(n_levels)
        self.clip_denoised = clip_denoised
        self.gaussian = GaussianDiffusion(num_timesteps, schedule)
        self.multinomial = MultinomialDiffusion(list(n_levels), num_timesteps, schedule)
        self.denoiser = denoiser

    @property
    def num_timesteps(self) -> int:
        return self.gaussian.num_timesteps

    @property
    def d_in(self) -> int:
        """Width of the denoiser's input and output."""
        return self.n_num + (self.multinomial.width if self.n_cat else 0)

    def split(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return batch[:, : self.n_num], batch[:, self.n_num :].round().long()

    def predict(self, x_num_t: torch.Tensor, codes_t: torch.Tensor, t: torch.Tensor
                ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(ε̂ (b, n_num), logits of x_0 per group of categorical columns) at step ``t``."""
        parts = [x_num_t]
        if self.n_cat:
            parts.append(self.multinomial.flat_onehot(codes_t))
        out = self.denoiser(torch.cat(parts, 1), t)
        eps_hat = out[:, : self.n_num]
        return eps_hat, self.multinomial.split_logits(out[:, self.n_num :])

    # ------------------------------------------------------------------ training
    def terms(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per row: (Gaussian loss, mean multinomial loss); zeros for an absent part."""
        x_num, codes = self.split(batch)
        b = len(batch)
        t = torch.randint(0, self.num_timesteps, (b,), device=batch.device)
        noise = torch.randn_like(x_num)
        x_num_t = self.gaussian.q_sample(x_num, t, noise)
        codes_t = self.multinomial.q_sample(codes, t) if self.n_cat else codes
        eps_hat, logits = self.predict(x_num_t, codes_t, t)
        zero = batch.new_zeros(b)
        gauss = self.gaussian.loss(eps_hat, noise) if self.n_num else zero
        multi = self.multinomial.loss(logits, codes, codes_t, t).mean(1) if self.n_cat else zero
        return gauss, multi

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        gauss, multi = self.terms(batch)
        return (gauss + multi).mean()

    # ------------------------------------------------------------------ sampling
    def chain(self, steps: int | None = None) -> tuple[GaussianDiffusion, MultinomialDiffusion, torch.Tensor]:
        """The reverse chain's two diffusions and the network's step at each of their steps: the
        trained T-step chain, or with ``steps`` < T the respaced one through ``steps`` evenly
        spaced steps (:mod:`~acacia.models.diffusion.discrete`)."""
        T = self.num_timesteps
        if steps is None or steps == T:
            return self.gaussian, self.multinomial, torch.arange(T)
        keep = spaced_steps(T, int(steps))
        schedule = self.gaussian.sched.schedule
        return (GaussianDiffusion(T, schedule, keep), MultinomialDiffusion(self.multinomial.n_levels, T, schedule, keep),
                torch.as_tensor(keep))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, known: Known | None = None,
               chunk_size: int = 4096, resample_rounds: int = 1, steps: int | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` rows: (numerical scores (n, n_num), codes (n, n_cat)), on the CPU. Every draw
        comes from ``generator`` in a fixed order, so a seed gives the same rows on any device.
        ``steps``: reverse steps (None = all T; fewer = the respaced chain of :meth:`chain`)."""
        self.eval()
        device = next(self.parameters()).device
        gaussian, multinomial, net_steps = self.chain(steps)
        chain = (gaussian.to(device), multinomial.to(device), net_steps.to(device))
        nums, cats = [], []
        for start in range(0, n, chunk_size):
            sl = slice(start, min(n, start + chunk_size))
            k = known.rows(sl, device) if known is not None else None
            num, cat = self._chunk(sl.stop - sl.start, generator, k, device, resample_rounds, chain)
            nums.append(num.cpu())
            cats.append(cat.cpu())
        if not nums:
            return torch.zeros(0, self.n_num), torch.zeros(0, self.n_cat, dtype=torch.long)
        return torch.cat(nums), torch.cat(cats)

    def _chunk(self, b: int, gen: torch.Generator, known: Known | None, device: torch.device,
               resample_rounds: int, chain: tuple[GaussianDiffusion, MultinomialDiffusion, torch.Tensor]
               ) -> tuple[torch.Tensor, torch.Tensor]:
        gaussian, multinomial, net_steps = chain
        x = normal((b, self.n_num), gen, device)
        codes = (multinomial.prior_sample(b, gen, device) if self.n_cat
                 else torch.zeros(b, 0, dtype=torch.long, device=device))
        last = gaussian.num_timesteps - 1
        if known is not None:
            x, codes = self._pin(x, codes, known, last, gen, gaussian)
        rounds = resample_rounds if known is not None else 1
        for step in range(last, -1, -1):
            t = torch.full((b,), step, dtype=torch.long, device=device)
            t_net = net_steps[t]  # the trained chain's step, which the network was told in training
            for r in range(rounds):
                eps_hat, logits = self.predict(x, codes, t_net)
                x = gaussian.p_sample(x, t, eps_hat, normal(tuple(x.shape), gen, device), self.clip_denoised)
                if self.n_cat:
                    codes = multinomial.p_sample(logits, codes, t, gen)
                if known is not None:
                    x, codes = self._pin(x, codes, known, step - 1, gen, gaussian)
                if r < rounds - 1:  # one forward step back to t, then denoise again (RePaint)
                    x = gaussian.q_step(x, t, normal(tuple(x.shape), gen, device))
                    if self.n_cat:
                        codes = multinomial.q_step_sample(codes, t, gen)
        return x, codes

    @staticmethod
    def _pin(x: torch.Tensor, codes: torch.Tensor, known: Known, step: int, gen: torch.Generator,
             gaussian: GaussianDiffusion) -> tuple[torch.Tensor, torch.Tensor]:
        """Known columns as the forward process has them at ``step`` of ``gaussian``'s chain
        (exact when step < 0)."""
        if step < 0:
            k_num, k_cat = known.num, known.cat
        else:
            t = torch.full((len(x),), step, dtype=torch.long, device=x.device)
            k_num = gaussian.q_sample(known.num, t, normal(tuple(x.shape), gen, x.device))
            k_cat = known.cat
        return torch.where(known.num_mask, k_num, x), torch.where(known.cat_mask, k_cat, codes)
