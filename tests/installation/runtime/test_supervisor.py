"""Fault injection for each worker and device, with recovery asserted: real threads, sockets, model, files."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from installation.adapters.camera import CameraWorker
from installation.adapters.osc_server import ControlSurface, OscSettings
from installation.adapters.plotter_link import PlotStreamer
from installation.bridges.simulator import Simulator, read_journal
from installation.core.errors import UserError
from installation.core.frames import AIFrame, CameraFrame, SketchFrame
from installation.core.osc_protocol import Command, build_message
from installation.core.slots import LatestSlot
from installation.runtime.archive import Archive, ArchiveWriter
from installation.runtime.supervisor import Supervisor
from tests.tools.waiting import until

ROOT = Path(__file__).resolve().parents[3]


def _until(cond, timeout: float = 10.0) -> bool:  # noqa: ANN001
    return until(cond, timeout, poll_s=0.01)


@pytest.fixture()
def stop() -> threading.Event:
    ev = threading.Event()
    yield ev
    ev.set()


def _sup(stop: threading.Event) -> Supervisor:
    return Supervisor(stop, initial_backoff_s=0.05, max_backoff_s=0.4, healthy_after_s=60, stall_after_s=5)


def test_a_failing_worker_is_restarted_with_growing_capped_backoff(stop: threading.Event) -> None:
    runs: list[float] = []

    def body(stop: threading.Event, beat) -> None:  # noqa: ANN001
        runs.append(time.monotonic())
        beat()
        raise RuntimeError("always broken")

    sup = _sup(stop)
    sup.add("broken", body)
    assert _until(lambda: len(runs) >= 6)
    gaps = np.diff(runs[:6])
    assert gaps[3] > gaps[0]  # it backs off instead of spinning
    assert sup.workers["broken"].restarts >= 5 and "always broken" in sup.workers["broken"].last_error
    assert sup.status()["broken"]["state"] in ("down", "up")
    stop.set()
    sup.join(2)
    assert sup.status()["broken"]["state"] == "stopped"


def test_a_worker_that_stops_beating_is_replaced_by_a_fresh_thread(stop: threading.Event) -> None:
    release = threading.Event()
    runs: list[str] = []
    served = threading.Event()

    def body(stop: threading.Event, beat) -> None:  # noqa: ANN001
        runs.append(threading.current_thread().name)
        beat()
        if len(runs) == 1:
            release.wait(10)  # wedged in a call that does not return: no beats
            beat()  # woken after its replacement: this beat ends it
            served.set()  # never reached
        while not stop.is_set():
            beat()
            served.set()
            time.sleep(0.01)

    sup = Supervisor(stop, stall_after_s=0.3)
    sup.add("wedged", body, restart_on_exit=False)
    first = sup.workers["wedged"].thread
    assert _until(lambda: sup.workers["wedged"].replaced == 1, 20)
    assert _until(served.is_set, 20)  # the fresh thread serves
    w = sup.workers["wedged"]
    assert len(runs) == 2 and runs[0] != runs[1] and w.thread is not first
    assert sup.status()["wedged"]["replaced"] == 1 and "stalled" in w.last_error and sup.down() == []
    assert first is not None and first.is_alive() and sup.status()["wedged"]["stuck_threads"] == 1
    release.set()  # the stuck call returns: the abandoned thread ends instead of competing
    assert _until(lambda: not first.is_alive(), 20)
    assert sup.status()["wedged"]["stuck_threads"] == 0 and w.replaced == 1 and w.restarts == 0
    stop.set()
    sup.join(2)
    assert sup.status()["wedged"]["state"] == "stopped"


def test_a_thread_spinning_without_beats_is_ended_after_its_replacement(stop: threading.Event) -> None:
    spins = [0]

    def body(stop: threading.Event, beat) -> None:  # noqa: ANN001
        beat()
        if sup.workers["spin"].replaced == 0:
            while True:  # a Python loop that never beats (a parser gone round in circles)
                spins[0] += 1
        stop.wait()

    sup = Supervisor(stop, stall_after_s=0.3)
    sup.add("spin", body)
    first = sup.workers["spin"].thread
    assert _until(lambda: sup.workers["spin"].replaced == 1, 20)
    assert first is not None and _until(lambda: not first.is_alive(), 20)  # interrupted, not left spinning
    n = spins[0]
    time.sleep(0.2)
    assert spins[0] == n and sup.workers["spin"].thread.is_alive() and sup.workers["spin"].restarts == 0


def test_a_worker_added_without_interrupt_finishes_its_call_before_it_ends(stop: threading.Event) -> None:
    done = threading.Event()
    finished: list[str] = []

    def body(stop: threading.Event, beat) -> None:  # noqa: ANN001
        beat()
        if sup.workers["slow"].replaced == 0:
            while not done.is_set():  # a slow save in Python code: no beats meanwhile
                pass
            finished.append(threading.current_thread().name)  # the save completed
            beat()  # abandoned: ends here
        stop.wait()

    sup = Supervisor(stop, stall_after_s=0.3)
    sup.add("slow", body, interrupt=False)
    first = sup.workers["slow"].thread
    assert _until(lambda: sup.workers["slow"].replaced == 1, 20)
    time.sleep(0.3)
    assert first is not None and first.is_alive() and finished == []  # not interrupted mid-call
    done.set()
    assert _until(lambda: not first.is_alive(), 20) and finished == [first.name]


def test_a_stalled_inference_worker_is_replaced_and_the_fresh_one_answers(stop: threading.Event) -> None:
    from installation.runtime.pipeline import InferenceWorker

    sketches: LatestSlot[SketchFrame] = LatestSlot()
    answers: LatestSlot[AIFrame] = LatestSlot()
    worker = InferenceWorker(_Model(), sketches, answers, stop)
    sup = Supervisor(stop, stall_after_s=0.4)
    sup.add("inference", worker.serve)
    sketches.put(SketchFrame(1, 0.0, np.full((8, 8), 255, np.uint8)))
    assert answers.take(timeout=5) is not None
    sup.stall("inference", 30.0)  # stuck in a call for 30 s
    assert _until(lambda: sup.workers["inference"].replaced == 1, 20)
    sketches.put(SketchFrame(2, 0.0, np.zeros((8, 8), np.uint8)))
    got = answers.take(timeout=5)
    assert got is not None and got.seq == 2 and int(got.image[0, 0, 0]) == 255
    assert sup.replaced == 1 and sup.restarts == 0 and sup.stuck() == [sup.workers["inference"].abandoned[0].name]


def test_a_stalled_osc_server_is_replaced_on_a_fresh_socket_on_the_same_port(stop: threading.Event) -> None:
    cs = ControlSurface(OscSettings(port=0))
    sup = Supervisor(stop, stall_after_s=0.4)
    sup.add("osc", cs.serve, release=cs.close_socket)
    address, old = cs.address, cs._server.socket
    client = _listener()
    sup.stall("osc", 30.0)
    assert _until(lambda: sup.workers["osc"].replaced == 1, 20)
    assert _until(lambda: cs.counters.reopened == 1) and cs.address == address
    assert old.fileno() < 0 and cs._server.socket is not old  # the stuck run's socket closed, a new one bound
    client.sendto(build_message("/layout", ["ai"]), address)
    assert _until(lambda: cs.pending == 1) and cs.drain() == [Command("/layout", ("ai",))]
    cs.close_socket()


def test_a_camera_stuck_in_read_is_replaced_with_a_fresh_handle(stop: threading.Event) -> None:
    cam = FakeCamera()
    frames: LatestSlot[CameraFrame] = LatestSlot()
    worker = CameraWorker("0", frames, stop, opener=cam.open)
    sup = Supervisor(stop, stall_after_s=0.4)
    sup.add("camera", worker.serve)
    assert frames.take(timeout=3) is not None
    cam.hang.set()  # the driver hangs inside read()
    assert _until(lambda: sup.workers["camera"].replaced == 1, 20)
    cam.hang.clear()
    seq = frames.peek().seq if frames.peek() is not None else 0
    assert _until(lambda: (f := frames.peek()) is not None and f.seq > seq + 3)
    assert cam.opened == 2  # the replacement opened the device afresh


class _Model:
    """Real work of the worker without a file: a deterministic image from the sketch."""

    provider, name = "test", "invert"

    def run(self, sketch: np.ndarray) -> np.ndarray:
        return np.repeat((255 - sketch)[:, :, None], 3, axis=2)


def test_inference_worker_recovers_from_an_exception_inside_it(stop: threading.Event) -> None:
    from installation.runtime.pipeline import InferenceWorker

    sketches: LatestSlot[SketchFrame] = LatestSlot()
    answers: LatestSlot[AIFrame] = LatestSlot()
    worker = InferenceWorker(_Model(), sketches, answers, stop)
    sup = _sup(stop)
    sup.add("inference", worker.serve)
    sketches.put(SketchFrame(1, 0.0, np.full((8, 8), 255, np.uint8)))
    assert answers.take(timeout=5) is not None
    sup.inject("inference", RuntimeError("injected"))
    assert _until(lambda: sup.workers["inference"].restarts == 1)
    sketches.put(SketchFrame(2, 0.0, np.zeros((8, 8), np.uint8)))
    got = answers.take(timeout=5)
    assert got is not None and got.seq == 2 and int(got.image[0, 0, 0]) == 255
    assert sup.workers["inference"].last_error == "RuntimeError: injected"


class FakeCamera:
    """A replaying camera at the hardware edge: frames until unplugged; opening fails until replugged."""

    def __init__(self) -> None:
        self.plugged = True
        self.opened = 0
        self.n = 0
        self.hang = threading.Event()  # while set, a read() that starts never returns (until cleared)

    def open(self, source: object) -> "FakeCamera":
        if not self.plugged:
            raise UserError("camera index 0 cannot be opened: check it is plugged in")
        self.opened += 1
        return self

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(0.005)
        while self.hang.is_set():
            time.sleep(0.01)
        if not self.plugged:
            return False, None
        self.n += 1
        return True, np.full((48, 64, 3), self.n % 256, np.uint8)

    def set(self, *args: object) -> bool:
        return True

    def release(self) -> None:
        pass


def test_camera_unplugged_and_replugged_recovers_by_itself(stop: threading.Event) -> None:
    cam = FakeCamera()
    frames: LatestSlot[CameraFrame] = LatestSlot()
    worker = CameraWorker("0", frames, stop, max_backoff_s=0.1, opener=cam.open)
    sup = _sup(stop)
    sup.add("camera", worker.serve)
    assert frames.take(timeout=3) is not None
    cam.plugged = False
    assert _until(lambda: not worker.connected)
    frames.take(timeout=0)  # forget what came before the unplug
    assert frames.take(timeout=0.3) is None  # nothing while unplugged, and no crash
    cam.plugged = True
    first = frames.take(timeout=5)
    assert first is not None and worker.connected and worker.reconnects == 1
    sup.inject("camera", RuntimeError("driver hiccup"))  # an exception inside the capture thread
    assert _until(lambda: sup.workers["camera"].restarts == 1)
    seq = first.seq
    assert _until(lambda: (f := frames.peek()) is not None and f.seq > seq + 3)
    assert cam.opened == 3  # first open, replug, and a fresh open after the failure


def _listener() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(3)
    return s


def test_osc_server_socket_closed_under_it_is_reopened_on_the_same_port(stop: threading.Event) -> None:
    cs = ControlSurface(OscSettings(port=0))
    sup = _sup(stop)
    sup.add("osc", cs.serve)
    address = cs.address
    client = _listener()
    client.sendto(build_message("/layout", ["ai"]), address)
    assert _until(lambda: cs.pending == 1)
    cs.close_socket()  # the fault: the server's real socket is closed
    assert _until(lambda: cs.counters.reopened == 1)
    assert cs.address == address and sup.workers["osc"].restarts == 1
    client.sendto(build_message("/clear"), address)
    assert _until(lambda: cs.pending == 2)
    assert cs.drain() == [Command("/layout", ("ai",)), Command("/clear", ())]
    sup.inject("osc", RuntimeError("injected"))
    assert _until(lambda: sup.workers["osc"].restarts == 2)
    client.sendto(build_message("/layout", [3]), address)  # still answers: refusal comes back on /error
    assert b"/error" in client.recv(4096)
    cs.close_socket()


@pytest.mark.slow
def test_plotter_link_socket_closed_mid_plot_still_draws_every_path_once(tmp_path: Path, stop: threading.Event) -> None:
    sim = Simulator("127.0.0.1", 0, tmp_path, (297.0, 420.0), speed_mm_s=400.0)
    threading.Thread(target=sim.serve, args=(40.0,), daemon=True).start()
    rng = np.random.default_rng(0)
    paths = [rng.uniform(20, 250, 2) + np.cumsum(rng.normal(0, 1, (20, 2)), axis=0) for _ in range(60)]
    streamer = PlotStreamer(paths, ("127.0.0.1", sim.port), window=4, timeout_s=0.1, stall_s=0.5, max_s=30)
    sup = _sup(stop)
    sup.add("plotter", lambda stop, beat: streamer.serve(beat), restart_on_exit=False)
    assert _until(lambda: streamer.sender.progress > 0.1)
    streamer.sock.close()  # the fault: the link's socket is gone mid-drawing
    assert _until(lambda: sup.workers["plotter"].state == "stopped", 30)
    assert streamer.sender.done and sup.workers["plotter"].restarts == 1 and streamer.reconnects >= 1
    rows = [r for r in read_journal(tmp_path) if r["event"] == "drawn"]
    assert [r["seq"] for r in rows] == list(range(len(paths))) and {r["job"] for r in rows} == {streamer.job}


def test_archive_writer_recovers_and_loses_no_later_work(tmp_path: Path, stop: threading.Event) -> None:
    writer = ArchiveWriter(Archive(tmp_path / "a"), max_pending=4)
    sup = _sup(stop)
    sup.add("archive", writer.serve)
    assert writer.submit(lambda: ("drawing", {"a.txt": b"1"}, {}))
    assert _until(lambda: len(writer.written) == 1)
    sup.inject("archive", OSError("injected"))
    assert _until(lambda: sup.workers["archive"].restarts == 1)

    def broken() -> tuple:
        raise ValueError("encoding failed")

    writer.submit(broken)  # a job that raises takes the worker down once; the next one is written
    assert _until(lambda: sup.workers["archive"].restarts == 2)
    assert writer.submit(lambda: ("drawing", {"b.txt": b"2"}, {}))
    assert _until(lambda: len(writer.written) == 2)
    assert [e["files"] for e in Archive(tmp_path / "a").list()] == [["a.txt"], ["b.txt"]]


def test_tablet_unplugged_draws_at_pressure_one_and_replugged_gives_pressure_again(stop: threading.Event) -> None:
    from installation.adapters.tablet import ABS_PRESSURE, EV_ABS, PressureReader, RawEvent

    unplug, replugged = threading.Event(), threading.Event()
    attempts = []

    def device() -> Iterator:  # a replayed tablet: pressure 0.5 until unplugged
        while not unplug.is_set() or replugged.is_set():
            yield RawEvent(EV_ABS, ABS_PRESSURE, 500)
            time.sleep(0.01)
        raise OSError(19, "No such device")

    def reopen() -> tuple:
        attempts.append(time.monotonic())
        if not replugged.is_set():
            raise OSError("no pressure-reporting tablet connected")
        return device, 1000

    reader = PressureReader(device, 1000, stop, reopen)
    sup = _sup(stop)
    sup.add("tablet", reader.serve, watch_stall=False)
    assert _until(lambda: reader.pressure() == 0.5)
    unplug.set()
    assert _until(lambda: not reader.present and len(attempts) >= 2)
    assert reader.pressure() == 1.0  # the show draws on at pressure 1.0
    replugged.set()
    assert _until(lambda: reader.present and reader.pressure() == 0.5)
    assert reader.reconnects == 1 and sup.workers["tablet"].restarts >= 2
