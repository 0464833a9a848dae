"""A variant of CTGAN (Xu et al., NeurIPS 2019): a conditional Wasserstein GAN over the encoded
table, with quantile-normal scores instead of the reference's mode-specific Gaussian-mixture
normalisation (and other deviations), so its numbers are not the reference ``ctgan`` package's.

Details, deviations from the paper and settings: docs/models.md#ctgan_variant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from acacia.errors import ParamsError
from acacia.models.base import Synthesizer, register
from acacia.training.loop import TrainConfig, fit, resolve_device
from acacia.transforms.encoders import NULL_TOKEN
from acacia.transforms.tensor import Span, TensorCodec

GRADIENT_PENALTY = 10.0
TAU = 0.2
BETAS = (0.5, 0.9)
CHUNK = 4096
#: the paper's training settings; params.yaml's ``training`` mapping overrides any of them.
TRAINING_DEFAULTS: dict[str, Any] = {"lr": 2e-4, "weight_decay": 1e-6, "batch_size": 500, "max_epochs": 300}


class _Residual(nn.Module):
    def __init__(self, i: int, o: int) -> None:
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.bn = nn.BatchNorm1d(o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Concatenation, as in the paper: each block sees the noise and the condition directly.
        return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)


class _Discriminator(nn.Module):
    def __init__(self, width: int, dims: list[int], pac: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = width * pac
        for d in dims:
            layers += [nn.Linear(prev, d), nn.LeakyReLU(0.2), nn.Dropout(0.5)]
            prev = d
        layers.append(nn.Linear(prev, 1))
        self.seq = nn.Sequential(*layers)
        self.width, self.pac = width, pac

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # PacGAN: the critic judges packs of `pac` rows, which penalises mode collapse.
        return self.seq(x.reshape(-1, self.pac * self.width))


def _width_groups(spans: list[Span]) -> list[torch.Tensor]:
    """Column indices of the discrete spans, one (n_spans, width) tensor per width, so that
    softmaxes and arg-maxes run on all spans of a width at once (the flat series has ~160)."""
    by_width: dict[int, list[list[int]]] = {}
    for s in spans:
        by_width.setdefault(s.width, []).append(list(range(s.start, s.end)))
    return [torch.tensor(v, dtype=torch.long) for _, v in sorted(by_width.items())]


class _CTGANNet(nn.Module):
    def __init__(self, codec: TensorCodec, data: torch.Tensor, embedding_dim: int,
                 generator_dim: list[int], discriminator_dim: list[int], pac: int,
                 discriminator_steps: int) -> None:
        super().__init__()
        width = codec.width_
        cond = [s for s in codec.spans_ if s.role == "categorical"]
        self.cond_spans = [(s.start, s.end) for s in cond]
        cond_dim = sum(s.width for s in cond)
        self.embedding_dim, self.pac, self.discriminator_steps = embedding_dim, pac, discriminator_steps
        self.width, self.cond_dim = width, cond_dim

        prev = embedding_dim + cond_dim
        blocks: list[nn.Module] = []
        for d in generator_dim:
            blocks.append(_Residual(prev, d))
            prev += d
        self.generator = nn.Sequential(*blocks, nn.Linear(prev, width))
        self.discriminator = _Discriminator(width + cond_dim, list(discriminator_dim), pac)

        # Buffers follow the module to the training device and into checkpoints.
        discrete = [s for s in codec.spans_ if s.role != "numeric"]
        groups = _width_groups(discrete)
        self.groups = [f"group_{i}" for i in range(len(groups))]
        for name, idx in zip(self.groups, groups, strict=True):
            self.register_buffer(name, idx)
        numeric = [s.start for s in codec.spans_ if s.role == "numeric"]
        self.register_buffer("numeric", torch.tensor(numeric, dtype=torch.long))
        # For each numeric slot, the column of its missing span that flags "has a value" (-1 when
        # the column has no nulls): a null row's slot holds a placeholder, not a value.
        flags = {s.column: s.start for s in codec.spans_ if s.role == "missing"}
        present = [flags.get(s.column, -1) for s in codec.spans_ if s.role == "numeric"]
        self.register_buffer("present", torch.tensor(present, dtype=torch.long))
        self.register_buffer("discrete_cols", torch.tensor(
            [j for s in discrete for j in range(s.start, s.end)], dtype=torch.long))
        self.discrete_spans = [(s.start, s.end) for s in discrete]
        # cond index → data column, and the (column, category) → cond index table padded with
        # cond_dim, a slot that is never drawn.
        to_data = [j for a, b in self.cond_spans for j in range(a, b)]
        self.register_buffer("cond_to_data", torch.tensor(to_data, dtype=torch.long))
        max_w = max((b - a for a, b in self.cond_spans), default=1)
        pad = torch.full((len(cond), max_w), cond_dim, dtype=torch.long)
        offset = 0
        for i, (a, b) in enumerate(self.cond_spans):
            pad[i, : b - a] = torch.arange(offset, offset + b - a)
            offset += b - a
        self.register_buffer("cond_pad", pad)
        counts = data[:, to_data].sum(0) if to_data else torch.zeros(0)
        counts = torch.cat([counts, torch.zeros(1)])
        # Training draws categories by log-frequency (rare ones get seen), sampling by frequency
        # (the generated marginals follow the real ones).
        self.register_buffer("log_freq", torch.log1p(counts)[pad])
        self.register_buffer("freq", counts[pad])

    # ------------------------------------------------------------------ pieces
    def generate_logits(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.generator(torch.cat([z, c], dim=1))

    def activate(self, logits: torch.Tensor) -> torch.Tensor:
        out = logits.clone()
        for name in self.groups:
            idx = getattr(self, name)
            soft = nn.functional.gumbel_softmax(logits[:, idx], tau=TAU, dim=-1)
            out[:, idx.flatten()] = soft.reshape(len(logits), -1)
        return out

    def harden(self, scores: torch.Tensor) -> torch.Tensor:
        """One-hot each discrete span at its arg-max; numeric slots untouched."""
        out = scores.clone()
        for name in self.groups:
            idx = getattr(self, name)
            pick = scores[:, idx].argmax(-1)
            out[:, idx.flatten()] = nn.functional.one_hot(pick, idx.shape[1]).to(out).reshape(len(out), -1)
        return out

    def _cond_vector(self, col: torch.Tensor, cat: torch.Tensor) -> torch.Tensor:
        c = torch.zeros(len(col), self.cond_dim, device=col.device)
        if self.cond_dim:
            c[torch.arange(len(col), device=col.device), self.cond_pad.to(col.device)[col, cat]] = 1.0
        return c

    def training_condition(self, batch: torch.Tensor, n: int) -> tuple[torch.Tensor, ...]:
        """Training-by-sampling within the batch: (cond vector, column, category, real rows)."""
        device = batch.device
        if not self.cond_dim:
            rows = torch.randperm(len(batch), device=device)[:n] if n <= len(batch) else \
                torch.randint(len(batch), (n,), device=device)
            empty = torch.zeros(n, dtype=torch.long, device=device)
            return torch.zeros(n, 0, device=device), empty, empty, rows
        present = torch.cat([batch[:, self.cond_to_data].sum(0) > 0, torch.zeros(1, dtype=torch.bool, device=device)])
        weights = self.log_freq * present[self.cond_pad]
        col = torch.randint(len(self.cond_spans), (n,), device=device)
        cat = torch.multinomial(weights[col], 1).squeeze(1)
        # Every batch row holds one category per span, so each drawn category has a row.
        holders = batch[:, self.cond_to_data[self.cond_pad[col, cat]]].T
        rows = torch.multinomial(holders, 1).squeeze(1)
        return self._cond_vector(col, cat), col, cat, rows

    def cond_loss(self, logits: torch.Tensor, col: torch.Tensor, cat: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the conditioned span only, averaged over the batch (as the paper)."""
        loss = logits.new_zeros(len(logits))
        for j, (a, b) in enumerate(self.cond_spans):
            chosen = col == j
            target = torch.where(chosen, cat, torch.zeros_like(cat))
            ce = nn.functional.cross_entropy(logits[:, a:b], target, reduction="none")
            loss = loss + ce * chosen
        return loss.mean()

    def gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        n, dim = real.shape
        # One mixing weight per pack, since the critic scores packs.
        alpha = torch.rand(n // self.pac, 1, 1, device=real.device).expand(-1, self.pac, dim).reshape(n, dim)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        grad = torch.autograd.grad(self.discriminator(mixed).sum(), mixed, create_graph=True)[0]
        norm = grad.reshape(-1, self.pac * dim).norm(2, dim=1)
        return GRADIENT_PENALTY * ((norm - 1) ** 2).mean()


def _optimizers(net: nn.Module, cfg: TrainConfig) -> list[torch.optim.Optimizer]:
    # Adam with coupled L2 decay (not AdamW) and betas (0.5, 0.9), as the reference.
    return [torch.optim.Adam(net.generator.parameters(), lr=cfg.lr, betas=BETAS, weight_decay=cfg.weight_decay),
            torch.optim.Adam(net.discriminator.parameters(), lr=cfg.lr, betas=BETAS,
                             weight_decay=cfg.weight_decay)]


def _step(net: _CTGANNet, batch: torch.Tensor, optims: list[torch.optim.Optimizer]) -> float:
    """One discriminator (critic) update per ``discriminator_steps``, then one generator update;
    returns the critic's loss (its negated Wasserstein estimate plus the penalty)."""
    opt_g, opt_d = optims
    n = max(net.pac, len(batch) // net.pac * net.pac)
    device = batch.device
    for _ in range(net.discriminator_steps):
        c, _, _, rows = net.training_condition(batch, n)
        z = torch.randn(n, net.embedding_dim, device=device)
        fake = net.activate(net.generate_logits(z, c)).detach()
        real = batch[rows]
        fake_c, real_c = torch.cat([fake, c], 1), torch.cat([real, c], 1)
        loss_d = net.discriminator(fake_c).mean() - net.discriminator(real_c).mean()
        loss_d = loss_d + net.gradient_penalty(real_c, fake_c)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
    c, col, cat, _ = net.training_condition(batch, n)
    z = torch.randn(n, net.embedding_dim, device=device)
    logits = net.generate_logits(z, c)
    fake = net.activate(logits)
    loss_g = -net.discriminator(torch.cat([fake, c], 1)).mean()
    if net.cond_dim:
        loss_g = loss_g + net.cond_loss(logits, col, cat)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return float(loss_d.detach())


def _sampling_condition(net: _CTGANNet, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Conditions as at generation time: a column uniformly, its category by real frequency."""
    if not net.cond_dim:
        return torch.zeros(n, 0)
    col = torch.randint(len(net.cond_spans), (n,), generator=generator)
    cat = torch.multinomial(net.freq.cpu()[col], 1, generator=generator).squeeze(1)
    return net._cond_vector(col, cat)


def _gumbel(shape: tuple[int, int], generator: torch.Generator | None = None) -> torch.Tensor:
    u = torch.rand(shape, generator=generator).clamp(1e-10, 1 - 1e-10)
    return -torch.log(-torch.log(u))


@torch.no_grad()
def _generate(net: _CTGANNet, c: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Encoded rows with discrete spans drawn one-hot (Gumbel-max = a draw from the softmax)."""
    device = net.numeric.device
    z = torch.randn(len(c), net.embedding_dim, generator=generator)
    logits = net.generate_logits(z.to(device), c.to(device))
    noise = _gumbel((len(c), len(net.discrete_cols)), generator).to(device)
    logits[:, net.discrete_cols] += noise
    return net.harden(logits)


def _ks(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Two-sample Kolmogorov-Smirnov statistic of two 1-D samples (1 when only one is empty)."""
    if len(a) == 0 or len(b) == 0:
        return torch.tensor(float(len(a) != len(b)))
    a, b = a.sort().values, b.sort().values
    grid = torch.cat([a, b])
    cdf_a = torch.searchsorted(a, grid, right=True) / len(a)
    cdf_b = torch.searchsorted(b, grid, right=True) / len(b)
    return (cdf_a - cdf_b).abs().max()


def marginal_distance(net: _CTGANNet, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean over columns of KS (numeric values, non-null rows only) and TVD (discrete spans):
    the complement of the shape score the evaluation reports, on the encoded rows."""
    parts = []
    for j, flag in zip(net.numeric.tolist(), net.present.tolist(), strict=True):
        a, b = real[:, j], fake[:, j]
        if flag >= 0:
            a, b = a[real[:, flag] > 0.5], b[fake[:, flag] > 0.5]
        parts.append(_ks(a.cpu(), b.cpu()))
    for a, b in net.discrete_spans:
        parts.append(0.5 * (fake[:, a:b].mean(0) - real[:, a:b].mean(0)).abs().sum().cpu())
    return torch.stack(parts).mean() if parts else torch.zeros(())


def correlation_gap(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the two correlation matrices (the trend score's view)."""
    def corr(x: torch.Tensor) -> torch.Tensor:
        x = x - x.mean(0)
        x = x / (x.norm(dim=0) + 1e-8)
        return x.T @ x
    return (corr(fake) - corr(real)).abs().mean()


def validation_distance(net: _CTGANNet, real: torch.Tensor) -> torch.Tensor:
    """Distance from as many generated rows to the held-out ``real`` rows; lower is better.

    :func:`marginal_distance` plus :func:`correlation_gap`: the two fidelity views the
    evaluation scores (shapes and pair trends), both bounded, so neither swamps the other.
    The loop calls it under a fixed torch seed, so the noise and the conditions are the same
    every epoch and the value moves only when the generator does.

    Wasserstein terms were tried and dropped: on normal scores they follow the spread of the
    numeric outputs, which oscillates in GAN training (docs/models.md#ctgan_variant).
    """
    fake = _generate(net, _sampling_condition(net, len(real)).to(real.device))
    return marginal_distance(net, fake, real) + correlation_gap(fake, real).cpu()


@contextmanager
def _cpu_threads(n: int | None) -> Iterator[None]:
    # The matrices of a step are small: on a busy machine torch's intra-op threads spin-wait for
    # each other, so one thread is much faster per step (docs/models.md#ctgan_variant).
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@register("ctgan_variant")
class CTGANVariant(Synthesizer):
    def __init__(self, seed: int = 0, series_representation: str = "flat", embedding_dim: int = 128,
                 generator_dim: tuple[int, ...] = (256, 256), discriminator_dim: tuple[int, ...] = (256, 256),
                 pac: int = 10, discriminator_steps: int = 1, cpu_threads: int | None = 1,
                 training: dict | None = None) -> None:
        super().__init__(seed=seed, series_representation=series_representation)
        self.embedding_dim = embedding_dim
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.pac = pac
        self.discriminator_steps = discriminator_steps
        self.cpu_threads = cpu_threads
        self.training = training

    def check_params(self) -> None:
        key = f"train.models.{self.name}"
        checks = (("embedding_dim", self.embedding_dim), ("pac", self.pac),
                  ("discriminator_steps", self.discriminator_steps),
                  ("cpu_threads", 1 if self.cpu_threads is None else self.cpu_threads))
        for name, v in checks:
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ParamsError(f"{key}.{name}: expected a positive integer, got {v!r}")
        self.train_config  # noqa: B018 (building it checks the training section)

    @property
    def train_config(self) -> TrainConfig:
        return TrainConfig.from_params({"seed": self.seed, **TRAINING_DEFAULTS, **(self.training or {})},
                                       key=f"train.models.{self.name}.training")

    def _fit_table(self, table: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator) -> None:
        self.tensor_ = TensorCodec().fit(table, kinds)
        x = torch.from_numpy(self.tensor_.transform(table))
        torch.manual_seed(self.seed)
        self.net_ = _CTGANNet(self.tensor_, x, self.embedding_dim, list(self.generator_dim),
                              list(self.discriminator_dim), self.pac, self.discriminator_steps)
        with _cpu_threads(self.cpu_threads):
            self.training_result_ = fit(self.net_, validation_distance, x, self.train_config,
                                        checkpoint_dir=self.checkpoint_dir, optimizers=_optimizers, step=_step)
        self.net_.cpu().eval()

    def _generate_table(self, n: int, gen: torch.Generator, cond: torch.Tensor | None = None) -> pd.DataFrame:
        device = resolve_device(self.train_config.device)
        self.net_.to(device).eval()
        parts = []
        with _cpu_threads(self.cpu_threads):
            for i in range(0, n, CHUNK):
                m = min(CHUNK, n - i)
                c = _sampling_condition(self.net_, m, gen) if cond is None else cond.expand(m, -1)
                parts.append(_generate(self.net_, c, gen).cpu().numpy())
        self.net_.cpu()
        return self.tensor_.inverse_transform(np.concatenate(parts) if parts else np.zeros((0, self.tensor_.width_)))

    def _sample_table(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        return self._generate_table(n, torch.Generator().manual_seed(int(rng.integers(2**62))))

    def _sample_conditioned(self, n: int, conditions: dict[str, Any], rng: np.random.Generator) -> pd.DataFrame:
        cond = self._native_condition(conditions)
        if cond is None:
            return super()._sample_conditioned(n, conditions, rng)
        (col, value), = conditions.items()
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        kept: list[pd.DataFrame] = []
        got, tries = 0, 0
        while got < n:
            batch = self._generate_table(min(max(2 * (n - got), 64), CHUNK), gen, cond)
            mask = batch[col].isna().to_numpy() if value is None else batch[col].to_numpy() == value
            kept.append(batch[mask])
            got += int(mask.sum())
            tries += 1
            if tries > 50 and got == 0:
                raise ValueError(f"sample: conditions {conditions} never met; is the value valid?")
        return pd.concat(kept).iloc[:n]

    def _native_condition(self, conditions: dict[str, Any]) -> torch.Tensor | None:
        """The conditional vector for one known category of a categorical column, else None."""
        if len(conditions) != 1:
            return None
        (col, value), = conditions.items()
        spans = [s for s in self.tensor_.spans_ if s.role == "categorical" and s.column == col]
        if not spans:
            return None
        categories = list(self.tensor_.encoders_[(col, "categorical")].categories_)
        token = NULL_TOKEN if value is None else value
        hits = [i for i, c in enumerate(categories) if c == token]
        if not hits:
            return None
        offset = 0
        for a, b in self.net_.cond_spans:
            if a == spans[0].start:
                cond = torch.zeros(1, self.net_.cond_dim)
                cond[0, offset + hits[0]] = 1.0
                return cond
            offset += b - a
        return None
