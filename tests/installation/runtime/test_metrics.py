import numpy as np

from installation.runtime.metrics import MetricsRecorder, Ring


def test_ring_keeps_the_newest_values_in_order_in_fixed_memory() -> None:
    r = Ring(5)
    assert len(r) == 0 and np.asarray(r).size == 0
    for v in range(1, 4):
        r.append(float(v))
    assert np.asarray(r).tolist() == [1.0, 2.0, 3.0] and r[-1] == 3.0
    for v in range(4, 13):
        r.append(float(v))
    assert len(r) == 5 and r.total == 12
    assert np.asarray(r).tolist() == [8.0, 9.0, 10.0, 11.0, 12.0]
    assert r.last(3).tolist() == [10.0, 11.0, 12.0] and r.last(99).tolist() == [8.0, 9.0, 10.0, 11.0, 12.0]
    assert r._a.nbytes == 5 * 8  # allocated once, never grows


def test_summary_counts_every_frame_even_past_the_ring() -> None:
    m = MetricsRecorder()
    m.flips = Ring(100)
    for i in range(1000):
        m.frame(i / 50.0)
    m.ai_shown(0.02, 5.0)
    s = m.summary(20.0)
    assert s["frames"] == 1000 and s["fps"] == 50.0 and abs(m.recent_fps() - 50.0) < 1e-6
    assert s["frame_ms"]["p50"] == 20.0 and s["latency_ms"]["max"] == 20.0
