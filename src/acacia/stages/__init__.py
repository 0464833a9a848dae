"""One thin module per DVC stage: read params, call library code, write outputs."""

from acacia.stages import compare, evaluate, prepare, sample, simulate, train

__all__ = ["compare", "evaluate", "prepare", "sample", "simulate", "train"]
