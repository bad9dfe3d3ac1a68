"""Backtest engine: compiled kernel, walk-forward, sweep, metrics, validator (spec 20 §1–§5)."""
