"""A run's result as one JSON object, for `--json`: everything a script needs to judge it.

The object names the run exactly (scenario, profile, overrides, seed, faults
and the fault plan, which `--fault-plan` replays), gives the faults that
happened, the verdict, every expectation with each check's expected and seen
values, the invariants broken and what every viewer showed.
"""

from __future__ import annotations

import json

from scenarios import catalog
from scenarios.designs import settings_of
from scenarios.faults import format_faults
from scenarios.runner import RunResult, Verdict

#: How many seeds the hint for a race suggests exploring.
RACE_SEEDS = 100


def reference(result: RunResult) -> str:
    """A bundled scenario by name, any other by its path: how commands are told to run it."""
    scenario = result.scenario
    bundled = scenario.path.resolve() in catalog.bundled_paths()
    return scenario.name if bundled else str(scenario.path)


def explore_command(result: RunResult) -> str:
    """The `sharesim explore` line that looks for the seeds where a race goes wrong."""
    command = (
        f"sharesim explore {reference(result)} --profile {result.profile.value} "
        f"--seeds {RACE_SEEDS}"
    )
    return command + "".join(f" --set {setting}" for setting in settings_of(result.settings))


def findings_command(result: RunResult) -> str:
    """The `sharesim findings` line that reports a known hole and what closes it."""
    return f"sharesim findings {reference(result)} --profiles {result.profile.value}"


def pins(result: RunResult) -> str:
    """`switches pinned by the file: a=true` and what `--set` replaced, or nothing."""
    parts = []
    if result.pinned:
        parts.append(f"switches pinned by the file: {', '.join(settings_of(result.pinned))}")
    if result.overruled:
        replaced = ", ".join(settings_of(result.overruled))
        parts.append(f"the file's {replaced} replaced by --set")
    return "; ".join(parts)


def verdict(result: RunResult) -> str:
    """`pass`, `fail`, `race` (the file says one seed decides nothing), or `no checks` for a
    run that checked nothing and broke nothing."""
    return str(result.verdict.value)


def record(result: RunResult) -> dict[str, object]:
    return {
        "scenario": result.scenario.name,
        "path": str(result.scenario.path),
        "profile": result.profile.value,
        "overrides": result.overrides,
        "pinned": result.pinned,
        "overruled": result.overruled,
        "seed": result.seed,
        "faults": [kind for kind in format_faults(result.faults).split(",") if kind],
        "fault_plan": str(result.fault_plan),
        "fault_events": [
            {"t": r.t, "type": r.type, "actor": r.src, "server": r.dst, **r.ids}
            for r in (result.trace.fault_records() if result.trace is not None else [])
        ],
        "verdict": verdict(result),
        "explore": explore_command(result) if result.verdict is Verdict.RACE else None,
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
        "skipped_steps": [
            {"at": s.at, "step": s.step, "line": s.line, "reason": s.reason} for s in result.skipped
        ],
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
