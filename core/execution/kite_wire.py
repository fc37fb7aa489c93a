"""Facts of Kite's wire format shared by the broker, the reconciliation and the loopback replica
(no kiteconnect import here: the replica and the checks stay light)."""

from __future__ import annotations

import hashlib

KITE_TIME = "%Y-%m-%d %H:%M:%S"  # Kite's timestamps: naive, Asia/Kolkata


def kite_tag(client_order_id: str) -> str:
    """The Kite tag of a client order id: ``atw`` + 17 hex digits of its SHA-1 (Kite's tag is at
    most 20 alphanumerics); deterministic, so a restart finds its orders at Kite."""
    return "atw" + hashlib.sha1(client_order_id.encode()).hexdigest()[:17]
