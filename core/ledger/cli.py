"""``atw ledger ...``: the days in the ledger, one day's summary by strategy, and trade export.

    atw ledger days [--mode M] [--run N]
    atw ledger day DATE [--mode M] [--run N]
    atw ledger export --from DATE --to DATE [--format csv|parquet] [--out FILE] [--mode M] [--run N]
    atw ledger runs

Simulated days show the latest simulator run that covered them unless ``--run`` names one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError
from core.ledger.modes import ALL, MODES
from core.paths import atw_home

if TYPE_CHECKING:
    from core.ledger.repository import Ledger

LEDGER_FILE = "ledger.sqlite"  # as core.ledger.repository.LEDGER_FILE (kept here: no SQLAlchemy at start-up)

MONEY_COLUMNS = ("gross_pnl", "charges", "net_pnl")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def _open() -> Ledger:
    """The user's ledger; read-only when the file cannot be written (queries only)."""
    from core.ledger.repository import Ledger

    path = atw_home() / LEDGER_FILE
    return Ledger.open(path, readonly=path.exists() and not os.access(path, os.W_OK))


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """Aligned text: the first ``left`` columns left-aligned, the rest right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def line(r: Sequence[str]) -> str:
        return "  ".join(str(v).ljust(w) if i < left else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths)))
    return [line(header), *(line(r) for r in rows)]


def cmd_days(args: argparse.Namespace) -> int:
    """Every day x mode with its trades and net P&L."""
    with _open() as ledger:
        rows = ledger.days(args.mode, args.run)
    if not rows:
        print("no days in the ledger yet" + (f" (mode {args.mode})" if args.mode else ""))
        return 0
    body = [(r.day.isoformat(), r.mode, "-" if r.sim_run_id is None else str(r.sim_run_id), str(r.trades), _money(r.net))
            for r in rows]
    print("\n".join(_table(("day", "mode", "run", "trades", "net"), body, left=2)))
    total = sum((r.net for r in rows), Decimal(0))
    print(f"\n{len(rows)} day(s); trades {sum(r.trades for r in rows):,}; net {_money(total)}")
    return 0


def cmd_day(args: argparse.Namespace) -> int:
    """One day's summary: a row per strategy and ALL, per mode."""
    with _open() as ledger:
        rows = ledger.day_summary(args.date, args.mode, args.run)
    if not rows:
        print(f"nothing recorded on {args.date}" + (f" in mode {args.mode}" if args.mode else ""))
        return 0
    header = ("strategy", "trades", "wins", "losses", "win%", "points", "gross", "charges", "net",
              "max DD", "best", "worst", "rule breaks")
    blocks: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for r in rows:
        blocks.setdefault((r["mode"], r["sim_run_id"]), []).append(r)
    out: list[str] = []
    for (mode, run), group in blocks.items():
        out.append(f"{args.date}  {mode}" + (f" (simulator run {run})" if run is not None else ""))
        body = [
            (r["strategy"], str(r["trades"]), str(r["wins"]), str(r["losses"]),
             "-" if r["win_rate"] is None else f"{100 * r['win_rate']:.1f}%", f"{r['points']:,.2f}",
             _money(r["gross"]), _money(r["charges"]), _money(r["net"]), _money(r["max_drawdown"]),
             _money(r["best"]), _money(r["worst"]), str(r["rule_breaks"]))
            for r in group
        ]
        lines = _table(header, body)
        if len(group) > 1 and group[-1]["strategy"] == ALL:
            lines.insert(len(lines) - 1, "-" * len(lines[0]))
        out += ["  " + line for line in lines] + [""]
    print("\n".join(out).rstrip())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Trades exiting in [--from, --to] as the simulator's trades.csv (or Parquet)."""
    if args.end < args.start:
        raise ConfigError(f"--to {args.end} is before --from {args.start}", where="--to")
    if args.format == "parquet" and not args.out:
        raise ConfigError("Parquet is binary: name a file with --out", where="--format")
    with _open() as ledger:
        frame = ledger.export_trades(args.start, args.end, args.mode, args.run)
    if args.format == "csv":
        from core.simulator.output import write_trades_csv

        if args.out:
            write_trades_csv(frame, Path(args.out))
        else:
            write_trades_csv(frame, sys.stdout)
            return 0
    else:
        write_parquet(frame, Path(args.out))
    print(f"wrote {args.out}: {len(frame):,} trade(s) from {args.start} to {args.end}", file=sys.stderr)
    return 0


def write_parquet(frame: Any, path: Path) -> None:
    """The export as Parquet; money columns as decimal(18, 2), exact to the paisa."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in MONEY_COLUMNS:
        exact = [Decimal(repr(float(v))).quantize(Decimal("0.01")) for v in frame[name]]
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(exact, type=pa.decimal128(18, 2)))
    pq.write_table(table, path)


def cmd_runs(args: argparse.Namespace) -> int:
    """The simulator runs in the ledger."""
    with _open() as ledger:
        runs = ledger.sim_runs()
    if not runs:
        print("no simulator runs in the ledger yet")
        return 0
    body = [(str(r["id"]), r["created_at"].isoformat(timespec="seconds"), r["engine"], r["costs"],
             ",".join(r["strategies"]), f"{r['first_day']}..{r['last_day']}", r["data_fingerprint"][:12])
            for r in runs]
    print("\n".join(_table(("run", "recorded", "engine", "costs", "strategies", "days", "data"), body, left=7)))
    return 0


def add_ledger_parser(subparsers: Any) -> None:
    """Register ``atw ledger days|day|export|runs`` on the top-level subparsers."""
    ledger = subparsers.add_parser("ledger", help="review recorded and simulated days")
    sub = ledger.add_subparsers(dest="ledger_command", required=True)

    def scope(p: argparse.ArgumentParser) -> None:
        p.add_argument("--mode", choices=MODES, help="only this mode (default: every mode)")
        p.add_argument("--run", type=int, metavar="N", help="simulated days of simulator run N (default: the latest)")

    days = sub.add_parser("days", help="every day with its trades and net P&L")
    scope(days)
    days.set_defaults(func=cmd_days)
    day = sub.add_parser("day", help="one day's summary by strategy")
    day.add_argument("date", type=_date, metavar="DATE")
    scope(day)
    day.set_defaults(func=cmd_day)
    export = sub.add_parser("export", help="trades as trades.csv (the simulator's columns) or Parquet")
    export.add_argument("--from", dest="start", type=_date, required=True, metavar="DATE")
    export.add_argument("--to", dest="end", type=_date, required=True, metavar="DATE")
    export.add_argument("--format", choices=("csv", "parquet"), default="csv")
    export.add_argument("--out", metavar="FILE", help="write here (CSV goes to stdout without it)")
    scope(export)
    export.set_defaults(func=cmd_export)
    runs = sub.add_parser("runs", help="the simulator runs recorded")
    runs.set_defaults(func=cmd_runs)
