"""Binance USD-M adapter (python-binance): demo and live differ only in settings; vendor errors mapped in errors.py."""
