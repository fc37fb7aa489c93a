"""Dark and light themes: a Fusion palette for the widgets and the colours charts and badges use.

Trading colours stay the same in both themes (up green, down red, the kill switch red); only
backgrounds and text change, so a trader who switches theme reads the desk the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget


@dataclass(frozen=True)
class Theme:
    name: str
    dark: bool
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    button: str
    highlight: str
    up: str = "#26a65b"
    down: str = "#e0474c"


DARK = Theme("dark", True, window="#1e2127", base="#16181d", alt_base="#1c1f25", text="#e6e6e6",
             muted="#8a919e", button="#2a2e36", highlight="#2f6fdd")
LIGHT = Theme("light", False, window="#f3f4f6", base="#ffffff", alt_base="#f7f8fa", text="#1b1d21",
              muted="#5f6673", button="#e4e6ea", highlight="#2f6fdd", up="#138a43", down="#c62828")

# The mode badge: every mode its own colour, live the loudest (DESIGN: a mode that cannot be missed).
MODE_COLOURS = {
    "replay": ("#264f9e", "white"),
    "paper": ("#00796b", "white"),
    "shadow": ("#5d6470", "white"),
    "canary": ("#e08e0b", "black"),
    "live": ("#c62828", "white"),
}


def theme_named(name: str) -> Theme:
    return LIGHT if name == "light" else DARK


def apply_theme(app: QApplication, theme: Theme) -> None:
    """Fusion style with the theme's palette, and pyqtgraph's defaults to match."""
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.base,
        QPalette.ColorRole.AlternateBase: theme.alt_base,
        QPalette.ColorRole.ToolTipBase: theme.base,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.button,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.Highlight: theme.highlight,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: theme.muted,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(theme.muted))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(theme.muted))
    app.setPalette(palette)
    pg.setConfigOptions(background=theme.base, foreground=theme.text, antialias=False)


def restyle(widget: QWidget, css: str) -> None:
    """Set a style sheet only when it changes: setting one re-polishes and repaints the widget,
    which at 15 updates a second is a visible cost on the UI thread."""
    if widget.styleSheet() != css:
        widget.setStyleSheet(css)
