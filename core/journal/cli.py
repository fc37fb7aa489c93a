"""``atw journal verify|tail|replay``: check, follow and rebuild from the execution journal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core.simulator.trades import TRADE_COLUMNS


def cmd_verify(args: argparse.Namespace) -> int:
    """Check chain and schema of each file, and its end against the ledger's anchor when the
    ledger has one; exit 1 naming the first bad record."""
    from core.journal.reader import parse_name, verify

    anchors = _anchors(args.ledger)
    status = 0
    for path in args.files:
        named = parse_name(path)
        anchor = anchors(*named) if named is not None else None
        result = verify(path, anchor=anchor)
        suffix = f" (end checked against the ledger's anchor, seq {anchor[0]})" if anchor and result.ok else ""
        print(result.describe() + suffix)
        if not result.ok:
            status = 1
    return status


def _anchors(ledger_path: str | None) -> Any:
    """A lookup (day, mode) -> anchor from the ledger, or one that knows none."""
    from core.errors import AtwError
    from core.ledger import Ledger
    from core.paths import atw_home

    path = Path(ledger_path) if ledger_path else atw_home() / "ledger.sqlite"
    if not path.is_file():
        return lambda day, mode: None
    try:
        ledger = Ledger.open(path, readonly=True)
    except AtwError as exc:
        print(f"atw: no anchors (cannot read the ledger: {exc}); checking the files alone", file=sys.stderr)
        return lambda day, mode: None
    return ledger.journal_anchor


def cmd_tail(args: argparse.Namespace) -> int:
    from core.journal.tail import tail

    try:
        for line in tail(args.file, n=args.lines, follow=args.follow, mode=args.mode):
            print(line, flush=True)
    except KeyboardInterrupt:
        pass
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Rebuild orders, positions and trades from journal files; optionally into a ledger."""
    from core.errors import JournalError
    from core.journal.reader import read_journal
    from core.journal.replay import replay
    from core.simulator.output import write_trades_csv

    records: list[Any] = []
    for path in args.files:
        read = read_journal(path)
        read.raise_for_bad()
        if read.torn_tail is not None:
            print(f"{path}: torn last line ignored ({len(read.torn_tail)} bytes)", file=sys.stderr)
        records.extend(read.records)
    if not records:
        raise JournalError("no records to replay", where=", ".join(map(str, args.files)))
    state = replay(records)
    trades = state.trades()
    print(f"{state.records} records: {len(state.orders)} orders, {len(state.closed_positions)} closed and "
          f"{len(state.open_positions)} open positions, {len(trades)} trade legs, "
          f"net {trades['net_pnl'].sum():,.2f} (gross {trades['gross_pnl'].sum():,.2f}, "
          f"charges {trades['charges'].sum():,.2f})")
    for pos in state.open_positions:
        side = "LONG" if pos.side > 0 else "SHORT"
        print(f"  open: {pos.symbol} {pos.strategy} {side} {pos.open_qty} @ {pos.entry_price}")
    if args.out:
        write_trades_csv(trades.loc[:, list(TRADE_COLUMNS)], Path(args.out))
        print(f"wrote {args.out}")
    if args.ledger:
        from core.journal.projector import LedgerProjector
        from core.ledger import Ledger

        with Ledger.open(Path(args.ledger), durable=False) as ledger:
            LedgerProjector(ledger).apply_all(records)
        print(f"rebuilt the ledger {args.ledger}")
    return 0


def add_journal_parser(sub: Any) -> None:
    journal = sub.add_parser("journal", help="verify, follow and replay the execution journal")
    jsub = journal.add_subparsers(dest="journal_command", required=True)
    verify = jsub.add_parser("verify", help="check the hash chain and schema (exit 1 at the first bad record)")
    verify.add_argument("files", nargs="+", metavar="FILE")
    verify.add_argument("--ledger", help="ledger holding the files' anchors (default: ATW_HOME/ledger.sqlite)")
    verify.set_defaults(func=cmd_verify)
    tail = jsub.add_parser("tail", help="the last records of a journal (default: the newest file)")
    tail.add_argument("file", nargs="?", help="journal file (default: the newest under ATW_HOME)")
    tail.add_argument("-n", "--lines", type=int, default=20)
    tail.add_argument("-f", "--follow", action="store_true", help="keep printing new records")
    tail.add_argument("--mode", help="with no FILE: the newest journal of this mode")
    tail.set_defaults(func=cmd_tail)
    rep = jsub.add_parser("replay", help="rebuild orders, positions, trades and P&L from journal files")
    rep.add_argument("files", nargs="+", metavar="FILE")
    rep.add_argument("--out", help="write the rebuilt trades as trades.csv here")
    rep.add_argument("--ledger", help="rebuild into this ledger file (a new one is best)")
    rep.set_defaults(func=cmd_replay)
