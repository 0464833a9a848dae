"""The one training loop every neural synthesizer uses.

Mini-batches, AdamW, an optional moving average of the weights (``ema_decay``), a held-out
validation split, early stopping on validation loss with the best weights restored, a checkpoint
every K epochs that a killed run resumes from, ``device: auto``, a progress bar, and the loss
history for the training-curve plot.

Adversarial models plug in through two optional arguments of :func:`fit`: ``optimizers`` builds
several optimizers (e.g. generator and discriminator) and ``step`` performs one batch's updates
with them. ``loss_fn`` then only serves as the validation criterion early stopping watches.

Resuming reaches the same final state as an uninterrupted run because every source of
randomness is re-seeded from (seed, epoch) at the start of each epoch, instead of carrying
generator state across epochs.

Multi-process training (``distributed: true``, launched with ``torchrun``) uses PyTorch's own
engine: DistributedDataParallel over gloo (CPU) or NCCL (CUDA). Every process draws the same
epoch permutation (same seed) and takes its share of each mini-batch, so ``batch_size`` stays the
global batch and the averaged gradient is the one a single process would compute on that batch;
validation, early stopping and checkpoints (written by rank 0) follow the same decisions on all
ranks.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from acacia.errors import ParamsError

CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainConfig:
    max_epochs: int = 200
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.1
    patience: int = 20
    #: the least fall of the validation loss that the last ``patience`` (epochs or steps) must
    #: bring for training to go on: stop when their lowest loss is not ``min_delta`` below the
    #: lowest before them (0 = stop when the window has no new best). It decides the stop only:
    #: the learning-rate plateau and the weights kept follow every new best, because with
    #: ``lr_decay_patience`` of one epoch (100,000 customers, patience in steps) a threshold there
    #: would divide the rate at every epoch that gains less than it.
    min_delta: float = 0.0
    checkpoint_every: int = 10
    device: str = "auto"
    progress: bool = True
    seed: int = 0
    distributed: bool = False
    #: stop after this many optimiser steps (mini-batches) in all, even mid-epoch: a benchmark's
    #: budget (benchmarks/performance.py times K steps); None = epochs and patience only.
    max_steps: int | None = None
    #: exponential moving average of the weights, updated after every optimiser step (e.g.
    #: 0.999); validation, early stopping and the weights fit returns then use the average.
    #: None = the raw weights. Diffusion models need it: without, Adam's step-to-step jitter at a
    #: constant learning rate shifts their outputs (see models/tabdiff.py).
    ema_decay: float | None = None
    #: reduce-on-plateau: multiply every optimiser's learning rate by this factor (e.g. 0.5) when
    #: the validation loss has not improved for ``lr_decay_patience`` epochs (counted from the best
    #: epoch or the last reduction). None = a constant learning rate. Keep ``lr_decay_patience``
    #: below ``patience`` so that a plateau is first met with a smaller step, then with a stop.
    lr_decay_factor: float | None = None
    lr_decay_patience: int = 5
    #: what ``patience`` and ``lr_decay_patience`` count: "epochs", or "steps" (optimiser steps,
    #: rounded up to whole epochs, since validation runs once an epoch). In steps the same rule
    #: holds at every data size: the moving average's horizon, 1 / (1 − ema_decay), is in steps,
    #: and an epoch of 100,000 rows is 12 times as many steps as one of 8,000.
    patience_unit: str = "epochs"

    @classmethod
    def from_params(cls, d: dict[str, Any] | None, key: str = "training") -> TrainConfig:
        d = dict(d or {})
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ParamsError(f"{key}: unknown key(s) {sorted(unknown)}, expected some of {sorted(cls.__dataclass_fields__)}")
        cfg = cls(**d)
        if not 0 < cfg.val_fraction < 1:
            raise ParamsError(f"{key}.val_fraction: expected a number in (0, 1), got {cfg.val_fraction}")
        if cfg.max_epochs < 1 or cfg.batch_size < 1 or cfg.patience < 1:
            raise ParamsError(f"{key}: max_epochs, batch_size and patience must be positive")
        if cfg.max_steps is not None and (isinstance(cfg.max_steps, bool) or not isinstance(cfg.max_steps, int)
                                          or cfg.max_steps < 1):
            raise ParamsError(f"{key}.max_steps: expected a positive integer or null, got {cfg.max_steps!r}")
        if cfg.ema_decay is not None and (isinstance(cfg.ema_decay, bool) or not isinstance(cfg.ema_decay, int | float)
                                          or not 0 < cfg.ema_decay < 1):
            raise ParamsError(f"{key}.ema_decay: expected a number in (0, 1) or null, got {cfg.ema_decay!r}")
        if cfg.lr_decay_factor is not None and (isinstance(cfg.lr_decay_factor, bool)
                                                or not isinstance(cfg.lr_decay_factor, int | float)
                                                or not 0 < cfg.lr_decay_factor < 1):
            raise ParamsError(f"{key}.lr_decay_factor: expected a number in (0, 1) or null, got {cfg.lr_decay_factor!r}")
        if isinstance(cfg.lr_decay_patience, bool) or not isinstance(cfg.lr_decay_patience, int) or cfg.lr_decay_patience < 1:
            raise ParamsError(f"{key}.lr_decay_patience: expected a positive integer, got {cfg.lr_decay_patience!r}")
        if isinstance(cfg.min_delta, bool) or not isinstance(cfg.min_delta, int | float) or cfg.min_delta < 0:
            raise ParamsError(f"{key}.min_delta: expected a number >= 0, got {cfg.min_delta!r}")
        if cfg.patience_unit not in ("epochs", "steps"):
            raise ParamsError(f"{key}.patience_unit: expected 'epochs' or 'steps', got {cfg.patience_unit!r}")
        return cfg

    def patience_epochs(self, steps_per_epoch: int) -> tuple[int, int]:
        """(patience, lr_decay_patience) in epochs, for epochs of ``steps_per_epoch`` steps."""
        if self.patience_unit == "epochs":
            return self.patience, self.lr_decay_patience
        return (max(1, math.ceil(self.patience / steps_per_epoch)),
                max(1, math.ceil(self.lr_decay_patience / steps_per_epoch)))


@dataclass
class TrainResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = math.inf
    stopped_epoch: int = 0
    max_epochs: int = 0
    # Wall-clock accounting for benchmarks (never used to decide anything): optimiser steps taken,
    # steps in one epoch, the first step's seconds (one-off costs: allocations, kernel set-up), the
    # other steps' seconds, the validation passes' seconds, and the whole call (set-up included).
    steps: int = 0
    steps_per_epoch: int = 0
    first_step_seconds: float = 0.0
    step_seconds: float = 0.0
    validation_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def epochs_saved(self) -> int:
        """Epochs early stopping spared against the configured maximum."""
        return self.max_epochs - self.stopped_epoch


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as e:
        raise ParamsError(f"training.device: '{device}' is not a torch device ({e})") from e


LossFn = Callable[[nn.Module, torch.Tensor], torch.Tensor]
OptimizersFn = Callable[[nn.Module, TrainConfig], list[torch.optim.Optimizer]]
#: one batch's updates, with the optimizers ``OptimizersFn`` built; returns the loss to log.
StepFn = Callable[[nn.Module, torch.Tensor, list[torch.optim.Optimizer]], float]


class WeightAverage:
    """An exponential moving average of a module's floating-point state (parameters and float
    buffers; integer buffers such as step counters are copied). The decay is warmed up as
    min(decay, (1 + n) / (10 + n)) after n updates, so that the average is not anchored to the
    random initial weights."""

    def __init__(self, module: nn.Module, decay: float) -> None:
        self.decay, self.updates = decay, 0
        self.state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        # Which entries are averaged is fixed by the module: split once, not at every step.
        self.floats = [k for k, v in self.state.items() if v.is_floating_point()]
        self.others = [k for k, v in self.state.items() if not v.is_floating_point()]

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        self.updates += 1
        weight = 1 - min(self.decay, (1 + self.updates) / (10 + self.updates))
        live = module.state_dict()
        torch._foreach_lerp_([self.state[k] for k in self.floats], [live[k].detach() for k in self.floats], weight)
        for k in self.others:
            self.state[k].copy_(live[k])

    def swap(self, module: nn.Module) -> None:
        """Exchange the module's weights and the average (call twice to undo)."""
        live = {k: v.detach().clone() for k, v in module.state_dict().items()}
        module.load_state_dict(self.state)
        self.state = live


def default_optimizers(module: nn.Module, cfg: TrainConfig) -> list[torch.optim.Optimizer]:
    return [torch.optim.AdamW(module.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)]


def fit(
    module: nn.Module,
    loss_fn: LossFn,
    data: torch.Tensor,
    cfg: TrainConfig,
    checkpoint_dir: str | Path | None = None,
    on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
    optimizers: OptimizersFn | None = None,
    step: StepFn | None = None,
) -> TrainResult:
    """Train ``module`` to minimise ``loss_fn(module, batch)``; returns the loss history.

    ``data`` is one tensor whose first axis is rows. The module is left holding the weights of
    the epoch with the best validation loss.

    ``optimizers`` (default: one AdamW over all parameters) and ``step`` (default: backward of
    ``loss_fn`` and a step of every optimizer) let a model with several players, such as a GAN,
    run its own updates; ``loss_fn`` stays the validation criterion. ``step`` must draw its
    randomness from torch's global generator, which is re-seeded every epoch, for resumes to be
    exact.
    """
    called = time.perf_counter()
    rank, world, device = _setup(cfg)
    if world > 1 and step is not None:
        raise ParamsError("training.distributed: models with their own update step (e.g. a GAN's two "
                          "players) train in one process only; set distributed: false")
    module.to(device)
    split = torch.randperm(len(data), generator=torch.Generator().manual_seed(cfg.seed))
    n_val = max(1, int(round(cfg.val_fraction * len(data)))) if len(data) > 1 else 0
    val, train = data[split[:n_val]].to(device), data[split[n_val:]].to(device)
    optims = (optimizers or default_optimizers)(module, cfg)
    # DDP synchronises gradients only through its wrapper's forward: the objective is wrapped so
    # that forward *is* the loss.
    objective = _Objective(module, loss_fn)
    if world > 1:
        objective = nn.parallel.DistributedDataParallel(objective)

    result = TrainResult(max_epochs=cfg.max_epochs)

    def out_of_steps(res: TrainResult) -> bool:
        return cfg.max_steps is not None and res.steps >= cfg.max_steps

    best_state = copy.deepcopy(module.state_dict())
    average = WeightAverage(module, cfg.ema_decay) if cfg.ema_decay is not None else None
    # plateau_epochs: epochs without improvement since the best epoch or the last lr reduction.
    plateau_epochs, start_epoch = 0, 1
    ckpt = Path(checkpoint_dir) / CHECKPOINT if checkpoint_dir else None
    if ckpt is not None and ckpt.exists():
        # Tensors, numbers and plain containers only: a checkpoint file cannot run code.
        state = torch.load(ckpt, map_location=device, weights_only=True)
        if not config_matches(state["config"], cfg) or state["data_key"] != _data_key(data):
            raise ParamsError(
                f"{ckpt} was written with other training params or data; delete it to restart"
            )
        module.load_state_dict(state["module"])
        saved = state["optims"] if "optims" in state else [state["optim"]]  # single-optimizer format
        if len(saved) != len(optims):
            raise ParamsError(f"{ckpt} holds {len(saved)} optimizer state(s), this run has {len(optims)}")
        for optim, optim_state in zip(optims, saved, strict=True):
            optim.load_state_dict(optim_state)
        best_state = state["best_state"]
        # Checkpoints older than the lr plateau counted epochs without a gain as bad_epochs.
        plateau_epochs = state.get("plateau_epochs", state.get("bad_epochs", 0))
        if average is not None:
            average.state, average.updates = state["ema"]["state"], state["ema"]["updates"]
        result = TrainResult(**state["result"])
        start_epoch = result.stopped_epoch + 1
    result.steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    patience, lr_decay_patience = cfg.patience_epochs(result.steps_per_epoch)

    # disable=None: tqdm shows the bar on a terminal only, keeping dvc logs and CI output clean.
    bar = tqdm(range(start_epoch, cfg.max_epochs + 1), disable=None if cfg.progress and rank == 0 else True, desc="train",
               initial=start_epoch - 1, total=cfg.max_epochs, leave=False)
    for epoch in bar:
        if out_of_steps(result):
            break  # a resumed run whose step budget was already spent
        torch.manual_seed(cfg.seed * 100_003 + epoch)
        module.train()
        order = torch.randperm(len(train), device=device)
        total, count = 0.0, 0
        for i in range(0, len(train), cfg.batch_size):
            if out_of_steps(result):
                break
            rows = order[i : i + cfg.batch_size]
            if len(rows) < world:
                continue  # every rank must take part in each step: all skip the same tail
            step_start = time.perf_counter()
            batch = train[rows[rank::world]]
            if step is not None:
                batch_loss = float(step(module, batch, optims))
            else:
                loss = objective(batch)
                for optim in optims:
                    optim.zero_grad(set_to_none=True)
                loss.backward()
                for optim in optims:
                    optim.step()
                batch_loss = float(loss.detach())
            if average is not None:
                average.update(module)
            # float() above waited for the device, so this is the step's real wall time.
            elapsed = time.perf_counter() - step_start
            if result.steps == 0:
                result.first_step_seconds = elapsed
            else:
                result.step_seconds += elapsed
            result.steps += 1
            total += batch_loss * len(batch)
            count += len(batch)
        validation_start = time.perf_counter()
        if average is not None:
            average.swap(module)  # validate (and keep as best) the averaged weights
        val_loss = _evaluate(module, loss_fn, val if n_val else train, cfg)
        result.validation_seconds += time.perf_counter() - validation_start
        if world > 1:
            # Same weights on every rank give the same validation loss; averaging it anyway keeps
            # the stopping decision identical even if float kernels differ between devices.
            sums = torch.tensor([total, float(count), val_loss], dtype=torch.float64)
            torch.distributed.all_reduce(sums)
            total, count, val_loss = float(sums[0]), int(sums[1]), float(sums[2]) / world
        row = {"epoch": epoch, "train_loss": total / max(count, 1), "val_loss": val_loss,
               "lr": optims[0].param_groups[0]["lr"]}
        result.history.append(row)
        result.stopped_epoch = epoch
        if val_loss < result.best_val_loss:
            result.best_val_loss, result.best_epoch, plateau_epochs = val_loss, epoch, 0
            best_state = copy.deepcopy(module.state_dict())
        else:
            plateau_epochs += 1
            if cfg.lr_decay_factor is not None and plateau_epochs >= lr_decay_patience:
                # Optimiser state_dicts carry each group's lr, so a resume continues the decay.
                for optim in optims:
                    for group in optim.param_groups:
                        group["lr"] *= cfg.lr_decay_factor
                plateau_epochs = 0
        if average is not None:
            average.swap(module)  # back to the live weights the optimiser updates
        bar.set_postfix(loss=f"{row['train_loss']:.4f}", val=f"{val_loss:.4f}", best=result.best_epoch)
        stop = plateaued([h["val_loss"] for h in result.history], patience, cfg.min_delta) or out_of_steps(result)
        if ckpt is not None and rank == 0 and (epoch % cfg.checkpoint_every == 0 or stop or epoch == cfg.max_epochs):
            _save_checkpoint(ckpt, module, optims, best_state, result, cfg, _data_key(data), average,
                             plateau_epochs)
        if on_epoch_end is not None:
            on_epoch_end(epoch, row)
        if stop:
            break
    bar.close()
    module.load_state_dict(best_state)
    result.seconds += time.perf_counter() - called
    return result


def plateaued(val_losses: list[float], patience: int, min_delta: float = 0.0) -> bool:
    """Whether the last ``patience`` validation losses fall less than ``min_delta`` below the
    lowest one before them (never before ``patience`` + 1 epochs)."""
    if len(val_losses) <= patience:
        return False
    return not min(val_losses[-patience:]) < min(val_losses[:-patience]) - min_delta


class _Objective(nn.Module):
    """``forward(batch)`` is the training loss, so DistributedDataParallel can wrap it."""

    def __init__(self, module: nn.Module, loss_fn: LossFn) -> None:
        super().__init__()
        self.module, self.loss_fn = module, loss_fn

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(self.module, batch)


def config_matches(saved: dict[str, Any], cfg: TrainConfig) -> bool:
    """Whether a checkpoint's recorded config is ``cfg``; keys added to TrainConfig since it was
    written take their defaults, which keep the old behaviour."""
    return {**asdict(TrainConfig()), **saved} == asdict(cfg)


def is_main_process() -> bool:
    """False on the ranks > 0 of a torchrun launch: only rank 0 writes a stage's outputs."""
    return int(os.environ.get("RANK", "0")) == 0


def _setup(cfg: TrainConfig) -> tuple[int, int, torch.device]:
    """(rank, world size, device); joins the process group torchrun describes when distributed."""
    if not cfg.distributed:
        return 0, 1, resolve_device(cfg.device)
    if "WORLD_SIZE" not in os.environ or not torch.distributed.is_available():
        raise ParamsError("training.distributed: true needs a launch by torchrun (WORLD_SIZE is not set), "
                          "e.g. torchrun --standalone --nproc_per_node 2 -m acacia.cli train <model>")
    device = resolve_device(cfg.device)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return torch.distributed.get_rank(), torch.distributed.get_world_size(), device


@torch.no_grad()
def _evaluate(module: nn.Module, loss_fn: LossFn, data: torch.Tensor, cfg: TrainConfig) -> float:
    module.eval()
    # A fixed seed makes the validation loss of stochastic objectives (diffusion noise levels)
    # comparable from one epoch to the next.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        total = 0.0
        for i in range(0, len(data), cfg.batch_size):
            batch = data[i : i + cfg.batch_size]
            total += float(loss_fn(module, batch)) * len(batch)
    return total / max(len(data), 1)


def _data_key(data: torch.Tensor) -> str:
    """A cheap fingerprint, so a checkpoint is never resumed on other data."""
    return f"{tuple(data.shape)}:{float(data.double().sum()):.10g}:{float(data.double().abs().sum()):.10g}"


def _save_checkpoint(path: Path, module, optims, best_state, result, cfg, data_key,
                     average: WeightAverage | None = None, plateau_epochs: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(
        {"module": module.state_dict(), "optims": [o.state_dict() for o in optims], "best_state": best_state,
         "plateau_epochs": plateau_epochs, "result": asdict(result), "config": asdict(cfg), "data_key": data_key,
         "ema": None if average is None else {"state": average.state, "updates": average.updates}},
        tmp,
    )
    os.replace(tmp, path)
