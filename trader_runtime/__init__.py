"""CoinTrader strategy core and trading service (never imports Dagster)."""

__version__ = "0.1.0"
