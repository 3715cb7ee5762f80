"""The eight-topology comparison: what the parent or child viewer saw, per profile.

Each cell is a short phrase in the vocabulary of the design brief's table, so
designs can be compared at a glance.
"""

from __future__ import annotations

from collections.abc import Mapping

from actors.rules.names import ORCHESTRATOR, UNKNOWN_AGENT

#: The eight core scenarios in the design brief's order.
TOPOLOGIES = (
    "local-local-share-parent",
    "local-local-share-child",
    "local-remote-share-parent",
    "local-remote-share-child",
    "remote-local-share-parent",
    "remote-local-share-child",
    "remote-remote-share-parent",
    "remote-remote-share-child",
)


def describe(snapshot: Mapping[str, object]) -> str:
    """A phrase for one viewer snapshot (`ViewerSnapshot.to_dict()`)."""
    if snapshot["root"] != "loaded":
        return "never past loading" if snapshot["root"] == "loading" else "unavailable"
    if snapshot["scope"] == "child":
        return "child only; " + _names(snapshot)
    if not snapshot["pill_bar_visible"]:
        return "no pill bar"
    panes = snapshot["panes"]
    assert isinstance(panes, list)
    loading = sum(1 for pane in panes if pane["state"] == "loading")
    if loading:
        return f"pill bar, {loading} of {len(panes)} children stuck loading"
    return f"pill bar, {len(panes)} children load"


def _names(snapshot: Mapping[str, object]) -> str:
    references = snapshot["references"]
    assert isinstance(references, list)
    labels = {ref["label"] for ref in references}
    if not labels:
        return "no references"
    if labels == {ORCHESTRATOR}:
        return f'names show "{ORCHESTRATOR}"'
    if labels == {UNKNOWN_AGENT}:
        return f'siblings "{UNKNOWN_AGENT}"'
    if UNKNOWN_AGENT in labels or ORCHESTRATOR in labels:
        return "some names unresolved"
    return "sibling names resolve"
