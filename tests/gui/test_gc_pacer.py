"""GcPacer: cyclic garbage is collected in paced steps on the UI thread, a second's survivors are
frozen (never rescanned), and a deep clean reclaims cycles that died after they were frozen."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from app.gc_pacer import YOUNG_THRESHOLD, GcPacer


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


ALIVE: list[list[list[int]]] = []


def churn() -> None:
    """Enough new container objects, kept alive, to make a step worth its while."""
    ALIVE.append([[k] for k in range(YOUNG_THRESHOLD * 2)])


@pytest.fixture
def pacer(qtbot) -> Iterator[GcPacer]:  # type: ignore[no-untyped-def]
    gc.collect()
    made = GcPacer(interval_ms=60_000, young_per_full=3, quiet_s=0.3)  # stepped by hand
    yield made
    made.stop()
    ALIVE.clear()


def test_cycles_are_collected_by_the_steps_and_the_generations_follow_the_pacing(pacer: GcPacer) -> None:
    assert not gc.isenabled()  # CPython's automatic collector is off: collection is ours
    node = Node()
    dead = weakref.ref(node)
    del node
    churn()
    assert dead() is not None  # nothing collects on its own
    frozen_before = gc.get_freeze_count()
    done = []
    for _ in range(6):
        churn()
        done.append(pacer.step())
    assert dead() is None
    assert done == ["young", "young", "full", "young", "young", "full"]
    assert pacer.collections == {"young": 4, "full": 2}
    assert gc.get_freeze_count() > frozen_before  # a full collection freezes its survivors


def test_survivors_of_an_old_collection_are_frozen_and_only_a_deep_clean_reclaims_them(pacer: GcPacer) -> None:
    node = Node()
    dead = weakref.ref(node)
    frozen_before = gc.get_freeze_count()
    for _ in range(3):  # young, young, full: the survivors frozen
        churn()
        pacer.step()
    assert gc.get_freeze_count() > frozen_before
    del node  # dies after being frozen: no paced step ever rescans it
    for _ in range(8):
        churn()
        pacer.step()
    assert dead() is not None
    pacer.deep_clean()
    assert dead() is None and pacer.deep_cleans == 1


def test_a_deep_clean_runs_by_itself_once_the_application_has_been_quiet(pacer: GcPacer) -> None:
    node = Node()
    dead = weakref.ref(node)
    for _ in range(3):
        churn()
        pacer.step()
    del node
    gc.collect(0)  # the test's own allocations since: the steps below see a quiet application
    assert pacer.step() == "deep"  # quiet_s 0.3 s at 60 s a step: the first quiet step is enough
    assert pacer.deep_cleans == 1 and dead() is None
    for _ in range(4):
        pacer.step()
    assert pacer.deep_cleans == 1  # the frozen set has not grown since: nothing to gain


def test_no_collection_lands_while_the_window_is_showing_an_update(pacer: GcPacer) -> None:
    showing = [True]
    pacer.busy = lambda: showing[0]
    node = Node()
    dead = weakref.ref(node)
    del node
    churn()
    assert pacer.step() == "" and dead() is not None  # mid-update: it waits
    showing[0] = False
    assert pacer.step() == "young" and dead() is None  # the next tick collects
