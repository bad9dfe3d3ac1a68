"""Commands the pipelines add to `cointrader` (declared under the `cointrader.commands` entry point group)."""
