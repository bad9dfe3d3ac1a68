"""Import Binance's public archive into the warehouse, month by month, checksum first, resumable.

Order per month: every file of the month (klines of the traded symbols and of BTCUSDT/ETHUSDT, funding, metrics)
is fetched, verified against its CHECKSUM and parsed (nothing written yet; a refused file writes nothing and is
reported with both digests). Then, in one transaction: the raw funding and metrics rows, the BTC/ETH candles, the
traded symbol's candles with their derived columns (BTC/ETH, oi_change, funding_rate; rules in `align.py`) —
written once, from the new files merged with the month's stored candles, which are read only when the month
already has some — its L/S rows, the file records and the coverage per symbol × month × data type. A file
imported before with the same published SHA-256 is not read again; a month with no new file is not rewritten.
One whose digest changed is re-imported and reported (archive files can be replaced). Memory holds one month.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

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
        self._stored_coverage: dict[tuple[str, str, str], Any] | None = None

    # ------------------------------------------------------------------------------------------------ run

    def run(self, request: BulkRequest) -> BulkReport:
        self.warehouse.start_batch(self.batch_id, SOURCE.value, {
            "symbols": list(request.symbols), "from": str(request.first), "to": str(request.last)}, self.now)
        for i, month in enumerate(months_between(request.first, request.last)):
            self.import_month(request, month, first=i == 0)
        return self.report

    def import_month(self, request: BulkRequest, month: Month, first: bool = False) -> list[CoverageRecord]:
        """Files of `month` for every symbol, then the derived rows and coverage, in one transaction; a month with
        no new file is not rewritten (its stored coverage is reported)."""
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
        if parsed:
            records = self._write(request, month, parsed, used)
        else:
            records = self._unchanged_coverage(request, month, used)
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

    def _write(self, request: BulkRequest, month: Month, files: list[ParsedFile],
               used: dict[tuple[str, Kind], list[FileOutcome]]) -> list[CoverageRecord]:
        """Rows of every verified file of the month, the derived combined rows, L/S rows, the file records and the
        coverage, in one transaction. Candles of a traded symbol are written once, with their derived columns."""
        groups: dict[tuple[Kind, str], list[ParsedFile]] = {}
        for file in files:
            groups.setdefault((file.ref.kind, file.ref.symbol), []).append(file)
        written: dict[str, int] = {}
        notes: dict[str, str] = {}
        records: list[CoverageRecord] = []
        with self.warehouse.atomic() as wh:
            month_candles: dict[str, pd.DataFrame] = {}
            for symbol in request.kline_symbols:
                parts = groups.get((Kind.KLINES, symbol), [])
                new, merged = self._month_candles(symbol, month, parts, notes)
                month_candles[symbol] = merged
                written.update({p.ref.path: int((p.frame.index + BAR <= self.now).sum()) for p in parts})
                if parts and symbol not in request.symbols:
                    wh.upsert_candles(symbol, new, now=self.now, source=SOURCE, batch=self.batch_id)
            for symbol in request.symbols:
                funding = groups.get((Kind.FUNDING, symbol), [])
                if funding:
                    wh.upsert_funding_settlements(symbol, pd.concat([p.frame for p in funding]), source=SOURCE,
                                                  batch=self.batch_id)
                metrics = groups.get((Kind.METRICS, symbol), [])
                if metrics:
                    wh.upsert_metrics(symbol, pd.concat([p.frame for p in metrics]), source=SOURCE, batch=self.batch_id)
                written.update({p.ref.path: len(p.frame) for p in funding + metrics})
            file_records = [self._record(p, written[p.ref.path], notes.get(p.ref.path, "")) for p in files]
            wh.record_files(file_records, self.batch_id, self.now)
            for symbol in request.kline_symbols:
                records.append(self._kline_coverage(symbol, month, month_candles[symbol],
                                                    used[(symbol, Kind.KLINES)]))
            for symbol in request.symbols:
                records.extend(self._derive(symbol, month, request.correlation, month_candles, used))
            wh.record_coverage(records, self.batch_id)
        self._attach_records(file_records, used)
        self._known.update({f.ref.path: f.sha256 for f in files})
        return records

    def _attach_records(self, file_records: list[FileRecord], used: dict[tuple[str, Kind], list[FileOutcome]]) -> None:
        by_path = {r.path: r for r in file_records}
        for outcomes in used.values():
            for i, o in enumerate(outcomes):
                if o.ref.path in by_path:
                    outcomes[i] = FileOutcome(o.ref, o.status, o.message, by_path[o.ref.path])
        for i, o in enumerate(self.report.outcomes):
            if o.ref.path in by_path and o.record is None:
                self.report.outcomes[i] = FileOutcome(o.ref, o.status, o.message, by_path[o.ref.path])

    def _month_candles(self, symbol: str, month: Month, parts: list[ParsedFile],
                       notes: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(candles of the new files, the month's candles once they are written) as OHLCV frames; the stored
        candles are read only when the month already has some."""
        if parts:
            new = pd.concat([p.frame for p in parts])
            new = new[~new.index.duplicated(keep="last")].sort_index()
        else:
            new = pd.DataFrame({c: pd.Series(dtype="float64") for c in OHLCV_COLUMNS},
                               index=pd.DatetimeIndex([], tz="UTC", name="timestamp").as_unit("ms"))
        if self.warehouse.candle_counts(symbol, month.start, month.end)[0] == 0:
            return new, new
        stored = self.warehouse.read_ohlcv(symbol, month.start, month.end)
        for part in parts:
            common = stored.index.intersection(part.frame.index)
            old = stored.loc[common, list(OHLCV_COLUMNS)].to_numpy()
            fresh = part.frame.loc[common, list(OHLCV_COLUMNS)].to_numpy()
            differ = int((old != fresh).any(axis=1).sum())
            if differ:
                notes[part.ref.path] = f"{differ} stored candle(s) differed and were replaced by this file"
        merged = pd.concat([stored[~stored.index.isin(new.index)], new]).sort_index()
        return new, merged

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

    # ------------------------------------------------------------------------------------------------ derive

    def _derive(self, symbol: str, month: Month, correlation: tuple[str, ...], month_candles: dict[str, pd.DataFrame],
                used: dict[tuple[str, Kind], list[FileOutcome]]) -> list[CoverageRecord]:
        """Combined rows of `symbol` for `month` (OHLCV with BTC/ETH where all of them have the candle, oi_change,
        funding_rate) from the month's candles and the stored raw series, plus its L/S rows and coverage."""
        wh = self.warehouse
        candles = month_candles[symbol]
        settlements = wh.read_funding_settlements(symbol, month.start - FUNDING_LOOKBACK, month.end)
        metrics = wh.read_metrics(symbol, month.start, month.end + BAR)
        if not candles.empty:
            frame = candles[list(OHLCV_COLUMNS)].copy()
            oi = pd.Series(metrics["sum_open_interest"].to_numpy(), index=pd.DatetimeIndex(metrics["obs_time"]))
            frame["oi_change"] = oi_change_at_close(pd.DatetimeIndex(frame.index), oi).to_numpy()
            frame["funding_rate"] = funding_bounded(pd.DatetimeIndex(frame.index), settlements).to_numpy()
            others = [(corr, month_candles.get(corr)) for corr in correlation]
            if all(other is not None and len(other) for _, other in others):
                complete = np.ones(len(frame), dtype=bool)
                for corr, other in others:
                    part = other[list(OHLCV_COLUMNS)].reindex(frame.index)  # type: ignore[index]
                    complete &= part.notna().all(axis=1).to_numpy()
                    frame[list(CORRELATION[corr])] = part.to_numpy()
                corr_cols = [c for corr in correlation for c in CORRELATION[corr]]
                frame.loc[~complete, corr_cols] = np.nan  # inner join: BTC/ETH only where all three have the candle
            wh.upsert_candles(symbol, frame, now=self.now, source=SOURCE, batch=self.batch_id)
        ls_rows = ls_ratio_rows(metrics[metrics["obs_time"] < month.end])
        ls_note = self._write_ls(symbol, ls_rows)
        return self._coverage(symbol, month, settlements, metrics, used, ls_note)

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

    def _kline_coverage(self, symbol: str, month: Month, candles: pd.DataFrame,
                        outcomes: list[FileOutcome]) -> CoverageRecord:
        stored = int((candles.index + BAR <= self.now).sum())
        return CoverageRecord(symbol, str(month), Kind.KLINES.value, self._closed_slots(month, 96), stored,
                              self._files(outcomes))

    def _unchanged_coverage(self, request: BulkRequest, month: Month,
                            used: dict[tuple[str, Kind], list[FileOutcome]]) -> list[CoverageRecord]:
        """Coverage of a month with no new file: the stored figures, today's expected counts and file outcomes."""
        if self._stored_coverage is None:
            table = self.warehouse.bulk_coverage()
            self._stored_coverage = {} if table.empty else {
                (r.symbol, r.month, r.data_type): r for r in table.itertuples(index=False)}
        wanted = [(s, Kind.KLINES.value) for s in request.kline_symbols]
        wanted += [(s, t) for s in request.symbols for t in (Kind.FUNDING.value, Kind.METRICS.value, "oi_change",
                                                                "funding_rate")]
        per_day = {Kind.KLINES.value: 96, Kind.METRICS.value: 288}
        out = []
        for symbol, data_type in wanted:
            row = self._stored_coverage.get((symbol, str(month), data_type))
            kind = {k.value: k for k in Kind}.get(data_type)
            files = self._files(used.get((symbol, kind), [])) if kind is not None else "derived"
            if row is None:
                expected = self._closed_slots(month, per_day[data_type]) if data_type in per_day else 0
                out.append(CoverageRecord(symbol, str(month), data_type, expected, 0, files))
                continue
            expected = self._closed_slots(month, per_day[data_type]) if data_type in per_day else int(row.expected)
            note = "" if data_type == "oi_change" or data_type == "funding_rate" else str(row.note or "")
            out.append(CoverageRecord(symbol, str(month), data_type, expected, int(row.present), files, note))
        self.warehouse.record_coverage(out, self.batch_id)
        return out

    def _coverage(self, symbol: str, month: Month, settlements: pd.DataFrame, metrics: pd.DataFrame,
                  used: dict[tuple[str, Kind], list[FileOutcome]], ls_note: str) -> list[CoverageRecord]:
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
