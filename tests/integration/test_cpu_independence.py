"""Same decisions on every x86-64 machine (issue 9 item 6), proven on one machine.

Each case runs the decision inputs (synthetic market, indicators, signals, features, training dataset) in a fresh
interpreter with the libraries forced onto another code path — numpy without AVX512/AVX2/FMA, numba compiled for a
generic x86-64 CPU, OpenBLAS told it runs on an older or different core — and requires bit-identical results.
Before our own kernels, OpenBLAS's core type alone changed 8 rows of the golden dataset (pandas-ta's SMA runs
through its dot product), and numpy's AVX512 exp changed the synthetic market.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import real_data_path

ROOT = Path(__file__).resolve().parents[2]


NUMPY_FEATURES = "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"
CASES = {
    "numpy SSE only": {"NPY_DISABLE_CPU_FEATURES": NUMPY_FEATURES + " AVX2 FMA3 AVX F16C"},
    "numpy without AVX512, OpenBLAS Haswell core": {"NPY_DISABLE_CPU_FEATURES": NUMPY_FEATURES,
                                                     "OPENBLAS_CORETYPE": "Haswell"},
    "numba generic x86-64, OpenBLAS Sandybridge core": {"NUMBA_CPU_NAME": "generic",
                                                        "OPENBLAS_CORETYPE": "Sandybridge"},
}

def _generic_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """Where the generic-CPU build of the kernels is cached: pytest's cache folder, so it is compiled on the first
    run of the suite in a checkout and loaded afterwards. Loading it still runs code compiled for a generic x86-64
    CPU: numba keys every cached entry by CPU name and features, so a host-CPU build is never served for it (the
    folder only keeps the two apart, they could share one). Without pytest's cache (-p no:cacheprovider), tmp."""
    cache = getattr(request.config, "cache", None)
    return cache.mkdir("numba-generic-cpu") if cache is not None else tmp_path / "numba-generic-cpu"


def _run(env_extra: dict[str, str], data: str, numba_cache: Path | None = None) -> dict:
    env = {**os.environ, **env_extra, "PYTHONPATH": str(ROOT)}
    if numba_cache is not None:
        # the generic-CPU case gets its own numba cache. The other cases change numpy's and OpenBLAS's code paths
        # only; numba compiles the same host-CPU code for them, so they load it from the suite's warm cache.
        env["NUMBA_CACHE_DIR"] = str(numba_cache)
    proc = subprocess.run([sys.executable, "-m", "trader_runtime.testing.decision_digest", data], env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _real_data() -> str:
    path = real_data_path("XRPUSDT")
    if path.exists():
        return str(path)
    assert os.environ.get("CI") != "true", f"reference data missing at {path}"
    return ""


@pytest.fixture(scope="module")
def baseline() -> dict:
    return _run({}, _real_data())


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_decisions_identical_under_other_cpu_code_paths(baseline, case, request, tmp_path):
    generic = "NUMBA_CPU_NAME" in CASES[case]
    other = _run(CASES[case], _real_data(), _generic_cache(request, tmp_path) if generic else None)
    differing = sorted(k for k in baseline if baseline[k] != other.get(k))
    assert not differing, f"{case}: {differing}"
    if "real_long_signals" in baseline:
        assert baseline["real_long_signals"] == 1532  # the golden count of test_reference_signal_counts
        assert baseline["real_dataset_rows"] == 12_076  # the golden dataset of test_golden_fixture_reproduced


def _has_avx512() -> bool:
    try:
        return " avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not _has_avx512(), reason="needs an AVX512 CPU to run OpenBLAS's AVX512 kernel")
def test_pandas_ta_itself_depends_on_the_openblas_kernel():
    """The check above has teeth: pandas-ta's SMA under two OpenBLAS kernels gives different volume averages.
    pandas-ta's numba functions come from the usual warm cache: the OpenBLAS core type does not change them."""
    probe = (
        "import numpy as np, pandas as pd, pandas_ta as ta, hashlib, sys\n"
        "v = pd.Series(np.random.default_rng(1).lognormal(15, 1, 20000).round(1))\n"
        "print(hashlib.sha256(ta.sma(v, length=20, talib=False).to_numpy().tobytes()).hexdigest())\n"
    )
    seen = set()
    for core in ("Haswell", "SkylakeX"):
        env = {**os.environ, "OPENBLAS_CORETYPE": core}
        proc = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        seen.add(proc.stdout.strip())
    assert len(seen) == 2
