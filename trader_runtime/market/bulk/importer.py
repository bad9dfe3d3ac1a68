"""Import Binance's public archive into the warehouse, month by month, checksum first, resumable.

Order per month: every file of the month (klines of the traded symbols and of BTCUSDT/ETHUSDT, funding, metrics)
is fetched, verified against its CHECKSUM, parsed and written with its provenance record in one transaction —
a refused file writes nothing and is reported with both digests; then the month's combined rows (BTC/ETH columns,
oi_change, funding_rate) and L/S rows are derived from what the warehouse now holds (rules in `align.py`), and
the coverage per symbol × month × data type is recorded. A file imported before with the same published SHA-256
is not downloaded again; one whose digest changed is re-imported and reported (archive files can be replaced).
Memory holds one month at a time.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np
import pandas as pd

from trader_runtime.domain.provenance import DataSource, new_batch_id
from trader_runtime.domain.schema import BAR, BTC_COLUMNS, ETH_COLUMNS, OHLCV_COLUMNS
from trader_runtime.errors import ConfigError
from trader_runtime.market.bulk import plan
from trader_runtime.market.bulk.align import funding_bounded, ls_ratio_rows, oi_change_at_close
from trader_runtime.market.bulk.layout import FileRef, Kind, Month, months_between
from trader_runtime.market.bulk.parse import ParsedFile, parse_file
from trader_runtime.market.bulk.store import ArchiveStore
from trader_runtime.market.bulk.verify import RejectedFile, published_digest, verify_zip
from trader_runtime.market.symbols import normalize_symbol
from trader_runtime.storage.provenance import CoverageRecord, FileRecord
from trader_runtime.storage.warehouse import Warehouse

logger = logging.getLogger(__name__)

CORRELATION = {"BTCUSDT": BTC_COLUMNS, "ETHUSDT": ETH_COLUMNS}
#: a daily L/S comparison with REST rows must agree to the 4th decimal, or the archive's ratios are not written
LS_TOLERANCE = 5e-5
FUNDING_LOOKBACK = pd.Timedelta(hours=25)
SOURCE = DataSource.BULK

Status = Literal["imported", "replaced", "unchanged", "rejected", "not_found"]


@dataclass(frozen=True)
class BulkRequest:
    """Traded symbols (klines, funding, metrics) and the inclusive month range; BTC/ETH klines come along."""

    symbols: tuple[str, ...]
    first: Month
    last: Month
    correlation: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")

    def __post_init__(self) -> None:
        if not self.symbols:
            raise ConfigError("name at least one symbol, e.g. XRPUSDT")
        object.__setattr__(self, "symbols", tuple(normalize_symbol(s) for s in self.symbols))
        unknown = [s for s in self.correlation if s not in CORRELATION]
        if unknown:
            raise ConfigError(f"correlation symbols {unknown}: the combined table embeds only {sorted(CORRELATION)}")
        if self.last < self.first:
            raise ConfigError(f"--to {self.last} is before --from {self.first}")

    @property
    def kline_symbols(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.symbols, *self.correlation]))


@dataclass(frozen=True)
class FileOutcome:
    ref: FileRef
    status: Status
    message: str = ""
    record: FileRecord | None = None
    published: str = ""
    actual: str = ""


@dataclass
class BulkReport:
    batch_id: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    coverage: list[CoverageRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "rejected"]

    @property
    def exit_code(self) -> int:
        return 2 if self.rejected else 0

    def counts(self) -> dict[str, int]:
        return dict(Counter(o.status for o in self.outcomes))

    def lines(self) -> list[str]:
        """The printed report: refused files, gaps, files not found (grouped), coverage table."""
        out = [f"batch {self.batch_id}: " + ", ".join(f"{k} {v}" for k, v in sorted(self.counts().items()))]
        for o in self.rejected:
            digests = f" (published {o.published or '-'}, actual {o.actual or '-'})" if o.published or o.actual else ""
            out.append(f"  REFUSED {o.ref.path}: {o.message}{digests}")
        for o in self.outcomes:
            if o.status == "replaced":
                out.append(f"  replaced {o.ref.path}: {o.message}")
            if o.record is not None and (o.record.missing_slots or o.record.conflicts or o.record.note):
                r = o.record
                sample = ", ".join(r.missing_sample[:3]) + (" ..." if r.missing_slots > 3 else "")
                extra = [f"{r.missing_slots} missing slot(s): {sample}"] if r.missing_slots else []
                extra += [f"{r.conflicts} conflicting observation(s) dropped"] if r.conflicts else []
                extra += [r.note] if r.note else []
                out.append(f"  gap {o.ref.path}: " + "; ".join(extra))
        missing: Counter[tuple[str, str, str, str]] = Counter()
        for o in self.outcomes:
            if o.status == "not_found":
                missing[(o.ref.symbol, o.ref.kind.value, o.ref.period, str(o.ref.month))] += 1
        for (sym, kind, period, month), n in sorted(missing.items()):
            out.append(f"  not published (yet): {sym} {kind} {month}, {n} {period} file(s); retried on the next run")
        out.extend(f"  {note}" for note in self.notes)
        if self.coverage:
            out.append(f"  {'symbol':<10} {'month':<8} {'data type':<12} {'present':>8} {'expected':>8} {'missing':>8}"
                       "  files")
            for c in self.coverage:
                out.append(f"  {c.symbol:<10} {c.month:<8} {c.data_type:<12} {c.present:>8} {c.expected:>8} "
                           f"{c.missing:>8}  {c.files}{'  ' + c.note if c.note else ''}")
        return out


class BulkImporter:
    """One import run: `run(request)` walks the months; `import_file` is the checksum-first unit of work."""

    def __init__(self, store: ArchiveStore, warehouse: Warehouse, now: pd.Timestamp,
                 progress: Callable[[str], None] | None = None, batch_id: str | None = None) -> None:
        self.store = store
        self.warehouse = warehouse
        self.now = pd.Timestamp(now).tz_convert("UTC")
        self.progress = progress or (lambda line: None)
        self.batch_id = batch_id or new_batch_id(SOURCE, self.now)
        self.report = BulkReport(self.batch_id)
        self._known_digests: dict[str, str] | None = None

    # ------------------------------------------------------------------------------------------------ run

    def run(self, request: BulkRequest) -> BulkReport:
        self.warehouse.start_batch(self.batch_id, SOURCE.value, {
            "symbols": list(request.symbols), "from": str(request.first), "to": str(request.last)}, self.now)
        for i, month in enumerate(months_between(request.first, request.last)):
            self.import_month(request, month, first=i == 0)
        return self.report

    def import_month(self, request: BulkRequest, month: Month, first: bool = False) -> list[CoverageRecord]:
        """Files of `month` for every symbol (written in one transaction), then the derived rows and coverage."""
        if month.start >= self.now:
            return []
        used: dict[tuple[str, Kind], list[FileOutcome]] = {}
        parsed: list[ParsedFile] = []
        for symbol in request.kline_symbols:
            used[(symbol, Kind.KLINES)] = self._kline_files(symbol, month, parsed)
        for symbol in request.symbols:
            funding = plan.funding_files(symbol, month, self.now, first)
            metrics = plan.metrics_files(symbol, month, self.now, first)
            used[(symbol, Kind.FUNDING)] = [self._fetch(r, parsed) for r in funding]
            used[(symbol, Kind.METRICS)] = [self._fetch(r, parsed) for r in metrics]
        self._write(month, parsed, used)
        records: list[CoverageRecord] = []
        for symbol in request.kline_symbols:
            records.append(self._kline_coverage(symbol, month, used[(symbol, Kind.KLINES)]))
        for symbol in request.symbols:
            records.extend(self.derive_month(symbol, month, request.correlation, used))
        self.warehouse.record_coverage(records, self.batch_id)
        self.report.coverage.extend(records)
        summary = ", ".join(f"{r.symbol} {r.data_type} {r.present}/{r.expected}" for r in records)
        self.progress(f"{month}: {summary}")
        return records

    @property
    def _known(self) -> dict[str, str]:
        """Published digests of the files imported before (read from the warehouse once per run)."""
        if self._known_digests is None:
            self._known_digests = self.warehouse.imported_digests()
        return self._known_digests

    def _kline_files(self, symbol: str, month: Month, parsed: list[ParsedFile]) -> list[FileOutcome]:
        monthly_ref = plan.kline_monthly(symbol, month, self.now)
        if monthly_ref is not None:
            outcome = self._fetch(monthly_ref, parsed)
            if outcome.status in ("imported", "replaced", "unchanged"):
                return [outcome]
            fallback = [self._fetch(r, parsed) for r in plan.kline_dailies(symbol, month, self.now)]
            return [outcome, *fallback]
        return [self._fetch(r, parsed) for r in plan.kline_dailies(symbol, month, self.now)]

    # ------------------------------------------------------------------------------------------------ one file

    def _fetch(self, ref: FileRef, parsed: list[ParsedFile]) -> FileOutcome:
        """Checksum, verify, parse (nothing written yet); a usable file is appended to `parsed`."""
        outcome, file = self._fetch_one(ref)
        if file is not None:
            parsed.append(file)
        self.report.outcomes.append(outcome)
        if outcome.status == "rejected":
            logger.error("refused %s: %s", self.store.describe(ref.path), outcome.message)
            self.warehouse.record_rejection(ref.path, outcome.published, outcome.actual, outcome.message,
                                            self.batch_id, self.now)
        return outcome

    def _fetch_one(self, ref: FileRef) -> tuple[FileOutcome, ParsedFile | None]:
        checksum = self.store.get(ref.checksum_path)
        try:
            published = published_digest(ref, checksum) if checksum is not None else None
        except RejectedFile as exc:
            return FileOutcome(ref, "rejected", exc.reason, published=exc.published), None
        known = self._known.get(ref.path)
        if published is not None and known == published:
            return FileOutcome(ref, "unchanged"), None
        data = self.store.get(ref.path)
        if data is None:
            if checksum is None:
                return FileOutcome(ref, "not_found"), None
            return FileOutcome(ref, "rejected", "CHECKSUM published without its zip", published=published or ""), None
        try:
            file = parse_file(verify_zip(ref, data, checksum))
        except RejectedFile as exc:
            return FileOutcome(ref, "rejected", exc.reason, published=exc.published, actual=exc.actual), None
        if known is not None:
            return FileOutcome(ref, "replaced", f"SHA-256 changed from {known} to {file.sha256}; re-imported"), file
        return FileOutcome(ref, "imported"), file

    def _write(self, month: Month, files: list[ParsedFile], used: dict[tuple[str, Kind], list[FileOutcome]]) -> None:
        """Rows of every verified file of the month and their records, in one transaction."""
        if not files:
            return
        groups: dict[tuple[Kind, str], list[ParsedFile]] = {}
        for file in files:
            groups.setdefault((file.ref.kind, file.ref.symbol), []).append(file)
        written: dict[str, int] = {}
        notes: dict[str, str] = {}
        with self.warehouse.atomic() as wh:
            for (kind, symbol), parts in groups.items():
                frames = [p.frame for p in parts]
                if kind is Kind.KLINES:
                    notes.update(self._differences(symbol, month, parts))
                    candles = pd.concat(frames)
                    candles = candles[~candles.index.duplicated(keep="last")]
                    wh.upsert_candles(symbol, candles, now=self.now, source=SOURCE, batch=self.batch_id)
                    closed = {p.ref.path: int((p.frame.index + BAR <= self.now).sum()) for p in parts}
                    written.update(closed)
                elif kind is Kind.FUNDING:
                    wh.upsert_funding_settlements(symbol, pd.concat(frames), source=SOURCE, batch=self.batch_id)
                    written.update({p.ref.path: len(p.frame) for p in parts})
                else:
                    wh.upsert_metrics(symbol, pd.concat(frames), source=SOURCE, batch=self.batch_id)
                    written.update({p.ref.path: len(p.frame) for p in parts})
            records = [self._record(p, written[p.ref.path], notes.get(p.ref.path, "")) for p in files]
            wh.record_files(records, self.batch_id, self.now)
        by_path = {r.path: r for r in records}
        for outcomes in used.values():
            for i, o in enumerate(outcomes):
                if o.ref.path in by_path:
                    outcomes[i] = FileOutcome(o.ref, o.status, o.message, by_path[o.ref.path])
        for i, o in enumerate(self.report.outcomes):
            if o.ref.path in by_path and o.record is None:
                self.report.outcomes[i] = FileOutcome(o.ref, o.status, o.message, by_path[o.ref.path])
        self._known.update({f.ref.path: f.sha256 for f in files})

    @staticmethod
    def _record(file: ParsedFile, rows_written: int, note: str) -> FileRecord:
        ref = file.ref
        return FileRecord(
            path=ref.path, kind=ref.kind.value, symbol=ref.symbol, period=ref.stamp, sha256=file.sha256,
            rows_read=file.rows_read, rows_written=rows_written, duplicates=file.duplicates,
            conflicts=file.conflicts, missing_slots=len(file.missing),
            missing_sample=[pd.Timestamp(ms, unit="ms", tz="UTC").isoformat() for ms in file.missing[:20]],
            note=note,
        )

    def _differences(self, symbol: str, month: Month, parts: list[ParsedFile]) -> dict[str, str]:
        """A monthly file replacing daily rows should carry the same values; say how many candles differ."""
        if self.warehouse.candle_counts(symbol, month.start, month.end)[0] == 0:
            return {}
        stored = self.warehouse.read_candles(symbol, month.start, month.end)
        out = {}
        for part in parts:
            common = stored.index.intersection(part.frame.index)
            old = stored.loc[common, list(OHLCV_COLUMNS)].to_numpy()
            new = part.frame.loc[common, list(OHLCV_COLUMNS)].to_numpy()
            differ = int((old != new).any(axis=1).sum())
            if differ:
                out[part.ref.path] = f"{differ} stored candle(s) differed and were replaced by this file"
        return out

    # ------------------------------------------------------------------------------------------------ derive

    def derive_month(self, symbol: str, month: Month, correlation: tuple[str, ...],
                     used: dict[tuple[str, Kind], list[FileOutcome]] | None = None) -> list[CoverageRecord]:
        """Combined-table values and L/S rows of `symbol` for `month` from the stored raw series."""
        used = used or {}
        wh = self.warehouse
        candles = wh.read_candles(symbol, month.start, month.end)
        settlements = wh.read_funding_settlements(symbol, month.start - FUNDING_LOOKBACK, month.end)
        metrics = wh.read_metrics(symbol, month.start, month.end + BAR)
        if not candles.empty:
            frame = candles[list(OHLCV_COLUMNS)].copy()
            oi = pd.Series(metrics["sum_open_interest"].to_numpy(), index=pd.DatetimeIndex(metrics["obs_time"]))
            frame["oi_change"] = oi_change_at_close(pd.DatetimeIndex(frame.index), oi).to_numpy()
            frame["funding_rate"] = funding_bounded(pd.DatetimeIndex(frame.index), settlements).to_numpy()
            joined = frame
            for corr in correlation:
                other = wh.read_candles(corr, month.start, month.end)[list(OHLCV_COLUMNS)]
                joined = joined.join(other.set_axis(list(CORRELATION[corr]), axis=1), how="inner")
            alone = frame.loc[frame.index.difference(joined.index)]
            with wh.atomic():
                if not joined.empty:
                    wh.upsert_candles(symbol, joined, now=self.now, source=SOURCE, batch=self.batch_id)
                if not alone.empty:
                    wh.upsert_candles(symbol, alone, now=self.now, source=SOURCE, batch=self.batch_id)
        ls_rows = ls_ratio_rows(metrics[metrics["obs_time"] < month.end])
        ls_note = self._write_ls(symbol, ls_rows)
        return self._coverage(symbol, month, candles, settlements, metrics, used, ls_note)

    def _write_ls(self, symbol: str, rows: pd.DataFrame) -> str:
        if rows.empty:
            return ""
        stored = self.warehouse.read_ls_ratio(symbol, rows["timestamp"].iloc[0], rows["timestamp"].iloc[-1] + BAR)
        if not stored.empty:
            both = stored.merge(rows, on="timestamp", suffixes=("_stored", ""))
            if len(both):
                diff = np.maximum(abs(both["top_acct_ls_ratio_stored"] - both["top_acct_ls_ratio"]),
                                  abs(both["global_ls_ratio_stored"] - both["global_ls_ratio"]))
                if (diff > LS_TOLERANCE).any():
                    return (f"L/S ratios not written: {int((diff > LS_TOLERANCE).sum())} of {len(both)} periods "
                            "disagree with the stored rows beyond the 4th decimal")
        result = self.warehouse.upsert_ls_ratio(symbol, rows, source=SOURCE, batch=self.batch_id)
        return f"L/S rows +{result.inserted}" if result.inserted else ""

    # ------------------------------------------------------------------------------------------------ coverage

    def _closed_slots(self, month: Month, per_day: int) -> int:
        return per_day * len(plan.closed_days(month, self.now))

    @staticmethod
    def _files(outcomes: list[FileOutcome]) -> str:
        counts = Counter(f"{o.ref.period} {o.status}" for o in outcomes)
        return ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))

    def _kline_coverage(self, symbol: str, month: Month, outcomes: list[FileOutcome]) -> CoverageRecord:
        stored = self.warehouse.candle_counts(symbol, month.start, month.end)[0]
        return CoverageRecord(symbol, str(month), Kind.KLINES.value, self._closed_slots(month, 96), stored,
                              self._files(outcomes))

    def _coverage(self, symbol: str, month: Month, candles: pd.DataFrame, settlements: pd.DataFrame,
                  metrics: pd.DataFrame, used: dict[tuple[str, Kind], list[FileOutcome]],
                  ls_note: str) -> list[CoverageRecord]:
        in_month = settlements[settlements["calc_time"] >= month.start]
        hours = int(in_month["interval_hours"].mode().iloc[0]) if len(in_month) else 8
        obs = metrics[(metrics["obs_time"] > month.start) & (metrics["obs_time"] <= month.end)]
        own = lambda kind: [o for o in used.get((symbol, kind), []) if o.ref.month == month]  # noqa: E731
        n, oi_rows, funding_rows = self.warehouse.candle_counts(symbol, month.start, month.end)
        return [
            CoverageRecord(symbol, str(month), Kind.FUNDING.value, self._closed_slots(month, 24 // max(1, hours)),
                           len(in_month), self._files(own(Kind.FUNDING)),
                           "" if not plan.is_current(month, self.now) else "current month: REST fills funding"),
            CoverageRecord(symbol, str(month), Kind.METRICS.value, self._closed_slots(month, 288),
                           int(obs["sum_open_interest"].notna().sum()), self._files(own(Kind.METRICS)), ls_note),
            CoverageRecord(symbol, str(month), "oi_change", n, oi_rows, "derived"),
            CoverageRecord(symbol, str(month), "funding_rate", n, funding_rows, "derived"),
        ]
