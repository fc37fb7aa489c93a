"""Qt windows of the desktop."""
