"""Invariants of a trading run, checked against the fake exchange's own books (the ground truth) and the journal.

Why here and not in the runtime: these checks read the venue's internal state, which only a fake has. Each check
adds to a `Report` (checks counted, violations collected with the numbers that disagree), so a scenario fails with
every broken invariant listed, and the soak can say how many checks it ran.

What is compared (spec 30 §12, D3, D6, INC-07/10/17/22/24, DEF-02/04/07):
- positions: every symbol's journal OPEN trade equals the exchange position (side, open quantity), or both flat;
- trades: the exchange's round trips (flat → open → flat, rebuilt from its filled orders) and the journal's trades
  pair up one to one — none lost, none counted twice — with equal side, quantity, gross PnL and fees;
- PnL: per symbol, journal net PnL (closed trades, plus what is already booked on the open one) equals the sum of
  the exchange's income rows REALIZED_PNL + COMMISSION; journal fills never exceed what the exchange executed;
- protection: an open position has exactly one SL and one TP conditional order, reduce-only, opposite side,
  covering the position, on the right side of the entry, and known to the journal by its exchange id (DEF-04);
- orphans: a flat symbol has no open orders at all; an open one has nothing besides its SL/TP pair;
- risk state: the kill switch and the day base the journal holds are what the running service reports (DEF-11).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from trader_runtime.storage.journal import JournalReader, TradeRow
from trader_runtime.testing.fake_exchange import FakeExchange

ZERO = Decimal(0)
PNL_TOL = 1e-6  # USDT; journal floats vs the exchange's 8-decimal amounts
QTY_TOL = 1e-9
PROTECTIVE = ("STOP_MARKET", "TAKE_PROFIT_MARKET")


# ------------------------------------------------------------------------------------------------ report
@dataclass
class Report:
    """Checks run and the violations found (each a sentence with the numbers)."""

    checks: int = 0
    violations: list[str] = field(default_factory=list)

    def check(self, ok: bool, message: str) -> bool:
        self.checks += 1
        if not ok:
            self.violations.append(message)
        return ok

    def merge(self, other: "Report") -> "Report":
        self.checks += other.checks
        self.violations += other.violations
        return self

    def assert_ok(self, context: str = "") -> None:
        if self.violations:
            head = f"{len(self.violations)} invariant violation(s) of {self.checks} checks" + (f" ({context})" if context else "")
            raise AssertionError(head + ":\n  - " + "\n  - ".join(self.violations))


# ------------------------------------------------------------------------------------------------ exchange books
@dataclass(frozen=True, slots=True)
class XOrder:
    order_id: int
    client_id: str
    symbol: str
    side: str
    orig_type: str
    quantity: Decimal
    executed_qty: Decimal
    cum_quote: Decimal
    realized: Decimal
    commission: Decimal
    reduce_only: bool
    status: str
    time: int

    @property
    def signed_qty(self) -> Decimal:
        return self.executed_qty if self.side == "BUY" else -self.executed_qty


@dataclass(frozen=True, slots=True)
class XAlgo:
    algo_id: int
    client_id: str
    symbol: str
    side: str
    order_type: str
    quantity: Decimal
    trigger: Decimal
    reduce_only: bool
    close_position: bool
    status: str


@dataclass(frozen=True, slots=True)
class XIncome:
    symbol: str
    kind: str
    amount: Decimal
    time: int
    trade_id: str


@dataclass(frozen=True)
class ExchangeBooks:
    """A consistent copy of the fake account (taken on the fake's own loop, between two of its steps)."""

    wallet: Decimal
    positions: dict[str, tuple[Decimal, Decimal]]  # symbol -> (signed amount, entry price); open ones only
    orders: list[XOrder]  # creation order
    algos: list[XAlgo]
    income: list[XIncome]
    replay_ms: int

    def open_algos(self, symbol: str) -> list[XAlgo]:
        return [a for a in self.algos if a.symbol == symbol and a.status == "NEW"]

    def open_standard(self, symbol: str) -> list[XOrder]:
        return [o for o in self.orders if o.symbol == symbol and o.status in ("NEW", "PARTIALLY_FILLED")]


def _on_fake_loop(fx: FakeExchange, fn: Any) -> Any:
    """Run `fn` on the fake's loop (its state is only consistent there). Uses the fake's private plumbing: the
    fake exposes snapshots, but not every field these checks need (order types, per-order PnL, income trade ids)."""
    return fx._call(fx._run_sync(fn))


def read_books(fx: FakeExchange) -> ExchangeBooks:
    def copy() -> ExchangeBooks:
        core = fx.core
        acc = core.account
        return ExchangeBooks(
            wallet=acc.wallet,
            positions={s: (p.amount, p.entry_price) for s, p in acc.positions.items() if p.is_open},
            orders=[XOrder(o.order_id, o.client_order_id, o.symbol, o.side, o.orig_type, o.quantity, o.executed_qty,
                           o.cum_quote, o.realized_pnl, o.commission, o.reduce_only, o.status, o.time)
                    for o in acc.orders.values()],
            algos=[XAlgo(a.algo_id, a.client_algo_id, a.symbol, a.side, a.order_type, a.quantity, a.trigger_price,
                         a.reduce_only, a.close_position, a.status) for a in acc.algo_orders.values()],
            income=[XIncome(r.symbol, r.income_type, r.income, r.time, r.trade_id) for r in acc.income],
            replay_ms=core.market.now_ms,
        )  # fmt: skip

    return _on_fake_loop(fx, copy)


def exposure(fx: FakeExchange) -> dict[str, tuple[Decimal, set[str]]]:
    """Cheap sample for the protection monitor: open positions and the types of their open conditional orders."""
    def sample() -> dict[str, tuple[Decimal, set[str]]]:
        acc = fx.core.account
        out: dict[str, tuple[Decimal, set[str]]] = {}
        for s, p in acc.positions.items():
            if p.is_open:
                closing = "SELL" if p.amount > 0 else "BUY"
                kinds = {a.order_type for a in acc.algo_orders.values()
                         if a.symbol == s and a.status == "NEW" and a.side == closing
                         and (a.close_position or a.quantity >= abs(p.amount))}  # fmt: skip
                out[s] = (p.amount, kinds)
        return out

    return _on_fake_loop(fx, sample)


def activity(fx: FakeExchange) -> int:
    """A counter that moves whenever the fake serves a request or publishes a user event (for quiescence)."""
    core = fx.core
    return len(core.request_log) + len(core.user_log)


# ------------------------------------------------------------------------------------------------ round trips
@dataclass
class RoundTrip:
    """One position on the exchange, from flat to flat (or still open)."""

    symbol: str
    side: str
    start_ms: int
    orders: list[XOrder] = field(default_factory=list)
    max_qty: Decimal = ZERO
    realized: Decimal = ZERO
    commission: Decimal = ZERO
    end_ms: int | None = None
    seeded: Decimal = ZERO  # amount that existed before the first order (a position placed by hand)

    @property
    def closed(self) -> bool:
        return self.end_ms is not None


def round_trips(books: ExchangeBooks, seeded: Mapping[str, Decimal] | None = None) -> dict[str, list[RoundTrip]]:
    """Split each symbol's filled orders into positions: a trip starts when the amount leaves zero and ends when
    it returns to zero. An order that flips the position is split at zero by quantity."""
    trips: dict[str, list[RoundTrip]] = {}
    amount: dict[str, Decimal] = {}
    for sym, qty in (seeded or {}).items():
        if qty != 0:
            amount[sym] = Decimal(qty)
            trips.setdefault(sym, []).append(RoundTrip(sym, "LONG" if qty > 0 else "SHORT", 0, max_qty=abs(Decimal(qty)),
                                                       seeded=Decimal(qty)))  # fmt: skip
    for o in books.orders:
        if o.executed_qty == 0:
            continue
        sym = o.symbol
        before = amount.get(sym, ZERO)
        after = before + o.signed_qty
        if before == 0:
            trips.setdefault(sym, []).append(RoundTrip(sym, "LONG" if after > 0 else "SHORT", o.time))
        trip = trips[sym][-1]
        if before != 0 and after != 0 and (before > 0) != (after > 0):  # flip: close at zero, open the rest
            frac = abs(before) / o.executed_qty
            trip.orders.append(o)
            trip.realized += o.realized
            trip.commission += o.commission * frac
            trip.end_ms = o.time
            nxt = RoundTrip(sym, "LONG" if after > 0 else "SHORT", o.time, [o], abs(after), ZERO, o.commission * (1 - frac))
            trips[sym].append(nxt)
        else:
            trip.orders.append(o)
            trip.realized += o.realized
            trip.commission += o.commission
            trip.max_qty = max(trip.max_qty, abs(after))
            if after == 0:
                trip.end_ms = o.time
        amount[sym] = after
    return trips


# ------------------------------------------------------------------------------------------------ journal
@dataclass(frozen=True)
class JournalView:
    trades: dict[str, list[TradeRow]]  # per symbol, in position order (closed by exit time, then the open one)
    fills_by_order: dict[str, tuple[float, float]]  # exchange order id -> (Σ qty, Σ commission)
    legs: dict[str, list[tuple[str, str, str | None, float | None]]]  # position id -> (purpose, status, exch id, trigger)
    kill: dict[str, bool]
    status: dict[str, dict[str, str]]
    daily_bases: dict[int, float]


def read_journal(path: Path, symbols: Iterable[str]) -> JournalView:
    with JournalReader(path) as r:
        trades: dict[str, list[TradeRow]] = {}
        legs: dict[str, list[tuple[str, str, str | None, float | None]]] = {}
        kill: dict[str, bool] = {}
        for sym in symbols:
            rows = r.closed_trades(sym)
            open_trade = r.open_trade(sym)
            trades[sym] = rows + ([open_trade] if open_trade is not None else [])
            krows = r.kill_rows(sym)
            kill[sym] = bool(krows) and krows[-1].action == "KILL"
        for o in r.orders():
            if o.purpose in ("SL", "TP") and o.position_id:
                legs.setdefault(o.position_id, []).append((o.purpose, o.status, o.exchange_id, o.trigger_price))
        fills: dict[str, tuple[float, float]] = {}
        for f in r.fills():
            q, c = fills.get(f.order_id, (0.0, 0.0))
            fills[f.order_id] = (q + f.quantity, c + f.commission)
        bases = {int(d): float(b) for d, b in r._con.execute("SELECT day_ms, base_balance FROM daily_equity").fetchall()}
        return JournalView(trades, fills, legs, kill, r.status(), bases)


# ------------------------------------------------------------------------------------------------ the checks
def _close(a: float, b: float, tol: float = PNL_TOL) -> bool:
    return abs(a - b) <= tol + 1e-9 * max(abs(a), abs(b))


def check_positions(report: Report, books: ExchangeBooks, journal: JournalView, symbols: Iterable[str]) -> None:
    for sym in symbols:
        pos = books.positions.get(sym)
        open_trade = next((t for t in journal.trades.get(sym, []) if t.status == "OPEN"), None)
        if pos is None:
            report.check(open_trade is None, f"{sym}: exchange flat but journal holds OPEN {open_trade and open_trade.position_id}"
                         f" {open_trade and open_trade.side} {open_trade and open_trade.open_quantity}")  # fmt: skip
            continue
        amount = float(pos[0])
        if not report.check(open_trade is not None, f"{sym}: exchange holds {amount} but the journal has no OPEN trade"):
            continue
        assert open_trade is not None
        side = "LONG" if amount > 0 else "SHORT"
        report.check(open_trade.side == side and abs(open_trade.open_quantity - abs(amount)) <= QTY_TOL * max(1.0, abs(amount)),
                     f"{sym}: exchange {side} {abs(amount)} vs journal {open_trade.side} {open_trade.open_quantity} "
                     f"({open_trade.position_id})")  # fmt: skip


def check_trades(report: Report, books: ExchangeBooks, journal: JournalView, symbols: Iterable[str],
                 seeded: Mapping[str, Decimal] | None = None) -> None:  # fmt: skip
    """Round trips on the exchange ↔ journal trades, one to one, in order (nothing lost, nothing counted twice)."""
    trips = round_trips(books, seeded)
    for sym in symbols:
        xs = trips.get(sym, [])
        js = journal.trades.get(sym, [])
        if not report.check(len(xs) == len(js), f"{sym}: exchange has {len(xs)} position(s) "
                            f"({sum(t.closed for t in xs)} closed), journal has {len(js)} trade(s) "
                            f"({sum(t.status == 'CLOSED' for t in js)} closed): "
                            f"exchange {[(t.side, float(t.max_qty), t.start_ms) for t in xs]} vs journal "
                            f"{[(t.side, t.quantity, t.entry_time_ms, t.close_reason) for t in js]}"):  # fmt: skip
            continue
        for i, (x, j) in enumerate(zip(xs, js)):
            tag = f"{sym} trade #{i + 1} ({j.position_id})"
            report.check(x.side == j.side, f"{tag}: side exchange {x.side} vs journal {j.side}")
            report.check(abs(float(x.max_qty) - j.quantity) <= QTY_TOL * max(1.0, j.quantity),
                         f"{tag}: quantity exchange {x.max_qty} vs journal {j.quantity}")
            report.check(x.closed == (j.status == "CLOSED"), f"{tag}: exchange {'closed' if x.closed else 'open'} vs journal {j.status}")
            if x.seeded == 0 and x.orders:
                entry = [o for o in x.orders if (o.side == "BUY") == (x.side == "LONG")]
                qty = sum((o.executed_qty for o in entry), ZERO)
                vwap = float(sum((o.cum_quote for o in entry), ZERO) / qty) if qty else 0.0
                report.check(_close(vwap, j.entry_price, 1e-9 * max(1.0, vwap)),
                             f"{tag}: entry price journal {j.entry_price} vs exchange average fill {vwap} (DEF-16)")
            if x.closed and j.status == "CLOSED":
                fees = float(x.commission)
                report.check(_close(float(x.realized), j.gross_pnl or 0.0),
                             f"{tag}: gross PnL exchange {x.realized} vs journal {j.gross_pnl} ({j.close_reason})")
                report.check(_close(fees, (j.entry_fee or 0.0) + (j.exit_fee or 0.0)),
                             f"{tag}: fees exchange {fees} vs journal entry {j.entry_fee} + exit {j.exit_fee} ({j.close_reason})")
                report.check(_close(float(x.realized) - fees, j.net_pnl or 0.0),
                             f"{tag}: net PnL exchange {float(x.realized) - fees} vs journal {j.net_pnl} (D3, {j.close_reason})")
                report.check(j.close_reason is not None and j.exit_price is not None and j.exit_price > 0,
                             f"{tag}: closed without reason/exit price ({j.close_reason}, {j.exit_price}) (INC-08)")
                report.check(j.exit_time_ms is not None and x.end_ms is not None and j.entry_time_ms <= j.exit_time_ms
                             and j.exit_time_ms >= x.end_ms,
                             f"{tag}: exit time {j.exit_time_ms} before the entry {j.entry_time_ms} or before the exchange's "
                             f"closing fill {x.end_ms} ({j.close_reason})")  # fmt: skip


def check_pnl(report: Report, books: ExchangeBooks, journal: JournalView, symbols: Iterable[str]) -> None:
    """Σ journal net PnL (+ what is booked on an open trade) = Σ income REALIZED_PNL + COMMISSION, per symbol."""
    for sym in symbols:
        income = sum((r.amount for r in books.income if r.symbol == sym and r.kind in ("REALIZED_PNL", "COMMISSION")), ZERO)
        booked = 0.0
        for t in journal.trades.get(sym, []):
            if t.status == "CLOSED":
                booked += t.net_pnl or 0.0
            else:
                booked += t.realized_acc - t.entry_fee - t.exit_fee_acc
        report.check(_close(float(income), booked, PNL_TOL * (1 + len(journal.trades.get(sym, [])))),
                     f"{sym}: exchange income REALIZED_PNL+COMMISSION {float(income):.8f} vs journal net {booked:.8f}")
    executed = {str(o.order_id): o for o in books.orders}
    for order_id, (qty, commission) in journal.fills_by_order.items():
        o = executed.get(order_id)
        if not report.check(o is not None, f"journal fill(s) for order {order_id} the exchange never executed"):
            continue
        assert o is not None
        report.check(qty <= float(o.executed_qty) + QTY_TOL, f"order {order_id}: journal fills {qty} > executed {o.executed_qty} (double count)")
        report.check(commission <= float(o.commission) + PNL_TOL, f"order {order_id}: journal commission {commission} > exchange {o.commission}")


def check_protection(report: Report, books: ExchangeBooks, journal: JournalView, symbols: Iterable[str]) -> None:
    """An open position carries exactly one SL and one TP leg, known to the journal (D6, DEF-04, INC-22)."""
    for sym in symbols:
        pos = books.positions.get(sym)
        if pos is None:
            continue
        amount, entry = pos
        closing = "SELL" if amount > 0 else "BUY"
        algos = books.open_algos(sym)
        sl = [a for a in algos if a.order_type == "STOP_MARKET"]
        tp = [a for a in algos if a.order_type == "TAKE_PROFIT_MARKET"]
        if not report.check(len(sl) == 1 and len(tp) == 1,
                            f"{sym}: open position {amount} has {len(sl)} SL and {len(tp)} TP order(s) (expected 1 and 1)"):
            continue
        for leg in (sl[0], tp[0]):
            report.check(leg.side == closing and (leg.reduce_only or leg.close_position)
                         and (leg.close_position or leg.quantity >= abs(amount)),
                         f"{sym}: {leg.order_type} {leg.algo_id} side {leg.side} qty {leg.quantity} reduceOnly {leg.reduce_only}"
                         f" does not protect position {amount}")  # fmt: skip
        long = amount > 0
        report.check((sl[0].trigger < entry) == long and (tp[0].trigger > entry) == long,
                     f"{sym}: SL {sl[0].trigger} / TP {tp[0].trigger} on the wrong side of entry {entry} ({'LONG' if long else 'SHORT'})")
        open_trade = next((t for t in journal.trades.get(sym, []) if t.status == "OPEN"), None)
        if open_trade is None:
            continue  # check_positions reports it
        stored = {(purpose, ex_id) for purpose, status, ex_id, _ in journal.legs.get(open_trade.position_id, []) if status == "NEW"}
        for purpose, leg in (("SL", sl[0]), ("TP", tp[0])):
            report.check((purpose, str(leg.algo_id)) in stored,
                         f"{sym}: {purpose} leg {leg.algo_id} on the exchange is not the journal's live leg {sorted(stored)} (DEF-04)")
        report.check(open_trade.sl is not None and _close(open_trade.sl, float(sl[0].trigger), 1e-9)
                     and open_trade.tp is not None and _close(open_trade.tp, float(tp[0].trigger), 1e-9),
                     f"{sym}: journal levels SL {open_trade.sl} / TP {open_trade.tp} vs exchange {sl[0].trigger} / {tp[0].trigger}")


def check_no_orphans(report: Report, books: ExchangeBooks, symbols: Iterable[str]) -> None:
    """Flat → nothing resting; open → only its SL/TP pair (orphan legs can reduce a later position, INC-22)."""
    for sym in symbols:
        algos = books.open_algos(sym)
        standard = books.open_standard(sym)
        if sym not in books.positions:
            report.check(not algos and not standard, f"{sym}: flat but {len(algos)} conditional order(s) "
                         f"{[(a.algo_id, a.order_type) for a in algos]} and {len(standard)} standard order(s) remain")  # fmt: skip
        else:
            extra = [a for a in algos if a.order_type not in PROTECTIVE]
            report.check(not extra and not standard and len(algos) <= 2,
                         f"{sym}: besides SL/TP the position has {[(a.algo_id, a.order_type) for a in algos]} and {len(standard)} standard order(s)")


def check_risk_state(report: Report, journal: JournalView, symbols: Iterable[str], *, running: bool) -> None:
    """The service's reported kill switch / day base equal what the journal holds (DEF-11), and the day base of
    the reported day exists."""
    if not running:
        return
    glob = journal.status.get("", {})
    for sym in symbols:
        st = journal.status.get(sym, {})
        if "kill_active" in st:
            report.check(bool(int(st["kill_active"])) == journal.kill[sym],
                         f"{sym}: service reports kill_active={st['kill_active']} but the journal's kill rows say {journal.kill[sym]}")
    base = glob.get("day_base")
    if base not in (None, "None"):
        report.check(any(_close(float(base), b, 1e-9) for b in journal.daily_bases.values()),
                     f"service day base {base} is none of the stored day bases {journal.daily_bases}")


def check_all(fx: FakeExchange, journal_path: Path, symbols: Iterable[str], *, seeded: Mapping[str, Decimal] | None = None,
              running: bool = True, protection: bool = True) -> Report:  # fmt: skip
    """Every settled-state invariant at once; `protection=False` where a scenario leaves a position bare on purpose."""
    symbols = list(symbols)
    books = read_books(fx)
    journal = read_journal(journal_path, symbols)
    report = Report()
    check_positions(report, books, journal, symbols)
    check_trades(report, books, journal, symbols, seeded)
    check_pnl(report, books, journal, symbols)
    if protection:
        check_protection(report, books, journal, symbols)
        check_no_orphans(report, books, symbols)
    check_risk_state(report, journal, symbols, running=running)
    return report


# ------------------------------------------------------------------------------------------------ monitor
@dataclass(frozen=True, slots=True)
class BareWindow:
    symbol: str
    seconds: float
    amount: float
    ended: bool
    started: float = 0.0  # time.monotonic() when it began


class ProtectionMonitor:
    """Samples the fake every `interval_s` of wall time and measures how long any open position lacked its SL or
    TP leg while the service was up (the clock restarts at each service start: a dead process protects nothing,
    which is why D6 keeps the legs on the exchange). `windows` lists every bare stretch."""

    def __init__(self, fx: FakeExchange, interval_s: float = 0.02) -> None:
        self.fx = fx
        self.interval_s = interval_s
        self.windows: list[BareWindow] = []
        self.samples = 0
        self._bare_since: dict[str, tuple[float, float]] = {}
        self._up = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="protection-monitor", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> "ProtectionMonitor":
        self._thread.start()
        return self

    def service_up(self) -> None:
        with self._lock:
            self._bare_since.clear()
        self._up.set()

    def service_down(self) -> None:
        self._up.clear()
        self._flush(ended=False)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._flush(ended=False)

    def longest(self) -> float:
        with self._lock:
            now = time.monotonic()
            live = [now - t0 for t0, _ in self._bare_since.values()]
            return max([w.seconds for w in self.windows] + live, default=0.0)

    def _flush(self, *, ended: bool) -> None:
        with self._lock:
            now = time.monotonic()
            for sym, (t0, amount) in self._bare_since.items():
                self.windows.append(BareWindow(sym, now - t0, amount, ended, t0))
            self._bare_since.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._up.is_set():
                try:
                    sample = exposure(self.fx)
                except Exception:  # noqa: BLE001 - the fake stopped; the scenario is over
                    return
                now = time.monotonic()
                self.samples += 1
                with self._lock:
                    for sym, (amount, kinds) in sample.items():
                        bare = not {"STOP_MARKET", "TAKE_PROFIT_MARKET"} <= kinds
                        if bare and sym not in self._bare_since:
                            self._bare_since[sym] = (now, float(amount))
                        elif not bare and sym in self._bare_since:
                            t0, amt = self._bare_since.pop(sym)
                            self.windows.append(BareWindow(sym, now - t0, amt, True, t0))
                    for sym in [s for s in self._bare_since if s not in sample]:  # flat again (e.g. emergency close)
                        t0, amt = self._bare_since.pop(sym)
                        self.windows.append(BareWindow(sym, now - t0, amt, True, t0))
            self._stop.wait(self.interval_s)

    def check(self, report: Report, budget_s: float) -> None:
        longest = self.longest()
        report.check(longest <= budget_s, f"a position stayed without SL/TP for {longest:.2f} s, budget {budget_s:.2f} s "
                     f"(windows {[(w.symbol, round(w.seconds, 3)) for w in self.windows if w.seconds > budget_s]})")  # fmt: skip
