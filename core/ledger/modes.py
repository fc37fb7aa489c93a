"""The ledger's vocabulary, importable without SQLAlchemy (the CLI parser needs it at start-up)."""

MODES = ("sim", "replay", "paper", "shadow", "canary", "live")
SIM = "sim"
ALL = "ALL"  # the strategy tag of a day's all-strategies summary row
