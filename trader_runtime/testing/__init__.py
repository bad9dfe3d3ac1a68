"""Test support shipped with the runtime: a local fake Binance USD-M exchange (`fake_exchange`).

Nothing in the product imports this package; tests and the reliability suite do.
"""
