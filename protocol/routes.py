"""The URL routes of both servers, built and read here only, so the two sides cannot drift.

Session server: a sharer opens `/sessions/create` (then `Initialize`) or
`/sessions/{id}/resume` (then `Reconnect`); a viewer opens
`/sessions/join/{id}?pwd=SECRET` (then `Initialize`). A hidden child pane that
reached the child through a parent share adds
`&via=PARENT_SESSION&as=VIEWER_ID&seat=SEAT_TOKEN` under the spec's role cap
(`cap_child_role_at_parent`), so the server can cap its role at the one it holds
on the parent; the seat's token proves the seat is the joiner's, as a seat id
(handed out in order) cannot. The crate's join carries only the secret.

Task server: a client opens `/tasks?token=TOKEN` and acts as the principal the server
issued that token to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlsplit

CREATE_ROUTE: Final = "/sessions/create"
_TASKS_PATH: Final = "/tasks"


def resume_route(session_id: str) -> str:
    """Where a sharer reconnects to a session it created."""
    return f"/sessions/{session_id}/resume"


def join_path(session_id: str) -> str:
    """The path of a session's join route, without the secret its query carries."""
    return f"/sessions/join/{session_id}"


def join_route(session_id: str, pwd: str) -> str:
    """Where a viewer joins a session; `pwd` is the session secret, revealed."""
    return f"{join_path(session_id)}?pwd={pwd}"


def via_parent(route: str, parent_session: str, parent_viewer: str, seat_token: str) -> str:
    """A child's join route, opened through the viewer's seat on the parent share;
    `seat_token` is that seat's rejoin token, revealed."""
    return f"{route}&via={parent_session}&as={parent_viewer}&seat={seat_token}"


def tasks_route(token: str) -> str:
    """Where a client talks to the task server; `token` is its task token, revealed."""
    return f"{_TASKS_PATH}?token={token}"


def _segments(resource: str) -> list[str]:
    return urlsplit(resource).path.strip("/").split("/")


@dataclass(frozen=True, slots=True)
class JoinRoute:
    """What a viewer's join resource says: which session, the secret, and any parent."""

    session_id: str
    pwd: str | None
    via_session: str | None
    via_viewer: str | None
    #: The parent seat's token, which proves the seat is the joiner's.
    via_seat_token: str | None = None

    @classmethod
    def parse(cls, resource: str) -> JoinRoute | None:
        segments = _segments(resource)
        if len(segments) != 3 or segments[:2] != ["sessions", "join"]:
            return None
        query = parse_qs(urlsplit(resource).query)

        def one(key: str) -> str | None:
            values = query.get(key)
            return values[0] if values else None

        return cls(segments[2], one("pwd"), one("via"), one("as"), one("seat"))


def joined_session(route: str) -> str:
    """The session a join route opens."""
    parsed = JoinRoute.parse(route)
    if parsed is None:
        raise ValueError(f"{route!r} is not a join route (/sessions/join/ID?pwd=SECRET)")
    return parsed.session_id


def resumed_session(resource: str) -> str | None:
    """The session id in `/sessions/{id}/resume`, or None for any other route."""
    segments = _segments(resource)
    if len(segments) == 3 and segments[0] == "sessions" and segments[2] == "resume":
        return segments[1]
    return None


def is_sharer_route(resource: str) -> bool:
    """Whether a sharer may open this route: create, or resume a session."""
    return urlsplit(resource).path == CREATE_ROUTE or resumed_session(resource) is not None


def is_tasks_route(resource: str) -> bool:
    """Whether this is the task server's route, whatever token it presents."""
    return urlsplit(resource).path == _TASKS_PATH


def task_token(resource: str) -> str | None:
    """The token a task-server route presents, if any."""
    tokens = parse_qs(urlsplit(resource).query).get("token")
    return tokens[0] if tokens else None
