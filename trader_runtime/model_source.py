"""The only MLflow reader: `models:/<name>@champion` → validated ONNX filter, cached locally, swapped between candles.

Why: the live bot must never serve a model whose inputs differ from the features the core computes, must keep
trading on the last good model when the registry is down, and must say which version took every decision.

- `ModelSource.fetch(current)` resolves the alias; when it points at a new version, downloads that version's
  artifacts into `cache_dir/<name>/<version>/`, checks the MLmodel metadata (`feature_columns` equal to
  `FEATURE_COLUMNS`, `feature_schema_version`), the signature (one float32 tensor of width 26, or columns named
  as the schema) and builds an `OnnxFilter`. Any failure is `ModelUnavailable` and changes nothing.
- The cache keeps every validated version and a `current.json` pointer, so a restart without MLflow starts on
  the last good model (`load_cached`).
- `ModelHolder` is what a bot reads once per candle; `ModelPoller` polls the alias off the event loop and stages a
  new model, which becomes current at the next candle boundary — an atomic reference swap, no candle skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trader_runtime.errors import ModelUnavailable
from trader_runtime.strategy.features import FEATURE_COLUMNS, FEATURE_SCHEMA_VERSION

# Offline by default: MLflow's usage telemetry (a DNS lookup + HTTPS post) stays off unless the user opts in.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

logger = logging.getLogger(__name__)

DEFAULT_ALIAS = "champion"
POINTER = "current.json"


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

    def predict_one(self, features: Any) -> float:
        return float(self.filter.predict(features)[0])


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

    def __repr__(self) -> str:
        return f"ModelSource(name={self.name!r}, alias={self.alias!r})"

    # ------------------------------------------------------------------------------------------ registry
    def _client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def resolve_version(self) -> str:
        try:
            mv = self._client().get_model_version_by_alias(self.name, self.alias)
        except Exception as exc:  # MlflowException, connection errors, sqlite errors
            raise ModelUnavailable(f"cannot resolve {self.name}@{self.alias} at {self.tracking_uri}: {_short(exc)}") from None
        return str(mv.version)

    def fetch(self, current: LoadedModel | None) -> LoadedModel | None:
        """The alias's model if it differs from `current`; None when unchanged. Raises ModelUnavailable."""
        version = self.resolve_version()
        if current is not None and current.version == version:
            return None
        model = self._from_cache(version, "mlflow") or self._download(version)
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
        return self._from_cache(version, "cache")

    # ------------------------------------------------------------------------------------------ artefacts
    def _download(self, version: str) -> LoadedModel:
        import mlflow

        try:
            uri = self._client().get_model_version_download_uri(self.name, version)
        except Exception as exc:
            raise ModelUnavailable(f"{self.name} v{version}: cannot locate artifacts: {_short(exc)}") from None
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".v{version}-", dir=self.cache))
        try:
            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(tmp), tracking_uri=self.tracking_uri))
            model = self._build(local, version, "mlflow")  # validate before it enters the cache
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

    def _from_cache(self, version: str, source: str) -> LoadedModel | None:
        """A version already validated and stored locally (`source` says how it was reached)."""
        path = self.cache / version
        if not (path / "MLmodel").exists():
            return None
        return self._build(path, version, source)

    def _build(self, path: Path, version: str, source: str) -> LoadedModel:
        from mlflow.models import Model

        from trader_runtime.ml.inference import OnnxFilter

        try:
            mlmodel = Model.load(str(path))
        except Exception as exc:
            raise ModelUnavailable(f"{self.name} v{version}: MLmodel unreadable: {_short(exc)}") from None
        meta = dict(mlmodel.metadata or {})
        cols = tuple(meta.get("feature_columns") or ())
        if cols != FEATURE_COLUMNS:
            missing = [c for c in FEATURE_COLUMNS if c not in cols]
            extra = [c for c in cols if c not in FEATURE_COLUMNS]
            raise ModelUnavailable(
                f"{self.name} v{version}: feature_columns differ from the core's 26 ({'missing ' + str(missing) if missing else ''}"
                f"{' unexpected ' + str(extra) if extra else ''}{' order differs' if not missing and not extra else ''})"
            )
        schema = meta.get("feature_schema_version")
        if schema is not None and int(schema) != FEATURE_SCHEMA_VERSION:
            raise ModelUnavailable(f"{self.name} v{version}: feature_schema_version={schema}, core is {FEATURE_SCHEMA_VERSION}")
        _check_signature(mlmodel, self.name, version)
        onnx_files = sorted(path.rglob("*.onnx"))
        if not onnx_files:
            raise ModelUnavailable(f"{self.name} v{version}: no .onnx file in {path}")
        model_threshold = meta.get("threshold")
        threshold = float(model_threshold) if (self.use_model_threshold and model_threshold is not None) else self.threshold
        filt = OnnxFilter(onnx_files[0].read_bytes(), cols, threshold)
        return LoadedModel(self.name, version, self.alias, filt, threshold,
                           None if model_threshold is None else float(model_threshold), source, meta)  # fmt: skip

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
            raise ModelUnavailable(f"{name} v{version}: signature input {inputs} is not one float32 tensor [N, 26]")
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


class ModelPoller:
    """Polls one source every `interval_s` off the loop; errors keep the last good model (ModelUnavailable)."""

    def __init__(self, source: ModelSource, holder: ModelHolder, interval_s: float = 60.0) -> None:
        self.source = source
        self.holder = holder
        self.interval_s = interval_s
        self.failures = 0
        self.last_error: str | None = None

    async def poll_once(self) -> LoadedModel | None:
        basis = self.holder._staged or self.holder.current
        try:
            new = await asyncio.to_thread(self.source.fetch, basis)
        except ModelUnavailable as exc:
            self.failures += 1
            if self.last_error != str(exc):
                logger.warning("model poll: %s (keeping v%s)", exc, self.holder.version)
            self.last_error = str(exc)
            return None
        self.last_error = None
        if new is not None:
            self.holder.stage(new)
        return new

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.poll_once()
