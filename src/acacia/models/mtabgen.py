"""MTabGen (Villaizán-Vallelado, Salvatori, Carro, Sanchez-Esguevillas, "Diffusion models for
tabular data imputation and synthetic data generation", 2024, arXiv 2407.02549): a mixed-type
diffusion with a transformer encoder-decoder denoiser, trained with dynamic masking, so one model
does unconditional synthesis and native conditional generation.

Details, deviations from the paper and settings: docs/models.md#mtabgen.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from acacia.errors import ParamsError
from acacia.models.base import Synthesizer, register
from acacia.models.diffusion.conditions import encode_conditions
from acacia.models.diffusion.masked import MaskedConditionDiffusion
from acacia.models.diffusion.samplers import Known, StochasticSampler
from acacia.training.loop import TrainConfig, fit, resolve_device
from acacia.transforms.tensor import CodesCodec

#: the shared loop's settings unless ``training`` overrides them (docs/models.md#mtabgen).
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
        self.d_token, self.n_encoder_layers, self.n_decoder_layers = d_token, n_encoder_layers, n_decoder_layers
        self.n_heads, self.ffn_factor, self.dim_t = n_heads, ffn_factor, dim_t
        self.sigma_min, self.sigma_max, self.sigma_data = sigma_min, sigma_max, sigma_data
        self.eps_max, self.eps_min = eps_max, eps_min
        self.p_unconditional, self.series_patch = p_unconditional, series_patch
        self.num_timesteps, self.churn, self.second_order = num_timesteps, churn, second_order
        self.sample_batch_size = sample_batch_size
        self.training = training

    def check_params(self) -> None:
        key = f"train.models.{self.name}"
        if not 0 <= self.p_unconditional <= 1:
            raise ParamsError(f"{key}.p_unconditional: expected a probability, got {self.p_unconditional}")
        if self.d_token % self.n_heads:
            raise ParamsError(f"{key}: d_token ({self.d_token}) must be a multiple of n_heads ({self.n_heads})")
        if not isinstance(self.series_patch, int) or self.series_patch < 1:
            raise ParamsError(f"{key}.series_patch: expected a positive integer, got {self.series_patch!r}")
        self.train_config  # noqa: B018 (building it checks the training section)

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig.from_params({"seed": self.seed, **DEFAULT_TRAINING, **(self.training or {})},
                                       key=f"train.models.{self.name}.training")

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
