"""Binance USD-M adapter (python-binance): demo and live differ only in settings (D4)."""
