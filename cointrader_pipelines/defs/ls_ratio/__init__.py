"""Definitions of the `ls_ratio` concept."""
