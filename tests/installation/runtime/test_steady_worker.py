"""The inference worker with far-field steadiness: real worker thread, slots and timing; a model whose answer
far from the ink jumps between two colours at every call, as a restless pix2pix does."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from installation.core.frames import AIFrame, SketchFrame
from installation.core.slots import LatestSlot
from installation.core.steady import Steadiness
from installation.runtime.pipeline import InferenceWorker


class _Restless:
    """Ink comes out black; the paper alternates between two colours call by call."""

    provider, name = "test", "restless"

    def __init__(self) -> None:
        self.calls = 0

    def run(self, sketch: np.ndarray) -> np.ndarray:
        self.calls += 1
        paper = 40 if self.calls % 2 else 220
        out = np.full((*sketch.shape, 3), paper, np.uint8)
        out[sketch < 128] = 0
        return out


@pytest.fixture
def stop() -> threading.Event:
    ev = threading.Event()
    yield ev
    ev.set()


def _start(steadiness: Steadiness | None, stop: threading.Event):  # noqa: ANN202
    sketches: LatestSlot[SketchFrame] = LatestSlot()
    answers: LatestSlot[AIFrame] = LatestSlot()
    model = _Restless()
    worker = InferenceWorker(model, sketches, answers, stop, (lambda: steadiness) if steadiness else None)
    worker.start()
    return worker, sketches, answers


def _draw(sketches: LatestSlot[SketchFrame], answers: LatestSlot[AIFrame], n: int) -> list[AIFrame]:
    """n canvas states, a short stroke added at the top left each time; the answer to each (not settling)."""
    img = np.full((256, 256), 255, np.uint8)
    got = []
    for k in range(n):
        img = img.copy()
        img[20 + 6 * k : 23 + 6 * k, 20:60] = 0
        sketches.put(SketchFrame(k + 1, time.monotonic(), img))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            f = answers.take(timeout=1)
            if f is not None and not f.settling and f.seq == k + 1:
                got.append(f)
                break
        time.sleep(0.03)
    return got


def test_without_steadiness_every_answer_is_shown_as_the_model_gave_it(stop: threading.Event) -> None:
    worker, sketches, answers = _start(None, stop)
    got = _draw(sketches, answers, 4)
    assert [int(f.image[200, 200, 0]) for f in got] == [40, 220, 40, 220]  # the jumps reach the screen
    assert all(f.answer is None for f in got) and worker.settling_frames == 0


def test_far_from_the_pen_the_jumps_are_glided_and_near_it_the_answer_is_taken_at_once(stop: threading.Event) -> None:
    worker, sketches, answers = _start(Steadiness(2.0, 24.0, 16.0, 0.0), stop)
    got = _draw(sketches, answers, 5)
    far = [float(f.image[200, 200, 0]) for f in got]
    steps = np.abs(np.diff(far))
    assert steps.max() < 0.25 * 180, far  # the model jumps 180 levels every call; shown: a fraction of it
    for f in got:
        assert np.array_equal(f.model_image, f.answer) and f.answer is not None
        k = f.seq - 1
        row = 20 + 6 * k + 1
        assert int(f.image[row, 40, 0]) == 0  # the newest ink: as the model answered it
        assert int(f.image[row + 10, 40, 0]) == int(f.answer[row + 10, 40, 0])  # near it: taken at once


def test_a_resting_canvas_settles_onto_the_answer_with_settling_frames(stop: threading.Event) -> None:
    worker, sketches, answers = _start(Steadiness(0.2, 24.0, 16.0, 0.0), stop)
    last = _draw(sketches, answers, 2)[-1]
    deadline = time.monotonic() + 10
    final = None
    while time.monotonic() < deadline:
        f = answers.take(timeout=1)
        if f is not None and f.settling and np.array_equal(f.image, last.model_image):
            final = f
            break
    assert final is not None, "the shown image never settled onto the answer"
    assert final.seq == last.seq and final.inference_ms == 0.0 and worker.calls == 2  # no model call to settle
    n = worker.settling_frames
    time.sleep(0.3)
    assert worker.settling_frames == n  # settled: nothing more is handed on


def test_a_cleared_page_is_shown_at_once_with_no_ghost_of_the_last_portrait(stop: threading.Event) -> None:
    worker, sketches, answers = _start(Steadiness(5.0, 24.0, 16.0, 0.0), stop)
    _draw(sketches, answers, 3)
    sketches.put(SketchFrame(99, time.monotonic(), np.full((256, 256), 255, np.uint8)))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        f = answers.take(timeout=1)
        if f is not None and not f.settling and f.seq == 99:
            assert np.array_equal(f.image, f.model_image)  # the blank page's answer, whole
            return
    raise AssertionError("no answer to the cleared page")


def test_while_the_pen_keeps_drawing_the_far_field_holds_and_settles_once_it_rests(stop: threading.Event) -> None:
    worker, sketches, answers = _start(Steadiness(0.2, 24.0, 16.0, 0.5), stop)
    got = _draw(sketches, answers, 6)  # a change every ~0.03 s: never 0.5 s of rest
    far = {int(f.image[200, 200, 0]) for f in got}
    assert far == {int(got[0].image[200, 200, 0])}, far  # the model jumps 180 levels each call; shown: none
    assert any(int(f.answer[200, 200, 0]) != int(got[0].image[200, 200, 0]) for f in got)
    last = got[-1]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        f = answers.take(timeout=1)
        if f is not None and f.settling and np.array_equal(f.image, last.model_image):
            assert time.monotonic() - last.done_t >= 0.5  # not before the hold was over
            return
    raise AssertionError("the shown image never settled onto the answer after the pen rested")
