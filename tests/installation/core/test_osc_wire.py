"""The bounded OSC parser: python-osc's answers on well-formed datagrams, a FramingError (never a hang, never
another exception) on anything else, in time linear in the datagram."""

import contextlib
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from installation.core.osc_wire import BUNDLE, MAX_DATAGRAM, MAX_DEPTH, FramingError, Message, parse_datagram

BOUND = settings(deadline=1000, max_examples=300)  # ms a case: linear work, generous on a loaded machine

addresses = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20).map(lambda s: "/" + s)
arguments = st.lists(
    st.one_of(
        st.integers(-(2**31), 2**31 - 1),
        st.integers(2**31, 2**63 - 1),
        st.floats(width=32, allow_nan=False),
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30),
        st.binary(min_size=1, max_size=20),
        st.booleans(),
        st.none(),
    ),
    max_size=6,
)


def _message(address: str, args: list) -> OscMessageBuilder:
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b


@st.composite
def packets(draw: st.DrawFn, depth: int = 3) -> bytes:
    if depth == 0 or draw(st.booleans()):
        return _message(draw(addresses), draw(arguments)).build().dgram
    return _bundle_of(*draw(st.lists(packets(depth - 1), min_size=1, max_size=3)))


def _bundle_of(*elements: bytes) -> bytes:
    """An OSC bundle written out by hand (python-osc's builder parses what it builds, and loops on lies)."""
    return BUNDLE + struct.pack(">Q", 1) + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def _same(ours: list[Message], theirs: OscPacket) -> None:
    assert [m.address for m in ours] == [t.message.address for t in theirs.messages]
    for m, t in zip(ours, theirs.messages, strict=True):
        for a, b in zip(m.args, t.message.params, strict=True):
            assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


@BOUND
@given(dgram=packets())
def test_well_formed_datagrams_parse_as_python_osc_parses_them(dgram: bytes) -> None:
    if len(dgram) > MAX_DATAGRAM:
        with pytest.raises(FramingError, match="limit"):
            parse_datagram(dgram)
        return
    _same(parse_datagram(dgram), OscPacket(dgram))


@BOUND
@given(data=st.binary(max_size=600))
def test_any_bytes_give_messages_or_a_framing_error(data: bytes) -> None:
    try:
        out = parse_datagram(data)
    except FramingError as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert all(m.address.startswith("/") for m in out)


@BOUND
@given(dgram=packets(), data=st.data())
def test_mutated_datagrams_never_hang_or_raise_anything_else(dgram: bytes, data: st.DataObject) -> None:
    buf = bytearray(dgram)
    for _ in range(data.draw(st.integers(1, 6))):
        k = data.draw(st.integers(0, len(buf) - 1))
        buf[k] = data.draw(st.integers(0, 255))
    buf = buf[: data.draw(st.integers(0, len(buf)))]
    with contextlib.suppress(FramingError):
        parse_datagram(bytes(buf))


def _element_offsets(dgram: bytes) -> list[int]:
    """Where the size fields of a top-level bundle's elements are."""
    out, i = [], len(BUNDLE) + 8
    while i < len(dgram):
        out.append(i)
        i += 4 + struct.unpack_from(">i", dgram, i)[0]
    return out


@BOUND
@given(
    n=st.integers(1, 4),
    which=st.integers(0, 3),
    lie=st.one_of(st.integers(-(2**31), 0), st.integers(1, 2**31 - 1).filter(lambda v: v % 4), st.just(2**31 - 4)),
)
def test_lying_element_sizes_are_refused(n: int, which: int, lie: int) -> None:
    """Negative, zero, misaligned and larger-than-what-is-left sizes: python-osc loops for ever on some."""
    dgram = bytearray(_bundle_of(*[_message("/clear", []).build().dgram] * n))
    struct.pack_into(">i", dgram, _element_offsets(bytes(dgram))[which % n], lie)
    with pytest.raises(FramingError, match="element size"):
        parse_datagram(bytes(dgram))


def test_nesting_is_bounded_and_oversize_is_refused() -> None:
    inner = _message("/ping", []).build().dgram
    for _ in range(MAX_DEPTH):  # MAX_DEPTH bundles, one in the other: still fine
        inner = _bundle_of(inner)
    assert parse_datagram(inner) == [Message("/ping", ())]
    with pytest.raises(FramingError, match="nested deeper"):
        parse_datagram(_bundle_of(inner))
    exact = _message("/prompt", ["x" * (MAX_DATAGRAM - 13)]).build().dgram  # 8 + 4 + 8179 and its zero
    assert len(exact) == MAX_DATAGRAM and parse_datagram(exact)[0].args[0] == "x" * (MAX_DATAGRAM - 13)
    big = _message("/prompt", ["x" * MAX_DATAGRAM]).build().dgram
    with pytest.raises(FramingError, match="8192-byte limit"):
        parse_datagram(big)
    with pytest.raises(FramingError, match="not UTF-8"):
        parse_datagram(b"/\xff\x00\x00")
    with pytest.raises(FramingError, match="unsupported type tag"):
        parse_datagram(b"/x\x00\x00,I\x00\x00")
    assert parse_datagram(b"/x\x00\x00") == [Message("/x", ())]  # no type tags: no arguments
