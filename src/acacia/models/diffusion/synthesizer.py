"""The synthesizer of the TabDiff family (``tabdiff``, ``causal_diff_tab``): one continuous-time
diffusion over the whole row, numerical columns through an EDM Gaussian diffusion with a learnable
power-mean schedule per column, categorical ones (and an "is null" flag per nullable numeric
column) through a masking diffusion with a learnable log-linear schedule per column, one
transformer denoiser for both, TabDiff's stochastic sampler, and conditioning by imputation with
classifier-free guidance.

Details, deviations from the paper and settings: docs/models.md#tabdiff.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import torch

from acacia.models.base import Synthesizer
from acacia.models.diffusion import Known, MixedDiffusion, StochasticSampler
from acacia.models.diffusion.conditions import encode_conditions
from acacia.training.loop import TrainConfig, fit, resolve_device
from acacia.transforms.tensor import CodesCodec

#: the shared loop's settings unless ``training`` overrides them (docs/models.md#tabdiff).
DEFAULT_TRAINING: dict[str, Any] = {"max_epochs": 500, "patience": 50, "batch_size": 256,
                                    "lr": 1e-3, "weight_decay": 0.0, "ema_decay": 0.999}


def diffusion_loss(module: MixedDiffusion, batch: torch.Tensor) -> torch.Tensor:
    return module.loss(batch)


class MixedDiffusionSynthesizer(Synthesizer):
    """TabDiff's synthesizer: the codec, the mixed diffusion module, its training on the shared
    loop and its stochastic sampler with imputation-based conditioning. ``tabdiff`` is this with
    the paper's defaults; ``causal_diff_tab`` adds its causal prior in :meth:`_build_module`."""

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

    def check_params(self) -> None:
        self.train_config  # noqa: B018 (building it checks the training section)
        self.sampler  # noqa: B018

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig.from_params({"seed": self.seed, **DEFAULT_TRAINING, **(self.training or {})},
                                       key=f"train.models.{self.name}.training")

    @property
    def sampler(self) -> StochasticSampler:
        return StochasticSampler(
            num_timesteps=self.num_timesteps, churn=self.churn, second_order=self.second_order,
            guidance_num=self.guidance, guidance_cat=self.guidance, resample_rounds=self.resample_rounds,
            impute_condition=self.impute_condition, chunk_size=self.sample_batch_size,
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
