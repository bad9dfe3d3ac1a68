"""Definitions of the `dataset` concept."""
