"""Where the shipped client differs from its spec: `current` shows the shipped behaviour.

Each case runs a bundled scenario under `current` with the one switch that gives
the spec's behaviour and checks that the outcome the scenario pins for the
shipped client changes as the spec says it should.
"""

from __future__ import annotations

from actors.rules.profiles import Profile
from scenarios import catalog
from scenarios.runner import run_scenario


def _root_of(scenario: str, viewer: str, **switches: bool) -> str:
    result = run_scenario(catalog.load(scenario), Profile.CURRENT, settings=switches)
    latest = max(
        (key for key in result.observations if key.startswith(f"{viewer}@")),
        key=lambda key: float(key.rsplit("@", 1)[1]),
    )
    root = result.observations[latest]["root"]
    assert isinstance(root, str)
    return root


def test_the_shipped_stop_cascade_ends_a_share_the_user_started_on_the_child() -> None:
    assert _root_of("stop-cascade-ends-a-reshared-child", "writer-viewer") == "unavailable"


def test_the_specs_stop_cascade_leaves_the_users_own_share_up() -> None:
    root = _root_of(
        "stop-cascade-ends-a-reshared-child", "writer-viewer", stop_only_inherited_shares=True
    )
    assert root == "loaded"
