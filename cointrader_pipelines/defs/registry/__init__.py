"""Definitions of the `registry` concept."""
