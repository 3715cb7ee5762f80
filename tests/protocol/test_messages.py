"""Message catalogue, tags, roles and the ids the runtime traces."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from protocol import (
    AmbientAgent,
    Channel,
    Execution,
    InitPayload,
    JoinedSuccessfully,
    ListRuns,
    Message,
    OrderedTerminalEvent,
    ReconnectToken,
    Role,
    RunRecord,
    RunReply,
    RunState,
    SessionInitialized,
    SessionSecret,
    UserId,
    events,
    message_types,
    sharer,
    viewer,
)

EXPECTED_TAGS = {
    Channel.SHARER_UP: {
        "Initialize",
        "Reconnect",
        "OrderedTerminalEvent",
        "EndSession",
        "Ping",
        "UpdateSourceTaskId",
        "RespondToRoleRequest",
    },
    Channel.SHARER_DOWN: {
        "SessionInitialized",
        "FailedToInitializeSession",
        "SessionReconnected",
        "FailedToReconnect",
        "EventsProcessedAck",
        "SessionTerminated",
        "Pong",
        "RoleRequested",
        "ParticipantRoleChanged",
        "AgentPromptRequested",
    },
    Channel.VIEWER_UP: {"Initialize", "Ping", "SendAgentPrompt", "RequestRole"},
    Channel.VIEWER_DOWN: {
        "JoinedSuccessfully",
        "RejoinedSuccessfully",
        "FailedToJoin",
        "OrderedTerminalEvent",
        "SessionEnded",
        "Pong",
        "SourceTaskIdUpdated",
        "AgentPromptRequestInFlight",
        "AgentPromptRequestFailed",
        "RoleRequestInFlight",
        "RoleRequestResponse",
        "ParticipantRoleChanged",
    },
    Channel.TASKS: {
        "CreateRun",
        "ListRuns",
        "GetRun",
        "UpdateAgentTask",
        "TransitionRun",
        "RunReply",
        "RunsListed",
        "AgentTaskUpdated",
        "TaskError",
        "GetAgentNames",
        "AgentNames",
        "SubscribeChildren",
        "UnsubscribeChildren",
        "ChildrenSubscribed",
        "ChildrenUnsubscribed",
        "ChildRunChanged",
    },
}


@pytest.mark.parametrize("channel", list(Channel), ids=lambda ch: ch.value)
def test_each_channel_knows_its_messages(channel: Channel) -> None:
    assert {cls.message_type for cls in message_types(channel)} == EXPECTED_TAGS[channel]


def _all_message_classes(base: type = Message) -> set[type]:
    found: set[type] = set()
    subclasses: list[type] = base.__subclasses__()
    for sub in subclasses:
        found |= {sub} | _all_message_classes(sub)
    return found


def test_every_message_class_is_on_some_channel() -> None:
    on_channels = {cls for channel in Channel for cls in message_types(channel)}
    defined = {
        cls
        for cls in _all_message_classes()
        if cls.__module__.startswith("protocol.")
        and getattr(sys.modules[cls.__module__], cls.__name__, None) is cls
    }
    assert defined == on_channels


def test_message_type_is_the_wire_tag() -> None:
    assert sharer.Initialize.message_type == "Initialize"
    assert viewer.SourceTaskIdUpdated(source_task_id="T").message_type == "SourceTaskIdUpdated"


@pytest.mark.parametrize(
    ("message", "ids"),
    [
        (
            sharer.Initialize(
                InitPayload(UserId("a"), source_type=AmbientAgent("T1"), source_task_id="T0")
            ),
            {"task_id": "T1", "source_task_id": "T0"},
        ),
        (
            SessionInitialized("s-1", SessionSecret("pw"), ReconnectToken("rt"), "p-1"),
            {"session_id": "s-1", "sharer_id": "p-1"},
        ),
        (
            JoinedSuccessfully(viewer_id="v-1", latest_event_no=0),
            {"viewer_id": "v-1", "latest_event_no": "0"},
        ),
        (
            OrderedTerminalEvent(3, events.CommandExecutionStarted("p-2")),
            {"event_no": "3", "participant_id": "p-2"},
        ),
        (ListRuns(request_id=9, parent_run_id="T1"), {"request_id": "9", "parent_run_id": "T1"}),
        (
            RunReply(
                7,
                RunRecord("T2", "child", RunState.RUNNING, Execution.LOCAL, "T1", session_id="s-2"),
            ),
            {"request_id": "7", "task_id": "T2", "parent_run_id": "T1", "session_id": "s-2"},
        ),
        (viewer.RejoinedSuccessfully(), {}),
    ],
    ids=lambda value: value.message_type if isinstance(value, Message) else None,
)
def test_key_ids_reports_the_traced_ids_only(message: Message, ids: dict[str, str]) -> None:
    assert message.key_ids() == ids


def test_key_ids_keeps_the_first_occurrence_in_field_order() -> None:
    @dataclass(frozen=True, slots=True)
    class Nested(Message):
        payload: RunRecord
        task_id: str

    row = RunRecord("inner", "t", RunState.QUEUED, Execution.CLOUD)
    assert Nested(row, "outer").key_ids() == {"task_id": "inner"}


def test_role_order_and_caps() -> None:
    assert [role.value for role in Role] == ["Reader", "Executor", "Full"]
    assert Role.READER.rank < Role.EXECUTOR.rank < Role.FULL.rank
    assert Role.FULL.at_most(Role.EXECUTOR) is Role.EXECUTOR
    assert Role.READER.at_most(Role.FULL) is Role.READER
    assert JoinedSuccessfully(viewer_id="v").role is Role.READER
