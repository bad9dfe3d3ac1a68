"""`python -m trader_runtime.warm` (run by `make setup`) goes through the commands users run and succeeds."""

from __future__ import annotations

from trader_runtime.warm import main


def test_warming_the_kernel_cache_runs_every_command(capsys):
    assert main() == 0
    assert "numba kernels compiled and cached" in capsys.readouterr().out
