"""The signed promotion record: it verifies only untouched, under the right key, for its own version, as the
registered model's current champion record, with its evidence, and never older than the served one."""

from __future__ import annotations

import json

import pytest

from fixtures.trader_models import MODEL, TEST_PROMOTION_KEY
from trader_runtime.errors import ModelRefused
from trader_runtime.ml import promotion_record as pr


def _signed(version: str = "3", time: str = "2026-01-02T00:00:00+00:00") -> tuple[pr.PromotionRecord, dict, dict]:
    record, evidence = pr.build_record(MODEL, version, b"onnx-bytes", {"gate": {"passed": True}}, action="promote",
                                       actor="test", time=time, previous_version=None)  # fmt: skip
    sig = record.sign(TEST_PROMOTION_KEY)
    vtags = {pr.RECORD_TAG: record.to_json(), pr.SIGNATURE_TAG: sig, pr.EVIDENCE_TAG: evidence}
    mtags = {pr.CHAMPION_RECORD_TAG: record.to_json(), pr.CHAMPION_SIGNATURE_TAG: sig}
    return record, vtags, mtags


def test_a_signed_record_verifies_and_every_tampering_is_refused():
    record, vtags, mtags = _signed()
    ok = pr.verify_champion(model=MODEL, version="3", version_tags=vtags, model_tags=mtags, key=TEST_PROMOTION_KEY)
    assert ok == record
    pr.check_model_bytes(record, b"onnx-bytes")
    edited = json.loads(vtags[pr.RECORD_TAG]) | {"model_sha256": "0" * 64}
    cases = {
        "carries no promotion record": ({}, mtags, TEST_PROMOTION_KEY, "3"),
        "signature does not verify": ({**vtags, pr.RECORD_TAG: pr.canonical_json(edited)}, mtags, TEST_PROMOTION_KEY, "3"),
        "another key": (vtags, mtags, b"some-other-key-0123456789", "3"),
        "names cointrader-filter-XRPUSDT v3": (vtags, mtags, TEST_PROMOTION_KEY, "4"),
        "moved by hand": (vtags, {}, TEST_PROMOTION_KEY, "3"),
        "evidence": ({**vtags, pr.EVIDENCE_TAG: '{"gate":{"passed":false}}'}, mtags, TEST_PROMOTION_KEY, "3"),
    }
    for match, (v, m, key, version) in cases.items():
        with pytest.raises(ModelRefused, match=match):
            pr.verify_champion(model=MODEL, version=version, version_tags=v, model_tags=m, key=key)
    newer, _, _ = _signed(time="2026-02-01T00:00:00+00:00")
    with pytest.raises(ModelRefused, match="older than the served"):
        pr.verify_champion(model=MODEL, version="3", version_tags=vtags, model_tags=mtags, key=TEST_PROMOTION_KEY, served=newer)
    with pytest.raises(ModelRefused, match="differs from the promoted"):
        pr.check_model_bytes(record, b"other-bytes")
