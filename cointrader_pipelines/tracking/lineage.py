"""Content digests and lineage tags shared by Dagster data versions and MLflow datasets/model versions.

One digest function, so the MLflow dataset digest of `ml_dataset` equals the Dagster data version of the same
materialisation by construction (MLflow limits digests to 36 characters: 32 hex characters are used).
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

DIGEST_LENGTH = 32


def frame_digest(frame: pd.DataFrame) -> str:
    """Stable hash of a frame's index, column names, dtypes and values."""
    h = hashlib.sha256()
    h.update("|".join(f"{c}:{t}" for c, t in frame.dtypes.astype(str).items()).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()[:DIGEST_LENGTH]


def bytes_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:DIGEST_LENGTH]


@lru_cache(maxsize=1)
def git_commit() -> str:
    """The repository's HEAD commit, or "unknown" outside a git checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


@dataclass(frozen=True)
class Lineage:
    """Who produced an MLflow object: the Dagster run, asset, partition, code version and input data version."""

    dagster_run_id: str
    asset_key: str
    partition_key: str | None
    code_version: str
    data_version: str
    dagster_run_url: str

    def tags(self) -> dict[str, str]:
        return {
            "dagster.run_id": self.dagster_run_id,
            "dagster.asset_key": self.asset_key,
            "dagster.partition": self.partition_key or "",
            "dagster.code_version": self.code_version,
            "dagster.data_version": self.data_version,
            "dagster.run_url": self.dagster_run_url,
            "git_commit": git_commit(),
        }
