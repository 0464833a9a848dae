"""TabSyn (Zhang et al., "Mixed-Type Tabular Data Synthesis with Score-based Diffusion in Latent
Space", ICLR 2024, arXiv 2310.09656): a column-token VAE, then a score-based (EDM) diffusion
model in its latent space, both phases fitted by the shared loop.

Details, deviations from the paper and settings: docs/models.md#tabsyn.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from acacia.errors import ParamsError
from acacia.models.base import Synthesizer, register
from acacia.models.diffusion.denoiser import Detokenizer, Tokenizer, _transformer
from acacia.models.diffusion.edm import EDMSampler, VectorEDM
from acacia.models.diffusion.model import NEG_INF
from acacia.training.loop import (
    TrainConfig,
    TrainResult,
    _data_key,
    config_matches,
    fit,
    resolve_device,
)
from acacia.transforms.tensor import CodesCodec

#: the shared loop's settings per phase unless ``training`` / ``vae_training`` override them.
DEFAULT_VAE_TRAINING: dict[str, Any] = {"max_epochs": 300, "patience": 30, "batch_size": 256,
                                        "lr": 1e-3, "weight_decay": 0.0}
DEFAULT_TRAINING: dict[str, Any] = {"max_epochs": 1000, "patience": 100, "batch_size": 256,
                                    "lr": 1e-3, "weight_decay": 0.0}
VAE_DONE = "vae_done.pt"


class TokenVAE(nn.Module):
    """TabSyn's VAE over a batch laid out as :class:`CodesCodec` does (scores, then codes)."""

    def __init__(self, n_num: int, n_levels: list[int], attach: list[int | None] | None = None,
                 d_token: int = 4, n_layers: int = 2, n_heads: int = 1, ffn_factor: int = 32,
                 beta_max: float = 1e-2, beta_min: float = 1e-5, beta_decay: float = 0.7,
                 beta_patience: int = 10) -> None:
        super().__init__()
        self.n_num, self.n_levels = n_num, list(n_levels)
        self.n_cat = len(self.n_levels)
        self.width = max(self.n_levels, default=1)
        valid = torch.zeros(self.n_cat, self.width, dtype=torch.bool)
        for i, k in enumerate(self.n_levels):
            valid[i, :k] = True
        self.register_buffer("valid", valid)
        attach = list(attach) if attach is not None else [None] * self.n_cat
        own = iter(range(n_num, n_num + self.n_cat))
        cat_token = [a if a is not None else next(own) for a in attach]
        self.tokenizer = Tokenizer(n_num, self.n_cat, self.width, d_token, cat_token)
        self.n_tokens, self.d_token = self.tokenizer.n_tokens, d_token
        bound = 1 / math.sqrt(d_token)
        self.cls = nn.Parameter(torch.empty(1, 1, d_token).uniform_(-bound, bound))
        self.encoder_mu = _transformer(n_layers, d_token, n_heads, ffn_factor)
        self.encoder_logvar = _transformer(n_layers, d_token, n_heads, ffn_factor)
        self.decoder = _transformer(n_layers, d_token, n_heads, ffn_factor)
        self.detokenizer = Detokenizer(n_num, self.n_cat, self.width, d_token, cat_token)
        self.beta_min, self.beta_decay, self.beta_patience = beta_min, beta_decay, beta_patience
        # The adaptive β lives in buffers, so checkpoints carry it and a resumed run is exact.
        self.register_buffer("beta", torch.tensor(float(beta_max)))
        self.register_buffer("best_recon", torch.tensor(math.inf))
        self.register_buffer("stall", torch.zeros((), dtype=torch.long))
        self.register_buffer("val_sum", torch.zeros((), dtype=torch.float64))
        self.register_buffer("val_rows", torch.zeros((), dtype=torch.float64))

    @property
    def latent_dim(self) -> int:
        return self.n_tokens * self.d_token

    def split(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return batch[:, : self.n_num], batch[:, self.n_num :].round().long()

    def encode(self, x_num: torch.Tensor, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of the latent tokens, (b, n_tokens, d_token) each."""
        tokens = self.tokenizer(x_num, nn.functional.one_hot(codes, self.width).float())
        h = torch.cat([self.cls.expand(len(tokens), -1, -1), tokens], dim=1)
        return self.encoder_mu(h)[:, 1:], self.encoder_logvar(h)[:, 1:]

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent tokens → numbers (b, n_num) and logits (b, n_cat, width), padding classes off."""
        num, logits = self.detokenizer(self.decoder(z))
        return num, logits.masked_fill(~self.valid, NEG_INF)

    def terms(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mean squared error, mean cross-entropy and mean KL divergence of one batch."""
        x_num, codes = self.split(batch)
        mu, logvar = self.encode(x_num, codes)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        num, logits = self.decode(z)
        zero = batch.new_zeros(())
        mse = ((num - x_num) ** 2).mean() if self.n_num else zero
        ce = nn.functional.cross_entropy(logits.flatten(0, 1), codes.flatten()) if self.n_cat else zero
        kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).mean()
        return mse, ce, kl

    def adapt_beta(self, val_recon: float) -> None:
        """One epoch's validation reconstruction loss: β × λ after ``beta_patience`` stalled epochs."""
        if val_recon < float(self.best_recon):
            self.best_recon.fill_(val_recon)
            self.stall.zero_()
            return
        self.stall += 1
        if int(self.stall) >= self.beta_patience:
            self.beta.fill_(max(float(self.beta) * self.beta_decay, self.beta_min))
            self.stall.zero_()

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        mse, ce, kl = self.terms(batch)
        recon = mse + ce
        if not self.training:
            # Validation (the loop's pass after each epoch): the reconstruction loss, which early
            # stopping watches and β adapts to, comparable across epochs whatever β is.
            self.val_sum += float(recon) * len(batch)
            self.val_rows += len(batch)
            return recon
        if float(self.val_rows) > 0:  # first batch after a validation pass: close that epoch
            self.adapt_beta(float(self.val_sum / self.val_rows))
            self.val_sum.zero_()
            self.val_rows.zero_()
        return recon + self.beta * kl


def _vae_loss(module: TokenVAE, batch: torch.Tensor) -> torch.Tensor:
    return module.loss(batch)


def _edm_loss(module: VectorEDM, batch: torch.Tensor) -> torch.Tensor:
    return module.loss(batch)


def chain_results(first: TrainResult, second: TrainResult) -> TrainResult:
    """Two consecutive fits as one history: the second's epochs numbered after the first's."""
    off = first.stopped_epoch
    history = [dict(r) for r in first.history] + [{**r, "epoch": r["epoch"] + off} for r in second.history]
    return TrainResult(history=history, best_epoch=off + second.best_epoch, best_val_loss=second.best_val_loss,
                       stopped_epoch=off + second.stopped_epoch, max_epochs=first.max_epochs + second.max_epochs)


@register("tabsyn")
class TabSyn(Synthesizer):
    def __init__(
        self,
        seed: int = 0,
        series_representation: str | dict = "flat",
        d_token: int = 4,
        n_layers: int = 2,
        n_heads: int = 1,
        ffn_factor: int = 32,
        beta_max: float = 1e-2,
        beta_min: float = 1e-5,
        beta_decay: float = 0.7,
        beta_patience: int = 10,
        dim_t: int = 1024,
        sigma_data: float = 0.5,
        p_mean: float = -1.2,
        p_std: float = 1.2,
        latent_scale: float = 2.0,
        num_steps: int = 50,
        sigma_min: float = 0.002,
        sigma_max: float = 80.0,
        rho: float = 7.0,
        churn: float = 1.0,
        categories: str = "argmax",
        sample_batch_size: int = 4096,
        training: dict | None = None,
        vae_training: dict | None = None,
    ) -> None:
        super().__init__(seed=seed, series_representation=series_representation)
        self.d_token, self.n_layers, self.n_heads, self.ffn_factor = d_token, n_layers, n_heads, ffn_factor
        self.beta_max, self.beta_min, self.beta_decay, self.beta_patience = beta_max, beta_min, beta_decay, beta_patience
        self.dim_t, self.sigma_data, self.p_mean, self.p_std = dim_t, sigma_data, p_mean, p_std
        self.latent_scale = latent_scale
        self.num_steps, self.sigma_min, self.sigma_max, self.rho, self.churn = num_steps, sigma_min, sigma_max, rho, churn
        self.categories, self.sample_batch_size = categories, sample_batch_size
        self.training, self.vae_training = training, vae_training

    def check_params(self) -> None:
        key = f"train.models.{self.name}"
        if not self.latent_scale > 0:
            raise ParamsError(f"{key}.latent_scale: expected a positive number, got {self.latent_scale}")
        if self.categories not in ("sample", "argmax"):
            raise ParamsError(f"{key}.categories: expected 'sample' or 'argmax', got {self.categories!r}")
        if not 0 < self.beta_decay <= 1:
            raise ParamsError(f"{key}.beta_decay: expected a number in (0, 1], got {self.beta_decay}")
        self.train_config, self.vae_config, self.sampler  # noqa: B018 (building them checks them)

    # ``training`` is the loop's settings for both phases; ``vae_training`` overrides them for
    # the VAE only.
    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig.from_params({"seed": self.seed, **DEFAULT_TRAINING, **(self.training or {})},
                                       key=f"train.models.{self.name}.training")

    @property
    def vae_config(self) -> TrainConfig:
        return TrainConfig.from_params(
            {"seed": self.seed, **DEFAULT_VAE_TRAINING, **(self.training or {}), **(self.vae_training or {})},
            key=f"train.models.{self.name}.vae_training")

    @property
    def sampler(self) -> EDMSampler:
        return EDMSampler(num_steps=self.num_steps, sigma_min=self.sigma_min, sigma_max=self.sigma_max,
                          rho=self.rho, churn=self.churn, chunk_size=self.sample_batch_size)

    # ------------------------------------------------------------------ fitting
    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        self.codes_ = CodesCodec().fit(table, kinds)
        num, codes = self.codes_.transform(table)
        data = torch.from_numpy(np.concatenate([num, codes.astype(np.float32)], axis=1))
        ckpt = Path(self.checkpoint_dir) if self.checkpoint_dir is not None else None

        torch.manual_seed(self.seed)
        self.vae_ = TokenVAE(len(self.codes_.numeric_), self.codes_.n_levels, self.codes_.attach,
                             self.d_token, self.n_layers, self.n_heads, self.ffn_factor,
                             self.beta_max, self.beta_min, self.beta_decay, self.beta_patience)
        done = ckpt / VAE_DONE if ckpt is not None else None
        if done is not None and done.exists():
            # A killed run whose VAE phase had finished resumes at the diffusion phase.
            state = torch.load(done, weights_only=True)
            if not config_matches(state["config"], self.vae_config) or state["data_key"] != _data_key(data):
                raise ParamsError(f"{done} was written with other VAE params or data; delete it to restart")
            self.vae_.load_state_dict(state["module"])
            self.vae_result_ = TrainResult(**state["result"])
        else:
            self.vae_result_ = fit(self.vae_, _vae_loss, data, self.vae_config,
                                   checkpoint_dir=ckpt / "vae" if ckpt is not None else None)
            if done is not None:
                done.parent.mkdir(parents=True, exist_ok=True)
                tmp = done.with_name(f".{done.name}.tmp")
                torch.save({"module": self.vae_.state_dict(), "result": asdict(self.vae_result_),
                            "config": asdict(self.vae_config), "data_key": _data_key(data)}, tmp)
                os.replace(tmp, done)
        self.vae_.cpu().eval()

        z = self._encode(data)
        self.latent_mean_ = z.mean(0)
        latents = (z - self.latent_mean_) / self.latent_scale
        torch.manual_seed(self.seed)
        self.edm_ = VectorEDM(self.vae_.latent_dim, self.dim_t, self.sigma_data, self.p_mean, self.p_std)
        self.diffusion_result_ = fit(self.edm_, _edm_loss, latents, self.train_config,
                                     checkpoint_dir=ckpt / "diffusion" if ckpt is not None else None)
        self.edm_.cpu().eval()
        self.training_result_ = chain_results(self.vae_result_, self.diffusion_result_)

    @torch.no_grad()
    def _encode(self, data: torch.Tensor) -> torch.Tensor:
        """The encoder's latent means, flattened: (rows, n_tokens · d_token)."""
        self.vae_.eval()
        parts = []
        for i in range(0, len(data), self.sample_batch_size):
            mu, _ = self.vae_.encode(*self.vae_.split(data[i : i + self.sample_batch_size]))
            parts.append(mu.flatten(1))
        return torch.cat(parts) if parts else torch.zeros(0, self.vae_.latent_dim)

    # ------------------------------------------------------------------ sampling
    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        n_num, n_cat = len(self.codes_.numeric_), len(self.codes_.slots_)
        if n == 0:
            return self.codes_.inverse_transform(np.zeros((0, n_num)), np.zeros((0, n_cat), dtype=np.int64))
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        device = resolve_device(self.train_config.device)
        self.edm_.to(device)
        self.vae_.to(device)
        try:
            z = self.sampler.sample(self.edm_, n, self.vae_.latent_dim, gen)
            z = z * self.latent_scale + self.latent_mean_
            nums, cats = [], []
            with torch.no_grad():
                for i in range(0, n, self.sample_batch_size):
                    chunk = z[i : i + self.sample_batch_size].to(device)
                    num, logits = self.vae_.decode(chunk.view(len(chunk), self.vae_.n_tokens, self.vae_.d_token))
                    nums.append(num.cpu())
                    cats.append(self._pick(logits.cpu(), gen))
        finally:
            self.edm_.cpu()
            self.vae_.cpu()
        return self.codes_.inverse_transform(torch.cat(nums).numpy(), torch.cat(cats).numpy())

    def _pick(self, logits: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Codes from the decoder's logits (b, n_cat, width): its mode, or a draw from it."""
        if self.categories == "argmax" or logits.shape[1] == 0:
            return logits.argmax(-1)
        # Gumbel-max: one uniform per (row, column, class) from the seeded CPU generator.
        u = torch.rand(logits.shape, generator=gen).clamp(1e-10, 1 - 1e-10)
        return (logits - (-u.log()).log()).argmax(-1)
