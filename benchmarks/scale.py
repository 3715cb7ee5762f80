"""`scale` and `scale-large`: one busy orchestration at growing sizes, against raw frames.

Each size is one simulated hour of `orchestration.Plan`, timed on the wall
clock. Its cost per delivered frame is compared with what bare trio-websocket
takes to move one frame of the same kind over the same kind of stream,
measured in the same process right after.
"""

from __future__ import annotations

from actors.runtime.simulation import run_seeded
from actors.runtime.transport import Mode

from . import orchestration
from .frames import exchange_frames
from .harness import BenchResult, Figure, at_most, fastest, peak_rss_mb
from .orchestration import Plan, Played
from .raw_ws import stream_frames

HOUR_S = 3600.0
SIZES = (100, 200, 400)
VIEWERS = 20
LARGE = (1_000, 100)
SMOKE_SIZES = (4, 8)
SMOKE_LARGE = (10, 4)
SMOKE_VIEWERS = 2
SMOKE_DURATION_S = 300.0
RAW_FRAMES = 20_000
SMOKE_RAW_FRAMES = 300
TARGET_OVERHEAD = 3.0
TARGET_GROWTH = 1.3


def raw_frame_us(count: int) -> float:
    """Wall microseconds bare trio-websocket needs per frame (one connection, memory streams)."""
    frames = exchange_frames(count)

    def once() -> float:
        return run_seeded(stream_frames, Mode.MEMORY, frames, seed=0)

    return fastest(once) / count * 1e6


def run(*, smoke: bool = False) -> BenchResult:
    sizes = SMOKE_SIZES if smoke else SIZES
    viewers = SMOKE_VIEWERS if smoke else VIEWERS
    duration = SMOKE_DURATION_S if smoke else HOUR_S
    runs = {str(size): orchestration.run(Plan(size, viewers, duration)) for size in sizes}
    raw = raw_frame_us(SMOKE_RAW_FRAMES if smoke else RAW_FRAMES)
    first, last = runs[str(sizes[0])], runs[str(sizes[-1])]
    overhead = _per_frame_us(last) / raw
    growth = (last.wall_s / sizes[-1]) / (first.wall_s / sizes[0])
    figures: dict[str, Figure] = {
        "children": list(sizes),
        "viewers": viewers,
        "simulated_s": duration,
        "wall_s": {key: round(played.wall_s, 2) for key, played in runs.items()},
        "teardown_s": {key: round(played.teardown_s, 2) for key, played in runs.items()},
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "frames": {key: played.frames for key, played in runs.items()},
        "connections": {key: played.connections for key, played in runs.items()},
        "per_frame_us": {key: round(_per_frame_us(played), 1) for key, played in runs.items()},
        "raw_frame_us": round(raw, 1),
        "overhead": round(overhead, 2),
        "growth": round(growth, 2),
        "panes_loaded": {key: played.panes_loaded for key, played in runs.items()},
    }
    checks = [
        at_most(f"scale overhead at {sizes[-1]} children", overhead, TARGET_OVERHEAD),
        at_most(f"scale growth from {sizes[0]} to {sizes[-1]} children", growth, TARGET_GROWTH),
    ]
    return BenchResult("scale", figures, checks)


def run_large(*, smoke: bool = False) -> BenchResult:
    """The largest run the issue asks for: no target, but it must finish in sane memory."""
    children, viewers = SMOKE_LARGE if smoke else LARGE
    duration = SMOKE_DURATION_S if smoke else HOUR_S
    played = orchestration.run(Plan(children, viewers, duration))
    raw = raw_frame_us(SMOKE_RAW_FRAMES if smoke else RAW_FRAMES)
    return BenchResult(
        "scale-large",
        {
            "children": children,
            "viewers": viewers,
            "simulated_s": duration,
            "wall_s": round(played.wall_s, 2),
            "teardown_s": round(played.teardown_s, 2),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "frames": played.frames,
            "connections": played.connections,
            "per_frame_us": round(_per_frame_us(played), 1),
            "raw_frame_us": round(raw, 1),
            "overhead": round(_per_frame_us(played) / raw, 2),
            "panes_loaded": played.panes_loaded,
        },
    )


def _per_frame_us(played: Played) -> float:
    return played.wall_s / played.frames * 1e6
