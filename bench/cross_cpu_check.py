"""Same decisions on other CPU models: the decision fingerprints of this machine against the same computation run
under QEMU's user-mode emulation of other x86-64 CPUs (an AMD EPYC by default).

Emulation makes every CPU-dispatching library (numpy's SIMD loops, OpenBLAS's kernel choice, numba/LLVM's target)
see the emulated CPU's vendor and instruction sets, so an AMD Zen 2 without AVX512 takes the paths such a server
takes. Slow (the emulated run takes tens of minutes); needs `qemu-x86_64` (Debian package qemu-user). Prints one
line per fingerprint and exits 1 if any differs.

    python bench/cross_cpu_check.py [--models EPYC-Rome-v2,Haswell-v4] [--data XRP_PARQUET]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import REAL  # noqa: E402
from _timing import timed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROBE = [sys.executable, "-m", "trader_runtime.testing.decision_digest"]


def fingerprints(prefix: list[str], data: str, cache: Path) -> tuple[dict, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(cache)}
    run = timed(lambda: subprocess.run([*prefix, *PROBE, data], env=env, capture_output=True, text=True, cwd=ROOT),
                children=True)  # fmt: skip
    proc = run.result
    if proc.returncode != 0:
        errors = [ln for ln in proc.stderr.splitlines() if "TCG doesn't support" not in ln]
        raise SystemExit(f"fingerprint run failed ({' '.join(prefix) or 'host'}): {' '.join(errors[-3:])}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), run.min_wall


TEETH = ("import hashlib, numpy as np, pandas as pd, pandas_ta as ta; "
         "v = pd.Series(np.random.default_rng(1).lognormal(15, 1, 20000).round(1)); "
         "print(hashlib.sha256(ta.sma(v, length=20, talib=False).to_numpy().tobytes()).hexdigest()[:20])")


def library_path(prefix: list[str], cache: Path) -> str:
    """pandas-ta's SMA (numba's convolve, i.e. OpenBLAS's dot product): the CPU-dependent path our kernels replace."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache / "ta")}
    proc = subprocess.run([*prefix, sys.executable, "-c", TEETH], env=env, capture_output=True, text=True)
    return proc.stdout.strip() or "?"


def cpu_identity(prefix: list[str]) -> str:
    code = "import numpy as np; from numpy._core._multiarray_umath import __cpu_features__ as f; " \
           "print(','.join(k for k in ('AVX2', 'AVX512F', 'FMA3') if f.get(k)) or 'SSE only')"
    proc = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True)
    return proc.stdout.strip() or "?"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="EPYC-Rome-v2", help="QEMU CPU models, comma-separated (qemu-x86_64 -cpu help)")
    ap.add_argument("--data", default=str(REAL / "xrpusdt_combined_15m.parquet"),
                    help="a combined 15m parquet (default: the real XRP year beside the repository)")
    args = ap.parse_args()
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        print("error: qemu-x86_64 not found; install the Debian package qemu-user", file=sys.stderr)
        return 2
    data = args.data if Path(args.data).exists() else ""
    print(f"data: {data or 'synthetic only (real file not found)'}")
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"this machine": ([], Path(tmp) / "host")}
        for model in [m.strip() for m in args.models.split(",") if m.strip()]:
            runs[f"emulated {model}"] = ([qemu, "-cpu", model], Path(tmp) / model)
        results, teeth = {}, {}
        for name, (prefix, cache) in runs.items():
            results[name], wall = fingerprints(prefix, data, cache)
            teeth[name] = library_path(prefix, cache)
            print(f"{name:28s} numpy SIMD {cpu_identity(prefix):18s} {wall:8.1f} s")
    print(f"  {'pandas-ta SMA (not ours)':28s} {'same' if len(set(teeth.values())) == 1 else 'differs':8s} "
          f"{' | '.join(teeth.values())}   (differs = the emulation reached the CPU-dependent library path)")
    base = results["this machine"]
    differ = 0
    for key in base:
        row = [str(r.get(key)) for r in results.values()]
        same = len(set(row)) == 1
        differ += not same
        print(f"  {key:28s} {'same' if same else 'DIFFERS':8s} {' | '.join(row)}")
    print("decisions identical on every CPU tried" if not differ else f"{differ} fingerprint(s) differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
