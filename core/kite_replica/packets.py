"""Kite ticker binary packets (kite-wire-spec §8.3-8.5): what the replica's WebSocket sends.

A frame is ``>H`` packet count, then for each packet ``>H`` length and the packet. A packet's
kind is told by its length only: 8 bytes LTP, 44 quote, 184 full (tradable instruments); an
index (segment 9 in its token's low byte) has 28 quote and 32 full packets (no volume, no depth).
Prices are integers in paise (divisor 100; currency segments differ and are not served here),
every field big-endian and unsigned, times in epoch seconds (UTC).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

LTP, QUOTE, FULL = "ltp", "quote", "full"
_QUOTE = struct.Struct(">11I")
_FULL_TAIL = struct.Struct(">5I")
_DEPTH = struct.Struct(">IIH2x")
_LTP = struct.Struct(">II")
_INDEX = struct.Struct(">6Ii")  # token, last, high, low, open, close, change (signed)
INDICES_SEGMENT = 9
HEARTBEAT = b"\x00"


@dataclass
class TickState:
    """One instrument's day as the ticker reports it."""

    token: int
    last_price: float = 0.0
    last_qty: int = 0
    volume: int = 0
    turnover: float = 0.0
    buy_qty: int = 0
    sell_qty: int = 0
    open: float = 0.0
    high: float = 0.0
    low: float = 0.0
    close: float = 0.0  # the previous session's close
    last_trade_epoch: int = 0
    oi: int = 0
    depth: list[tuple[int, float, int]] = field(default_factory=list)  # 5 bids then 5 asks: qty, price, orders

    def trade(self, price: float, qty: int, epoch: int) -> None:
        if not self.open:
            self.open = self.high = self.low = price
        self.high, self.low = max(self.high, price), min(self.low, price)
        self.last_price, self.last_qty, self.last_trade_epoch = price, qty, epoch
        self.volume += qty
        self.turnover += price * qty


def _paise(price: float) -> int:
    return int(round(price * 100))


def packet(state: TickState, mode: str, exchange_epoch: int) -> bytes:
    """One instrument's packet in ``mode``."""
    if mode == LTP:
        return _LTP.pack(state.token, _paise(state.last_price))
    if state.token & 0xFF == INDICES_SEGMENT:
        index = _INDEX.pack(state.token, _paise(state.last_price), _paise(state.high), _paise(state.low),
                            _paise(state.open), _paise(state.close),
                            _paise(state.last_price - state.close) if state.close else 0)
        return index if mode == QUOTE else index + struct.pack(">I", exchange_epoch)
    average = state.turnover / state.volume if state.volume else state.last_price
    head = _QUOTE.pack(state.token, _paise(state.last_price), state.last_qty, _paise(average), state.volume,
                       state.buy_qty, state.sell_qty, _paise(state.open), _paise(state.high), _paise(state.low),
                       _paise(state.close))
    if mode == QUOTE:
        return head
    tail = _FULL_TAIL.pack(state.last_trade_epoch, state.oi, state.oi, state.oi, exchange_epoch)
    depth = list(state.depth[:10]) + [(0, 0.0, 0)] * (10 - len(state.depth[:10]))
    return head + tail + b"".join(_DEPTH.pack(q, _paise(p), n) for q, p, n in depth)


def frame(packets: Sequence[bytes]) -> bytes:
    """Packets in one binary message."""
    parts = [struct.pack(">H", len(packets))]
    for p in packets:
        parts.append(struct.pack(">H", len(p)))
        parts.append(p)
    return b"".join(parts)
