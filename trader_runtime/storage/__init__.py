"""Embedded stores: the DuckDB market-data warehouse (and the runtime journal)."""
