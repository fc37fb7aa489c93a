"""The desk panels' colours, dark and light: the main window switches theme, panels re-colour.

Views and models take a :class:`DeskPalette` (or ``set_theme(dark)``) instead of hard-coding
one theme's colours.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeskPalette:
    """Named colours (``#rrggbb``) the desk panels use."""

    text: str  # ordinary text
    dim: str  # secondary text: "—", protective orders, disarmed pairs
    up: str  # price up, profit
    down: str  # price down, loss
    armed_bg: str  # an armed pair's cell
    armed_text: str
    failed: str  # a pair whose pre-arm check or strategy failed
    ok: str  # bars and badges: fine
    warn: str  # bars and badges: attention (70 %)
    danger: str  # bars and badges: act now (90 %), HALTED
    badge_text: str  # text on ok/warn/danger backgrounds
    warn_text: str  # text on the warn background
    button_bg: str  # the in-table "Exit" / "Cancel" actions
    button_text: str
    panel_bg: str  # group boxes and bar troughs
    border: str


DARK = DeskPalette(
    text="#e6e6e6", dim="#8a8f98", up="#3ddc84", down="#ff6b6b", armed_bg="#1f5f35",
    armed_text="#ffffff", failed="#ffb347", ok="#2e9e55", warn="#d99a1e", danger="#d0343f",
    badge_text="#ffffff", warn_text="#111111", button_bg="#5a2a2e", button_text="#ffd7d7",
    panel_bg="#23262b", border="#3a3f47",
)

LIGHT = DeskPalette(
    text="#1b1b1b", dim="#6b7078", up="#0a7d33", down="#c62828", armed_bg="#c8ecd3",
    armed_text="#0b3d1c", failed="#b35c00", ok="#2e8b4e", warn="#b8760a", danger="#c62828",
    badge_text="#ffffff", warn_text="#111111", button_bg="#f6d5d5", button_text="#7a1010",
    panel_bg="#f3f4f6", border="#c9ccd1",
)


def desk_palette(dark: bool) -> DeskPalette:
    """The dark or the light palette."""
    return DARK if dark else LIGHT
