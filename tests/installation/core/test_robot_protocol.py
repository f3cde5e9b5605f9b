import numpy as np

from installation.core.robot_protocol import CHUNK_POINTS, Receiver, Sender, path_messages


def test_long_paths_are_chunked_and_reassembled_in_any_order() -> None:
    pts = np.random.default_rng(0).uniform(0, 200, (CHUNK_POINTS * 2 + 7, 2))
    msgs = path_messages(3, pts)
    assert len(msgs) == 3
    r = Receiver(last_drawn=2)
    replies = [r.on_path(args) for _, args in reversed(msgs)]
    assert replies[:2] == [[], []] and replies[2] == [("/robot/ack", [3])]
    assert np.allclose(r.next_to_draw()[1], pts)


def test_receiver_acks_repeats_and_never_draws_twice() -> None:
    r = Receiver()
    p0 = path_messages(0, np.array([[0, 0], [1, 1]]))[0][1]
    p1 = path_messages(1, np.array([[2, 2], [3, 3]]))[0][1]
    r.on_path(p1)
    assert r.next_to_draw() is None  # 1 must wait for 0
    r.on_path(p0)
    seq, _ = r.next_to_draw()
    assert seq == 0 and r.drawn(0) == ("/robot/drawn", [0])
    assert r.on_path(p0) == [("/robot/ack", [0])] and 0 not in r.ready  # a late duplicate is acked, not kept
    r.on_control("/robot/pause")
    assert r.next_to_draw() is None
    r.on_control("/robot/resume")
    assert r.next_to_draw()[0] == 1


def test_sender_window_resend_and_reconnect() -> None:
    s = Sender(total=20, window=4, timeout_s=1.0)
    assert s.due(0.0) == [0, 1, 2, 3]
    assert s.due(0.5) == []  # not late yet
    s.on_reply("/robot/ack", [0])
    assert s.due(0.6) == [4]  # the window moved by one
    assert s.due(1.2) == [1, 2, 3]  # late ones again
    s.on_reply("/robot/drawn", [0])
    s.reconnect()
    assert s.acked == {0} and s.due(1.3) == [1, 2, 3, 4]
    s.on_reply("/robot/state", ["idle", 19, 0.0, 0.0])
    assert s.done and s.progress == 1.0
