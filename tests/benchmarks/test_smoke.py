"""Every benchmark runs at smoke size and reports the figures the issue names.

Timing is never asserted here: these prove the benchmarks run and keep their
shape. The figures themselves are judged only by a full `sharesim bench`.
"""

from __future__ import annotations

import json

from benchmarks import attack, mailbox, polling, scale, virtual_time, websocket
from benchmarks.harness import BenchResult


def _figures(outcome: BenchResult) -> dict[str, object]:
    record = json.loads(outcome.to_json())
    assert record["name"] == outcome.name
    return {key: value for key, value in record.items() if key != "name"}


def test_mailbox_reports_both_rates_and_their_ratio() -> None:
    figures = _figures(mailbox.run(smoke=True))
    assert figures["messages"] == mailbox.SMOKE_MESSAGES
    for key in ("actor_per_s", "raw_per_s", "raw_nowait_per_s", "ratio", "ratio_nowait"):
        assert isinstance(figures[key], int | float)
        assert figures[key] > 0


def test_websocket_reports_a_ratio_per_transport() -> None:
    outcome = websocket.run(smoke=True)
    figures = _figures(outcome)
    for mode in ("memory", "tcp"):
        assert figures[f"ratio_{mode}"] > 0  # type: ignore[operator]
        assert figures[f"frames_per_s_{mode}"] > 0  # type: ignore[operator]
    assert len(outcome.checks) == 2


def test_scale_reports_per_size_maps_and_the_derived_figures() -> None:
    outcome = scale.run(smoke=True)
    figures = _figures(outcome)
    sizes = [str(size) for size in scale.SMOKE_SIZES]
    assert figures["children"] == list(scale.SMOKE_SIZES)
    for key in ("wall_s", "teardown_s", "frames", "connections", "per_frame_us", "panes_loaded"):
        assert list(figures[key]) == sizes  # type: ignore[call-overload]
    assert figures["panes_loaded"] == dict(zip(sizes, scale.SMOKE_SIZES, strict=True))
    assert all(count > 0 for count in figures["frames"].values())  # type: ignore[attr-defined]
    for key in ("peak_rss_mb", "raw_frame_us", "overhead", "growth"):
        assert figures[key] > 0  # type: ignore[operator]


def test_scale_large_reports_one_size() -> None:
    figures = _figures(scale.run_large(smoke=True))
    children, viewers = scale.SMOKE_LARGE
    assert (figures["children"], figures["viewers"]) == (children, viewers)
    assert figures["panes_loaded"] == children
    for key in (
        "wall_s",
        "teardown_s",
        "peak_rss_mb",
        "frames",
        "connections",
        "per_frame_us",
        "raw_frame_us",
        "overhead",
    ):
        assert figures[key] > 0  # type: ignore[operator]


def test_virtual_time_idles_with_nothing_on_the_wire() -> None:
    figures = _figures(virtual_time.run(smoke=True))
    assert figures["frames_before_idle"] > 0  # type: ignore[operator]
    assert figures["frames_while_idle"] == 0
    assert figures["idle_ratio"] >= 0  # type: ignore[operator]


def test_polling_compares_every_profile() -> None:
    outcome = polling.run(smoke=True)
    figures = _figures(outcome)
    profiles = {"legacy", "current", "followups"}
    assert set(figures["requests_per_viewer_hour"]) == profiles  # type: ignore[call-overload]
    assert set(figures["redundant_fetches"]) == profiles  # type: ignore[call-overload]
    requests = figures["requests_per_viewer_hour"]
    assert requests["followups"] < requests["current"]  # type: ignore[index]
    assert [check.met for check in outcome.checks] == [True]


def test_attack_reports_memory_descriptors_and_round_trips() -> None:
    outcome = attack.run(smoke=True)
    figures = _figures(outcome)
    assert figures["events"] == attack.SMOKE_EVENTS
    quarters = [str(attack.SMOKE_EVENTS * q // 4) for q in range(5)]
    assert list(figures["rss_mb_no_viewer"]) == quarters  # type: ignore[call-overload]
    assert set(quarters) <= set(figures["rss_mb_stalled_viewer"])  # type: ignore[arg-type]
    assert figures["fds"]["peak"] >= figures["fds"]["baseline"]  # type: ignore[index]
    # Descriptors do come back, whatever the time it took on this machine.
    assert figures["fd_recovery_s"] < attack.SMOKE_HANDSHAKE_TIMEOUT_S + attack.GUARD_S  # type: ignore[operator]
    for key in ("empty", "idle_held"):
        assert figures["rtt_ms"][key] > 0  # type: ignore[index]
    assert len(outcome.checks) == 6
