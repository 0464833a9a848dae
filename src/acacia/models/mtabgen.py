"""MTabGen (Villaizán-Vallelado, Salvatori, Carro, Sanchez-Esguevillas, "Diffusion models for
tabular data imputation and synthetic data generation", 2024, arXiv 2407.02549), on the shared
diffusion blocks of :mod:`acacia.models.diffusion`.

A TabDDPM-style mixed diffusion (a Gaussian process on the numerical scores, a discrete one on
the categories) whose denoiser is a transformer encoder-decoder
(:mod:`~acacia.models.diffusion.encoder_decoder`): the encoder embeds the observed (conditioning)
columns, the decoder denoises the other columns and attends to the encoder through
cross-attention ("conditioning attention"). Training uses dynamic masking
(:mod:`~acacia.models.diffusion.masked`): every row of every batch gets a random split into
observed and generated columns, the loss covers the generated ones only. One model therefore does
unconditional synthesis (nothing observed) and imputation / conditional generation:
``sample(n, conditions={...})`` feeds the conditions to the encoder — a native conditional
sampler, no rejection and no guidance — and the output satisfies them exactly.

Numerical columns (numbers, integers, dates, the flat consumption series) are quantile-normal
scores; categorical columns (categories, booleans, one "is null" flag per nullable number, so
missingness is generated jointly with the values) are integer codes
(:class:`~acacia.transforms.tensor.CodesCodec`). A flag shares its number's token, so
"observed" always covers a number and its flag; the attributes have one token per column, the
series one token per patch of ``series_patch`` consecutive periods.

Paper (as we read it): TabDDPM's processes — DDPM Gaussian diffusion on quantile-normalised
numbers and multinomial diffusion on one-hot categories, with TabDDPM's discrete time (T = 1,000
steps by default there) and ancestral sampling — under the encoder-decoder denoiser, with the
masked columns as queries and the condition as keys and values; the masking is redrawn during
training so that the model covers every level of missingness. Its network sizes and training
budgets are not reproduced here (see the defaults and the CPU budget below).

Defaults here: tokens of width 16, 2 encoder and 2 decoder layers with 2 heads and a feed-forward
width of 2 × 16, a 128-wide noise-level embedding; series patches of 8 periods; half of the
training rows unconditional, the others observing each token with a probability drawn uniformly
per row; 15 sampling steps with Heun's correction (29 network evaluations).

Deviations, each for a stated reason:
- diffusion processes: the continuous-time blocks TabDiff uses, with fixed schedules — EDM
  Gaussian noise (σ ∈ [0.002, 80], ρ = 7, EDM preconditioning and loss) for numbers and
  absorbing-state (masking) diffusion with the log-linear schedule for categories — instead of
  DDPM's discrete-time Gaussian and multinomial (uniform-noise) diffusion (TabDDPM's blocks,
  ``discrete.py`` / ``multinomial.py``, were written concurrently with this model): sampling
  cost is the reason — on the default flat table, 1,000 ancestral steps for 8,000 customers
  would cost about 34 times the 29 network evaluations of the EDM sampler, which took 69 s on
  one thread end to end (``benchmarks/mtabgen_cost.py`` and ``reports/mtabgen_cost.md`` give the
  cost per evaluation); masking diffusion also has a natural "unknown" state, which is what an
  unobserved category is;
- the flat series is cut into patches of 8 weeks, one token each (47 tokens instead of 184 on
  the default table): attention cost grows with the square of the token count, and one token per
  week costs about ten times more CPU per epoch (same benchmark). A patch is observed or
  generated as a whole, so conditions on single series columns need ``series_patch: 1`` (the
  paper's one token per column);
- network width: 16-wide tokens and 2 heads, for the same CPU reason;
- sampler: TabDiff's stochastic sampler (Heun correction, churn 1 for unconditional synthesis,
  15 steps instead of 1,000 ancestral ones); with a condition the churn is off, since churn
  re-noises every column, the observed ones that the encoder must read clean included;
- a learned "no condition" token is always in the encoder's output, so an unconditional row has
  a memory to attend to (otherwise an all-padded attention is undefined); when a whole batch has
  nothing observed the encoder runs on that token alone (unconditional sampling costs about the
  decoder alone);
- read-out: one linear head per column on its decoder token, no MLP over the flattened tokens,
  whose size would grow with the number of tokens times their width;
- dynamic-masking distribution: ``p_unconditional`` = 0.5 of the rows fully masked, because the
  benchmark's main use is unconditional synthesis; the rest with a uniform observation rate;
- training budget: early stopping on the shared loop's validation loss (generated columns only,
  fixed seed), batches of 256, AdamW at 1e−3 without weight decay, instead of a fixed number of
  steps: the project's protocol and CPU budget;
- the network input for numerical columns in null rows is 0 (the score of the median); the
  "is null" flag says the value is absent (as in :mod:`acacia.models.tabdiff`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from acacia.models.base import Synthesizer, register
from acacia.models.diffusion.conditions import encode_conditions
from acacia.models.diffusion.masked import MaskedConditionDiffusion
from acacia.models.diffusion.samplers import Known, StochasticSampler
from acacia.training.loop import TrainConfig, fit, resolve_device
from acacia.transforms.tensor import CodesCodec

#: the shared loop's settings unless ``training`` overrides them (see the deviations above).
DEFAULT_TRAINING: dict[str, Any] = {"max_epochs": 300, "patience": 20, "batch_size": 256,
                                    "lr": 1e-3, "weight_decay": 0.0}


def masked_loss(module: MaskedConditionDiffusion, batch: torch.Tensor) -> torch.Tensor:
    return module.loss(batch)


@register("mtabgen")
class MTabGen(Synthesizer):
    def __init__(
        self,
        seed: int = 0,
        series_representation: str | dict = "flat",
        d_token: int = 16,
        n_encoder_layers: int = 2,
        n_decoder_layers: int = 2,
        n_heads: int = 2,
        ffn_factor: int = 2,
        dim_t: int = 128,
        sigma_min: float = 0.002,
        sigma_max: float = 80.0,
        sigma_data: float = 1.0,
        eps_max: float = 1e-3,
        eps_min: float = 1e-5,
        p_unconditional: float = 0.5,
        series_patch: int = 8,
        num_timesteps: int = 15,
        churn: float = 1.0,
        second_order: bool = True,
        sample_batch_size: int = 4096,
        training: dict | None = None,
    ) -> None:
        super().__init__(seed=seed, series_representation=series_representation)
        if not 0 <= p_unconditional <= 1:
            raise ValueError(f"train.models.mtabgen.p_unconditional: expected a probability, got {p_unconditional}")
        if d_token % n_heads:
            raise ValueError(f"train.models.mtabgen: d_token ({d_token}) must be a multiple of n_heads ({n_heads})")
        self.d_token, self.n_encoder_layers, self.n_decoder_layers = d_token, n_encoder_layers, n_decoder_layers
        self.n_heads, self.ffn_factor, self.dim_t = n_heads, ffn_factor, dim_t
        self.sigma_min, self.sigma_max, self.sigma_data = sigma_min, sigma_max, sigma_data
        self.eps_max, self.eps_min = eps_max, eps_min
        if not isinstance(series_patch, int) or series_patch < 1:
            raise ValueError(f"train.models.mtabgen.series_patch: expected a positive integer, got {series_patch!r}")
        self.p_unconditional, self.series_patch = p_unconditional, series_patch
        self.num_timesteps, self.churn, self.second_order = num_timesteps, churn, second_order
        self.sample_batch_size = sample_batch_size
        self.training = training
        self.train_config = TrainConfig.from_params(
            {"seed": seed, **DEFAULT_TRAINING, **(training or {})}, key=f"train.models.{self.name}.training"
        )

    def _sampler(self, conditional: bool) -> StochasticSampler:
        # guidance 0: the condition reaches the network through its encoder, not through guidance;
        # "x_0": the pinned columns stay clean, as the encoder saw them in training.
        return StochasticSampler(num_timesteps=self.num_timesteps, churn=0.0 if conditional else self.churn,
                                 second_order=self.second_order, guidance_num=0.0, guidance_cat=0.0,
                                 resample_rounds=1, impute_condition="x_0", chunk_size=self.sample_batch_size)

    # ------------------------------------------------------------------ fitting
    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        self.codes_ = CodesCodec().fit(table, kinds)
        self.kinds_ = dict(kinds)
        num, codes = self.codes_.transform(table)
        data = torch.from_numpy(np.concatenate([num, codes.astype(np.float32)], axis=1))
        torch.manual_seed(self.seed)
        self.num_token_ = self._num_token()
        self.net_ = MaskedConditionDiffusion(
            len(self.codes_.numeric_), self.codes_.n_levels, self.codes_.attach, self.num_token_, d_token=self.d_token,
            n_encoder_layers=self.n_encoder_layers, n_decoder_layers=self.n_decoder_layers, n_heads=self.n_heads,
            ffn_factor=self.ffn_factor, dim_t=self.dim_t, sigma_min=self.sigma_min, sigma_max=self.sigma_max,
            sigma_data=self.sigma_data, eps_max=self.eps_max, eps_min=self.eps_min,
            p_unconditional=self.p_unconditional,
        )
        self.training_result_ = fit(self.net_, masked_loss, data, self.train_config, checkpoint_dir=self.checkpoint_dir)
        self.net_.cpu().eval()

    def _num_token(self) -> list[int]:
        """Token of each numerical column: its own, except the series columns, cut into patches
        of ``series_patch`` consecutive periods."""
        position = {c: i for i, c in enumerate(self.codec_.series_.columns)}
        ids: dict[tuple[str, Any], int] = {}
        return [ids.setdefault(("patch", position[c] // self.series_patch) if c in position else ("column", c),
                               len(ids)) for c in self.codes_.numeric_]

    # ------------------------------------------------------------------ sampling
    def _generate(self, n: int, rng: np.random.Generator, known: Known | None = None) -> pd.DataFrame:
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        device = resolve_device(self.train_config.device)
        self.net_.to(device)
        try:
            if known is None:
                num, codes = self._sampler(False).sample(self.net_, n, gen)
            else:
                row = slice(0, 1)
                with self.net_.conditioned_on(known.num[row], known.cat[row], known.num_mask[row],
                                              known.cat_mask[row]):
                    num, codes = self._sampler(True).sample(self.net_, n, gen, known)
        finally:
            self.net_.cpu()
        return self.codes_.inverse_transform(num.numpy(), codes.numpy())

    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        return self._generate(n, rng)

    def _sample_conditioned(self, n: int, conditions: dict[str, Any], rng: np.random.Generator
                            ) -> pd.DataFrame:
        if not conditions:
            return self._sample_table(n, rng)
        patched = [c for c in conditions if c in self.codec_.series_.columns and self.series_patch > 1]
        if patched:
            # A patch is one token: observing part of it would leave the rest undefined.
            raise ValueError(f"sample: condition on series column(s) {patched} needs series_patch: 1 "
                             f"(train.models.mtabgen.series_patch is {self.series_patch})")
        known, values = encode_conditions(self.codes_, self.kinds_, n, conditions)
        table = self._generate(n, rng, known if n else None)
        # Codes are pinned exactly; numbers go through the quantile inverse, exact only up to
        # float rounding, so the requested values are written back as given.
        for col, v in values.items():
            table[col] = pd.Series([v] * n, index=table.index, dtype=table[col].dtype)
        return table
