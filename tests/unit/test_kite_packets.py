"""Our ticker frame parser reads what the official client reads (prices, volumes, times)."""

from __future__ import annotations

import datetime as dt
import struct

from kiteconnect import KiteTicker

from core.kite_replica.packets import FULL, LTP, QUOTE, TickState, frame, packet
from core.market.feeds.kite_packets import RawTick, parse_frame

EPOCH = int(dt.datetime(2026, 12, 3, 4, 45, 30, tzinfo=dt.timezone.utc).timestamp())  # 10:15:30 IST


def state(token: int, price: float) -> TickState:
    s = TickState(token, close=price - 5)
    s.trade(price - 1, 10, EPOCH - 2)
    s.trade(price, 7, EPOCH - 1)
    s.depth = [(100, price - 0.05, 2)] * 5 + [(90, price + 0.05, 3)] * 5
    return s


def test_every_packet_kind_reads_as_the_official_client_reads_it() -> None:
    infy, tcs, cds = 408065, 2953217, (123 << 8) | 3  # segment in the low byte: NSE 1, CDS 3
    packets = [packet(state(infy, 1504.35), FULL, EPOCH), packet(state(tcs, 3999.95), QUOTE, EPOCH),
               packet(state(infy, 1504.40), LTP, EPOCH), packet(state((1001 << 8) | 9, 24500.15), FULL, EPOCH),
               packet(state((1002 << 8) | 9, 50000.0), QUOTE, EPOCH), b"\x00" * 12]  # an unknown length: skipped
    blob = frame(packets)
    ours = parse_frame(blob)
    theirs = KiteTicker("k", "t")._parse_binary(blob)
    assert [(r.token, r.price) for r in ours] == [(t["instrument_token"], t["last_price"]) for t in theirs]
    assert ours[0] == RawTick(infy, 1504.35, 17, EPOCH)  # full: cumulative volume and the exchange's time
    assert ours[1] == RawTick(tcs, 3999.95, 17, 0)  # quote: no time in the packet
    assert ours[2] == RawTick(infy, 1504.4, 0, 0)
    assert ours[3] == RawTick((1001 << 8) | 9, 24500.15, 0, EPOCH) and ours[4].epoch == 0
    nifty = theirs[3]  # the replica's index packet, as the official client reads every field of it
    assert (nifty["tradable"], nifty["mode"], nifty["ohlc"]) == (
        False, "full", {"high": 24500.15, "low": 24499.15, "open": 24499.15, "close": 24495.15})
    assert nifty["change"] == (24500.15 - 24495.15) * 100 / 24495.15
    assert nifty["exchange_timestamp"] == dt.datetime.fromtimestamp(EPOCH)
    assert theirs[4]["mode"] == "quote" and "exchange_timestamp" not in theirs[4]
    assert theirs[0]["volume_traded"] == 17
    cds_raw = struct.pack(">II", cds, 835012345)
    assert parse_frame(frame([cds_raw]))[0].price == KiteTicker("k", "t")._parse_binary(frame([cds_raw]))[0][
        "last_price"] == 83.5012345  # currency prices carry seven decimals


def test_a_heartbeat_and_an_empty_frame_give_no_ticks() -> None:
    assert parse_frame(b"\x00") == [] and parse_frame(b"") == [] and parse_frame(frame([])) == []
