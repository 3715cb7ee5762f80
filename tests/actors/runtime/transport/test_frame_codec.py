"""FrameCodec: one encoding per fanned-out message, one decoding per distinct frame."""

from __future__ import annotations

import pytest

from actors.runtime.transport import FrameCodec
from protocol import Channel, Ping, ProtocolError, encode
from protocol.events import AgentExchange, OrderedTerminalEvent


def _event(number: int) -> OrderedTerminalEvent:
    return OrderedTerminalEvent(number, AgentExchange("t-1", number, "hello").to_event())


def test_encoding_is_the_codec_s_own_whoever_asks_again() -> None:
    frames = FrameCodec()
    event = _event(3)
    assert frames.encode(event) == encode(event)
    assert frames.encode(event) == encode(event)
    assert frames.encode(_event(4)) == encode(_event(4))


def test_receivers_of_one_frame_share_its_decoding_and_ids() -> None:
    frames = FrameCodec()
    text = encode(_event(5))
    first = frames.decode(Channel.VIEWER_DOWN, text)
    another_receivers_copy = "".join(text)
    again = frames.decode(Channel.VIEWER_DOWN, another_receivers_copy)
    assert again is first
    assert first.message == _event(5)
    assert (first.kind, dict(first.ids)) == ("OrderedTerminalEvent", {"event_no": "5"})
    other_channel = frames.decode(Channel.SHARER_UP, text)
    assert other_channel is not first
    assert other_channel.message == first.message


def test_a_bad_frame_fails_every_time() -> None:
    frames = FrameCodec()
    for _ in range(2):
        with pytest.raises(ProtocolError):
            frames.decode(Channel.VIEWER_DOWN, '{"OrderedTerminalEvent":{"event_no":"x"}}')


def test_only_the_latest_frames_are_kept() -> None:
    frames = FrameCodec(keep=2)
    oldest = frames.decode(Channel.SHARER_UP, encode(Ping(b"a")))
    frames.decode(Channel.SHARER_UP, encode(Ping(b"b")))
    frames.decode(Channel.SHARER_UP, encode(Ping(b"c")))
    fresh = frames.decode(Channel.SHARER_UP, encode(Ping(b"a")))
    assert fresh is not oldest
    assert fresh == oldest


def test_the_kept_decodings_are_bounded_by_size_as_well_as_count() -> None:
    frames = FrameCodec(keep=256, max_chars=10_000)
    texts = [encode(Ping(bytes([10 + n]) * 1000)) for n in range(50)]  # equal lengths
    for text in texts:
        frames.decode(Channel.SHARER_UP, text)
    assert frames.kept_chars <= 10_000
    assert frames.kept_chars >= 10_000 - len(texts[0])
    # The newest is kept, the oldest is not.
    assert frames.decode(Channel.SHARER_UP, texts[-1]) is frames.decode(
        Channel.SHARER_UP, texts[-1]
    )
    oldest = frames.decode(Channel.SHARER_UP, texts[0])
    assert frames.decode(Channel.SHARER_UP, texts[0]) is oldest


def test_a_frame_larger_than_the_whole_cache_is_decoded_but_not_kept() -> None:
    frames = FrameCodec(max_chars=100)
    text = encode(Ping(bytes(200)))
    first = frames.decode(Channel.SHARER_UP, text)
    assert first.message == Ping(bytes(200))
    assert frames.decode(Channel.SHARER_UP, text) is not first
    assert frames.kept_chars == 0
