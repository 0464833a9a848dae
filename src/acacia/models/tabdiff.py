"""TabDiff (Shi et al., "TabDiff: a Mixed-type Diffusion Model for Tabular Data Generation",
ICLR 2025, arXiv 2410.20626), on the shared diffusion blocks of :mod:`acacia.models.diffusion`.

One continuous-time diffusion over the whole row: numerical columns (numbers, integers, dates,
the flat consumption series — all as quantile-normal scores) follow an EDM Gaussian diffusion with
a learnable power-mean schedule per column; categorical columns (categories, booleans, and one
"is null" flag per nullable numeric column, so missingness is generated jointly with the values)
follow a masking diffusion with a learnable log-linear schedule per column. One transformer
denoiser predicts both; the joint loss is the EDM loss plus the masked-diffusion ELBO
(:mod:`~acacia.models.diffusion.losses`); sampling is TabDiff's stochastic sampler with churn and
re-masking (:mod:`~acacia.models.diffusion.samplers`).

Conditional generation (``sample(n, conditions={...})``) is TabDiff's imputation with
classifier-free guidance: the condition columns are pinned during the reverse process, the other
columns generated around them; the output satisfies the condition exactly.

Defaults are the paper's (its released configuration): tokens of width 4, 2 transformer layers,
1 head, feed-forward factor 32, MLP width 1024; σ ∈ [0.002, 80], σ_data = 1, ρ = softplus(7) + 5
and k = softplus(−6) + 1 at initialisation; ε_max = 1e−3, ε_min = 1e−5; 50 sampling steps with
S_churn = 1 and Heun's correction; λ_cat = λ_num = 1 with λ_num annealed to 0; lr 1e−3, no weight
decay; guidance w = 0.6 for both parts, one resampling round, x_t conditioning.

Deviations, each for a stated reason:
- training budget: ``max_epochs`` 500 with early stopping (patience 50) on the shared loop's
  validation loss (the unweighted sum of both parts, at a fixed seed), batches of 256, instead of
  8,000 epochs of batches of 2,048 keeping the best training loss: CPU budgets, and this
  project's early-stopping protocol;
- the moving average of the weights (``training.ema_decay``) is updated after every optimiser
  step with decay 0.999 (a horizon of about 1,000 steps), and early stopping watches the
  averaged weights; the paper's EMA (decay 0.997) was sized for its 8,000 epochs. The average is
  not optional polish: without it, at a constant learning rate of 10⁻³, the weights of the best
  epoch carried Adam's step-to-step jitter into the output. On the default portfolio (8,000 customers, 97 epochs) the denoiser's
  prediction at t = 1, which should be the data mean, was off by up to 0.19 standard deviations
  (kWh level, surface, subscribed power) and P(electric heating) by +5 points, and the samples
  followed: 47 % electric heating against 38 %, column Shape 0.936 against the copula's 0.978.
  Eight more epochs at a learning rate of 10⁻⁴ removed the offset (Shape of the model's table
  0.959 → 0.976), which is what an average of the weights does without a second phase;
- reduce-on-plateau learning rate: the released code multiplies it by 0.9 when the training loss
  has not improved for 100 of its 8,000 epochs; the shared loop (``training.lr_decay_factor`` /
  ``lr_decay_patience``, off by default) watches the validation loss of the averaged weights, and
  params.yaml divides the rate by 10 after 290 optimiser steps without a gain, with an
  early-stopping patience of 870 steps (10 and 30 epochs of the default portfolio's 29 steps),
  longer than the average's horizon of about 1,000 steps, so that a lower rate gets the time to
  show in the averaged weights (patience counted in epochs would be 12 times as many steps at
  100,000 customers: ``reports/train_scale.md``). Measured on the default portfolio in an earlier
  pass: with patience 15 epochs and a constant rate the run stopped at epoch 100 (best 85,
  validation loss 1.5043); from those weights, 20 more epochs at 10⁻⁴ lowered it to 1.5007 and
  brought the denoiser's t = 1 prediction of the climate zone to within 0.5 points of its
  frequency (2.2 before), Shape / Trend of the samples 0.9743 / 0.9626 → 0.9754 / 0.9659. The
  pipeline's run steps the rate down after each plateau and stops before ``max_epochs``: its
  best and stopping epochs and seconds are in ``reports/train/tabdiff.json``, the rate and
  validation loss per epoch in ``reports/train/tabdiff_curve.csv``;
- the λ_num annealing runs over ``max_epochs`` (the paper: over its 8,000 epochs);
- classifier-free guidance takes its unconditional prediction from the same network with the
  condition columns fully noised ([MASK] / σ_max), instead of a separately trained model of the
  target column alone: here the condition is any column and the rest of the row is generated,
  and masked diffusion already models "condition unknown" exactly;
- the network input for numerical columns in null rows is 0 (the score of the median), or a
  standard-normal draw with ``dequantize``; the "is null" flag says the value is absent. The
  paper's datasets had no numerical nulls;
- sampling the t of a training row is clamped at 10⁻⁶ (0 gives a NaN gradient for k);
- ``dequantize`` (off by default, as in the paper; on in params.yaml): no point masses in the
  numerical scores. A value repeated in the data (0 payment incidents, a read window starting on
  the first week, a 6 kVA contract) is encoded at a uniform draw inside its band of the CDF
  instead of at the band's middle, and a null row's placeholder score is a standard-normal draw
  instead of 0 (the "is null" flag carries the absence either way). With mid-rank scores the
  atoms of the default portfolio came back too often: 91 % of customers without payment
  incidents against 85 %, 75 % with a complete series against 65 % (column shapes 0.943 and 0.902;
  the copula 0.997 and 0.993). A Gaussian diffusion models a point mass worst: the continuous mass
  next to an atom's band leaks into it, while the atom's own score sits at the band's middle.
  Spreading the ties lifted those two columns to 0.98 or more.

params.yaml's run departs further from these defaults, for CPU time (the numbers: its comments
and ``reports/paper_comparison.md``, ``reports/diffusion_sampling.md``):
- ``dim_t`` 512 (paper 1,024): on Adult, 120 epochs at 1,024 took 3,415 s for Shape / Trend
  error 1.03 / 3.04 %, params.yaml's network 1,271 s (130 epochs) for 1.08 / 3.04 %;
- ``num_timesteps`` 20 (paper 50), in chunks of ``sample_batch_size`` 1,024 rows: 100,000
  customers with weekly series in 6.8 minutes on 2 cores (245 customers/s);
- ``series_representation: compressed``: each weekly series as 13 columns (its level, 8
  principal-component scores, a noise scale and its read window) instead of one column per week
  (``acacia.transforms.series``);
- ``closs_schedule: fixed``: λ_num stays 1 instead of falling linearly to 0 over the run. The
  paper's annealing spreads over 8,000 epochs; squeezed into 200, λ_num is down to half by epoch
  100 and to 0.07 at a best epoch near 190, so the numerical columns stop being fitted while the
  run still has most of its gains ahead. Refitted over training seeds 0 / 1 / 2 on the default
  portfolio (``benchmarks/seed_spread.py --param closs_schedule=fixed``), paired with the
  annealed runs of the same seeds: Shape 0.9829 / 0.9841 / 0.9804 against 0.9829 / 0.9836 /
  0.9798, Trend 0.9739 / 0.9754 / 0.9709 against 0.9734 / 0.9731 / 0.9685, logistic detection
  0.987 / 0.984 / 0.966 against 0.982 / 0.970 / 0.911, LightGBM detection 0.291 / 0.347 /
  0.255 against 0.241 / 0.256 / 0.213 (``reports/seed_spread.md``); DCR share 0.513 against
  0.506 on average;
- 200 epochs at most, with patience counted in optimiser steps (above).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import torch

from acacia.models.base import Synthesizer, register
from acacia.models.diffusion import Known, MixedDiffusion, StochasticSampler
from acacia.models.diffusion.conditions import encode_conditions
from acacia.training.loop import TrainConfig, fit, resolve_device
from acacia.transforms.tensor import CodesCodec

#: the shared loop's settings unless ``training`` overrides them (see the deviations above).
DEFAULT_TRAINING: dict[str, Any] = {"max_epochs": 500, "patience": 50, "batch_size": 256,
                                    "lr": 1e-3, "weight_decay": 0.0, "ema_decay": 0.999}


def diffusion_loss(module: MixedDiffusion, batch: torch.Tensor) -> torch.Tensor:
    return module.loss(batch)


@register("tabdiff")
class TabDiff(Synthesizer):
    def __init__(
        self,
        seed: int = 0,
        series_representation: str | dict = "flat",
        d_token: int = 4,
        n_layers: int = 2,
        n_heads: int = 1,
        ffn_factor: int = 32,
        dim_t: int = 1024,
        sigma_min: float = 0.002,
        sigma_max: float = 80.0,
        sigma_data: float = 1.0,
        rho_init: float = 7.0,
        rho_offset: float = 5.0,
        k_init: float = -6.0,
        k_offset: float = 1.0,
        eps_max: float = 1e-3,
        eps_min: float = 1e-5,
        learnable_schedule: bool = True,
        c_lambda: float = 1.0,
        d_lambda: float = 1.0,
        closs_schedule: str = "anneal",
        num_timesteps: int = 50,
        churn: float = 1.0,
        second_order: bool = True,
        guidance: float = 0.6,
        resample_rounds: int = 1,
        impute_condition: str = "x_t",
        sample_batch_size: int = 4096,
        dequantize: bool = False,
        training: dict | None = None,
    ) -> None:
        super().__init__(seed=seed, series_representation=series_representation)
        self.d_token, self.n_layers, self.n_heads = d_token, n_layers, n_heads
        self.ffn_factor, self.dim_t = ffn_factor, dim_t
        self.sigma_min, self.sigma_max, self.sigma_data = sigma_min, sigma_max, sigma_data
        self.rho_init, self.rho_offset, self.k_init, self.k_offset = rho_init, rho_offset, k_init, k_offset
        self.eps_max, self.eps_min = eps_max, eps_min
        self.learnable_schedule = learnable_schedule
        self.c_lambda, self.d_lambda, self.closs_schedule = c_lambda, d_lambda, closs_schedule
        self.num_timesteps, self.churn, self.second_order = num_timesteps, churn, second_order
        self.guidance, self.resample_rounds = guidance, resample_rounds
        self.impute_condition, self.sample_batch_size = impute_condition, sample_batch_size
        self.dequantize = dequantize
        self.training = training
        self.train_config = TrainConfig.from_params(
            {"seed": seed, **DEFAULT_TRAINING, **(training or {})}, key=f"train.models.{self.name}.training"
        )
        self.sampler = StochasticSampler(
            num_timesteps=num_timesteps, churn=churn, second_order=second_order, guidance_num=guidance,
            guidance_cat=guidance, resample_rounds=resample_rounds, impute_condition=impute_condition,
            chunk_size=sample_batch_size,
        )

    # ------------------------------------------------------------------ fitting
    def _network_params(self) -> dict[str, Any]:
        return {
            "d_token": self.d_token, "n_layers": self.n_layers, "n_heads": self.n_heads,
            "ffn_factor": self.ffn_factor, "dim_t": self.dim_t, "sigma_min": self.sigma_min,
            "sigma_max": self.sigma_max, "rho_init": self.rho_init, "rho_offset": self.rho_offset,
            "k_init": self.k_init, "k_offset": self.k_offset, "eps_max": self.eps_max,
            "eps_min": self.eps_min, "sigma_data": self.sigma_data,
            "learnable_schedule": self.learnable_schedule, "c_lambda": self.c_lambda,
            "d_lambda": self.d_lambda, "closs_schedule": self.closs_schedule,
        }

    def _build_module(self, data: torch.Tensor) -> MixedDiffusion:
        """The module to train; CausalDiffTab adds its causal prior here."""
        return MixedDiffusion(len(self.codes_.numeric_), self.codes_.n_levels, self.codes_.attach,
                              **self._network_params())

    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        self.codes_ = CodesCodec().fit(table, kinds)
        self.kinds_ = dict(kinds)
        num, codes = self.codes_.transform(table, rng=rng if self.dequantize else None)
        data = torch.from_numpy(np.concatenate([num, codes.astype(np.float32)], axis=1))
        torch.manual_seed(self.seed)
        self.net_ = self._build_module(data)
        cfg = self.train_config
        n_val = max(1, int(round(cfg.val_fraction * len(data)))) if len(data) > 1 else 0
        self.net_.set_budget(math.ceil((len(data) - n_val) / cfg.batch_size), cfg.max_epochs)
        self.training_result_ = fit(self.net_, diffusion_loss, data, cfg, checkpoint_dir=self.checkpoint_dir)
        self.net_.cpu().eval()

    # ------------------------------------------------------------------ sampling
    def _generate(self, n: int, rng: np.random.Generator, known: Known | None = None) -> pd.DataFrame:
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        device = resolve_device(self.train_config.device)
        self.net_.to(device)
        try:
            num, codes = self.sampler.sample(self.net_, n, gen, known)
        finally:
            self.net_.cpu()
        return self.codes_.inverse_transform(num.numpy(), codes.numpy())

    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        return self._generate(n, rng)

    def _sample_conditioned(self, n: int, conditions: dict[str, Any], rng: np.random.Generator
                            ) -> pd.DataFrame:
        if not conditions:
            return self._sample_table(n, rng)
        known, values = encode_conditions(self.codes_, self.kinds_, n, conditions)
        table = self._generate(n, rng, known)
        # The sampler pins the codes exactly; numbers go through the quantile inverse, which is
        # exact only up to float rounding, so the requested values are written back as given.
        for col, v in values.items():
            table[col] = pd.Series([v] * n, index=table.index, dtype=table[col].dtype)
        return table
