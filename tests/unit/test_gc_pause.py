"""The projector's pause of the cyclic garbage collector (projections.engine.gc_pause)."""

import gc
import threading
from collections.abc import Iterator

import pytest

from projections.engine.gc_pause import gc_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_paused_inside_and_back_on_after() -> None:
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_back_on_after_an_exception() -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("projection crashed")
    assert gc.isenabled()


def test_nested_pauses_end_with_the_outer_one() -> None:
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_left_off_if_it_was_off_before() -> None:
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_in_two_threads() -> None:
    # Thread one pauses first and ends first: the collector stays off until thread two ends.
    one_in, two_in, one_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def second() -> None:
        one_in.wait()
        with gc_paused():
            two_in.set()
            one_out.wait()
            seen.append(gc.isenabled())

    worker = threading.Thread(target=second)
    worker.start()
    with gc_paused():
        one_in.set()
        two_in.wait()
    one_out.set()
    worker.join()
    assert seen == [False]
    assert gc.isenabled()
