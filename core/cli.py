"""The ``atw`` command.

    atw sim --data FILE... --strategy NAME... [--set key=value ...] [--engine fast|event] ...
    atw sweep --data FILE... --strategy NAME --grid key=v1,v2 ... [--objective net_pnl]
    atw walkforward --data FILE... --strategy NAME --grid ... --train 60 --test 20
    atw data check FILE...        the data-quality report
    atw data resample FILE --minutes 5 --out FILE
    atw strategies                what each strategy does and its parameters
    atw demo                      the bundled demo data through all four strategies
    atw run --mode paper|shadow|canary|live --arm SYMBOL:STRATEGY ...   headless on Kite
    atw kite-replica [--port 8765]  the loopback Kite replica playing the demo market

Errors print as one line naming the file, row or parameter, and exit non-zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from core import __version__
from core.automation.demo import demo_files
from core.errors import AtwError, ConfigError, DataError
from core.market.bars import BarSeries
from core.market.loader import LoadResult, load_many
from core.paths import atw_home
from core.simulator.costs import cost_model
from core.simulator.output import format_summary, json_safe, write_report_json, write_run
from core.simulator.run import ENGINES, simulate
from core.strategies import REGISTRY, Strategy, create
from core.strategies.filters import COMMON_PARAMS
from core.strategies.priority import MODES
from core.trading.params import TRADE_KEYS

# ------------------------------------------------------------------------------------ helpers


def _progress(enabled: bool, desc: str, total: int | None = None) -> Callable[[Iterable[Any]], Iterable[Any]] | None:
    """A tqdm wrapper when stderr is a terminal (and not asked to be quiet)."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return lambda it: tqdm(it, desc=desc, total=total, leave=False, unit="step")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from exc


def parse_sets(items: Sequence[str], strategies: Sequence[str]) -> dict[str, dict[str, str]]:
    """``--set key=value`` for every strategy that has ``key``; ``--set name.key=value`` for one."""
    per: dict[str, dict[str, str]] = {name: {} for name in strategies}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"cannot read {item!r}: use key=value or strategy.key=value", where="--set")
        target, dot, name = key.partition(".")
        if dot:
            if target not in per:
                raise ConfigError(
                    f"{item!r} names strategy {target!r}, which is not in this run ({', '.join(strategies)})",
                    where="--set",
                )
            per[target][name] = value.strip()
            continue
        takers = [s for s in strategies if _has_key(s, key)]
        if not takers:
            raise ConfigError(f"no strategy in this run has a parameter {key!r}", where=f"--set {key}")
        for s in takers:
            per[s][key] = value.strip()
    return per


def _has_key(strategy: str, key: str) -> bool:
    cls = REGISTRY.get(strategy)
    return cls is not None and (key in cls.PARAMS or key in COMMON_PARAMS or key in TRADE_KEYS)


def settings_for(names: Sequence[str], sets: Sequence[str], qty: int | None) -> dict[str, dict[str, str]]:
    """Each strategy's ``--set`` values, with ``--qty`` folded in (a disagreement is an error)."""
    per = parse_sets(sets, names)
    if qty is not None:
        for name, values in per.items():
            if values.get("qty", str(qty)) != str(qty):
                raise ConfigError(f"--qty {qty} and --set qty={values['qty']} disagree for {name}", where="--qty")
            values["qty"] = str(qty)
    return per


def build_strategies(names: Sequence[str], sets: Sequence[str], qty: int | None) -> list[Strategy]:
    for name in names:
        if name not in REGISTRY:
            create(name)  # raises the helpful unknown-strategy error
    per = settings_for(names, sets, qty)
    return [create(name, **per[name]) for name in names]


def _base_settings(args: argparse.Namespace) -> dict[str, str]:
    """The fixed (non-grid) settings of a sweep or walk-forward, validated before any run."""
    build_strategies([args.strategy], args.set, args.qty)  # raises ConfigError on a bad setting
    return settings_for([args.strategy], args.set, args.qty)[args.strategy]


def load_data(args: argparse.Namespace, *, cut_to_window: bool = True) -> LoadResult:
    """Load ``--data``; with ``cut_to_window`` keep only ``--from``..``--to`` (else the caller
    uses the earlier bars as indicator warm-up)."""
    if (args.fill_gaps or args.drop_outliers) and not args.repair:
        flag = "--fill-gaps" if args.fill_gaps else "--drop-outliers"
        raise ConfigError(f"{flag} changes the data; add --repair to allow it", where=flag)
    result = load_many(
        args.data,
        label=args.label,
        policy="repair" if args.repair else "strict",
        symbol=args.symbol,
        fill_gaps=args.fill_gaps,
        drop_outliers=args.drop_outliers,
    )
    if getattr(args, "resample", None) is not None:
        from core.market.resample import resample

        result = LoadResult([resample(s, args.resample) for s in result.series], result.report)
    if cut_to_window and (getattr(args, "start", None) or getattr(args, "end", None)):
        series = [s.between(args.start, args.end) for s in result.series]
        result = LoadResult([s for s in series if len(s)], result.report)
        if not result.series:
            raise DataError(f"no bars between {args.start or '-'} and {args.end or '-'}", where="--from/--to")
    return result


def _note_load(result: LoadResult, quiet: bool) -> None:
    """Say on stderr how the data was read (layout, labels, timezone) and its warnings."""
    if quiet:
        return
    report = result.report
    bars = ", ".join(f"{s.symbol} {len(s):,} bars" for s in result.series)
    print(f"data: {bars}", file=sys.stderr)
    for note in report.notes:
        if note.startswith(("layout", "bar labels", "timezone")):
            print(f"data: {note}", file=sys.stderr)
    warnings = [i for i in report.issues if i.severity == "warning"]
    for issue in warnings[:5]:
        print(f"data warning: {issue.message}", file=sys.stderr)
    if len(warnings) > 5:
        print(f"data: {len(warnings) - 5} more warnings; run `atw data check` for the full report", file=sys.stderr)


# ------------------------------------------------------------------------------------ commands


def cmd_sim(args: argparse.Namespace) -> int:
    from core.risk.settings import config_table

    strategies = build_strategies(args.strategy, args.set, args.qty)
    data = load_data(args, cut_to_window=False)
    _note_load(data, args.json)
    if args.risk or args.compare_risk or config_table(atw_home()):
        return _guarded_sim(args, strategies, data)
    result = simulate(
        data.series, strategies, engine=args.engine, costs=cost_model(args.costs),
        capital=args.capital, priority=args.priority, fill=args.fill, start=args.start, end=args.end,
        progress=_progress(not args.json, "simulating", len(data.series)),
    )
    result.report["data_quality"] = data.report.to_dict()
    run_id = None if args.no_ledger else _save_run(result, strategies, data, args)
    if run_id is not None:
        result.report["ledger_run"] = run_id
    notes = [] if run_id is None else [
        f"saved as simulator run {run_id} in the ledger (atw ledger days --mode sim --run {run_id})"]
    _show_run(args, result.trades, result.report, notes)
    return 0


def _guarded_sim(args: argparse.Namespace, strategies: list[Strategy], data: LoadResult) -> int:
    """A simulation under the risk settings: through the live engine, where the portfolio risk
    engine sizes and checks every entry; with ``--compare-risk``, beside a run without them."""
    from core.risk.settings import load_limits
    from core.simulator.risk_compare import format_comparison, run_guarded, without_guardrails

    limits = load_limits(atw_home(), args.risk, capital=args.capital)
    warm, series = _window(data, args)
    guarded = run_guarded(series, strategies, limits, costs=args.costs, priority=args.priority, warmup=warm)
    notes = ["the risk settings need the whole portfolio: run through the live engine (as atw replay); "
             "a lock (daily loss, hard drawdown) is lifted at the next session, as a trader would",
             f"journal: {guarded.journal_dir}"]
    if args.compare_risk:
        bare = run_guarded(series, strategies, without_guardrails(limits), costs=args.costs,
                           priority=args.priority, warmup=warm)
        guarded.report["without_guardrails"] = bare.report["risk"]
        notes.append("\n" + format_comparison(guarded.report["risk"], bare.report["risk"]))
    _show_run(args, guarded.trades, guarded.report, notes)
    return 0


def _window(data: LoadResult, args: argparse.Namespace) -> tuple[list[Any], list[BarSeries]]:
    """``--from``/``--to`` for a run through the engine: warm-up bars, and the series to replay."""
    from core.automation.replay import window_split

    warm, series = window_split(data.series, args.start, args.end)
    if not any(len(s) for s in series):
        raise DataError(f"no bars between {args.start or '-'} and {args.end or '-'}", where="--from/--to")
    return warm, [s for s in series if len(s)]


def _show_run(args: argparse.Namespace, trades: Any, report: dict[str, Any], notes: list[str]) -> None:
    """Write ``--out`` and print the report (JSON, or the summary and ``notes``)."""
    if args.out:
        write_run(Path(args.out), trades, report)
    if args.json:
        print(json.dumps(json_safe(report), indent=2))
        return
    print(format_summary(report))
    if args.out:
        print(f"\nwrote {Path(args.out) / 'trades.csv'} and {Path(args.out) / 'report.json'}")
    for note in notes:
        print(note)


def _speed(text: str) -> float | None:
    if text.strip().lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"cannot read {text!r}: use max or a positive multiple like 60")
    return value


def cmd_replay(args: argparse.Namespace) -> int:
    from core.automation.gc_tuning import steady_gc
    from core.automation.replay import parse_arms, run_replay
    from core.market.instruments import master_for
    from core.risk.settings import load_limits

    names = list(dict.fromkeys(item.partition(":")[2].strip() for item in args.arm if item.partition(":")[2].strip() != "*"))
    names = list(dict.fromkeys([*(args.strategy or []), *names]))
    if not names:
        raise ConfigError("name a strategy: --arm SYMBOL:STRATEGY (or --strategy NAME with SYMBOL:*)", where="--arm")
    strategies = build_strategies(names, args.set, args.qty)
    arms = parse_arms(args.arm, names)
    limits = load_limits(atw_home(), args.risk, capital=args.capital)
    data = load_data(args, cut_to_window=False)
    _note_load(data, args.json)
    missing = sorted({sym for sym, _ in arms} - {s.symbol for s in data.series})
    if missing:
        raise ConfigError(f"{missing[0]} is armed but no --data file has it", where="--arm")
    warm, series = _window(data, args)
    result = run_replay(series, strategies, arms, costs=args.costs, capital=args.capital,
                        priority=args.priority, speed=args.speed, limits=limits, ledger=not args.no_ledger,
                        on_engine=lambda _engine: steady_gc(), warmup=warm, master=master_for(data.series))
    notes = [f"journal: {result.journal_dir}  (atw journal verify FILE, atw journal replay FILE)"]
    if result.engine.refusals or result.engine.alerts:
        notes.append(f"risk refusals: {result.engine.refusals}, alerts: {len(result.engine.alerts)}")
    if not args.no_ledger:
        notes.append("saved in the ledger as mode replay (atw ledger days --mode replay)")
    _show_run(args, result.trades, result.report, notes)
    return 0


def _save_run(result: Any, strategies: list[Strategy], data: LoadResult, args: argparse.Namespace) -> int:
    """Persist a simulator run (mode sim) with its trades into the ledger; returns its id."""
    import hashlib

    from core.clock import LiveClock
    from core.ledger import Ledger

    prints = "|".join(s.fingerprint() for s in data.series)
    with Ledger.open() as ledger:
        return ledger.record_sim_run(
            result.report, result.trades, engine=args.engine, costs=args.costs,
            strategies=[s.name for s in strategies], parameters={s.name: s.describe() for s in strategies},
            data_fingerprint=hashlib.sha256(prints.encode()).hexdigest(), created_at=LiveClock().now(),
        )


def cmd_sweep(args: argparse.Namespace) -> int:
    from core.simulator.sweep import parse_grid, sweep

    base = _base_settings(args)
    grid = parse_grid(args.grid)
    data = load_data(args, cut_to_window=False)
    _note_load(data, args.json)
    ranked = sweep(
        data.series, args.strategy, grid, base=base, objective=args.objective, costs=args.costs,
        capital=args.capital, workers=args.jobs, progress=_progress(True, "sweep"),
        start=args.start, end=args.end,
    )
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        ranked.to_csv(out / "sweep.csv", index=False)
    if args.json:
        print(json.dumps(json_safe(ranked.to_dict(orient="records")), indent=2))
    else:
        print(ranked.head(args.top).to_string(index=False))
    return 0


def cmd_walkforward(args: argparse.Namespace) -> int:
    from core.simulator.output import write_trades_csv
    from core.simulator.sweep import parse_grid, walk_forward

    base = _base_settings(args)
    data = load_data(args)
    _note_load(data, args.json)
    result = walk_forward(
        data.series, args.strategy, parse_grid(args.grid), train=args.train, test=args.test, base=base,
        objective=args.objective, costs=args.costs, capital=args.capital, workers=args.jobs,
        progress=_progress(True, "walk-forward"),
    )
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        result.folds.to_csv(out / "folds.csv", index=False)
        write_trades_csv(result.oos_trades, out / "trades.csv")
        write_report_json(result.oos_metrics, out / "report.json")
    if args.json:
        print(json.dumps(json_safe({"folds": result.folds.to_dict(orient="records"),
                                    "out_of_sample": result.oos_metrics}), indent=2))
    else:
        print(result.folds.to_string(index=False))
        m = result.oos_metrics
        print(f"\nout of sample: {m['trades']} trades, net {m['net_pnl']:,.2f}, "
              f"sharpe {m['sharpe'] if m['sharpe'] is not None else '-'}")
    return 0


def cmd_data_check(args: argparse.Namespace) -> int:
    result = load_many(args.data, label=args.label, policy="repair" if args.repair else "strict",
                       symbol=args.symbol)
    if args.json:
        print(json.dumps(json_safe(result.report.to_dict()), indent=2))
    else:
        print(result.report.format())
    return 0


def cmd_data_resample(args: argparse.Namespace) -> int:
    from core.market.resample import resample

    result = load_many(args.data, label=args.label, policy="repair" if args.repair else "strict",
                       symbol=args.symbol)
    frames = []
    for s in result.series:
        out = resample(s, args.minutes).frame.copy()
        out["symbol"] = s.symbol
        frames.append(out)
    import pandas as pd

    merged = pd.concat(frames)
    merged.index.name = "timestamp"
    merged.reset_index().assign(timestamp=lambda f: f["timestamp"].map(lambda t: t.isoformat())).to_csv(
        args.out, index=False
    )
    print(f"wrote {args.out}: {len(merged):,} bars of {args.minutes} minutes")
    return 0


def cmd_strategies(args: argparse.Namespace) -> int:
    for name, cls in sorted(REGISTRY.items()):
        print(f"{name}: {cls.summary}")
        defaults = create(name).describe()
        for key, spec in {**cls.PARAMS, **COMMON_PARAMS}.items():
            print(f"    {key:<16} {str(defaults[key]):<12} {spec.help}")
        for key, help_text in TRADE_KEYS.items():
            print(f"    {key:<16} {str(defaults.get('partial' if key == 'partial' else key)):<12} {help_text}")
        print()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else atw_home() / "runs" / "demo"
    argv = ["sim", *[x for f in demo_files() for x in ("--data", str(f))]]
    argv += [x for name in sorted(REGISTRY) for x in ("--strategy", name)]
    argv += ["--costs", "zerodha", "--qty", "50", "--slippage", "1tick", "--out", str(out)]
    print("Autotrade Workstation demo: the bundled synthetic NSE days through all four strategies,")
    print("Zerodha charges, 1 tick slippage, 50 shares per entry. (The desktop arrives in a later release.)\n")
    return main(argv)


# ------------------------------------------------------------------------------------ parser


def _data_args(p: argparse.ArgumentParser, many: bool = True) -> None:
    p.add_argument("--data", action="append", required=True, metavar="FILE", help="bar file (repeatable)")
    p.add_argument("--label", choices=("auto", "start", "end"), default="auto",
                   help="are bars labelled by their start or end minute (default: detect and report)")
    p.add_argument("--repair", action="store_true", help="repair what can be repaired instead of refusing")
    p.add_argument("--fill-gaps", action="store_true", help="with --repair: fill missing bars flat at the last close")
    p.add_argument("--drop-outliers", action="store_true", help="with --repair: drop bars flagged as outliers")
    p.add_argument("--symbol", help="symbol for files without a symbol column (default: file name)")
    if many:
        p.add_argument("--from", dest="start", type=_date, metavar="DATE")
        p.add_argument("--to", dest="end", type=_date, metavar="DATE")
        p.add_argument("--resample", type=int, metavar="MINUTES",
                       help="trade N-minute bars built from the file's bars on session boundaries")


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="parameter for every strategy that has it, or STRATEGY.KEY=VALUE for one")
    p.add_argument("--qty", type=int, help="units per entry (same as --set qty=N)")
    p.add_argument("--capital", type=_capital, default=1_000_000.0, metavar="RUPEES",
                   help="the account's capital: 1000000, 10L, 1.5cr (default 10L)")
    p.add_argument("--costs", choices=("zerodha", "none"), default="zerodha")
    p.add_argument("--slippage", help="adverse slippage on market fills: 0, 1tick, 2bps (same as --set slippage=)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--out", metavar="DIR", help="write results here")


def _capital(text: str) -> float:
    from core.risk.limits import parse_rupees

    try:
        return float(parse_rupees(text, key="--capital", allow_off=False))
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _risk_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--risk", "--limit", dest="risk", action="append", default=[], metavar="KEY=VALUE",
                   help="a risk setting over config.toml's [risk] (docs/risk.md), e.g. risk_per_trade_pct=0.5, "
                        "heat_cap_pct=3, dd_hard_pct=2, daily_loss_pct=1.5, max_positions=5")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atw", description="Autotrade Workstation",
        epilog="With no command, atw opens the desktop workstation on its embedded demo "
               "(atw --screenshot FILE [--tab NAME] [--after SECONDS] renders it to PNG).")
    parser.add_argument("--version", action="version", version=f"atw {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("sim", help="simulate strategies over bar files")
    _data_args(sim)
    sim.add_argument("--strategy", action="append", required=True, metavar="NAME")
    _run_args(sim)
    sim.add_argument("--engine", choices=ENGINES, default="fast", help="fast research path or bar-by-bar event path")
    sim.add_argument("--fill", choices=("next_open",), default="next_open")
    sim.add_argument("--priority", choices=MODES, default="best",
                     help="several strategies firing on one instrument in one bar: best one enters, or all")
    sim.add_argument("--no-ledger", action="store_true", help="do not save this run in the ledger")
    _risk_arg(sim)
    sim.add_argument("--compare-risk", action="store_true",
                     help="run with the risk settings and without them, and print both side by side")
    sim.set_defaults(func=cmd_sim)

    rep = sub.add_parser("replay", help="history through the live engine, paper fills (replay-paper)")
    _data_args(rep)
    rep.add_argument("--arm", action="append", required=True, metavar="SYMBOL:STRATEGY",
                     help="arm a pair at every session's first tick (SYMBOL:* = every --strategy)")
    rep.add_argument("--strategy", action="append", metavar="NAME", help="strategies for SYMBOL:* arms")
    rep.add_argument("--speed", type=_speed, default=None, metavar="max|N",
                     help="max (default: as fast as possible) or N times real time")
    _risk_arg(rep)
    _run_args(rep)
    rep.add_argument("--priority", choices=MODES, default="best")
    rep.add_argument("--no-ledger", action="store_true", help="do not project this run into the ledger")
    rep.set_defaults(func=cmd_replay)

    for name, func, help_text in (("sweep", cmd_sweep, "grid parameter sweep"),
                                  ("walkforward", cmd_walkforward, "walk-forward optimisation")):
        p = sub.add_parser(name, help=help_text)
        _data_args(p)
        p.add_argument("--strategy", required=True, metavar="NAME")
        p.add_argument("--grid", action="append", required=True, metavar="KEY=V1,V2|START:STOP:STEP")
        _run_args(p)
        p.add_argument("--objective", default="net_pnl")
        p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
        if name == "sweep":
            p.add_argument("--top", type=int, default=20, help="rows to print")
        else:
            p.add_argument("--train", type=int, required=True, help="in-sample sessions per fold")
            p.add_argument("--test", type=int, required=True, help="out-of-sample sessions per fold")
        p.set_defaults(func=func)

    data = sub.add_parser("data", help="inspect and convert bar files")
    dsub = data.add_subparsers(dest="data_command", required=True)
    check = dsub.add_parser("check", help="the data-quality report")
    check.add_argument("data", nargs="+", metavar="FILE")
    check.add_argument("--label", choices=("auto", "start", "end"), default="auto")
    check.add_argument("--repair", action="store_true")
    check.add_argument("--symbol")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_data_check)
    res = dsub.add_parser("resample", help="1-minute bars to 3/5/15/30/60 minutes on session boundaries")
    res.add_argument("data", nargs="+", metavar="FILE")
    res.add_argument("--minutes", type=int, required=True)
    res.add_argument("--out", required=True)
    res.add_argument("--label", choices=("auto", "start", "end"), default="auto")
    res.add_argument("--repair", action="store_true")
    res.add_argument("--symbol")
    res.set_defaults(func=cmd_data_resample)

    strategies = sub.add_parser("strategies", help="list strategies and their parameters")
    strategies.set_defaults(func=cmd_strategies)

    demo = sub.add_parser("demo", help="run the bundled demo")
    demo.add_argument("--out", help="where to write the demo run (default: ATW_HOME/runs/demo)")
    demo.set_defaults(func=cmd_demo)

    from core.automation.run_cli import add_run_parsers

    add_run_parsers(sub)
    from core.ledger.cli import add_ledger_parser

    add_ledger_parser(sub)
    from core.journal.cli import add_journal_parser

    add_journal_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "slippage", None):
        args.set = [*args.set, f"slippage={args.slippage}"]
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"atw: error: {exc}", file=sys.stderr)
        return 2
    except AtwError as exc:
        print(f"atw: error: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"atw: error: {exc.filename}: no such file", file=sys.stderr)
        return 1
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
