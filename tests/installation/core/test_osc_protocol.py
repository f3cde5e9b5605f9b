from pathlib import Path

import pytest
from pythonosc.osc_packet import OscPacket

from installation.core.osc_protocol import (
    CONTROL,
    Command,
    Rejection,
    build_message,
    interpret,
    markdown,
    match,
    state_bundle,
)

ROOT = Path(__file__).resolve().parents[3]


def test_exact_and_wildcard_matching() -> None:
    assert [a.path for a in match("/clear")] == ["/clear"]
    assert {a.path for a in match("/plotter/*")} == {
        "/plotter/start",
        "/plotter/pause",
        "/plotter/resume",
        "/plotter/cancel",
        "/plotter/paper",
    }
    assert [a.path for a in match("/plotter/{pause,resume}")] == ["/plotter/pause", "/plotter/resume"]
    assert [a.path for a in match("/h?d")] == ["/hud"]
    assert [a.path for a in match("/[c]lear")] == ["/clear"]
    assert match("/nothing") == [] and match("/plot*") == []  # * does not cross a slash


@pytest.mark.parametrize(
    "address, args, expected",
    [
        ("/layout", ["ai"], [Command("/layout", ("ai",))]),
        ("/crossfade", [1], [Command("/crossfade", (1.0,))]),  # an int where a float is meant
        ("/hud", [1.0], [Command("/hud", (True,))]),  # a float 1.0 as a boolean
        ("/hud", [False], [Command("/hud", (False,))]),
        ("/param", ["display.crossfade_s", 0.5], [Command("/param", ("display.crossfade_s", 0.5))]),
    ],
)
def test_rig_style_arguments_are_coerced(address: str, args: list, expected: list) -> None:
    assert interpret(address, args) == expected


@pytest.mark.parametrize(
    "address, args, fragment",
    [
        ("/layout", ["diagonal"], "not one of side, ai, overlay"),
        ("/layout", [], "takes 1 argument"),
        ("/crossfade", ["slow"], "expected a number"),
        ("/crossfade", [99.0], "within 0..10"),
        ("/hud", [0.5], "expected a boolean"),
        ("/nope", [], "unknown address"),
        ("/clear", [1], "takes 0 argument"),
    ],
)
def test_wrong_types_and_counts_are_rejections(address: str, args: list, fragment: str) -> None:
    r = interpret(address, args)
    assert isinstance(r, Rejection) and fragment in r.reason


def test_messages_and_state_bundles_parse_back() -> None:
    msg = OscPacket(build_message("/layout", ["ai"])).messages[0].message
    assert msg.address == "/layout" and msg.params == ["ai"]
    packet = OscPacket(state_bundle({"fps": 59.5, "layout": "side", "plotter/queue": 3, "unknown": 1}))
    got = {m.message.address: m.message.params for m in packet.messages}
    assert got == {"/state/fps": [59.5], "/state/layout": ["side"], "/state/plotter/queue": [3]}


def test_docs_are_generated_from_the_table() -> None:
    text = markdown()
    assert all(f"`{a.path}`" in text for a in CONTROL)
    assert (ROOT / "docs" / "osc.md").read_text() == text, "run `python run.py osc-docs` and commit docs/osc.md"
