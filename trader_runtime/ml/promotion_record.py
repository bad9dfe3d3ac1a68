"""The signed promotion record: what makes a model version servable as champion (D15).

Why: an alias is only a pointer; anyone with access to the MLflow UI can move it and skip the promotion gate and
its audit. The promotion path (`cointrader_pipelines.tracking.registry`, behind `cointrader model promote` and the
pipeline's automatic promotion) therefore writes a record — model, version, SHA-256 of the ONNX file, SHA-256 of
the gate evidence, action, actor, time — and signs it with HMAC-SHA256 under a key only the pipelines and the
trader hold. The trader serves a champion only when the record verifies, names that version, matches the bytes it
downloaded and the evidence stored with it, and is not older than the record of the model it already serves.

Pure functions over values: the key, tags and file bytes are passed in (`trader_runtime.credentials` reads the
key; `model_source.py` reads the registry).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from trader_runtime.backtest.serialization import to_jsonable
from trader_runtime.errors import ModelRefused

#: model-version tags written by the promotion path
RECORD_TAG = "promotion.record"
SIGNATURE_TAG = "promotion.signature"
EVIDENCE_TAG = "promotion.evidence"
#: registered-model tags: the record of the move that made the current champion (binds the alias to one version)
CHAMPION_RECORD_TAG = "champion.record"
CHAMPION_SIGNATURE_TAG = "champion.signature"
RECORD_FORMAT = 1


def canonical_json(value: Any) -> str:
    """One byte-exact JSON text per value (sorted keys, no spaces, strict numbers)."""
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


@dataclass(frozen=True)
class PromotionRecord:
    """One alias move by the promotion path; `time` is ISO-8601 UTC and orders records of one model."""

    model: str
    version: str
    model_sha256: str
    evidence_sha256: str
    action: str  # promote | rollback
    actor: str
    time: str
    previous_version: str | None = None
    format: int = RECORD_FORMAT

    def to_json(self) -> str:
        return canonical_json(asdict(self))

    def sign(self, key: bytes) -> str:
        return hmac.new(key, self.to_json().encode(), hashlib.sha256).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> "PromotionRecord":
        data = json.loads(text)
        fields = set(cls.__dataclass_fields__)
        if not isinstance(data, dict) or not {"model", "version", "model_sha256", "evidence_sha256"} <= set(data):
            raise ValueError("not a promotion record")
        return cls(**{k: v for k, v in data.items() if k in fields})


def build_record(model: str, version: str, model_bytes: bytes, evidence: Mapping[str, Any], *, action: str, actor: str,
                 time: str, previous_version: str | None) -> tuple[PromotionRecord, str]:  # fmt: skip
    """The record of one alias move and the canonical evidence text it covers."""
    evidence_text = canonical_json(dict(evidence))
    record = PromotionRecord(model, str(version), sha256_hex(model_bytes), sha256_hex(evidence_text), action, actor,
                             time, previous_version)  # fmt: skip
    return record, evidence_text


def verify_champion(
    *,
    model: str,
    version: str,
    version_tags: Mapping[str, str],
    model_tags: Mapping[str, str],
    key: bytes,
    served: PromotionRecord | None = None,
) -> PromotionRecord:
    """The verified record of `version` as current champion of `model`; raises ModelRefused saying why not.

    Checks, in order: the version carries a record and signature; the signature verifies under `key`; the record
    names this model and version; the registered model's champion record is the same record (so an alias moved by
    hand to an older, once-promoted version is refused too); the stored evidence hashes to the signed digest; the
    record is not older than the one of the model being served.
    """
    where = f"{model} v{version}"
    raw, sig = version_tags.get(RECORD_TAG), version_tags.get(SIGNATURE_TAG)
    if not raw or not sig:
        raise ModelRefused(f"{where} carries no promotion record: the champion alias was moved outside "
                           "`cointrader model promote` (the promotion gate and its audit were skipped)")  # fmt: skip
    try:
        record = PromotionRecord.from_json(raw)
    except (ValueError, TypeError) as exc:
        raise ModelRefused(f"{where}: promotion record unreadable ({exc})") from None
    if not hmac.compare_digest(record.sign(key), sig):
        raise ModelRefused(f"{where}: promotion record signature does not verify (record edited, or signed with "
                           "another key than this trader's promotion key)")  # fmt: skip
    if record.model != model or record.version != str(version):
        raise ModelRefused(f"{where}: promotion record names {record.model} v{record.version}")
    current_raw, current_sig = model_tags.get(CHAMPION_RECORD_TAG), model_tags.get(CHAMPION_SIGNATURE_TAG)
    if not current_sig or not hmac.compare_digest(current_sig, sig) or current_raw != raw:
        named = _version_of(current_raw)
        raise ModelRefused(f"{where}: the champion alias was moved by hand — the last recorded promotion made "
                           f"v{named} champion; use `cointrader model promote` or `rollback`")  # fmt: skip
    evidence = version_tags.get(EVIDENCE_TAG)
    if evidence is None or not hmac.compare_digest(sha256_hex(evidence), record.evidence_sha256):
        raise ModelRefused(f"{where}: the gate evidence stored with the version does not match its promotion record")
    if served is not None and served.model == record.model and _when(record.time) < _when(served.time):
        raise ModelRefused(f"{where}: promotion record of {record.time} is older than the served champion's "
                           f"({served.time}, v{served.version}); an old record was replayed")  # fmt: skip
    return record


def check_model_bytes(record: PromotionRecord, model_bytes: bytes) -> None:
    """The downloaded ONNX file is the one that was promoted."""
    if not hmac.compare_digest(sha256_hex(model_bytes), record.model_sha256):
        raise ModelRefused(f"{record.model} v{record.version}: the model file differs from the promoted one "
                           "(SHA-256 mismatch)")  # fmt: skip


def _when(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ModelRefused(f"promotion record time {text!r} is not an ISO-8601 time") from None


def _version_of(raw: str | None) -> str:
    if not raw:
        return "? (none recorded)"
    try:
        return PromotionRecord.from_json(raw).version
    except (ValueError, TypeError):
        return "? (unreadable)"
