"""Where a fitted model keeps what its runs of the shared training loop did.

Most models make one run and keep it as ``training_result_``; TabSyn makes two (its VAE, then its
latent diffusion) and chains them there; ``series_gru`` trains only the GRU inside its table codec,
so the model itself holds no result. The train stage (early-stopping record, epochs saved) and the
benchmarks read every model through these two functions instead of knowing each one's layout.
"""

from __future__ import annotations

from typing import Any

from acacia.training.loop import TrainResult

#: TabSyn's two phases, each a run of the loop.
PHASE_ATTRIBUTES = {"vae_result_": "vae", "diffusion_result_": "diffusion"}


def training_phases(model: Any) -> dict[str, TrainResult]:
    """Name → result of every run of the shared loop that ``model``'s fit made (empty: closed form)."""
    phases = {name: getattr(model, attr) for attr, name in PHASE_ATTRIBUTES.items() if hasattr(model, attr)}
    if not phases and getattr(model, "training_result_", None) is not None:
        phases["training"] = model.training_result_
    sequence = getattr(getattr(getattr(model, "codec_", None), "series_", None), "sequence_", None)
    if getattr(sequence, "training_result_", None) is not None:
        phases["series"] = sequence.training_result_
    return {k: v for k, v in phases.items() if v.steps > 0}


def training_result(model: Any) -> TrainResult | None:
    """The one result a train record reports: the model's own (TabSyn's chains its two phases), or
    that of the only network it trained elsewhere; None for a closed-form model."""
    own = getattr(model, "training_result_", None)
    if own is not None:
        return own
    phases = training_phases(model)
    return next(iter(phases.values())) if len(phases) == 1 else None
