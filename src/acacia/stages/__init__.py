"""One thin module per DVC stage: read params, call library code, write outputs.

The CLI imports only the stage it runs (``acacia.stages.<name>``): each stage is a separate
process of ``dvc repro``, and importing every stage's libraries would cost each one seconds.
"""

__all__ = ["compare", "evaluate", "prepare", "release", "sample", "simulate", "study", "train", "usecase"]
