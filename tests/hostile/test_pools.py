"""The process pools behind reading, inspecting and rendering: a task that runs out of memory
or time, or a worker that dies (even before pebble knows which task it held), costs that task
only; the next task runs in a fresh worker."""

from __future__ import annotations

import os
import time

import pytest

from formdesk.services.pools import LimitedPool, TaskFailed


def allocate(mb: int) -> int:
    return len(bytearray(mb * 1024 * 1024))


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def die() -> None:
    os._exit(3)


@pytest.fixture
def pool():
    p = LimitedPool("test", 1, 400)
    yield p
    p.close()


def test_memory_time_and_death_cost_one_task(pool):
    assert pool.call(allocate, 10, timeout=60) == 10 * 1024 * 1024
    with pytest.raises(TaskFailed) as info:
        pool.call(allocate, 800, timeout=60)
    assert info.value.kind == "memory" and "400 MB" in info.value.reason
    with pytest.raises(TaskFailed) as info:
        pool.call(sleep, 30, timeout=1)
    assert info.value.kind == "timeout" and "1 秒" in info.value.reason
    with pytest.raises(TaskFailed) as info:
        pool.call(die, timeout=30)
    assert info.value.kind == "died"
    assert pool.call(sleep, 0.01, timeout=30) == 0.01


def test_a_worker_killed_while_receiving_its_task_does_not_break_the_pool(pool):
    # 500 MB of arguments cannot even be unpickled under 400 MB: pebble sees a worker die
    # with no task and marks its pool broken for good; a fresh pool takes the next task
    with pytest.raises(TaskFailed) as info:
        pool.call(len, b"x" * (500 * 1024 * 1024), timeout=60)
    assert info.value.kind == "died"
    assert [pool.call(len, b"abc", timeout=60) for _ in range(3)] == [3, 3, 3]


def test_a_closed_pool_refuses_work(pool):
    pool.close()
    with pytest.raises(RuntimeError):
        pool.call(len, b"", timeout=5)
