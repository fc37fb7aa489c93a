"""Qt models of the desktop."""
