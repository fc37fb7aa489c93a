"""Kite ticker frames parsed for the engine: the fields a tick needs, straight from the bytes.

``kiteconnect``'s own parser builds a dict per packet with every field (ten depth levels of a
full packet included) through one ``struct`` call per field: about 27 µs a full packet, so a
frame of 500 instruments costs 14 ms before the first tick reaches the engine
(tests/bench/kite_ticker_bench.py). The engine needs four fields. This reads them with one
precompiled ``struct`` call per packet, which is what makes a 500-instrument full-mode feed
cheap; it is written here because no library parses Kite's format other than the client.

Layout (kite-wire-spec §8.3-8.5): ``>H`` count, then per packet ``>H`` length and the packet;
the kind is told by the length (8 LTP; 28/32 index quote/full; 44 quote; 184 full). Prices are
unsigned integers divided by the segment's divisor (``token & 0xFF``: CDS 10^7, BCD and NCO
10^4, others 100). Times are epoch seconds (UTC); full packets carry the exchange's timestamp,
quote packets none.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

_COUNT = struct.Struct(">H")
_LTP = struct.Struct(">II")
_QUOTE = struct.Struct(">II8xI")  # token, last price, (qty, avg), volume
_FULL = struct.Struct(">II8xI24xI12xI")  # ... volume, (buy/sell qty, ohlc), last trade time, (oi x3), exchange ts
_INDEX_FULL = struct.Struct(">II20xI")  # token, last price, (hlocc), exchange ts
_DIVISORS = {3: 10_000_000.0, 6: 10_000.0, 12: 10_000.0}


class RawTick(NamedTuple):
    """What the engine needs of one packet. ``epoch`` is 0 when the packet carries no time."""

    token: int
    price: float
    volume: int  # traded today (cumulative); 0 for LTP and index packets
    epoch: int


def parse_frame(payload: bytes) -> list[RawTick]:
    """Every packet of one binary message; heartbeats (shorter than 2 bytes) give none.
    Packets of an unknown length are skipped, as the official client skips them."""
    if len(payload) < 2:
        return []
    (count,) = _COUNT.unpack_from(payload, 0)
    out: list[RawTick] = []
    at = 2
    for _ in range(count):
        (length,) = _COUNT.unpack_from(payload, at)
        at += 2
        if length == 184:
            token, price, volume, traded, stamp = _FULL.unpack_from(payload, at)
            out.append(RawTick(token, price / _DIVISORS.get(token & 0xFF, 100.0), volume, stamp or traded))
        elif length == 44:
            token, price, volume = _QUOTE.unpack_from(payload, at)
            out.append(RawTick(token, price / _DIVISORS.get(token & 0xFF, 100.0), volume, 0))
        elif length == 8:
            token, price = _LTP.unpack_from(payload, at)
            out.append(RawTick(token, price / _DIVISORS.get(token & 0xFF, 100.0), 0, 0))
        elif length in (28, 32):
            if length == 32:
                token, price, stamp = _INDEX_FULL.unpack_from(payload, at)
            else:
                (token, price), stamp = _LTP.unpack_from(payload, at), 0
            out.append(RawTick(token, price / _DIVISORS.get(token & 0xFF, 100.0), 0, stamp))
        at += length
    return out
