"""The soak: replay days of 15m candles through the real service at full speed while a seeded dice throws faults
from the scenario catalogue at it, and check every invariant along the way and at the end.

Faults are armed as counted `FaultRule`s (they fire at the next matching request or event; an armed rule that
never found a match is reported as such, not as injected; a kind is not armed again while its rule still waits, so
REST failures never stack beyond one retry sequence of the adapter), applied to the streams at once, or done to the process
(crash, graceful restart) and the account (a manual close in the app, a liquidation). Every `check_every` candles
the run must become consistent again within the reconciliation window; faults injected before a passing check and
after which the service kept processing candles count as survived.

`run_soak` is shared by `test_soak.py` (CI: about a week) and `bench/soak.py` (a month, figures printed).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from trader_runtime.cli.trader import cmd_reset_kill
from trader_runtime.config import StrategyParams
from trader_runtime.strategy.features import MIN_LIVE_CANDLES
from trader_runtime.testing.fake_exchange import (Delay, DropConnection, DropEvent, Duplicate, EditEvent,
                                                  ExpireListenKey, FaultRule, HttpError, PartialFill, Reorder, Silence,
                                                  binance_error, order_rejected, rate_limited, server_error)

from tests.integration.faults.harness import CandleNotProcessed, TradingRun, build_run
from tests.integration.faults.invariants import Report, check_all, read_journal
from tests.integration.faults.market import SEED

#: more entries than FAST_PARAMS (gates relaxed further) so a week sees a useful number of trades
SOAK_PARAMS = StrategyParams(atr_sl_mult=1.0, atr_tp_mult=1.0, signal_threshold=2, adx_threshold=10.0, volume_multiplier=1.2)
CANDLES_PER_DAY = 96


@dataclass(frozen=True)
class SoakConfig:
    days: int = 7
    seed: int = SEED
    fault_every: float = 6.0  # mean candles between two fault draws
    check_every: int = 48  # candles between full invariant checks
    symbols: tuple[str, ...] = ("XRPUSDT",)
    params: StrategyParams = SOAK_PARAMS
    reconcile_s: float = 1.0  # the service's periodic reconciliation (wall clock)
    recover_s: float = 30.0  # a candle must reach the bots within this after any fault


@dataclass
class SoakResult:
    config: SoakConfig
    candles: int = 0
    trades: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    drawn: Counter[str] = field(default_factory=Counter)  # faults chosen by the dice
    injected: Counter[str] = field(default_factory=Counter)  # faults that actually hit the service
    survived: int = 0
    checks: int = 0
    check_rounds: int = 0
    violations: list[str] = field(default_factory=list)
    starts: int = 0
    kills: int = 0
    slow_candles: int = 0  # candles that needed a stream recovery before they were processed
    longest_bare_s: float = 0.0
    wall_s: float = 0.0
    kill_resets: int = 0
    killed_since: dict[str, int] = field(default_factory=dict)
    timeline: list[tuple[float, int, str]] = field(default_factory=list)  # (monotonic time, candle, fault drawn)
    bare: list[tuple[float, float, str]] = field(default_factory=list)  # over-budget windows: (start, seconds, symbol)

    @property
    def injected_total(self) -> int:
        return sum(self.injected.values())

    def summary(self) -> str:
        c = self.config
        lines = [
            f"soak: {c.days} days x {len(c.symbols)} symbol(s) ({', '.join(c.symbols)}), seed {c.seed}, "
            f"one fault draw per {c.fault_every:g} candles on average",
            f"candles replayed        {self.candles}",
            f"trades closed           {self.trades}  {dict(sorted(self.reasons.items()))}",
            f"faults injected         {self.injected_total}",
            f"faults survived         {self.survived}",
            f"invariant checks        {self.checks} in {self.check_rounds} rounds, violations {len(self.violations)}",
            f"service starts / kills  {self.starts} / {self.kills}",
            f"kill-switch resets      {self.kill_resets} (operator, after a day)",
            f"candles needing recovery {self.slow_candles}",
            f"longest bare position   {self.longest_bare_s:.3f} s",
            f"wall time               {self.wall_s:.1f} s",
            "faults by kind (injected / drawn):",
        ]
        for name in sorted(set(self.drawn) | set(self.injected)):
            lines.append(f"  {name:<30}{self.injected[name]:>5} / {self.drawn[name]}")
        if self.violations:
            lines.append("violations:")
            lines += [f"  - {v}" for v in self.violations[:20]]
        for start, seconds, symbol in self.bare:
            near = [f"candle {c}: {n} ({t - start:+.1f} s)" for t, c, n in self.timeline if start - 15 <= t <= start + seconds]
            lines.append(f"bare {symbol} for {seconds:.2f} s; faults around it: {near}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ the dice
Arm = Callable[[TradingRun, random.Random], "list[FaultRule] | int"]


def _rule(run: TradingRun, name: str, **kw: object) -> list[FaultRule]:
    return [run.fault(FaultRule(name=name, **kw))]  # type: ignore[arg-type]


def _stream(action: object) -> Arm:
    def arm(run: TradingRun, rng: random.Random) -> int:
        return run.fx.inject(action)  # type: ignore[arg-type]
    return arm


def _crash(run: TradingRun, rng: random.Random) -> int:
    run.restart(kill=True)
    return 1


def _graceful(run: TradingRun, rng: random.Random) -> int:
    run.restart(kill=False)
    return 1


def _external_close(liquidation: bool) -> Arm:
    """Close an open position from outside; with none open, -1: the close waits for the next open position (a
    manual close drawn while flat used to be dropped, so the soak never exercised it)."""
    def arm(run: TradingRun, rng: random.Random) -> int:
        open_symbols = [s for s in run.symbols if run.position(s) != 0]
        if not open_symbols:
            return DEFERRED
        run.fx.close_position_externally(rng.choice(open_symbols), liquidation=liquidation)
        return 1
    return arm


#: an account fault that needs an open position returns this when there is none; it is retried every candle
DEFERRED = -1


FILL_EVENT = {"e": "ORDER_TRADE_UPDATE", "x": "TRADE"}
MENU: dict[str, tuple[float, Arm]] = {
    "order 5xx": (3, lambda r, g: _rule(r, "order 5xx", method="POST", path="/fapi/v1/order", error=server_error(503))),
    "order 429 retry-after": (2, lambda r, g: _rule(r, "order 429 retry-after", method="POST", path="/fapi/v1/order", error=rate_limited(1))),
    "order timeout, executed": (3, lambda r, g: _rule(r, "order timeout, executed", method="POST", path="/fapi/v1/order",
                                                      action=Delay(6.0, execute=True))),
    "order timeout, not executed": (2, lambda r, g: _rule(r, "order timeout, not executed", method="POST",
                                                          path="/fapi/v1/order", action=Delay(6.0, execute=False))),
    "entry margin rejected": (2, lambda r, g: _rule(r, "entry margin rejected", method="POST", path="/fapi/v1/order",
                                                    params={"reduceOnly": ""}, error=order_rejected(-2019))),
    "margin type -4047": (1, lambda r, g: _rule(r, "margin type -4047", method="POST", path="/fapi/v1/marginType",
                                                error=binance_error(-4047))),
    "SL/TP rejected once": (3, lambda r, g: _rule(r, "SL/TP rejected once", method="POST", path="/fapi/v1/algoOrder",
                                                  error=order_rejected(-2021))),
    "SL/TP rejected 3x (emergency)": (1, lambda r, g: _rule(r, "SL/TP rejected 3x (emergency)", method="POST",
                                                            path="/fapi/v1/algoOrder", times=3, error=server_error(503))),
    "partial fill": (3, lambda r, g: _rule(r, "partial fill", action=PartialFill((0.3, 0.3, 0.4)))),
    "duplicate fill event": (3, lambda r, g: _rule(r, "duplicate fill event", params=FILL_EVENT, action=Duplicate(1))),
    "reordered fill event": (2, lambda r, g: _rule(r, "reordered fill event", params=FILL_EVENT, action=Reorder(2))),
    "dropped fill event": (3, lambda r, g: _rule(r, "dropped fill event", params=FILL_EVENT, action=DropEvent())),
    "fill event without ap": (2, lambda r, g: _rule(r, "fill event without ap", params=FILL_EVENT, action=EditEvent(remove=("ap",)))),
    "income 5xx": (1, lambda r, g: _rule(r, "income 5xx", path="/fapi/v1/income", times=2, error=server_error(500))),
    "positions 5xx": (1, lambda r, g: _rule(r, "positions 5xx", path="/fapi/v*/positionRisk", error=server_error(502))),
    "klines 5xx": (1, lambda r, g: _rule(r, "klines 5xx", path="/fapi/v1/klines", times=2, error=server_error(503))),
    "market stream drop": (3, _stream(DropConnection("market"))),
    "user stream drop": (3, _stream(DropConnection("user"))),
    "market stream silence": (2, _stream(Silence("market"))),
    "listen key expired": (2, _stream(ExpireListenKey())),
    "crash + restart": (2, _crash),
    "graceful restart": (1, _graceful),
    "manual close in app": (1, _external_close(False)),
    "OI/funding 5xx": (2, lambda r, g: _rule(r, "OI/funding 5xx", path="/fapi/v1/openInterest", times=3, error=server_error(500))),
    # liquidations stay out: the fake books a fee its liquidation event does not report (see test_lifecycle)
}


def _draw(rng: random.Random) -> str:
    names = list(MENU)
    return rng.choices(names, weights=[MENU[n][0] for n in names])[0]


# ------------------------------------------------------------------------------------------------ the run
def eventually_consistent(run: TradingRun, timeout: float) -> Report:
    """Poll every invariant until they all hold or `timeout` passes (missed events heal at reconciliation)."""
    deadline = time.monotonic() + timeout
    while True:
        run.quiesce()
        report = check_all(run.fx, run.journal, run.symbols, seeded=run.seeded, running=True)
        if not report.violations or time.monotonic() > deadline:
            return report
        time.sleep(0.05)


def run_soak(workdir: Path, config: SoakConfig = SoakConfig()) -> SoakResult:
    """Run the soak; never raises on an invariant violation (they are in `result.violations`)."""
    t0 = time.monotonic()
    rng = random.Random(config.seed)
    result = SoakResult(config)
    days = config.days + MIN_LIVE_CANDLES // CANDLES_PER_DAY + 2
    run = build_run(workdir, symbols=config.symbols, params=config.params, days=days, seed=config.seed,
                    history=MIN_LIVE_CANDLES + CANDLES_PER_DAY, options={"reconcile_interval_s": config.reconcile_s})  # fmt: skip
    applied: Counter[str] = Counter()  # process / stream / account faults (rules count themselves)
    deferred: set[str] = set()  # account faults waiting for an open position
    failed = False

    def injected_now() -> int:
        return sum(applied.values()) + _rule_hits(run)

    def round_of_checks(report: Report, where: str) -> None:
        nonlocal failed
        result.checks += report.checks
        result.check_rounds += 1
        if report.violations:
            failed = True
            result.violations += [f"{where}: {v}" for v in report.violations]
        elif not failed:
            result.survived = injected_now()

    try:
        total = config.days * CANDLES_PER_DAY
        for i in range(1, total + 1):
            if rng.random() < 1.0 / config.fault_every:
                name = _draw(rng)
                result.drawn[name] += 1
                result.timeline.append((time.monotonic(), i, name))
                if not _still_armed(run, name) and name not in deferred:  # one armed fault per kind, never piled up
                    outcome = MENU[name][1](run, rng)
                    if outcome == DEFERRED:
                        deferred.add(name)
                    elif isinstance(outcome, int):
                        applied[name] += outcome
            for name in sorted(deferred):  # e.g. the manual close drawn while flat: now, if a position is open
                if MENU[name][1](run, rng) != DEFERRED:
                    applied[name] += 1
                    deferred.discard(name)
            _operator_resets(run, result, i)
            run.advance(settle=False)
            try:
                run.settle(timeout=5.0)
            except CandleNotProcessed:
                result.slow_candles += 1
                run.settle(timeout=config.recover_s)  # a stream fault: the service must recover on its own
            if i % config.check_every == 0 and i != total:
                round_of_checks(eventually_consistent(run, timeout=4 * config.reconcile_s + 5.0), f"candle {i}")
        report = eventually_consistent(run, timeout=4 * config.reconcile_s + 5.0)
        assert run.monitor is not None
        run.monitor.check(report, run.protection_budget_s)
        round_of_checks(report, "end")
    finally:
        result.injected = Counter(applied)
        for rule in run.fx.faults.rules:
            if rule.injected and rule.name in MENU:
                result.injected[rule.name] += rule.injected
        journal = run.journal_view()
        closed = [t for ts in journal.trades.values() for t in ts if t.status == "CLOSED"]
        result.trades = len(closed)
        result.reasons = Counter(t.close_reason for t in closed)
        result.candles = run.candles
        result.starts, result.kills = run.starts, run.kills
        assert run.monitor is not None
        result.longest_bare_s = run.monitor.longest()
        budget = run.protection_budget_s
        result.bare = [(w.started, w.seconds, w.symbol) for w in run.monitor.windows if w.seconds > budget]
        result.wall_s = time.monotonic() - t0
        run.close()
        run.fx.stop()
    return result


def _operator_resets(run: TradingRun, result: SoakResult, candle: int) -> None:
    """An operator who resets a kill switch after it has held for a day (`cointrader trader reset-kill`, DEF-12), so
    a month-long soak keeps trading through a losing stretch."""
    kill = read_journal(run.journal, run.symbols).kill
    for sym in run.symbols:
        since = result.killed_since.get(sym)
        if not kill[sym]:
            result.killed_since.pop(sym, None)
        elif since is None:
            result.killed_since[sym] = candle
        elif candle - since >= CANDLES_PER_DAY:
            with contextlib.redirect_stdout(io.StringIO()):  # the command's one-line confirmation
                cmd_reset_kill(argparse.Namespace(symbol=sym, config=None, journal=run.journal, mode=run.settings.mode))
            result.kill_resets += 1
            result.killed_since.pop(sym, None)


def _still_armed(run: TradingRun, name: str) -> bool:
    return any(r.name == name and r.remaining != 0 for r in run.fx.faults.rules)


def _rule_hits(run: TradingRun) -> int:
    return sum(r.injected for r in run.fx.faults.rules if r.name in MENU)
