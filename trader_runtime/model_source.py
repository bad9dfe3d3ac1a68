"""The only MLflow reader: `models:/<name>@champion` → validated ONNX filter, cached locally, swapped between candles.

Why: the live bot must never serve a model whose inputs differ from the features the core computes, must keep
trading on the last good model when the registry is down, and must say which version took every decision.

- `ModelSource.fetch(current)` resolves the alias; when it points at a new version, downloads that version's
  artifacts into `cache_dir/<name>/<version>/`, checks the MLmodel metadata (`feature_columns` equal to
  `FEATURE_COLUMNS`, `feature_schema_version`, `filled_features` all fillable by the live feed), the signature (one
  float32 tensor of width 30, or columns named as the schema) and builds an `OnnxFilter`. Any failure is
  `ModelUnavailable` and changes nothing.
- Before anything is downloaded, the champion's signed promotion record must verify (`ml.promotion_record`): an
  alias moved by hand in the MLflow UI, a forged or replayed record, or a model file that differs from the promoted
  one is `ModelRefused` — the trader keeps the last good model, the poller alerts once, `/status` says why.
- The cache keeps every validated version (with its promotion record) and a `current.json` pointer, so a restart
  without MLflow starts on the last good model (`load_cached`).
- `ModelHolder` is what a bot reads once per candle; `ModelPoller` polls the alias off the event loop and stages a
  new model, which becomes current at the next candle boundary — an atomic reference swap, no candle skipped.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trader_runtime.credentials import promotion_key
from trader_runtime.errors import ConfigError, ModelRefused, ModelUnavailable
from trader_runtime.ml.promotion_record import PromotionRecord, check_model_bytes, verify_champion
from trader_runtime.strategy.features import FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION, LIVE_FEED_FEATURES

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Offline by default: MLflow's usage telemetry (a DNS lookup + HTTPS post) stays off unless the user opts in.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

logger = logging.getLogger(__name__)

DEFAULT_ALIAS = "champion"
POINTER = "current.json"
RECORD_FILE = "promotion.json"


@dataclass(frozen=True)
class LoadedModel:
    """A servable model version; `threshold` is the one the gate uses (D5)."""

    name: str
    version: str
    alias: str
    filter: Any  # trader_runtime.ml.inference.OnnxFilter
    threshold: float
    model_threshold: float | None
    source: str  # "mlflow" or "cache"
    metadata: dict[str, Any]
    promotion: PromotionRecord | None = None

    def predict_one(self, features: Any) -> float:
        return float(self.filter.predict(features)[0])

    def predict_row(self, values: np.ndarray, names: pd.Index) -> float:
        """P(label = 1) of one live feature row given as values and names (no pandas object per candle)."""
        return self.filter.predict_row(values, names)


class ModelSource:
    """Read-only access to one registered model's alias."""

    def __init__(
        self,
        tracking_uri: str,
        model_name: str,
        *,
        alias: str = DEFAULT_ALIAS,
        cache_dir: str | Path = ".model_cache",
        threshold: float = 0.55,
        use_model_threshold: bool = True,
        key: bytes | None = None,
        key_file: Path | None = None,
    ) -> None:
        # the runtime must not hang on a dead registry: few HTTP retries, short timeout (env wins if set)
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        self.tracking_uri = tracking_uri
        self.name = model_name
        self.alias = alias
        self.cache = Path(cache_dir) / model_name
        self.threshold = float(threshold)
        self.use_model_threshold = use_model_threshold
        self._key = key
        self._key_file = key_file

    @property
    def key(self) -> bytes:
        """The promotion key (read on first use); without one no champion can be verified."""
        if self._key is None:
            try:
                self._key = promotion_key(self._key_file)
            except ConfigError as exc:
                raise ModelRefused(f"{self.name}: cannot verify promotion records: {exc}") from None
        return self._key

    def __repr__(self) -> str:
        return f"ModelSource(name={self.name!r}, alias={self.alias!r})"

    # ------------------------------------------------------------------------------------------ registry
    def _client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def _alias_target(self) -> Any:
        try:
            return self._client().get_model_version_by_alias(self.name, self.alias)
        except Exception as exc:  # MlflowException, connection errors, sqlite errors
            raise ModelUnavailable(f"cannot resolve {self.name}@{self.alias} at {self.tracking_uri}: {_short(exc)}") from None

    def resolve_version(self) -> str:
        return str(self._alias_target().version)

    def fetch(self, current: LoadedModel | None) -> LoadedModel | None:
        """The alias's model if it differs from `current`; None when unchanged. Raises ModelUnavailable, or
        ModelRefused when the champion's promotion record does not verify."""
        mv = self._alias_target()
        version = str(mv.version)
        if current is not None and current.version == version:
            return None
        try:
            model_tags = dict(self._client().get_registered_model(self.name).tags)
        except Exception as exc:
            raise ModelUnavailable(f"cannot read {self.name} at {self.tracking_uri}: {_short(exc)}") from None
        record = verify_champion(model=self.name, version=version, version_tags=dict(mv.tags), model_tags=model_tags,
                                 key=self.key, served=current.promotion if current else None)  # fmt: skip
        try:
            model = self._from_cache(version, "mlflow", record)
        except ModelRefused:  # a stale cache entry under the same version number (another registry): fetch again
            model = None
        model = model or self._download(version, record)
        self._write_record(version, record)
        self._write_pointer(version)
        return model

    def load_cached(self) -> LoadedModel | None:
        """The last good model from the local cache (used when the registry is unreachable at start-up)."""
        pointer = self.cache / POINTER
        if not pointer.exists():
            return None
        try:
            version = str(json.loads(pointer.read_text())["version"])
        except (ValueError, KeyError) as exc:
            raise ModelUnavailable(f"model cache pointer {pointer} is unreadable: {exc}") from None
        return self._from_cache(version, "cache", self._cached_record(version))

    def _cached_record(self, version: str) -> PromotionRecord:
        """The record stored with a cached version, re-verified under the key (a cache edited by hand is refused)."""
        path = self.cache / version / RECORD_FILE
        try:
            stored = json.loads(path.read_text())
            record = PromotionRecord.from_json(stored["record"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ModelRefused(f"{self.name} v{version}: cached model has no readable promotion record ({path})") from None
        if not hmac.compare_digest(record.sign(self.key), str(stored.get("signature", ""))) or record.version != version:
            raise ModelRefused(f"{self.name} v{version}: cached promotion record does not verify")
        return record

    def _write_record(self, version: str, record: PromotionRecord) -> None:
        path = self.cache / version / RECORD_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"record": record.to_json(), "signature": record.sign(self.key)}))
        tmp.replace(path)

    # ------------------------------------------------------------------------------------------ artefacts
    def _download(self, version: str, record: PromotionRecord) -> LoadedModel:
        import mlflow

        try:
            uri = self._client().get_model_version_download_uri(self.name, version)
        except Exception as exc:
            raise ModelUnavailable(f"{self.name} v{version}: cannot locate artifacts: {_short(exc)}") from None
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".v{version}-", dir=self.cache))
        try:
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp), tracking_uri=self.tracking_uri))
            model = self._build(local, version, "mlflow", record)  # validate before it enters the cache
            final = self.cache / version
            if final.exists():
                shutil.rmtree(final)
            local.rename(final) if local != tmp else tmp.rename(final)
        except ModelUnavailable:
            raise
        except Exception as exc:
            raise ModelUnavailable(f"{self.name} v{version}: download failed: {_short(exc)}") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        logger.info("model %s v%s downloaded into %s", self.name, version, self.cache / version)
        return model

    def _from_cache(self, version: str, source: str, record: PromotionRecord) -> LoadedModel | None:
        """A version already validated and stored locally (`source` says how it was reached)."""
        path = self.cache / version
        if not (path / "MLmodel").exists():
            return None
        return self._build(path, version, source, record)

    def _build(self, path: Path, version: str, source: str, record: PromotionRecord) -> LoadedModel:
        from mlflow.models import Model

        from trader_runtime.ml.inference import OnnxFilter

        try:
            mlmodel = Model.load(str(path))
        except Exception as exc:
            raise ModelUnavailable(f"{self.name} v{version}: MLmodel unreadable: {_short(exc)}") from None
        meta = dict(mlmodel.metadata or {})
        cols = tuple(meta.get("feature_columns") or ())
        schema = meta.get("feature_schema_version")
        if schema is not None and int(schema) != FEATURE_SCHEMA_VERSION:
            raise ModelUnavailable(f"{self.name} v{version}: built for feature schema {schema} ({len(cols)} features), "
                                   f"this trader computes schema {FEATURE_SCHEMA_VERSION} ({len(FEATURE_COLUMNS)} "
                                   "features); retrain the model")
        if cols != FEATURE_COLUMNS:
            missing = [c for c in FEATURE_COLUMNS if c not in cols]
            extra = [c for c in cols if c not in FEATURE_COLUMNS]
            raise ModelUnavailable(
                f"{self.name} v{version}: feature_columns differ from the core's {len(FEATURE_COLUMNS)} "
                f"({'missing ' + str(missing) if missing else ''}"
                f"{' unexpected ' + str(extra) if extra else ''}{' order differs' if not missing and not extra else ''})"
            )
        unfillable = [c for c in meta.get("filled_features") or () if c not in LIVE_FEED_FEATURES]
        if unfillable:
            raise ModelUnavailable(f"{self.name} v{version}: trained with features the live market feed cannot fill "
                                   f"({', '.join(unfillable)}); train it on data without them")
        _check_signature(mlmodel, self.name, version)
        onnx_files = sorted(path.rglob("*.onnx"))
        if not onnx_files:
            raise ModelUnavailable(f"{self.name} v{version}: no .onnx file in {path}")
        onnx_bytes = onnx_files[0].read_bytes()
        check_model_bytes(record, onnx_bytes)
        model_threshold = meta.get("threshold")
        threshold = float(model_threshold) if (self.use_model_threshold and model_threshold is not None) else self.threshold
        filt = OnnxFilter(onnx_bytes, cols, threshold)
        return LoadedModel(self.name, version, self.alias, filt, threshold,
                           None if model_threshold is None else float(model_threshold), source, meta, record)  # fmt: skip

    def _write_pointer(self, version: str) -> None:
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = self.cache / (POINTER + ".tmp")
        tmp.write_text(json.dumps({"version": version, "alias": self.alias}))
        tmp.replace(self.cache / POINTER)


def _check_signature(mlmodel: Any, name: str, version: str) -> None:
    sig = mlmodel.signature
    if sig is None:
        raise ModelUnavailable(f"{name} v{version}: no signature; refusing a model whose inputs cannot be checked")
    inputs = sig.inputs
    if inputs.is_tensor_spec():
        specs = inputs.inputs
        shape = tuple(specs[0].shape) if len(specs) == 1 else ()
        dtype = str(specs[0].type) if len(specs) == 1 else ""
        if len(specs) != 1 or len(shape) != 2 or shape[1] != len(FEATURE_COLUMNS) or dtype != "float32":
            raise ModelUnavailable(f"{name} v{version}: signature input {inputs} is not one float32 tensor [N, {len(FEATURE_COLUMNS)}]")
    else:
        names = tuple(inputs.input_names())
        if names != FEATURE_COLUMNS:
            raise ModelUnavailable(f"{name} v{version}: signature columns {names} differ from the core's features")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


class ModelHolder:
    """The model a bot serves: `current` changes only through `swap`, which the bot calls between candles."""

    def __init__(self, model: LoadedModel | None = None) -> None:
        self.current = model
        self._staged: LoadedModel | None = None

    def stage(self, model: LoadedModel) -> None:
        self._staged = model

    def take(self) -> LoadedModel | None:
        """Called at the start of each candle: promote a staged model, then return the one to use."""
        if self._staged is not None:
            previous = self.current.version if self.current else None
            self.current, self._staged = self._staged, None
            logger.info("model %s hot-swapped v%s -> v%s", self.current.name, previous, self.current.version)
        return self.current

    @property
    def version(self) -> str | None:
        return None if self.current is None else self.current.version

    @property
    def empty(self) -> bool:
        """No model served and none staged for the next candle."""
        return self.current is None and self._staged is None


class ModelPoller:
    """Polls one source every `interval_s` off the loop; errors keep the last good model (ModelUnavailable)."""

    def __init__(self, source: ModelSource, holder: ModelHolder, interval_s: float = 60.0,
                 on_refused: Callable[[str], None] | None = None) -> None:  # fmt: skip
        self.source = source
        self.holder = holder
        self.interval_s = interval_s
        self.on_refused = on_refused
        self.failures = 0
        self.last_error: str | None = None
        self.refused: str | None = None  # why the alias's champion is not served (shown by /status)

    def refuse(self, reason: str) -> None:
        """Record a refusal; the operator is alerted once per distinct reason, not on every poll."""
        if reason != self.refused:
            logger.error("model refused, keeping v%s: %s", self.holder.version, reason)
            if self.on_refused is not None:
                self.on_refused(reason)
        self.refused = reason

    async def poll_once(self) -> LoadedModel | None:
        basis = self.holder._staged or self.holder.current
        try:
            new = await asyncio.to_thread(self.source.fetch, basis)
        except ModelRefused as exc:
            self.failures += 1
            self.last_error = str(exc)
            self.refuse(str(exc))
            return None
        except ModelUnavailable as exc:
            self.failures += 1
            if self.last_error != str(exc):
                logger.warning("model poll: %s (keeping v%s)", exc, self.holder.version)
            self.last_error = str(exc)
            return None
        self.last_error = None
        self.refused = None
        if new is not None:
            self.holder.stage(new)
        return new

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.poll_once()
