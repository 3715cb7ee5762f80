"""What a report draws beyond the result: each viewer over time, the faults and the log.

A recording is made only when a report or a diagram asks for one, and it only
reads. Viewers are sampled by a Trio instrument after every step of a viewer's
own task, which is where all of a viewer's state changes happen; an instrument
draws nothing from the scheduler's random stream and starts no task, so the
schedule, the trace and the results are exactly those of the run without it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

import trio

from actors.rules.pill_bar import ViewerSnapshot
from actors.runtime.conditions import Partition
from actors.viewers.viewer import Viewer


@dataclass(frozen=True, slots=True)
class PillState:
    """One pill as shown: the orchestrator's has no status and no pane."""

    label: str
    task_id: str | None
    status: str | None
    pane: str | None


@dataclass(frozen=True, slots=True)
class ViewerState:
    """What one viewer shows at one moment, reduced to what a timeline draws."""

    root: str
    pill_bar: bool
    pills: tuple[PillState, ...]
    #: How each agent id mentioned in a transcript renders: (agent id, label).
    names: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, snapshot: ViewerSnapshot) -> ViewerState:
        panes = {pane.task_id: pane.state.value for pane in snapshot.panes}
        pills = tuple(
            PillState(
                pill.label,
                pill.task_id,
                pill.status.value if pill.status is not None else None,
                panes.get(pill.task_id) if pill.status is not None and pill.task_id else None,
            )
            for pill in snapshot.pills
        )
        names = tuple((ref.agent_id, ref.resolved.label) for ref in snapshot.references)
        return cls(snapshot.root.value, snapshot.pill_bar_visible, pills, names)


@dataclass(frozen=True, slots=True)
class Sample:
    """A viewer's state from virtual time `t` until the next sample."""

    t: float
    state: ViewerState


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One log event of the run and how many trace records came before it."""

    position: int
    t: float
    event: str
    level: str
    fields: Mapping[str, object]


@dataclass
class Recording:
    """Filled in during one run; see the module docstring."""

    #: Each viewer's states, in time order, one sample per change.
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    #: Every partition of the run, planned or from disconnect steps (an open one ends at inf).
    partitions: tuple[Partition, ...] = ()
    #: The faults asked for and the switches set against the profile, for titles.
    faults: str = ""
    overrides: dict[str, bool] = field(default_factory=dict)
    #: How many trace records exist right now; the runner points it at the run's trace.
    trace_position: Callable[[], int] = lambda: 0
    _log_lines: list[tuple[int, str]] = field(default_factory=list)

    def sample(self, viewer: str, t: float, state: ViewerState) -> None:
        """Keep `state` if it differs from the last one; several changes at one instant keep one."""
        series = self.samples.setdefault(viewer, [])
        if series and series[-1].t == t:
            series.pop()
        if not series or series[-1].state != state:
            series.append(Sample(t, state))

    def log_line(self, line: str) -> None:
        self._log_lines.append((self.trace_position(), line))

    def events(self) -> list[LogEvent]:
        """The run's log events, in the order they were logged."""
        events = []
        for position, line in self._log_lines:
            data = json.loads(line)
            events.append(
                LogEvent(
                    position,
                    float(data.pop("t", 0.0)),
                    str(data.pop("event", "")),
                    str(data.pop("level", "")),
                    data,
                )
            )
        return events


class ViewerSampler(trio.abc.Instrument):
    """Samples a viewer after each step of its own task (named after the actor by the stage)."""

    def __init__(self, viewers: Mapping[str, Viewer], recording: Recording) -> None:
        self._viewers = viewers
        self._recording = recording

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        viewer = self._viewers.get(task.name)
        if viewer is not None:
            state = ViewerState.of(viewer.observe().snapshot)
            self._recording.sample(viewer.name, trio.current_time(), state)


class LogCapture(io.StringIO):
    """The JSON log sink while recording: each line goes to the run being recorded.

    Lines are passed on to `also` (the `--log-json` file) unchanged, so asking
    for a report does not change what that file holds.
    """

    def __init__(self, also: TextIO | None = None) -> None:
        super().__init__()
        self._also = also
        self.recording: Recording | None = None

    def passing_to(self, also: TextIO | None) -> LogCapture:
        """This capture, passing every line on to `also` as well."""
        self._also = also
        return self

    def record(self) -> Recording:
        """A new recording that the lines logged from now on go to."""
        self.recording = Recording()
        return self.recording

    def write(self, text: str) -> int:
        if self._also is not None:
            self._also.write(text)
        if self.recording is not None:
            for line in text.splitlines():
                if line:
                    self.recording.log_line(line)
        return len(text)
