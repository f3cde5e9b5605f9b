import threading

from installation.core.slots import LatestSlot


def test_latest_value_wins_and_is_taken_once() -> None:
    s: LatestSlot[int] = LatestSlot()
    assert s.take(timeout=0) is None
    s.put(1)
    s.put(2)
    assert s.take(timeout=0) == 2
    assert s.take(timeout=0) is None
    assert s.dropped == 1
    assert s.peek() == 2


def test_take_waits_for_a_put() -> None:
    s: LatestSlot[str] = LatestSlot()
    threading.Timer(0.05, lambda: s.put("x")).start()
    assert s.take(timeout=5) == "x"


def test_concurrent_producers_never_lose_the_newest() -> None:
    s: LatestSlot[tuple[int, int]] = LatestSlot()
    n = 2000
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def produce(k: int) -> None:
        for i in range(n):
            s.put((k, i))

    def consume() -> None:
        while not done.is_set() or s.version > 0:
            v = s.take(timeout=0.01)
            if v is None and done.is_set():
                return
            if v is not None:
                seen.append(v)

    consumer = threading.Thread(target=consume)
    consumer.start()
    producers = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
    for p in producers:
        p.start()
    for p in producers:
        p.join()
    done.set()
    consumer.join()
    # each producer's values arrive in order (no stale value after a newer one of the same producer)
    for k in range(4):
        mine = [i for kk, i in seen if kk == k]
        assert mine == sorted(mine)
    # the last value put is the slot's value; taken + dropped accounts for every put
    assert s.version == 4 * n
    assert len(seen) + s.dropped == 4 * n
