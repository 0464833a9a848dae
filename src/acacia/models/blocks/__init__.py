"""Shared blocks of the non-diffusion models (the diffusion ones are in ``models/diffusion``):
a model file builds on these, never on another model's file, so that editing one model re-runs
only that model's stages."""
