"""The findings report: a Markdown table a design review reads, or one JSON object."""

from __future__ import annotations

import json
from dataclasses import dataclass

from actors.rules.profiles import Profile
from scenarios.fault_plan import plan_to_dict
from scenarios.faults import format_faults
from scenarios.findings import HARDENED, Findings, Hole
from scenarios.problems import Problem
from scenarios.shrink import describe

#: What the report says of a hole no switch was found to close.
NONE_KNOWN = "none known"


@dataclass(frozen=True, slots=True)
class Campaign:
    """What was explored, for the report's header."""

    scenarios: tuple[str, ...]
    profiles: tuple[Profile, ...]
    start: int
    seeds: int
    interrupted: bool = False

    @property
    def seed_range(self) -> str:
        return f"{self.start}-{self.start + self.seeds - 1}"


def markdown(campaign: Campaign, findings: Findings) -> str:
    """The report: a header saying what ran, a row per hole, then each hole's full failure."""
    holes = findings.holes()
    profiles = ", ".join(p.value for p in campaign.profiles)
    lines = [
        "# sharesim findings",
        "",
        f"Profiles {profiles}; seeds {campaign.seed_range} of {_scenarios(campaign)}; "
        f"faults {format_faults(findings.faults) or 'none'}: "
        f"{findings.runs} runs, {findings.failing} failing, "
        f"{len(holes)} distinct {'hole' if len(holes) == 1 else 'holes'}.",
        f"Switches tried for closing each hole: {_candidates(findings)}.",
    ]
    if findings.unchecked:
        lines.append(
            "Passed checking no expectation (every check assumes no faults): "
            + ", ".join(
                f"{reference} [{profile.value}] {count} of {campaign.seeds} seeds"
                for reference, profile, count in findings.unchecked_runs()
            )
            + "."
        )
    if campaign.interrupted:
        lines.append("Interrupted: these are the holes found before the stop.")
    if not holes:
        return "\n".join([*lines, "", "No holes found."]) + "\n"
    lines += [
        "",
        "| # | scenario | what broke | actor | profiles (seeds) | seeds | minimal faults "
        "| replay | closed by |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for number, hole in enumerate(holes, 1):
        cells = [
            str(number),
            hole.reference,
            _broke(hole),
            hole.problem.actor or "-",
            ", ".join(f"{p.value} ({len(seeds)})" for p, seeds in hole.seeds.items()),
            str(hole.hits),
            f"`{_minimal(hole)}`",
            f"`{hole.replay(findings.faults)}`",
            _closed_by(hole),
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "## Holes", ""]
    for number, hole in enumerate(holes, 1):
        profile, seed = hole.example
        lines.append(
            f"{number}. **{hole.reference}**, seed {seed} under {profile.value}: {hole.detail}"
        )
        lines.append(f"   Seeds: {_seeds(hole)}.")
        if hole.also:
            also = "; ".join(f"{problem} ({seeds})" for problem, seeds in _also(hole))
            lines.append(f"   Also broke (seeds): {also}.")
        if hole.shrunk is not None:
            lines.append(f"   Shrunk: {describe(hole.shrunk)}.")
    return "\n".join(lines) + "\n"


def to_json(campaign: Campaign, findings: Findings) -> str:
    """The same as one JSON object."""
    return json.dumps(
        {
            "scenarios": list(campaign.scenarios),
            "profiles": [p.value for p in campaign.profiles],
            "seeds": {"start": campaign.start, "count": campaign.seeds},
            "faults": [kind for kind in format_faults(findings.faults).split(",") if kind],
            "runs": findings.runs,
            "failing": findings.failing,
            "closing_switches": findings.candidates,
            "interrupted": campaign.interrupted,
            "unchecked": [
                {"scenario": reference, "profile": profile.value, "seeds": count}
                for reference, profile, count in findings.unchecked_runs()
            ],
            "holes": [_hole_record(hole, findings) for hole in findings.holes()],
        }
    )


def _hole_record(hole: Hole, findings: Findings) -> dict[str, object]:
    profile, seed = hole.example
    shrunk = hole.shrunk
    return {
        "scenario": hole.reference,
        "problem": hole.problem.to_dict(),
        "seeds": {p.value: sorted(seeds) for p, seeds in hole.seeds.items()},
        "hits": hole.hits,
        "example": {"profile": profile.value, "seed": seed, "detail": hole.detail},
        "also_broke": [
            {"problem": problem.to_dict(), "seeds": seeds} for problem, seeds in _also(hole)
        ],
        "minimal_faults": None if hole.plan is None else str(hole.plan),
        "fault_plan_file": None if hole.plan is None else plan_to_dict(hole.plan),
        "shrink_runs": None if shrunk is None else shrunk.runs,
        "budget_spent": None if shrunk is None else shrunk.budget_spent,
        "replay": hole.replay(findings.faults),
        "closed_by": None if hole.closed_by is None else list(hole.closed_by),
    }


def _scenarios(campaign: Campaign) -> str:
    count = len(campaign.scenarios)
    return "1 scenario" if count == 1 else f"each of {count} scenarios"


def _also(hole: Hole) -> list[tuple[Problem, int]]:
    """What else the hole's seeds broke, in a fixed order."""
    return sorted(hole.also.items(), key=lambda item: str(item[0]))


def _broke(hole: Hole) -> str:
    problem = hole.problem
    return f"{problem.kind.value} {problem.what}"


def _minimal(hole: Hole) -> str:
    if hole.shrunk is not None:
        return str(hole.shrunk.minimal)
    return "not shrunk"


def _closed_by(hole: Hole) -> str:
    if hole.closed_by is None:
        return "not tried"
    return ", ".join(hole.closed_by) or NONE_KNOWN


def _seeds(hole: Hole) -> str:
    return "; ".join(
        f"{p.value} {', '.join(str(s) for s in sorted(seeds))}" for p, seeds in hole.seeds.items()
    )


def _candidates(findings: Findings) -> str:
    if not findings.candidates:
        if HARDENED in {p.value for p in Profile}:
            return f"none ({HARDENED} sets no switch apart from followups)"
        return f"none known (no profile named {HARDENED} yet)"
    return ", ".join(f"{name}={str(value).lower()}" for name, value in findings.candidates.items())
