"""Definitions of the `training` concept."""
