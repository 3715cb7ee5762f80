"""The person at a viewer: the pill they selected, what they did, and how each act ended.

A `Viewer` holds one `Person` and hands it the views it has. Selection and the
pill menu stay inside the client (the rules are in `actors.rules.viewer_client`);
prompts and role requests go out on the session of the active pill, and their
answers come back here. Outcomes are kept in order, with task ids for agents, so
a scenario can check what the person saw happen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from actors.rules.view import ViewScope
from actors.rules.viewer_client import (
    DONE,
    IN_FLIGHT,
    NEW_TAB,
    NO_SUCH_PILL,
    ActionOutcome,
    ClientKind,
    CopiedLink,
    Surface,
    copy_link,
    pill_action_refusal,
    pill_actions,
    refused,
    selectable,
)
from actors.runtime.actor import Request
from actors.viewers.session_view import PromptAnswered, RoleAnswered, SessionView
from protocol import viewer
from protocol.requests import AgentPromptRequest, Approved, conversation_token
from protocol.roles import Role

_log = structlog.get_logger("sharesim.viewer")


@dataclass(frozen=True, slots=True)
class SelectPill:
    """The person selects a pill: the child `task_id`, or None for the orchestrator's."""

    task_id: str | None


@dataclass(frozen=True, slots=True)
class UsePill:
    """The person picks `action` from the menu of `task_id`'s pill."""

    action: str
    task_id: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """An executor prompts an agent from the active pill: `target` None means that pill's."""

    text: str
    target: str | None = None


@dataclass(frozen=True, slots=True)
class RequestAccess:
    """The person asks the sharer of the active pill's session for `role`."""

    role: Role


@dataclass(frozen=True, slots=True)
class CopyLink(Request[CopiedLink | None]):
    """The share action of the current view: answers the `CopiedLink`, or None when the
    view has no link to copy yet."""


PersonAct = SelectPill | UsePill | Prompt | RequestAccess


@dataclass(frozen=True, slots=True)
class ClientObservation:
    """What the person sees of the client itself: task ids stand for agents."""

    client: ClientKind
    scope: ViewScope
    #: The run of the session the link opened (None until the share names it).
    own_run: str | None
    #: The selected pill's task id; None for the view's own session (the orchestrator's
    #: pill in a parent view).
    selected: str | None
    #: The exchanges the selected pill shows, as their texts.
    shows: tuple[str, ...]
    visible_surfaces: int
    pill_actions: tuple[str, ...]
    copied: CopiedLink | None
    actions: tuple[ActionOutcome, ...]
    #: The role of each joined view, keyed by its run id ("root" while unknown).
    roles: dict[str, Role]


@dataclass(frozen=True, slots=True)
class Views:
    """The viewer's views as the person meets them: the link's own view and the child panes."""

    root: SessionView | None
    panes: dict[str, SessionView]
    #: The run of the root view's session, once the share has named it.
    own_run: str | None

    def all(self) -> list[SessionView]:
        return ([self.root] if self.root is not None else []) + list(self.panes.values())

    def key_of(self, view: SessionView) -> str:
        """The run a view shows: its task id ("root" while the link's own is unknown)."""
        return (self.own_run or "root") if view is self.root else view.key


@dataclass
class Person:
    """See the module docstring; `name` makes request ids unique to this viewer."""

    name: str
    client: ClientKind
    selected: str | None = None
    outcomes: list[ActionOutcome] = field(default_factory=list)
    copied: CopiedLink | None = None
    #: Tabs the person opened from pill menus: the only surfaces besides the view itself.
    opened_tabs: int = 0
    #: What each prompt sent is aimed at, by request id.
    _prompts: dict[str, str] = field(default_factory=dict)
    _prompt_numbers: int = 0

    def act(self, act: PersonAct, views: Views, children: frozenset[str], scope: ViewScope) -> None:
        """Carry out `act` in a view of `scope`, which the viewer works out, not the person."""
        if isinstance(act, SelectPill):
            self._select(act.task_id, views, children, scope)
        elif isinstance(act, UsePill):
            self._use_pill(act)
        elif isinstance(act, Prompt):
            self._prompt(act, views)
        else:
            self._request_access(act.role, views)

    def active_view(self, views: Views) -> SessionView | None:
        """The session of the active pill: the view itself, or the selected child's pane."""
        return views.root if self.selected is None else views.panes.get(self.selected)

    def _active_run(self, views: Views) -> str | None:
        return self.selected if self.selected is not None else views.own_run

    def _select(
        self, task_id: str | None, views: Views, children: frozenset[str], scope: ViewScope
    ) -> None:
        """Selection is this viewer's alone: nothing goes to the sharer or other viewers."""
        if task_id is not None and not selectable(scope, children, task_id):
            self.outcomes.append(ActionOutcome("select", task_id, refused(NO_SUCH_PILL)))
            return
        self.selected = task_id
        self.outcomes.append(ActionOutcome("select", task_id or views.own_run or "root", DONE))
        _log.info("pill_selected", selected=task_id)

    def _use_pill(self, act: UsePill) -> None:
        reason = pill_action_refusal(self.client, act.action)
        if reason is None and act.action == NEW_TAB:
            self.opened_tabs += 1
        result = DONE if reason is None else refused(reason)
        self.outcomes.append(ActionOutcome(act.action, act.task_id, result))
        _log.info("pill_action", action=act.action, child=act.task_id, result=result)

    def _prompt(self, act: Prompt, views: Views) -> None:
        """Send a prompt on the active pill's session, aimed at `target`'s conversation."""
        view = self.active_view(views)
        target = act.target or self._active_run(views)
        if target is None or view is None:
            nothing = refused("nothing to act on")
            self.outcomes.append(ActionOutcome("prompt", target or "?", nothing))
            return
        self._prompt_numbers += 1
        request_id = f"{self.name}-prompt-{self._prompt_numbers}"
        request = AgentPromptRequest(request_id, conversation_token(target), act.text)
        if not view.send(viewer.SendAgentPrompt(request)):
            self.outcomes.append(ActionOutcome("prompt", target, refused("not connected")))
            return
        self._prompts[request_id] = target

    def prompt_answered(self, answer: PromptAnswered) -> None:
        target = self._prompts.pop(answer.request_id or "", "?")
        failure = answer.failure
        result = IN_FLIGHT if failure is None else refused(failure.value)
        self.outcomes.append(ActionOutcome("prompt", target, result))
        _log.info("prompt_answered", target=target, result=result)

    def _request_access(self, role: Role, views: Views) -> None:
        view = self.active_view(views)
        target = self._active_run(views) or "?"
        if view is None or not view.send(viewer.RequestRole(role)):
            self.outcomes.append(ActionOutcome("request-role", target, refused("not connected")))
            return
        self.outcomes.append(ActionOutcome("request-role", target, IN_FLIGHT))

    def role_answered(self, run: str, answer: RoleAnswered) -> None:
        response = answer.response
        result = (
            f"approved: {response.new_role.value.lower()}"
            if isinstance(response, Approved)
            else "rejected"
        )
        self.outcomes.append(ActionOutcome("role answer", run, result))
        _log.info("role_answered", run=run, result=result)

    def copy_link(
        self, views: Views, child_link: str | None, scope: ViewScope
    ) -> CopiedLink | None:
        """Copy the active pill's link: the view's own, or `child_link`, the selected
        child's; `scope` is that of the view whose link it is. None while the view has
        no link yet; the last link copied stays on the clipboard."""
        root = views.root.route if views.root is not None else None
        copied = copy_link(scope, root if self.selected is None else child_link)
        self.copied = copied or self.copied
        return copied

    def observation(self, views: Views, scope: ViewScope) -> ClientObservation:
        active = self.active_view(views)
        joined = [view for view in views.all() if view.joined is not None]
        visible = [v for v in views.all() if v.surface is Surface.VISIBLE and not v.ended]
        return ClientObservation(
            client=self.client,
            scope=scope,
            own_run=views.own_run,
            selected=self.selected,
            shows=tuple(e.text for e in active.transcript) if active is not None else (),
            visible_surfaces=self.opened_tabs + len(visible),
            pill_actions=pill_actions(self.client),
            copied=self.copied,
            actions=tuple(self.outcomes),
            roles={views.key_of(view): view.role for view in joined},
        )
