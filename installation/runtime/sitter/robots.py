"""Sitter mode's robots: one sitter drawn by each robot of `plotter.robots` in its own style (or by the one robot).

`SitterRobots` keeps a RobotLink per robot, so each robot's portrait is its own job on its own acknowledged stream
(its own id, socket, window and resends): a robot that goes quiet holds up only itself, and when its bridge is
back its streamer says hello again and resumes after its last drawn path. A robot quiet for
`sitter.give_up_robot_s` (or one that did not answer when the sitting began) is given up for that sitting; the
sitting ends when every robot has finished or been given up. The screen follows one robot, the lead: the one
with the most paths to draw (the first of the list among equals), so that the portrait on screen morphs for as
long as the sitting lasts instead of stopping when a quick style is done; once it is given up, the next one still
drawing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from installation.adapters.plotter_link import PlotStreamer, RobotLink
from installation.adapters.robot_fleet import robots_line
from installation.core.sitter_styles import progress_line

log = logging.getLogger(__name__)
DONE, GIVEN_UP = "done", "given up"


@dataclass
class RobotRun:
    """One robot's part of one sitting."""

    n: int  # 1-based, in the order of plotter.robots
    robot: tuple[str, int]
    style: str
    link: RobotLink
    paths_mm: list[np.ndarray] = field(default_factory=list)
    ack_t: list[float] = field(default_factory=list)  # when the show saw each path acknowledged as drawn
    streamer: PlotStreamer | None = None
    plan: object = None  # face_sketch.Plan, or None when the robot did not answer
    outcome: str = ""  # "" while drawing, "done", or "given up: why"
    silent_since: float | None = None

    @property
    def name(self) -> str:
        return f"{self.robot[0]}:{self.robot[1]}"

    @property
    def given_up(self) -> bool:
        return self.outcome.startswith(GIVEN_UP)

    @property
    def drawing(self) -> bool:
        return self.streamer is not None and not self.outcome


class SitterRobots:
    """The link face the sitter show drives (command, state) for one robot or several."""

    def __init__(
        self,
        robots: list[tuple[str, int]],
        styles: list[str],
        window: int = 8,
        new_sheet: bool = False,
        give_up_s: float = 60.0,
        **link_kw: float,
    ) -> None:
        if not robots or len(robots) != len(styles):
            raise ValueError("a style for each robot, and at least one robot")
        self.runs = [
            RobotRun(i + 1, r, st, RobotLink(r, window=window, new_sheet=new_sheet, **link_kw))
            for i, (r, st) in enumerate(zip(robots, styles, strict=True))
        ]
        self.give_up_s = give_up_s
        self.lead_i = 0
        self.begun = False  # a sitting's jobs have been started (and not reset since)

    @property
    def lead(self) -> RobotRun:
        return self.runs[self.lead_i]

    @property
    def streamer(self) -> PlotStreamer | None:
        return self.lead.streamer if self.begun else None

    @property
    def ended(self) -> bool:
        return self.begun and all(run.outcome for run in self.runs)

    @property
    def any_done(self) -> bool:
        return any(run.outcome == DONE for run in self.runs)

    @property
    def drawn(self) -> int:
        return sum(len(run.ack_t) for run in self.runs)

    @property
    def planned(self) -> int:
        return sum(len(run.paths_mm) for run in self.runs)

    def begin(self, plans: tuple[object, ...] | list[object]) -> None:
        """A new sitting: a new job on every robot that has a plan (a robot without one did not answer)."""
        for run, plan in zip(self.runs, plans, strict=True):
            run.plan, run.ack_t, run.silent_since, run.streamer = plan, [], None, None
            if plan is None:
                run.paths_mm, run.outcome = [], f"{GIVEN_UP}: it did not answer when the sitting began"
                continue
            run.paths_mm, run.outcome = list(plan.paths_mm), ""  # type: ignore[attr-defined]
            run.streamer = run.link.start(run.paths_mm, replace=True)  # an earlier sitting's job is cancelled
            run.streamer.start()
        answering = [i for i, run in enumerate(self.runs) if run.plan is not None]
        self.lead_i = max(answering, key=lambda i: (len(self.runs[i].paths_mm), -i))  # longest; the first of equals
        self.begun = True

    def poll(self, now: float) -> bool:
        """Take in every robot's acknowledgements and give up on the silent; True when the lead changed."""
        for run in self.runs:
            if run.drawing:
                self._poll_one(run, now)
        if self.lead.given_up:
            for i, run in enumerate(self.runs):
                if not run.given_up:
                    log.info("sitter: the screen now follows robot %d (%s, %s)", run.n, run.name, run.style)
                    self.lead_i = i
                    return True
        return False

    def _poll_one(self, run: RobotRun, now: float) -> None:
        s = run.streamer
        assert s is not None
        while len(run.ack_t) < min(s.drawn, len(run.paths_mm)):
            run.ack_t.append(now)
        if len(run.ack_t) >= len(run.paths_mm):
            run.outcome = DONE
            return
        if s.finished:  # over at the robot without every path drawn (cancelled, or replaced by another host)
            run.outcome = f"{GIVEN_UP}: the robot ended its job ({s.sender.ended_how or 'cancelled'})"
        elif s.quiet or s.exited:
            run.silent_since = now if run.silent_since is None else run.silent_since
            if now - run.silent_since >= self.give_up_s:
                s.cancel()  # if the bridge comes back it is told; the next sitting's job replaces it anyway
                s.stop_event.set()
                run.outcome = f"{GIVEN_UP}: silent for {self.give_up_s:g} s"
        else:
            run.silent_since = None
        if run.given_up:
            log.warning("sitter: robot %d (%s) %s at %d of %d paths", run.n, run.name, run.outcome,
                        len(run.ack_t), len(run.paths_mm))  # fmt: skip

    def reset(self) -> None:
        """The sitting is over or abandoned: streams still running are cancelled."""
        self.cancel()
        self.begun = False

    def cancel(self) -> None:
        for run in self.runs:
            if run.streamer is not None and run.streamer.is_alive():
                run.streamer.cancel()

    def command(self, verb: str) -> bool:
        """pause | resume | paper (| cancel) for every robot still drawing; False when none is."""
        return any([run.link.command(verb) for run in self.runs if run.drawing or verb == "paper"])

    def rows(self) -> list[tuple[str, str, int, int]]:
        return [(run.style, self._state_word(run), len(run.ack_t), len(run.paths_mm)) for run in self.runs]

    def _state_word(self, run: RobotRun) -> str:
        if run.given_up:
            return "given_up"
        return str(run.link.state()["plotter/state"])

    def progress_line(self) -> str:
        return progress_line(self.rows())

    def state(self) -> dict[str, object]:
        """/state/plotter/... of the lead robot; with several, `plotter/robots` as the drawing show sends it
        (`HOST:PORT state drawn/planned; ...`) and `sitter/robots` (`N STYLE outcome drawn/planned; ...`)."""
        out = self.lead.link.state()
        if len(self.runs) > 1:
            out["plotter/robots"] = robots_line([run.link for run in self.runs])
            out["sitter/robots"] = "; ".join(
                f"{run.n} {run.style} {self._outcome_word(run)} {len(run.ack_t)}/{len(run.paths_mm)}"
                for run in self.runs
            )
        return out

    def _outcome_word(self, run: RobotRun) -> str:
        if not self.begun:
            return "idle"
        return "given_up" if run.given_up else run.outcome or "drawing"

    def summary(self, since: float | None) -> list[dict[str, object]]:
        """Each robot's part of the sitting, times in seconds since `since` (the capture)."""
        t0 = since or 0.0
        out = []
        for run in self.runs:
            plan = run.plan
            out.append(
                {
                    "n": run.n,
                    "robot": run.name,
                    "style": run.style,
                    "outcome": run.outcome or "drawing",
                    "job": run.streamer.job if run.streamer is not None else "",
                    "strokes_planned": len(run.paths_mm),
                    "strokes_drawn": len(run.ack_t),
                    "first_stroke_s": round(run.ack_t[0] - t0, 3) if run.ack_t else None,
                    "last_stroke_s": round(run.ack_t[-1] - t0, 3) if run.ack_t else None,
                    "pen_down_mm": round(getattr(plan, "pen_down_mm", 0.0), 1),
                    "estimated_min": round(getattr(plan, "estimated_s", 0.0) / 60, 2),
                }
            )
        return out
