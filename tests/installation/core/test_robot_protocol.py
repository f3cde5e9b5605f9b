import numpy as np

from installation.core.robot_protocol import CHUNK_POINTS, Receiver, Sender, new_job_id, path_messages


def _started(job: str = "j1", planned: int = 5, new_sheet: bool = False) -> Receiver:
    r = Receiver()
    r.on_message("/robot/start", [job, planned, int(new_sheet)])
    return r


def _draw_all(r: Receiver) -> list[int]:
    out = []
    while (nxt := r.next_to_draw()) is not None:
        r.drawn(nxt[0])
        out.append(nxt[0])
    return out


def test_job_ids_are_random_64_bit_hex() -> None:
    ids = {new_job_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


def test_long_paths_are_chunked_and_reassembled_in_any_order() -> None:
    pts = np.random.default_rng(0).uniform(0, 200, (CHUNK_POINTS * 2 + 7, 2))
    msgs = path_messages("j1", 0, pts)
    assert len(msgs) == 3 and all(args[0] == "j1" for _, args in msgs)
    r = _started(planned=1)
    replies = [r.on_path(args) for _, args in reversed(msgs)]
    assert replies[:2] == [[], []] and replies[2] == [("/robot/ack", ["j1", 0])]
    assert np.allclose(r.next_to_draw()[1], pts)


def test_receiver_acks_repeats_and_never_draws_twice() -> None:
    r = _started(planned=2)
    p0 = path_messages("j1", 0, np.array([[0, 0], [1, 1]]))[0][1]
    p1 = path_messages("j1", 1, np.array([[2, 2], [3, 3]]))[0][1]
    r.on_path(p1)
    assert r.next_to_draw() is None  # 1 must wait for 0
    r.on_path(p0)
    seq, _ = r.next_to_draw()
    assert seq == 0 and r.drawn(0) == ("/robot/drawn", ["j1", 0])
    assert r.on_path(p0) == [("/robot/ack", ["j1", 0])] and 0 not in r.ready  # a late duplicate is acked, not kept
    r.on_message("/robot/pause", ["j1"])
    assert r.state == "paused" and r.next_to_draw() is None
    r.on_message("/robot/resume", ["j1"])
    assert r.next_to_draw()[0] == 1


def test_a_new_job_starts_from_zero_and_the_old_one_is_over() -> None:
    r = _started("a", 2)
    for seq in range(2):
        r.on_path(path_messages("a", seq, np.ones((3, 2)) * seq)[0][1])
    assert _draw_all(r) == [0, 1] and r.state == "done"
    r.on_message("/robot/start", ["b", 3, 0])
    assert r.job == "b" and r.last_drawn == -1 and r.state == "drawing"
    r.on_path(path_messages("b", 0, np.ones((2, 2)))[0][1])
    assert _draw_all(r) == [0]  # path 0 of the new job is drawn although path 0 of "a" was
    late = r.on_message("/robot/start", ["a", 2, 0])  # a late duplicate of the old start changes nothing
    assert late == [("/robot/ended", ["a", "done", 1, 2])] and r.job == "b"
    assert r.on_path(path_messages("a", 1, np.ones((2, 2)))[0][1])[0][0] == "/robot/ended"


def test_cancel_ends_the_job_and_nothing_more_of_it_is_drawn() -> None:
    r = _started("a", 3)
    for seq in range(3):
        r.on_path(path_messages("a", seq, np.ones((2, 2)))[0][1])
    r.drawn(r.next_to_draw()[0])
    r.on_message("/robot/cancel", ["a"])
    assert r.state == "cancelled" and r.next_to_draw() is None and not r.ready
    r.on_message("/robot/resume", ["a"])
    r.on_path(path_messages("a", 1, np.ones((2, 2)))[0][1])
    assert r.state == "cancelled" and r.next_to_draw() is None
    r.on_message("/robot/start", ["b", 1, 0])
    assert r.ended["a"].how == "cancelled" and r.ended["a"].last_drawn == 0 and r.state == "drawing"
    # a cancel of a job that never began here keeps a late start of it from beginning it
    assert r.on_message("/robot/cancel", ["c"])[0] == ("/robot/ended", ["c", "cancelled", -1, 0])
    r.on_message("/robot/start", ["c", 4, 0])
    assert r.job == "b"


def test_new_sheet_waits_for_paper_only_when_the_sheet_has_ink() -> None:
    r = _started("a", 1, new_sheet=True)
    assert r.state == "drawing"  # a blank sheet: no wait
    r.on_path(path_messages("a", 0, np.ones((2, 2)))[0][1])
    _draw_all(r)
    r.on_message("/robot/start", ["b", 1, 1])
    r.on_path(path_messages("b", 0, np.ones((2, 2)))[0][1])
    assert r.state == "waiting_for_paper" and r.next_to_draw() is None
    r.on_message("/robot/paper", ["a"])  # a confirmation naming another job is not this one's
    assert r.state == "waiting_for_paper"
    assert r.paper_changed() and r.sheet == 1 and _draw_all(r) == [0]


def test_the_journal_replayed_restores_job_counts_and_sheet() -> None:
    r = _started("a", 2)
    journal = r.take_events()
    r.on_path(path_messages("a", 0, np.ones((2, 2)))[0][1])
    seq, pts = r.next_to_draw()
    journal.append(r.drawn_event(seq, pts))
    r.drawn(seq)
    r.on_message("/robot/start", ["b", 4, 1])
    r.on_message("/robot/pause", ["b"])
    r.paper_changed()
    journal += r.take_events()
    again = Receiver()
    for ev in journal:
        again.apply(ev)
    assert (again.job, again.state, again.last_drawn, again.sheet) == ("b", "paused", -1, 1)
    assert again.ended["a"].how == "replaced" and again.ended["a"].last_drawn == 0


def test_sender_announces_then_streams_within_its_window_and_repeats_controls() -> None:
    paths = [np.ones((2, 2)) * i for i in range(20)]
    s = Sender("j", paths, window=4, timeout_s=1.0)
    assert s.outgoing(0.0) == [("/robot/start", ["j", 20, 0])] and s.outgoing(0.5) == []
    s.on_reply("/robot/state", ["other", "done", 9, 10, 0.0, 0.0])  # the robot is on an older job
    assert not s.confirmed and s.outgoing(1.1) == [("/robot/start", ["j", 20, 0])]
    s.on_reply("/robot/state", ["j", "drawing", -1, 20, 0.0, 0.0])
    assert [a[1] for _, a in s.outgoing(1.2)] == [0, 1, 2, 3]
    s.on_reply("/robot/ack", ["j", 0])
    s.on_reply("/robot/ack", ["other", 4])  # another job's ack is not ours
    assert [a[1] for _, a in s.outgoing(1.3)] == [4]
    s.want = "pause"
    assert s.outgoing(1.4)[0] == ("/robot/pause", ["j"])
    s.on_reply("/robot/state", ["j", "paused", -1, 20, 0.0, 0.0])
    assert all(m[0] != "/robot/pause" for m in s.outgoing(3.0))
    s.on_reply("/robot/drawn", ["j", 0])
    s.reconnect()
    assert s.acked == {0} and s.drawn == 1
    s.on_reply("/robot/ended", ["j", "cancelled", 3, 20])
    assert s.finished and s.drawn == 4 and s.outgoing(9.0) == []


def test_sender_counts_only_what_the_robot_reports() -> None:
    s = Sender("j", [np.ones((2, 2))] * 3)
    s.outgoing(0.0)
    s.on_reply("/robot/state", ["j", "drawing", 1, 3, 0.0, 0.0])
    assert s.drawn == 2 and not s.done
    s.on_reply("/robot/state", ["j", "done", 7, 3, 0.0, 0.0])  # more than planned is clamped
    assert s.drawn == 3 and s.done and s.progress == 1.0 and s.queued == 0
