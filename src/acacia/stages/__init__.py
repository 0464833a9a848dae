"""One thin module per DVC stage: read params, call library code, write outputs."""

from acacia.stages import (
    compare,
    evaluate,
    prepare,
    release,
    sample,
    simulate,
    study,
    train,
    usecase,
)

__all__ = ["compare", "evaluate", "prepare", "release", "sample", "simulate", "study", "train", "usecase"]
