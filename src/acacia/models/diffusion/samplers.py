"""TabDiff's stochastic sampler (Shi et al., ICLR 2025, Alg. 2) and its imputation variant.

Each of the ``num_timesteps`` steps, from t = 1 down to 0:
1. churn: move slightly *back* in time, to t̂ ≥ t — numerical columns get fresh noise up to
   σ̂ = (1 + γ) σ with γ = min(S_churn / T, √2 − 1), categorical tokens are re-masked with the
   extra masking probability between t and t̂ — which corrects errors of earlier steps;
2. denoise at t̂; numerical columns take an Euler step to σ(t_next), refined by Heun's second-order
   correction; masked tokens are unmasked with probability (α_next − α_t̂)/(1 − α_t̂) each,
   the class drawn from the model's p(x₀ | x_t̂), the rest stay masked.

Imputation (conditional generation) pins known columns: at every step they are replaced by the
real values noised to the current level (``impute_condition="x_t"``, the paper's default) or by
the clean values (``"x_0"``). Classifier-free guidance then extrapolates the prediction of the
unknown columns away from the unconditional one: (1 + w) D(x | known) − w D(x), where the
unconditional prediction is the same network with the known columns fully noised ([MASK] for
categories, σ_max noise for numbers).

Every random draw comes from one CPU ``torch.Generator``, in a fixed order, chunk after chunk
(``chunk_size`` rows at a time bound the memory): a seed and a chunk size give the same table on
every run and device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from acacia.models.diffusion.model import MixedDiffusion
from acacia.models.diffusion.schedules import mask_tokens, normal, uniform


@dataclass
class Known:
    """Values pinned by a condition: per row and column, with masks saying which are known."""

    num: torch.Tensor  # (n, n_num) normal scores (anything where not known)
    num_mask: torch.Tensor  # (n, n_num) bool
    cat: torch.Tensor  # (n, n_cat) codes
    cat_mask: torch.Tensor  # (n, n_cat) bool

    def rows(self, sl: slice, device: torch.device) -> Known:
        return Known(*(x[sl].to(device) for x in (self.num, self.num_mask, self.cat, self.cat_mask)))


@dataclass
class StochasticSampler:
    num_timesteps: int = 50
    churn: float = 1.0
    second_order: bool = True
    guidance_num: float = 0.6
    guidance_cat: float = 0.6
    resample_rounds: int = 1
    impute_condition: str = "x_t"
    chunk_size: int = 4096

    @torch.no_grad()
    def sample(self, model: MixedDiffusion, n: int, generator: torch.Generator,
               known: Known | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` rows: (numerical scores (n, n_num), codes (n, n_cat)), on the CPU."""
        if self.impute_condition not in ("x_t", "x_0"):
            raise ValueError(f"impute_condition: expected 'x_t' or 'x_0', got {self.impute_condition!r}")
        model.eval()
        device = next(model.parameters()).device
        grid = self._grid(model, device)
        nums, cats = [], []
        for start in range(0, n, self.chunk_size):
            sl = slice(start, min(n, start + self.chunk_size))
            k = known.rows(sl, device) if known is not None else None
            num, cat = self._chunk(model, sl.stop - sl.start, grid, generator, k, device)
            nums.append(num.cpu())
            cats.append(cat.cpu())
        if not nums:
            return torch.zeros(0, model.n_num), torch.zeros(0, model.n_cat, dtype=torch.long)
        return torch.cat(nums), torch.cat(cats)

    # ------------------------------------------------------------------ time grid
    def _grid(self, model: MixedDiffusion, device: torch.device) -> dict[str, torch.Tensor]:
        """Per step i (t_i = i / (T − 1)): σ now, σ next (0 after the last step), and the churned
        t̂, σ̂ for both parts."""
        t = torch.linspace(0, 1, self.num_timesteps, device=device)[:, None]
        s_num, s_cat = model.num_schedule.sigma(t), model.cat_schedule.sigma(t)
        gamma = min(self.churn / self.num_timesteps, math.sqrt(2) - 1) if self.churn > 0 else 0.0
        s_num_hat, t_hat = s_num * (1 + gamma), t.clone()
        if gamma > 0 and model.n_num:
            # One t̂ for all columns: the smallest, so no column is pushed past its own σ̂.
            t_hat = model.num_schedule.inverse(s_num_hat).min(-1, keepdim=True).values
            beyond = (t_hat > 1).squeeze(-1)
            s_num_hat[beyond], t_hat[beyond] = s_num[beyond], t[beyond]
        shift = lambda x: torch.cat([torch.zeros_like(x[:1]), x[:-1]])  # noqa: E731
        return {"t": t, "t_next": shift(t), "t_hat": t_hat, "s_num": s_num, "s_num_next": shift(s_num),
                "s_num_hat": s_num_hat, "s_cat": s_cat, "s_cat_next": shift(s_cat),
                "s_cat_hat": model.cat_schedule.sigma(t_hat)}

    # ------------------------------------------------------------------ one chunk
    def _chunk(self, model: MixedDiffusion, b: int, g: dict[str, torch.Tensor],
               gen: torch.Generator, known: Known | None, device: torch.device
               ) -> tuple[torch.Tensor, torch.Tensor]:
        x = normal((b, model.n_num), gen, device) * g["s_num"][-1]
        cat = torch.full((b, model.n_cat), model.mask_index, dtype=torch.long, device=device)
        if known is not None and self.impute_condition == "x_0":
            x = torch.where(known.num_mask, known.num, x)
            cat = torch.where(known.cat_mask, known.cat, cat)
        last = self.num_timesteps - 1
        for i in range(last, -1, -1):
            for r in range(self.resample_rounds if known is not None else 1):
                x_new, cat_new = self._step(model, x, cat, i, g, gen, known)
                if known is None:
                    x, cat = x_new, cat_new
                    continue
                k_num, k_cat = known.num, known.cat
                if self.impute_condition == "x_t":
                    k_num = k_num + normal(tuple(x.shape), gen, device) * g["s_num_next"][i]
                    # The first step reveals nothing of the known tokens: all are masked at t = 1.
                    move = torch.ones_like(g["s_cat_next"][i]) if i == last else -torch.expm1(-g["s_cat_next"][i])
                    k_cat = mask_tokens(k_cat, move, model.mask_index, gen)
                x = torch.where(known.num_mask, k_num, x_new)
                cat = torch.where(known.cat_mask, k_cat, cat_new)
                if r < self.resample_rounds - 1:  # back to t_i for another round (RePaint)
                    extra = (g["s_num"][i] ** 2 - g["s_num_next"][i] ** 2).clamp_min(0).sqrt()
                    x = x + normal(tuple(x.shape), gen, device) * extra
                    cat = mask_tokens(cat, -torch.expm1(g["s_cat_next"][i] - g["s_cat"][i]), model.mask_index, gen)
        return x, cat

    def _step(self, model: MixedDiffusion, x: torch.Tensor, cat: torch.Tensor, i: int,
              g: dict[str, torch.Tensor], gen: torch.Generator, known: Known | None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        device = x.device
        s, s_hat, s_next = g["s_num"][i], g["s_num_hat"][i], g["s_num_next"][i]
        t_hat = g["t_hat"][i]
        # 1. churn
        x_hat = x + (s_hat**2 - s**2).clamp_min(0).sqrt() * normal(tuple(x.shape), gen, device)
        cat_hat = mask_tokens(cat, -torch.expm1(g["s_cat"][i] - g["s_cat_hat"][i]), model.mask_index, gen)
        # 2. denoise, Euler step for numbers
        denoised, logits = self._denoise(model, x_hat, cat_hat, t_hat, s_hat, gen, known)
        d = (x_hat - denoised) / s_hat
        x_next = x_hat + (s_next - s_hat) * d
        # 3. unmask
        alpha_hat, alpha_next = torch.exp(-g["s_cat_hat"][i]), torch.exp(-g["s_cat_next"][i])
        q = model.log_probs(logits, cat_hat).exp() * (alpha_next - alpha_hat)[:, None]
        q[..., model.mask_index] = 1 - alpha_next
        draw = self._categorical(q, gen)
        cat_next = torch.where(cat_hat == model.mask_index, draw, cat_hat)
        # 4. Heun correction (not on the last step, where σ_next = 0)
        if self.second_order and i > 0:
            denoised2, _ = self._denoise(model, x_next, cat_hat, g["t_next"][i], s_next, gen, known)
            d2 = (x_next - denoised2) / s_next
            x_next = x_hat + (s_next - s_hat) * (0.5 * d + 0.5 * d2)
        return x_next, cat_next

    def _denoise(self, model: MixedDiffusion, x: torch.Tensor, cat: torch.Tensor, t: torch.Tensor,
                 sigma: torch.Tensor, gen: torch.Generator, known: Known | None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        b = len(x)
        t_b, s_b = t.expand(b, 1), sigma.expand(b, model.n_num)
        denoised, logits = model.denoise(x, cat, t_b, s_b)
        if known is None or (self.guidance_num == 0 and self.guidance_cat == 0):
            return denoised, logits
        s_max = model.num_schedule.sigma_max
        x_u = torch.where(known.num_mask, normal(tuple(x.shape), gen, x.device) * s_max, x)
        s_u = torch.where(known.num_mask, torch.full_like(s_b, s_max), s_b)
        cat_u = torch.where(known.cat_mask, torch.full_like(cat, model.mask_index), cat)
        den_u, log_u = model.denoise(x_u, cat_u, t_b, s_u)
        wn, wc = self.guidance_num, self.guidance_cat
        denoised = torch.where(known.num_mask, denoised, (1 + wn) * denoised - wn * den_u)
        logits = torch.where(known.cat_mask[..., None], logits, (1 + wc) * logits - wc * log_u)
        return denoised, logits

    @staticmethod
    def _categorical(probs: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """A draw ∝ ``probs`` (unnormalised) per row: the arg-max of p / Exp(1) (Gumbel-max)."""
        u = uniform(tuple(probs.shape), gen, probs.device)
        return (probs / (1e-10 - (u + 1e-10).log())).argmax(-1)
