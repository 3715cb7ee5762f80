"""Every benchmark runs at smoke size and reports figures a working benchmark would report.

Speed is never held against a target here (only a full `sharesim bench` judges
that). What is checked is what a broken benchmark would get wrong: counts equal
to what the plan implies, rates finite and positive, and every ratio the
quotient of the figures it was derived from, up to the rounding of the output.
"""

from __future__ import annotations

import json
import math
from typing import Any

from actors.rules.discovery import STATUS_POLL_INTERVAL_S
from benchmarks import attack, explore, mailbox, polling, scale, virtual_time, websocket
from benchmarks.harness import BenchResult


def _half(decimals: int) -> float:
    """The most a figure rounded to `decimals` decimals can be off by."""
    return 0.5 * 10.0**-decimals


def _figures(result: BenchResult) -> dict[str, Any]:
    record = json.loads(result.to_json())
    assert record["name"] == result.name
    return {key: value for key, value in record.items() if key != "name"}


def _positive(value: object) -> float:
    """A measured time, rate or ratio: a finite number above zero."""
    assert isinstance(value, int | float), value
    assert math.isfinite(value), value
    assert value > 0, value
    return float(value)


def _quotient(shown: float, top: float, bottom: float, *, off: tuple[float, float, float]) -> None:
    """`shown` is `top / bottom`, each of the three off by at most `off` from rounding."""
    shown_off, top_off, bottom_off = off
    assert bottom - bottom_off > 0, (top, bottom)
    low = max(top - top_off, 0.0) / (bottom + bottom_off)
    high = (top + top_off) / (bottom - bottom_off)
    assert low - shown_off <= shown <= high + shown_off, (shown, top, bottom, low, high)


def _labels(result: BenchResult) -> list[str]:
    """The checks' labels without what they measured, which is rounded differently."""
    return [check.label.split(" (")[0] for check in result.checks]


def test_mailbox_rates_and_ratios_come_from_the_same_timings() -> None:
    result = mailbox.run(smoke=True)
    figures = _figures(result)
    assert figures["messages"] == mailbox.SMOKE_MESSAGES
    actor, raw, nowait = (
        _positive(figures[key]) for key in ("actor_per_s", "raw_per_s", "raw_nowait_per_s")
    )
    # A ratio of times, raw over actor, is the actor's rate over the raw one.
    for key, baseline in (("ratio", raw), ("ratio_nowait", nowait)):
        ratio = _positive(figures[key])
        _quotient(ratio, actor, baseline, off=(_half(3), _half(0), _half(0)))
    assert _labels(result) == [f"mailbox ratio >= {mailbox.TARGET_RATIO:g}"]


def test_websocket_reports_each_transport_from_its_own_timings() -> None:
    result = websocket.run(smoke=True)
    figures = _figures(result)
    events, viewers = websocket.SMOKE
    assert (figures["events"], figures["viewers"]) == (events, viewers)
    for mode in ("memory", "tcp"):
        measured = _positive(figures[f"frames_per_s_{mode}"])
        raw = _positive(figures[f"raw_frames_per_s_{mode}"])
        ratio = _positive(figures[f"ratio_{mode}"])
        _quotient(ratio, measured, raw, off=(_half(3), _half(0), _half(0)))
    assert _labels(result) == [
        f"websocket ratio_{mode} >= {websocket.TARGET_RATIO:g}" for mode in ("memory", "tcp")
    ]


def _connections(children: int, viewers: int) -> int:
    """Open at the end of a plan: each agent's share and task link, one view per viewer,
    and each viewer's task link, which carries its child stream under `followups`."""
    return (children + 1) * (viewers + 2) + viewers


def _check_played(figures: dict[str, Any], key: str | None, children: int, viewers: int) -> float:
    """One size's figures against its plan; returns the wall time per frame, in µs."""

    def at(name: str) -> Any:
        return figures[name] if key is None else figures[name][key]

    assert at("panes_loaded") == children
    assert at("connections") == _connections(children, viewers)
    frames = at("frames")
    # Every connection carries at least its first frame and the answer to it.
    assert isinstance(frames, int)
    assert frames >= 2 * at("connections")
    wall, teardown = _positive(at("wall_s")), at("teardown_s")
    assert 0 <= teardown <= wall
    per_frame = _positive(at("per_frame_us"))
    _quotient(per_frame, wall * 1e6, frames, off=(_half(1), _half(2) * 1e6, 0))
    return per_frame


def _mib_of_a_process(value: object) -> None:
    # A Python process holds tens of MiB: kilobytes or bytes taken for MiB would be far outside.
    assert 10 < _positive(value) < 10_000


def _check_memory(figures: dict[str, Any]) -> None:
    _mib_of_a_process(figures["peak_rss_mb"])


def test_scale_reports_each_size_as_its_plan_implies() -> None:
    result = scale.run(smoke=True)
    figures = _figures(result)
    sizes, viewers = scale.SMOKE_SIZES, scale.SMOKE_VIEWERS
    keys = [str(size) for size in sizes]
    assert figures["children"] == list(sizes)
    assert (figures["viewers"], figures["simulated_s"]) == (viewers, scale.SMOKE_DURATION_S)
    for name in ("wall_s", "teardown_s", "frames", "connections", "per_frame_us", "panes_loaded"):
        assert list(figures[name]) == keys
    raw = _positive(figures["raw_frame_us"])
    per_frame = [
        _check_played(figures, key, size, viewers) for key, size in zip(keys, sizes, strict=True)
    ]
    frames = [figures["frames"][key] for key in keys]
    assert frames == sorted(set(frames)), "more children must move more frames"
    _check_memory(figures)
    overhead = _positive(figures["overhead"])
    _quotient(overhead, per_frame[-1], raw, off=(_half(2), _half(1), _half(1)))
    # Growth compares wall time per child; wall time is per-frame time times frames.
    first, last = (per_frame[0], frames[0], sizes[0]), (per_frame[-1], frames[-1], sizes[-1])
    growth = _positive(figures["growth"])
    per_child = [pf * count / size for pf, count, size in (first, last)]
    off = [_half(1) * count / size for _, count, size in (first, last)]
    _quotient(growth, per_child[1], per_child[0], off=(_half(2), off[1], off[0]))
    assert _labels(result) == [
        f"scale overhead at {sizes[-1]} children <= {scale.TARGET_OVERHEAD:g}",
        f"scale growth from {sizes[0]} to {sizes[-1]} children <= {scale.TARGET_GROWTH:g}",
    ]


def test_scale_large_reports_its_one_size_as_its_plan_implies() -> None:
    result = scale.run_large(smoke=True)
    figures = _figures(result)
    children, viewers = scale.SMOKE_LARGE
    assert (figures["children"], figures["viewers"]) == (children, viewers)
    assert figures["simulated_s"] == scale.SMOKE_DURATION_S
    per_frame = _check_played(figures, None, children, viewers)
    raw = _positive(figures["raw_frame_us"])
    overhead = _positive(figures["overhead"])
    _quotient(overhead, per_frame, raw, off=(_half(2), _half(1), _half(1)))
    _check_memory(figures)
    assert result.checks == []


def test_virtual_time_idles_with_nothing_on_the_wire() -> None:
    result = virtual_time.run(smoke=True)
    figures = _figures(result)
    viewers, children = virtual_time.SMOKE_VIEWERS, len(virtual_time.CHILDREN)
    assert (figures["viewers"], figures["simulated_s"]) == (viewers, virtual_time.SMOKE_IDLE_S)
    # Before the idle span every viewer joined the orchestrator and each child (a request
    # and its answer per view) and was sent each child's last exchange.
    assert figures["frames_before_idle"] >= 2 * viewers * (1 + children) + viewers * children
    assert figures["frames_while_idle"] == 0
    wall = _positive(figures["wall_s"])
    assert figures["idle_ratio"] == wall / figures["simulated_s"]
    assert _labels(result) == [f"virtual-time idle_ratio <= {virtual_time.TARGET_IDLE_RATIO:g}"]


def test_polling_costs_what_each_profile_implies() -> None:
    result = polling.run(smoke=True)
    figures = _figures(result)
    duration, viewers = polling.SMOKE
    assert (figures["viewers"], figures["simulated_s"]) == (viewers, duration)
    requests = figures["requests_per_viewer_hour"]
    redundant = figures["redundant_fetches"]
    assert set(requests) == set(redundant) == {"legacy", "current", "followups"}
    per_hour = polling.HOUR_S / duration
    # Streamed children: a viewer reads the run page once to find its session, then takes
    # one snapshot of the children and subscribes once to their changes.
    assert requests["followups"] == 3 * per_hour
    assert redundant["followups"] == 0
    # Polled children: that read, then a list on joining and every poll interval after,
    # as long as children work (they all do, for the whole smoke run). The cloud orchestrator's
    # share is an ambient one, which the legacy design polls exactly as the current one.
    polls = (duration - polling.VIEWERS_AT_S) // STATUS_POLL_INTERVAL_S
    assert requests["current"] >= (1 + polls) * per_hour
    assert requests["legacy"] == requests["current"]
    assert redundant["legacy"] == redundant["current"]
    assert [check.met for check in result.checks] == [True]


def test_attack_reports_what_each_attack_measured() -> None:
    result = attack.run(smoke=True)
    figures = _figures(result)
    sizes = ("events", "abandoned", "idle_connections", "big_frames", "handshake_timeout_s")
    assert [figures[key] for key in sizes] == [
        attack.SMOKE_EVENTS,
        attack.SMOKE_ABANDONED,
        attack.SMOKE_IDLE,
        attack.SMOKE_BIG_FRAMES,
        attack.SMOKE_HANDSHAKE_TIMEOUT_S,
    ]
    quarters = [str(attack.SMOKE_EVENTS * q // 4) for q in range(5)]
    quiet, stalled = figures["rss_mb_no_viewer"], figures["rss_mb_stalled_viewer"]
    assert list(quiet) == quarters
    assert set(quarters) <= set(stalled)
    for mib in (*quiet.values(), *stalled.values(), *figures["big_frames_rss_mb"].values()):
        _mib_of_a_process(mib)
    # The excess is the stalled server's memory over the quiet one's after the last event.
    end = quarters[-1]
    assert abs(figures["excess_mb"] - (stalled[end] - quiet[end])) <= 3 * _half(1) + 1e-9
    cut = figures["cut_off_at_event"]
    if cut == -1:
        assert figures["growth_after_cut_mb"] == 0  # nothing was cut, so nothing grew after
    else:
        assert 0 <= cut <= attack.SMOKE_EVENTS
    fds = figures["fds"]
    assert 0 < fds["baseline"] <= fds["peak"]
    # Descriptors do come back, whatever the time it took on this machine.
    assert 0 <= figures["fd_recovery_s"] < attack.SMOKE_HANDSHAKE_TIMEOUT_S + attack.GUARD_S
    rtt = figures["rtt_ms"]
    held, empty = _positive(rtt["idle_held"]), _positive(rtt["empty"])
    _quotient(_positive(figures["rtt_ratio"]), held, empty, off=(_half(2), _half(3), _half(3)))
    assert _labels(result) == [
        "the stalled viewer is cut off",
        f"stalled viewer's excess MiB at the end <= {attack.MAX_EXCESS_MB:g}",
        f"growth MiB once cut off, beyond the history <= {attack.MAX_GROWTH_AFTER_CUT_MB:g}",
        "seconds for descriptors to come back <= "
        f"{attack.SMOKE_HANDSHAKE_TIMEOUT_S + attack.FD_SLACK_S:g}",
        f"round trip, idle-held / empty <= {attack.MAX_RTT_RATIO:g}",
        f"MiB kept after big frames <= {attack.MAX_BIG_FRAME_EXCESS_MB:g}",
    ]


def test_explore_reports_each_executor_and_its_scaling_from_the_same_timings() -> None:
    result = explore.run(smoke=True)
    figures = _figures(result)
    assert figures["seeds"] == explore.SMOKE_SEEDS
    assert figures["same_outcomes"] == "true"
    rate, per_core = figures["seeds_per_s"], figures["seeds_per_s_per_core"]
    assert list(rate) == list(per_core) == ["jobs_1", "jobs_2", "local_2"]
    one = _positive(rate["jobs_1"])
    assert per_core["jobs_1"] == rate["jobs_1"]
    for name in ("jobs_2", "local_2"):
        both = _positive(rate[name])
        _quotient(per_core[name], both, explore.WORKERS, off=(_half(2), _half(2), 0.0))
        # Scaling is the rate of two workers over twice the rate of one.
        _quotient(
            figures["efficiency"][name],
            both,
            explore.WORKERS * one,
            off=(_half(3), _half(2), explore.WORKERS * _half(2)),
        )
    _positive(figures["dask_start_s"])
    # Seeds run one after another on one thread cannot take more CPU time than wall time.
    per_cpu = figures["seeds_per_cpu_s"]
    assert _positive(per_cpu["jobs_1"]) >= one - _half(2)
    for name in ("jobs_2", "local_2"):
        _quotient(
            figures["cpu_efficiency"][name],
            _positive(per_cpu[name]),
            per_cpu["jobs_1"],
            off=(_half(3), _half(2), _half(2)),
        )
    assert _labels(result) == [
        f"explore seeds per CPU second in one process >= {explore.TARGET_SEEDS_PER_CPU_S:g}",
        f"explore scaling efficiency --jobs 2 >= {explore.TARGET_EFFICIENCY:g}",
        f"explore scaling efficiency --scheduler local:2 >= {explore.TARGET_EFFICIENCY:g}",
        "explore outcomes identical on every executor",
    ]
