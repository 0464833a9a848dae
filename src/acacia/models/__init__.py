"""Synthesizers: one file per model, all behind the contract of :mod:`acacia.models.base`."""

from acacia.models.base import REGISTRY, Synthesizer, make_model, register

__all__ = ["REGISTRY", "Synthesizer", "make_model", "register"]
