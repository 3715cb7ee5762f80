"""Every error sharesim raises on purpose has one root, and keeps the base it had before."""

from __future__ import annotations

import pytest

from actors.rules.profiles import SwitchError
from actors.runtime.actor import ActorCrashed, ActorStopped, AskTimeout
from actors.runtime.determinism import SchedulerHookMissing
from actors.runtime.stage import UnknownActor
from actors.runtime.transport import LinkClosed, LinkRefused
from actors.world import WorldError
from protocol.errors import ProtocolError, SharesimError
from protocol.tasks import TaskCallFailed, TaskRefused
from scenarios.schema import ScenarioError
from scenarios.usage import UsageError


@pytest.mark.parametrize(
    ("error", "also"),
    [
        (ProtocolError, ValueError),
        (TaskCallFailed, Exception),
        (TaskRefused, TaskCallFailed),
        (LinkClosed, Exception),
        (LinkRefused, Exception),
        (AskTimeout, Exception),
        (ActorCrashed, Exception),
        (ActorStopped, Exception),
        (UnknownActor, LookupError),
        (SwitchError, ValueError),
        (SchedulerHookMissing, RuntimeError),
        (WorldError, Exception),
        (ScenarioError, Exception),
        (UsageError, Exception),
    ],
)
def test_each_error_derives_from_the_root(error: type[Exception], also: type[Exception]) -> None:
    assert issubclass(error, SharesimError)
    assert issubclass(error, also)
