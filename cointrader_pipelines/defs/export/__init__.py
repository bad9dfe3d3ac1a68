"""Definitions of the `export` concept."""
