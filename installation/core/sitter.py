"""Sitter mode as a pure state machine: events in, actions out, one line of guidance per state.

idle → detecting (a usable face, countdown) → capturing (one still) → sketching (worker) → drawing (robot)
→ done (the finished pair on screen) → idle. A sitter who leaves, an OSC abort, or a sketch with nothing to
draw ends in aborted → idle. Times are the caller's clock (seconds); nothing here touches a device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

IDLE, DETECTING, CAPTURING, SKETCHING, DRAWING, DONE, ABORTED = (
    "idle",
    "detecting",
    "capturing",
    "sketching",
    "drawing",
    "done",
    "aborted",
)
ACTIVE = (CAPTURING, SKETCHING, DRAWING)  # a portrait is being made
ABORTED_HOLD_S = 3.0  # the abort message stays this long before the next sitter

# why a frame has no usable face, and what the screen tells the visitor
ADVICE = {
    "": "",
    "no_face": "Sit facing the camera to have your portrait drawn",
    "too_small": "Come a little closer to the camera",
    "too_dark": "Too dark to draw you: more light on your face, please",
}


@dataclass(frozen=True)
class Observation:
    """What the vision worker saw in one camera frame."""

    t: float
    faces: int  # faces detected (any size)
    problem: str = ""  # "" (a usable face), "no_face", "too_small", "too_dark"

    @property
    def usable(self) -> bool:
        return self.problem == ""


@dataclass(frozen=True)
class Action:
    kind: str  # "capture", "sketch", "stream", "cancel", "archive", "reset"
    detail: str = ""


@dataclass
class SitterMachine:
    hold_s: float = 3.0
    leave_after_s: float = 1.5
    show_result_s: float = 10.0
    state: str = IDLE
    since: float = 0.0  # when the current state began
    last_face_t: float | None = None  # newest frame with a usable face
    message: str = ""  # extra guidance (why the last portrait stopped)
    problem: str = "no_face"
    drawn: int = 0
    total: int = 0
    portraits: int = 0
    aborts: int = 0
    await_leave: bool = False  # after a portrait: the same sitter staying seated does not start another

    def _go(self, state: str, t: float, message: str = "") -> None:
        self.state, self.since, self.message = state, t, message

    # -- events ---------------------------------------------------------------------------------------------
    def observe(self, obs: Observation) -> list[Action]:
        """A camera frame's verdict."""
        self.problem = obs.problem
        if obs.usable:
            self.last_face_t = obs.t
        gone = self.last_face_t is None or obs.t - self.last_face_t >= self.leave_after_s
        if self.await_leave and gone:
            self.await_leave = False
            self.message = ""
        if self.state == IDLE and obs.usable and not self.await_leave:
            self._go(DETECTING, obs.t)
        elif self.state == DETECTING:
            if gone:
                self._go(IDLE, obs.t, "You moved away: sit still facing the camera to start again")
            elif obs.usable and obs.t - self.since >= self.hold_s:
                self._go(CAPTURING, obs.t)
                return [Action("capture")]
        elif self.state in ACTIVE and gone:
            return self.abort(obs.t, "the sitter left")
        return self.tick(obs.t)

    def start(self, t: float) -> list[Action]:
        """/sitter/start: capture now if a usable face is in view; after a result, make way for the next."""
        if self.state in (DONE, ABORTED):
            self._go(IDLE, t)
            self.await_leave = False
            return [Action("reset")]
        if self.state in (IDLE, DETECTING):
            self.await_leave = False
            if self.last_face_t is not None and t - self.last_face_t < self.leave_after_s:
                self._go(CAPTURING, t)
                return [Action("capture")]
            self.message = "No face to draw: sit facing the camera"
        return []

    def captured(self, t: float, ok: bool, reason: str = "") -> list[Action]:
        """The still was taken (ok) or the face was gone by then."""
        if self.state != CAPTURING:
            return []
        if not ok:
            self._go(IDLE, t, f"Capture missed ({reason or 'no face'}): starting over")
            return [Action("reset")]
        self._go(SKETCHING, t)
        return [Action("sketch")]

    def sketched(self, t: float, paths: int, reason: str = "") -> list[Action]:
        if self.state != SKETCHING:
            return []
        if paths <= 0:
            return self.abort(t, reason or "nothing to draw in the picture")
        self.total, self.drawn = paths, 0
        self._go(DRAWING, t)
        return [Action("stream")]

    def progress(self, t: float, drawn: int, ended: bool | None = None) -> list[Action]:
        """The robot reports `drawn` paths on paper (several robots: their sum, with `ended` once every robot
        has finished or been given up)."""
        if self.state != DRAWING:
            return []
        self.drawn = drawn
        if drawn >= self.total if ended is None else ended:
            self.portraits += 1
            self._go(DONE, t, "")
            return [Action("archive")]
        return []

    def abort(self, t: float, reason: str) -> list[Action]:
        """/sitter/abort, or the sitter left: stop the robot and reset soon."""
        if self.state not in (*ACTIVE, DETECTING):
            return []
        was_drawing = self.state in (SKETCHING, DRAWING)
        self.aborts += 1
        self._go(ABORTED, t, f"Portrait stopped: {reason}")
        return [Action("cancel", reason)] if was_drawing else [Action("reset", reason)]

    def tick(self, t: float) -> list[Action]:
        """Time passing: results and abort messages give way to the next sitter."""
        if (self.state == DONE and t - self.since >= self.show_result_s) or (
            self.state == ABORTED and t - self.since >= ABORTED_HOLD_S
        ):
            self._go(IDLE, t, "Thank you! The next sitter, please" if self.state == DONE else "")
            self.await_leave = self.last_face_t is not None and t - self.last_face_t < self.leave_after_s
            return [Action("reset")]
        return []

    # -- what the screen says -------------------------------------------------------------------------------
    def countdown(self, t: float) -> int:
        """Whole seconds left before the capture while detecting; 0 otherwise."""
        if self.state != DETECTING:
            return 0
        return max(1, math.ceil(self.hold_s - (t - self.since)))

    def guidance(self, t: float) -> str:
        if self.state == IDLE:
            return self.message or ADVICE.get(self.problem, "") or ADVICE["no_face"]
        if self.state == DETECTING:
            if self.problem:
                return ADVICE[self.problem]
            return f"Hold still: your portrait starts in {self.countdown(t)}"
        if self.state == CAPTURING:
            return "Capturing..."
        if self.state == SKETCHING:
            return "The robot is studying your face"
        if self.state == DRAWING:
            return f"The robot is drawing you: stroke {self.drawn} of {self.total}"
        if self.state == DONE:
            return "Finished: the robot's drawing and the AI's portrait"
        return self.message
