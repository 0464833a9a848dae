"""A variant of TVAE (Xu et al., NeurIPS 2019): a variational auto-encoder over the encoded
table, with quantile-normal scores instead of the reference's mode-specific Gaussian-mixture
normalisation (and other deviations), so its numbers are not the reference ``ctgan`` package's.

Details, deviations from the paper and settings: docs/models.md#tvae_variant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from acacia.models.base import Synthesizer, register
from acacia.training.loop import TrainConfig, fit, resolve_device
from acacia.transforms.tensor import TensorCodec


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


class _VAE(nn.Module):
    def __init__(self, width: int, hidden: list[int], latent: int, numeric: torch.Tensor,
                 categorical: list[tuple[int, int]], loss_factor: float) -> None:
        super().__init__()
        self.encoder = mlp([width, *hidden, 2 * latent])
        self.decoder = mlp([latent, *reversed(hidden), width])
        self.log_sigma = nn.Parameter(torch.full((len(numeric),), -1.0))
        self.register_buffer("numeric", numeric)
        self.categorical = categorical
        self.latent = latent
        self.loss_factor = loss_factor

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        out = self.decoder(z)
        sigma = self.log_sigma.exp()
        rec = (((x[:, self.numeric] - out[:, self.numeric]) ** 2) / (2 * sigma**2) + self.log_sigma).sum(1)
        for a, b in self.categorical:
            rec = rec + nn.functional.cross_entropy(out[:, a:b], x[:, a:b].argmax(1), reduction="none")
        kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1)
        return (self.loss_factor * rec + kl).mean()

    @torch.no_grad()
    def generate(self, n: int, generator: torch.Generator) -> torch.Tensor:
        device = self.log_sigma.device
        z = torch.randn(n, self.latent, generator=generator).to(device)
        out = self.decoder(z)
        noise = torch.randn(n, len(self.numeric), generator=generator).to(device)
        out[:, self.numeric] = out[:, self.numeric] + noise * self.log_sigma.exp()
        for a, b in self.categorical:
            probs = out[:, a:b].softmax(1).cpu()
            pick = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            out[:, a:b] = nn.functional.one_hot(pick, b - a).to(out)
        return out


@register("tvae_variant")
class TVAEVariant(Synthesizer):
    def __init__(self, seed: int = 0, series_representation: str | dict = "flat", latent_dim: int = 128,
                 hidden: tuple[int, ...] = (128, 128), loss_factor: float = 2.0,
                 training: dict | None = None) -> None:
        super().__init__(seed=seed, series_representation=series_representation)
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.loss_factor = loss_factor
        self.training = training

    def check_params(self) -> None:
        self.train_config  # noqa: B018 (building it checks the training section)

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig.from_params({"seed": self.seed, **(self.training or {})},
                                       key=f"train.models.{self.name}.training")

    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        self.tensor_ = TensorCodec().fit(table, kinds)
        x = torch.from_numpy(self.tensor_.transform(table))
        numeric = torch.tensor([s.start for s in self.tensor_.spans_ if s.role == "numeric"], dtype=torch.long)
        cats = [(s.start, s.end) for s in self.tensor_.spans_ if s.role != "numeric"]
        torch.manual_seed(self.seed)
        self.net_ = _VAE(x.shape[1], list(self.hidden), self.latent_dim, numeric, cats, self.loss_factor)
        self.training_result_ = fit(self.net_, lambda m, b: m.loss(b), x, self.train_config,
                                    checkpoint_dir=self.checkpoint_dir)
        self.net_.cpu().eval()

    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        device = resolve_device(self.train_config.device)
        self.net_.to(device)
        parts = [self.net_.generate(min(4096, n - i), gen).cpu().numpy() for i in range(0, n, 4096)]
        self.net_.cpu()
        return self.tensor_.inverse_transform(np.concatenate(parts) if parts else np.zeros((0, self.tensor_.width_)))
