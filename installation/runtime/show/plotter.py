"""The show's plotter jobs: the visitor's strokes, mapped onto the paper, streamed to the robot bridge."""

from __future__ import annotations

import logging

import numpy as np

from installation.core.errors import UserError

log = logging.getLogger(__name__)


class PlotterMixin:
    """/plotter/* commands and the plotter fields of the state."""

    @property
    def streamer(self):  # noqa: ANN201 - the current job's PlotStreamer, or None
        return self.plotter_link.streamer if self.plotter_link is not None else None

    def _plotter_state(self) -> dict[str, object]:
        from installation.adapters.plotter_link import RobotLink

        link = self.plotter_link or RobotLink(("", 0))  # no link yet: idle, nothing planned
        return link.state()

    def _robot_link(self):  # noqa: ANN202 - the RobotLink to plotter.robot
        from installation.adapters.plotter_link import RobotLink

        if self.plotter_link is None:
            p = self.cfg.plotter
            if p.robots:  # several bridges at once (adapters/robot_fleet.py)
                from installation.adapters.robot_fleet import RobotFleet
                from installation.core.config import parse_host_port

                robots = [parse_host_port(r, "plotter.robots[]") for r in p.robots]
                self.plotter_link = RobotFleet(robots, window=p.window, new_sheet=p.new_sheet)
                return self.plotter_link
            host, _, port = p.robot.rpartition(":")
            if not port.isdigit():
                raise UserError(f"config plotter.robot {p.robot!r} must be HOST:PORT")
            self.plotter_link = RobotLink((host, int(port)), window=p.window, new_sheet=p.new_sheet)
        return self.plotter_link

    def _plotter(self, verb: str) -> None:
        """start: a new job streaming the visitor's strokes to the robot bridge; pause, resume, cancel, paper
        (a fresh sheet is in place): for the current job."""
        from installation.core.plotpaths import PaperMapping, paper_size, prepare

        try:
            link = self._robot_link()
        except UserError as e:  # a wrong plotter.robot: said on /state/error, the show goes on
            self.last_error = str(e)
            return
        if verb != "start":
            if not link.command(verb):
                self.last_error = f"/plotter/{verb}: no plot has been started"
            return
        running = self.supervisor.workers.get("plotter") if self.supervisor is not None else None
        if link.busy or (running is not None and running.state in ("starting", "up", "down")):
            self.last_error = "/plotter/start: a plot is already running (pause, cancel or wait for it)"
            return
        p = self.cfg.plotter
        strokes = [np.array([(q.x, q.y) for q in s.points], float) for s in self.canvas.all_strokes()]
        strokes = [s for s in strokes if len(s) >= 2]
        if not strokes:
            self.last_error = "/plotter/start: nothing drawn yet"
            return
        plotter = self.profile.plotter if self.profile is not None else None
        reg = plotter.registration(self.cfg.canvas.size) if plotter is not None else None
        mapping = reg or PaperMapping(self.cfg.canvas.size, paper_size(p.paper), p.margin_mm)
        paths = prepare([mapping.to_mm(s) for s in strokes], tolerance=0.1, merge_tol=0.05)
        streamer = link.start(paths)
        if self.supervisor is not None:
            self.supervisor.add(
                "plotter",
                lambda stop, beat: streamer.serve(beat),
                restart_on_exit=False,
                release=lambda: streamer.sock.close(),  # a replacement reopens it and resumes
            )
        else:
            streamer.start()
        log.info("plotting job %s: %d paths on %s via %s", streamer.job, len(paths), p.paper, p.robot)
