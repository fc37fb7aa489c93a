"""``atw``: the desktop workstation with no command, the command line (``core.cli``) with one.

    atw                                   open the workstation on its embedded demo
    atw --speed 300 --theme light         the same, faster, in the light theme
    atw --screenshot FILE [--tab desk|simulator|ledger|journal] [--after SECONDS]
                                          play the demo, render the window at 1600x1000 to PNG, exit
    atw --mode paper|shadow|canary|live --api-key KEY --arm SYMBOL:STRATEGY ...
                                          the workstation on a Zerodha Kite session (login first;
                                          live asks you to type LIVE)
    atw sim|replay|ledger|journal|...     the command line (``atw --help``)

In the window, Session -> Switch mode... (Ctrl+Shift+M) moves to another mode without a restart
(:mod:`app.sessions`).

The embedded demo is a replay-paper session on the bundled demo data
(:mod:`core.automation.demo`): no account and no configuration.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from app.desktop_args import desktop_parser, is_desktop


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not is_desktop(args):
        from core.cli import main as cli_main

        return cli_main(args)
    return run_desktop(desktop_parser().parse_args(args))


def run_desktop(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.runtime import desktop_runtime
    from app.sessions import Workstation
    from app.windows.main_window import TABS, MainWindow
    from core.errors import AtwError

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Autotrade Workstation")
    settings = None
    if args.screenshot:  # a shot is made from the defaults, never from this user's saved layout
        settings = QSettings(str(Path(tempfile.mkdtemp()) / "shot.ini"), QSettings.Format.IniFormat)
    on_close = (lambda _held: "leave") if args.screenshot else None
    desk = Workstation(settings, on_close, theme=args.theme)
    try:
        if not desk.open(args):
            print("atw: live mode not confirmed", file=sys.stderr)
            return 1
    except AtwError as exc:
        print(f"atw: error: {exc}", file=sys.stderr)
        return 1
    window = desk.window
    assert window is not None
    window.tabs.setCurrentIndex(TABS.index(args.tab))
    if args.screenshot:
        width, _, height = args.size.partition("x")
        window.resize(int(width), int(height))
        if args.tab == "simulator":
            window.simulator.start_run()  # the tab shows a real run, not an empty form
    desktop_runtime(app, busy=lambda: desk.window is None or not desk.window.steps.idle)
    desk.start()
    code = 0
    if args.screenshot:
        out = Path(args.screenshot)

        def shoot() -> None:
            window.ledger.refresh()
            if args.tab == "journal":  # show a whole trade's trace, as a trader clicking a fill would
                fills = [r for r in window.journal.shown_rows() if r.type == "fill" and r.trace_id]
                if fills:
                    window.journal.show_trace(fills[-1])
            QTimer.singleShot(1500, lambda: _save(window, out))

        def _save(w: MainWindow, path: Path) -> None:
            nonlocal code
            path.parent.mkdir(parents=True, exist_ok=True)
            if not w.grab().save(str(path)):
                print(f"atw: error: could not write {path}", file=sys.stderr)
                code = 1
            else:
                print(f"wrote {path}")
            w.close()

        QTimer.singleShot(int(args.after * 1000), shoot)
    app.exec()
    desk.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
