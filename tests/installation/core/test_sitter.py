"""The sitter state machine on its own: events in, actions out, guidance per state."""

from installation.core.sitter import (
    ABORTED,
    ABORTED_HOLD_S,
    CAPTURING,
    DETECTING,
    DONE,
    DRAWING,
    IDLE,
    SKETCHING,
    Observation,
    SitterMachine,
)


def face(t: float) -> Observation:
    return Observation(t, 1, "")


def nobody(t: float) -> Observation:
    return Observation(t, 0, "no_face")


def kinds(actions: list) -> list[str]:
    return [a.kind for a in actions]


def drawing_machine(total: int = 5) -> SitterMachine:
    m = SitterMachine(hold_s=3.0, leave_after_s=1.5, show_result_s=10.0)
    m.observe(face(0.0))
    assert kinds(m.observe(face(3.0))) == ["capture"]
    assert kinds(m.captured(3.1, True)) == ["sketch"]
    assert kinds(m.sketched(3.5, total)) == ["stream"]
    return m


def test_a_held_face_counts_down_then_captures_once() -> None:
    m = SitterMachine(hold_s=3.0)
    assert m.state == IDLE and "Sit facing the camera" in m.guidance(0.0)
    assert m.observe(face(10.0)) == [] and m.state == DETECTING
    assert [m.countdown(t) for t in (10.0, 11.2, 12.5)] == [3, 2, 1]
    assert "starts in 2" in m.guidance(11.2)
    assert m.observe(face(12.9)) == [] and m.state == DETECTING
    assert kinds(m.observe(face(13.0))) == ["capture"] and m.state == CAPTURING
    assert m.observe(face(13.1)) == []  # no second capture
    assert kinds(m.captured(13.2, True)) == ["sketch"] and m.state == SKETCHING


def test_a_blink_does_not_reset_but_leaving_does() -> None:
    m = SitterMachine(hold_s=3.0, leave_after_s=1.5)
    m.observe(face(0.0))
    m.observe(nobody(1.0))  # 1 s without a face: still the same sitter
    assert m.state == DETECTING
    m.observe(nobody(1.6))
    assert m.state == IDLE and "moved away" in m.guidance(1.6)


def test_problems_give_guidance_and_no_countdown() -> None:
    m = SitterMachine()
    m.observe(Observation(0.0, 1, "too_dark"))
    assert m.state == IDLE and "Too dark" in m.guidance(0.0)
    m.observe(Observation(0.1, 1, "too_small"))
    assert "closer" in m.guidance(0.1)


def test_sitter_leaving_mid_capture_resets_cleanly() -> None:
    m = SitterMachine(hold_s=1.0)
    m.observe(face(0.0))
    m.observe(face(1.0))
    assert m.state == CAPTURING
    assert kinds(m.captured(1.1, False, "the sitter moved away")) == ["reset"]
    assert m.state == IDLE and "starting over" in m.guidance(1.1)


def test_strokes_drawn_lead_to_done_archive_and_the_next_sitter() -> None:
    m = drawing_machine(total=5)
    assert m.progress(4.0, 2) == [] and "stroke 2 of 5" in m.guidance(4.0)
    assert kinds(m.progress(5.0, 5)) == ["archive"] and m.state == DONE and m.portraits == 1
    assert m.tick(14.9) == [] and m.state == DONE
    assert kinds(m.tick(15.0)) == ["reset"] and m.state == IDLE


def test_sitter_leaving_mid_drawing_cancels_the_robot() -> None:
    m = drawing_machine()
    m.observe(face(4.0))
    assert m.observe(nobody(5.0)) == [] and m.state == DRAWING
    acts = m.observe(nobody(5.5))
    assert kinds(acts) == ["cancel"] and m.state == ABORTED and "left" in m.guidance(5.5)
    assert kinds(m.tick(5.5 + ABORTED_HOLD_S)) == ["reset"] and m.state == IDLE


def test_osc_start_and_abort() -> None:
    m = SitterMachine(hold_s=5.0)
    assert m.start(0.0) == [] and "No face" in m.guidance(0.0)
    m.observe(face(1.0))
    assert kinds(m.start(1.2)) == ["capture"] and m.state == CAPTURING
    m.captured(1.3, True)
    assert kinds(m.abort(1.4, "aborted by the operator")) == ["cancel"] and m.state == ABORTED
    assert m.abort(1.5, "again") == []  # nothing left to abort


def test_a_sketch_with_nothing_to_draw_aborts() -> None:
    m = SitterMachine(hold_s=1.0)
    m.observe(face(0.0))
    m.observe(face(1.0))
    m.captured(1.0, True)
    assert kinds(m.sketched(1.2, 0, "nothing to draw")) == ["cancel"] and m.state == ABORTED


def test_a_sitter_who_stays_after_the_result_is_not_drawn_again() -> None:
    m = drawing_machine(total=1)
    m.progress(4.0, 1)
    for t in (5.0, 10.0, 13.9):
        assert m.observe(face(t)) == [] and m.state == DONE
    assert kinds(m.observe(face(14.0))) == ["reset"] and m.state == IDLE and m.await_leave
    for t in (15.0, 20.0, 25.0):
        assert m.observe(face(t)) == [] and m.state == IDLE  # still seated: no new countdown
    assert "next sitter" in m.guidance(25.0)
    m.observe(nobody(27.0))  # gone for 2 s
    m.observe(face(28.0))  # someone new sits down
    assert m.state == DETECTING


def test_osc_start_draws_a_staying_sitter_again() -> None:
    m = drawing_machine(total=1)
    m.progress(4.0, 1)
    m.observe(face(14.0))
    m.tick(14.0)
    assert m.state == IDLE and m.await_leave
    assert kinds(m.start(14.1)) == ["capture"]
