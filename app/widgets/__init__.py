"""Qt widgets of the desktop."""
