"""The viewer as a client: pill menus per client kind, copied links, what may be selected."""

from __future__ import annotations

import pytest

from actors.rules.view import ViewScope, derive_scope
from actors.rules.viewer_client import (
    CONTROL_ACTIONS,
    NATIVE_ONLY,
    NOT_A_CONTROL_SURFACE,
    PANE_ACTIONS,
    ClientKind,
    CopiedLink,
    copy_link,
    pane_route,
    pill_action_refusal,
    pill_actions,
    selectable,
    shareable_route,
)

PARENT_ROUTE = "/sessions/join/s-parent?pwd=p1"
CHILD_ROUTE = "/sessions/join/s-child?pwd=c1"


@pytest.mark.behaviour(22)
def test_the_web_viewer_offers_no_pane_actions_and_refuses_them() -> None:
    assert pill_actions(ClientKind.NATIVE) == PANE_ACTIONS
    assert pill_actions(ClientKind.WEB) == ()
    for action in PANE_ACTIONS:
        assert pill_action_refusal(ClientKind.NATIVE, action) is None
        assert pill_action_refusal(ClientKind.WEB, action) == NATIVE_ONLY


@pytest.mark.behaviour(42)
@pytest.mark.parametrize("client", list(ClientKind))
@pytest.mark.parametrize("action", CONTROL_ACTIONS)
def test_the_pill_bar_never_controls_an_agent(client: ClientKind, action: str) -> None:
    assert pill_action_refusal(client, action) == NOT_A_CONTROL_SURFACE


def test_an_action_the_menu_does_not_know_is_refused_by_name() -> None:
    assert pill_action_refusal(ClientKind.NATIVE, "fly") == "no pill action 'fly'"


@pytest.mark.behaviour(44)
def test_the_orchestrator_pill_copies_a_parent_link() -> None:
    assert copy_link(ViewScope.PARENT, PARENT_ROUTE) == CopiedLink(ViewScope.PARENT, PARENT_ROUTE)


@pytest.mark.behaviour(10, 44)
def test_a_child_pill_copies_the_childs_own_link_which_stays_child_scoped() -> None:
    """The pane behind a child pill lists no children and shows a child's conversation."""
    pane_scope = derive_scope(shows_own_children=False, has_parent=True)
    copied = copy_link(pane_scope, CHILD_ROUTE)
    assert copied == CopiedLink(ViewScope.CHILD, CHILD_ROUTE)


@pytest.mark.behaviour(44)
def test_a_child_view_copies_a_child_link() -> None:
    assert copy_link(ViewScope.CHILD, CHILD_ROUTE) == CopiedLink(ViewScope.CHILD, CHILD_ROUTE)


def test_a_child_pill_without_a_session_yet_has_no_link_to_copy() -> None:
    assert copy_link(ViewScope.CHILD, None) is None
    assert copy_link(ViewScope.PARENT, None) is None


def test_a_copied_link_drops_the_copiers_own_seat() -> None:
    route = f"{CHILD_ROUTE}&via=s-parent&as=viewer-3&seat=the-copiers-own-token"
    assert shareable_route(route) == CHILD_ROUTE
    assert copy_link(ViewScope.CHILD, route) == CopiedLink(ViewScope.CHILD, CHILD_ROUTE)


def test_the_shipped_client_joins_a_child_pane_with_the_secret_only() -> None:
    seat = ("s-parent", "viewer-3", "tok")
    assert pane_route(CHILD_ROUTE, seat, cap_at_parent=False) == CHILD_ROUTE


@pytest.mark.behaviour(41)
def test_the_spec_joins_a_child_pane_through_the_parent_seat() -> None:
    assert pane_route(CHILD_ROUTE, ("s-parent", "viewer-3", "tok"), cap_at_parent=True) == (
        f"{CHILD_ROUTE}&via=s-parent&as=viewer-3&seat=tok"
    )
    assert pane_route(CHILD_ROUTE, None, cap_at_parent=True) == CHILD_ROUTE


@pytest.mark.behaviour(17, 39)
def test_only_a_parent_view_has_pills_to_select() -> None:
    children = frozenset({"t-2"})
    assert selectable(ViewScope.PARENT, children, "t-2")
    assert not selectable(ViewScope.PARENT, children, "t-9")
    assert not selectable(ViewScope.CHILD, children, "t-2")
