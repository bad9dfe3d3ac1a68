"""One exception tree, named for what the caller should do."""


class CoinTraderError(Exception):
    """Root of every error the platform raises on purpose."""


class ConfigError(CoinTraderError):
    """Invalid configuration: exit before any order is sent."""


class DataError(CoinTraderError):
    """Input data is malformed or incomplete: refuse it and change nothing."""


class TemporaryExchangeError(CoinTraderError):
    """Transient exchange failure (rate limit, 5xx, timeout): retry with backoff."""


class OrderRejected(CoinTraderError):
    """The exchange refused an order for a business reason: record it, do not retry."""


class ReconciliationError(CoinTraderError):
    """Local and exchange state disagree beyond repair: stop that symbol, keep SL/TP."""


class ModelUnavailable(CoinTraderError):
    """The model registry or artefact cannot be used: keep the last good model."""


class ModelRefused(ModelUnavailable):
    """The champion lacks a valid promotion record (alias moved by hand, record forged): keep the last good model
    and tell the operator once."""
