"""Every route a client builds is read back by the server as what it was built from."""

from __future__ import annotations

import pytest

from protocol.routes import (
    CREATE_ROUTE,
    JoinRoute,
    is_sharer_route,
    is_tasks_route,
    join_path,
    join_route,
    joined_session,
    resume_route,
    resumed_session,
    task_token,
    tasks_route,
    via_parent,
)


def test_the_routes_on_the_wire() -> None:
    assert CREATE_ROUTE == "/sessions/create"
    assert resume_route("s-1") == "/sessions/s-1/resume"
    assert join_route("s-1", "pw") == join_path("s-1") + "?pwd=pw" == "/sessions/join/s-1?pwd=pw"
    assert via_parent(join_route("c", "pw"), "p", "viewer-1", "tok") == (
        "/sessions/join/c?pwd=pw&via=p&as=viewer-1&seat=tok"
    )
    assert tasks_route("tok") == "/tasks?token=tok"


def test_a_join_route_reads_back_with_its_parent() -> None:
    plain = join_route("s-1", "pw")
    assert JoinRoute.parse(plain) == JoinRoute("s-1", "pw", None, None)
    assert JoinRoute.parse(via_parent(plain, "p", "viewer-1", "tok")) == JoinRoute(
        "s-1", "pw", "p", "viewer-1", "tok"
    )
    assert joined_session(plain) == "s-1"


@pytest.mark.parametrize(
    "resource", [CREATE_ROUTE, resume_route("s-1"), "/sessions/join", "/sessions/join/a/b", "/x"]
)
def test_only_three_segment_join_paths_are_join_routes(resource: str) -> None:
    assert JoinRoute.parse(resource) is None


def test_a_view_of_something_else_than_a_join_route_says_what_it_got() -> None:
    with pytest.raises(ValueError, match=r"'/sessions/create' is not a join route"):
        joined_session(CREATE_ROUTE)


def test_sharer_routes_are_create_and_resume() -> None:
    assert is_sharer_route(CREATE_ROUTE)
    assert is_sharer_route(resume_route("s-1"))
    assert resumed_session(resume_route("s-1")) == "s-1"
    assert resumed_session(CREATE_ROUTE) is None
    assert not is_sharer_route(join_route("s-1", "pw"))
    assert not is_sharer_route(tasks_route("tok"))


@pytest.mark.parametrize(
    ("resource", "is_tasks", "token"),
    [
        (tasks_route("tok"), True, "tok"),
        ("/tasks", True, None),
        ("/tasks?token=", True, None),
        ("/elsewhere?token=tok", False, "tok"),
    ],
)
def test_the_task_route_presents_its_token(
    resource: str, is_tasks: bool, token: str | None
) -> None:
    assert is_tasks_route(resource) is is_tasks
    assert task_token(resource) == token
