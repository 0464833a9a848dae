"""TabDDPM (Kotelnikov et al., "TabDDPM: Modelling Tabular Data with Diffusion Models", ICML 2023,
arXiv 2209.15421): discrete-time Gaussian diffusion on the numerical scores and multinomial
diffusion on the categories, one MLP denoiser for both; conditions by rejection or by RePaint
imputation (``conditioning``).

Details, deviations from the paper and settings: docs/models.md#tabddpm.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from acacia.errors import ParamsError
from acacia.models.base import Synthesizer, register
from acacia.models.diffusion.conditions import encode_conditions
from acacia.models.diffusion.gaussian_multinomial import GaussianMultinomialDiffusion
from acacia.models.diffusion.mlp import MLPDenoiser
from acacia.models.diffusion.samplers import Known
from acacia.training.loop import TrainConfig, fit, resolve_device
from acacia.transforms.tensor import CodesCodec

#: the shared loop's settings unless ``training`` overrides them (docs/models.md#tabddpm).
DEFAULT_TRAINING: dict[str, Any] = {"max_epochs": 300, "patience": 30, "batch_size": 1024,
                                    "lr": 0.002, "weight_decay": 0.0, "ema_decay": 0.999}


def diffusion_loss(module: GaussianMultinomialDiffusion, batch: torch.Tensor) -> torch.Tensor:
    return module.loss(batch)


@register("tabddpm")
class TabDDPM(Synthesizer):
    def __init__(
        self,
        seed: int = 0,
        series_representation: str | dict = "flat",
        num_timesteps: int = 100,
        schedule: str = "cosine",
        d_layers: tuple[int, ...] | list[int] = (256, 1024, 1024, 1024, 1024, 256),
        dim_t: int = 128,
        dropout: float = 0.0,
        clip_denoised: bool = True,
        conditioning: str = "auto",
        resample_rounds: int = 3,
        sample_batch_size: int = 4096,
        sample_steps: int | None = None,
        training: dict | None = None,
    ) -> None:
        super().__init__(seed=seed, series_representation=series_representation)
        self.num_timesteps, self.schedule, self.d_layers, self.dim_t = num_timesteps, schedule, d_layers, dim_t
        self.dropout, self.clip_denoised, self.conditioning = dropout, clip_denoised, conditioning
        self.resample_rounds, self.sample_batch_size, self.sample_steps = resample_rounds, sample_batch_size, sample_steps
        self.training = training

    def check_params(self) -> None:
        key = f"train.models.{self.name}"
        num_timesteps, d_layers, sample_steps = self.num_timesteps, self.d_layers, self.sample_steps
        if int(num_timesteps) < 1:
            raise ParamsError(f"{key}.num_timesteps: expected a positive integer, got {num_timesteps}")
        if self.schedule not in ("cosine", "linear"):
            raise ParamsError(f"{key}.schedule: expected 'cosine' or 'linear', got {self.schedule!r}")
        if not d_layers or any(int(d) < 1 for d in d_layers):
            raise ParamsError(f"{key}.d_layers: expected a list of positive widths, got {d_layers!r}")
        if not 0 <= self.dropout < 1:
            raise ParamsError(f"{key}.dropout: expected a number in [0, 1), got {self.dropout}")
        if self.conditioning not in ("auto", "reject", "impute"):
            raise ParamsError(f"{key}.conditioning: expected 'auto', 'reject' or 'impute', got {self.conditioning!r}")
        if int(self.resample_rounds) < 1:
            raise ParamsError(f"{key}.resample_rounds: expected a positive integer, got {self.resample_rounds}")
        if int(self.sample_batch_size) < 1:
            raise ParamsError(f"{key}.sample_batch_size: expected a positive integer, got {self.sample_batch_size}")
        if sample_steps is not None and (isinstance(sample_steps, bool) or not isinstance(sample_steps, int)
                                         or not 1 <= sample_steps <= int(num_timesteps)):
            raise ParamsError(f"{key}.sample_steps: expected null or an integer in [1, num_timesteps = "
                              f"{num_timesteps}], got {sample_steps!r}")
        self.train_config  # noqa: B018 (building it checks the training section)

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig.from_params({"seed": self.seed, **DEFAULT_TRAINING, **(self.training or {})},
                                       key=f"train.models.{self.name}.training")

    # ------------------------------------------------------------------ fitting
    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        self.codes_ = CodesCodec().fit(table, kinds)
        self.kinds_ = dict(kinds)
        num, codes = self.codes_.transform(table)
        data = torch.from_numpy(np.concatenate([num, codes.astype(np.float32)], axis=1))
        n_levels = self.codes_.n_levels
        torch.manual_seed(self.seed)
        d_in = num.shape[1] + sum(n_levels)
        self.net_ = GaussianMultinomialDiffusion(
            num.shape[1], n_levels, MLPDenoiser(d_in, tuple(int(d) for d in self.d_layers), self.dim_t, self.dropout),
            int(self.num_timesteps), self.schedule,
            clip_denoised=float(np.abs(num).max(initial=0.0)) if self.clip_denoised else None,
        )
        self.training_result_ = fit(self.net_, diffusion_loss, data, self.train_config,
                                    checkpoint_dir=self.checkpoint_dir)
        self.net_.cpu().eval()

    # ------------------------------------------------------------------ sampling
    def _generate(self, n: int, rng: np.random.Generator, known: Known | None = None) -> pd.DataFrame:
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        self.net_.to(resolve_device(self.train_config.device))
        try:
            num, codes = self.net_.sample(n, gen, known, chunk_size=int(self.sample_batch_size),
                                          resample_rounds=int(self.resample_rounds), steps=self.sample_steps)
        finally:
            self.net_.cpu()
        return self.codes_.inverse_transform(num.numpy(), codes.numpy())

    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        return self._generate(n, rng)

    def _sample_conditioned(self, n: int, conditions: dict[str, Any], rng: np.random.Generator
                            ) -> pd.DataFrame:
        if not conditions:
            return self._sample_table(n, rng)
        categorical = all(self.kinds_.get(col) in ("categorical", "boolean") for col in conditions)
        if self.conditioning == "reject" or (self.conditioning == "auto" and categorical):
            return super()._sample_conditioned(n, conditions, rng)
        known, values = encode_conditions(self.codes_, self.kinds_, n, conditions)
        table = self._generate(n, rng, known)
        # Codes are pinned exactly; numbers go through the quantile inverse, exact only up to
        # float rounding, so the requested values are written back as given.
        for col, v in values.items():
            table[col] = pd.Series([v] * n, index=table.index, dtype=table[col].dtype)
        return table
