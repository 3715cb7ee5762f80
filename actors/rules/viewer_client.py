"""The viewer as a client a person uses: its kind, the pill it has selected, what it may do.

Pure rules, no I/O. A viewer is the native client or the web viewer; the web
viewer has the web-compatible subset of the pill bar (no pane-management
actions, since it is single-pane). Pill selection is local to one viewer.
The pill bar is navigation: it never controls an agent, so a control action
from it is refused before anything is sent. Interactive actions (prompts,
role requests) go to the session of the active pill and nowhere else. A copy
of the link keeps the current scope, and a handoff to another client keeps
the link's target.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from actors.rules.view import ViewScope
from protocol.routes import via_parent


class ClientKind(enum.Enum):
    """Which client shows the shared session."""

    NATIVE = "native"
    WEB = "web"


class Surface(enum.Enum):
    """Whether a view is something the person sees (a tab or window) or a hidden pane."""

    VISIBLE = "visible"
    HIDDEN = "hidden"


#: Pane-management actions of a pill's overflow menu, native only.
PANE_ACTIONS = ("open-in-new-pane", "open-in-new-tab", "focus-pane")
#: Actions that would control an agent; the pill bar offers none of them.
CONTROL_ACTIONS = ("cancel", "restart", "message")
#: The one pane action that puts a new tab in front of the person.
NEW_TAB = "open-in-new-tab"

NOT_A_CONTROL_SURFACE = "the pill bar is navigation, not an agent control"
NATIVE_ONLY = "a native-only pane action; the web viewer is single-pane"
NO_SUCH_PILL = "no such pill on this viewer's bar"


def pill_actions(client: ClientKind) -> tuple[str, ...]:
    """What a pill's menu offers on this client."""
    return PANE_ACTIONS if client is ClientKind.NATIVE else ()


def pill_action_refusal(client: ClientKind, action: str) -> str | None:
    """Why the pill bar refuses `action` on this client, or None when it is offered."""
    if action in CONTROL_ACTIONS:
        return NOT_A_CONTROL_SURFACE
    if action not in pill_actions(client):
        return NATIVE_ONLY if action in PANE_ACTIONS else f"no pill action {action!r}"
    return None


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What became of one thing a person did in a viewer: `target` is a task id."""

    action: str
    target: str
    result: str


IN_FLIGHT = "in flight"
DONE = "done"


def refused(reason: str) -> str:
    return f"refused: {reason}"


@dataclass(frozen=True, slots=True)
class CopiedLink:
    """A link a person copied, and the scope of the view it was copied from: the scope
    anyone who opens it comes to, since it opens the same session."""

    scope: ViewScope
    route: str


#: Query parameters that tie a pane to the copier's own seat; a copied link drops them.
#: The parent seat, and the token that proves it the copier's: never handed on.
_SEAT_PARAMETERS = frozenset({"via", "as", "seat"})


def shareable_route(route: str) -> str:
    """The join route anyone holding it can open: the copier's seat parameters removed."""
    parts = urlsplit(route)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in _SEAT_PARAMETERS]
    return urlunsplit(parts._replace(query=urlencode(query)))


def pane_route(
    child_route: str, parent_seat: tuple[str, str, str] | None, *, cap_at_parent: bool
) -> str:
    """The route a hidden child pane joins: the child's link, plus the parent seat under the spec.

    The shipped client builds each child viewer without reference to the parent, so
    its join carries only the secret and the child's link role applies. The spec's
    cap (behaviour 41) needs the server to know the seat, `(session_id, viewer_id,
    seat_token)`, the token revealed.
    """
    if not cap_at_parent or parent_seat is None:
        return child_route
    return via_parent(child_route, *parent_seat)


def copy_link(scope: ViewScope, route: str | None) -> CopiedLink | None:
    """The link a share action copies: the route of the view the active pill shows.

    On the orchestrator pill it is the view's own link; with a child pill selected,
    that child's own link. Either opens the same session again, so whoever opens it
    comes to the scope of the view it was copied from. None when there is no link yet.
    """
    if route is None:
        return None
    return CopiedLink(scope, shareable_route(route))


def selectable(scope: ViewScope, child_task_ids: frozenset[str], task_id: str) -> bool:
    """Whether a pill for `task_id` is on the bar: a child-scoped view has no bar at all."""
    return scope is ViewScope.PARENT and task_id in child_task_ids
