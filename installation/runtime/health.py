"""The health line and the visitor-facing status line, from the parts of a running show.

`health_fields` gathers one flat-ish dict (fps, latency, memory, queue depths, drops, workers and restarts,
archive counts); the show logs it every `supervision.health_every_s` as one structured record. `status_line`
turns the names of workers that are down into a gentle sentence for the screen (empty when all is well).
"""

from __future__ import annotations

from typing import Any

# what a visitor sees while a worker is down; workers not listed here stay off the screen (log and OSC only)
GENTLE = {
    "inference": "the portrait is resting for a moment",
    "camera": "waiting for the camera",
}


def status_line(down: list[str], camera_connected: bool = True) -> str:
    parts = [GENTLE[name] for name in down if name in GENTLE]
    if not camera_connected and GENTLE["camera"] not in parts:
        parts.append(GENTLE["camera"])
    return " - ".join(parts)


def rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def health_fields(show: Any, uptime_s: float, control: Any = None, worker: Any = None) -> dict[str, Any]:  # noqa: ANN401
    """One health record of a running Show (see installation/runtime/show/loop.py)."""
    m = show.metrics
    sup = show.supervisor
    writer = show.archive_writer
    out: dict[str, Any] = {
        "uptime_s": round(uptime_s, 1),
        "fps": round(m.recent_fps(), 2),
        "latency_ms": round(m.recent_latency(), 2),
        "inference_ms": round(m.recent_inference(), 2),
        "rss_mb": rss_mb(),
        "frames": len(m.flips),
        "ai_updates": m.ai_frames,
        "queues": {
            "sketch_dropped": show.sketches.dropped,
            "osc_pending": control.pending if control is not None else 0,
            "archive_pending": writer.pending if writer is not None else 0,
        },
        "restarts": sup.restarts if sup is not None else 0,
        "workers": sup.status() if sup is not None else {},
        "works": {"finished": show.works_finished},
    }
    if worker is not None:
        out["inference_calls"] = worker.calls
        from installation.runtime.remote_model import remote_stats

        remote = remote_stats(worker.model)
        if remote is not None:
            out["remote"] = remote  # the Triton backend: round trip, answers from the server and the fall-back
    if writer is not None:
        st = writer.archive.stats
        out["works"].update(
            archived=st.saved,
            failed=st.failed,
            not_indexed=st.index_failed,
            dropped=writer.dropped,
            last_error=st.last_error,
        )
    if control is not None:
        c = control.counters
        out["osc"] = {
            "datagrams": c.datagrams,
            "commands": c.commands,
            "rejected": c.rejected,
            "malformed": c.malformed,
            "oversize": c.oversize,
            "refused_sources": c.refused_sources,
            "rate_limited": c.rate_limited,
            "reopened": c.reopened,
        }
    return out
