"""A run's result as one JSON object, for `--json`: everything a script needs to judge it.

The object names the run exactly (scenario, profile, overrides, seed, faults
and the fault plan, which `--fault-plan` replays), gives the faults that
happened, the verdict, every expectation with each check's expected and seen
values, the invariants broken and what every viewer showed.
"""

from __future__ import annotations

import json

from scenarios.faults import format_faults
from scenarios.runner import RunResult


def verdict(result: RunResult) -> str:
    """`pass`, `fail`, or `no checks` for a run that checked nothing and broke nothing."""
    if not result.passed:
        return "fail"
    return "pass" if result.checked else "no checks"


def record(result: RunResult) -> dict[str, object]:
    return {
        "scenario": result.scenario.name,
        "path": str(result.scenario.path),
        "profile": result.profile.value,
        "overrides": result.overrides,
        "seed": result.seed,
        "faults": [kind for kind in format_faults(result.faults).split(",") if kind],
        "fault_plan": str(result.fault_plan),
        "fault_events": [
            {"t": r.t, "type": r.type, "actor": r.src, "server": r.dst, **r.ids}
            for r in (result.trace.fault_records() if result.trace is not None else [])
        ],
        "verdict": verdict(result),
        "virtual_time": result.end_time,
        "messages": result.messages,
        "task_requests": result.task_requests,
        "expectations": [
            {
                "viewer": checked.viewer,
                "at": checked.at,
                "line": checked.line,
                "held": checked.held,
                "checks": [
                    {
                        "key": c.key,
                        "expected": c.expected,
                        "seen": c.observed,
                        "held": c.held,
                    }
                    for c in checked.comparisons
                ],
            }
            for checked in result.expectations
        ],
        "failures": [{"what": f.what, "at": f.at} for f in result.failures if not f.mismatches],
        "violations": [
            {
                "invariant": v.invariant,
                "behaviours": list(v.behaviours),
                "at": v.at,
                "actor": v.actor,
                "detail": v.detail,
            }
            for v in result.violations
        ],
        "snapshots": result.observations,
        "viewers": result.views,
        "shown": result.shown,
    }


def to_json(result: RunResult, **extra: object) -> str:
    """One line of JSON: the run's `record`, plus any `extra` keys a command adds."""
    return json.dumps({**record(result), **extra}, sort_keys=False, default=list)
