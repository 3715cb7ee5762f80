"""Property: every message survives its own channel's encode and decode unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import AgentExchange, Channel, Message, decode, encode, message_types
from tests.protocol.strategies import unknown_messages

CASES = [(channel, cls) for channel in Channel for cls in message_types(channel)]


@pytest.mark.parametrize(
    ("channel", "cls"), CASES, ids=[f"{ch.value}-{cls.__name__}" for ch, cls in CASES]
)
@given(data=st.data())
def test_decode_inverts_encode(channel: Channel, cls: type[Message], data: st.DataObject) -> None:
    message = data.draw(st.from_type(cls))
    text = encode(message)
    assert decode(channel, text) == message
    assert encode(decode(channel, text)) == text


@pytest.mark.parametrize("channel", list(Channel), ids=lambda ch: ch.value)
@given(data=st.data())
def test_unknown_messages_round_trip(channel: Channel, data: st.DataObject) -> None:
    message = data.draw(unknown_messages(channel))
    assert decode(channel, encode(message)) == message


@given(st.from_type(AgentExchange))
def test_agent_exchange_survives_its_event(exchange: AgentExchange) -> None:
    assert AgentExchange.from_event(exchange.to_event()) == exchange
