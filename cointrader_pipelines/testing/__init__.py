"""Helpers the tests and the benchmarks share (not used by the code location itself)."""
