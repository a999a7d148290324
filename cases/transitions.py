"""The case workflow as one table (Hefei §6, Xicheng §4; API.md "Cases").

``TRANSITIONS[(state, action)]`` gives the state the action leads to, who may take it and what
the request must carry. ``cases.services.case_transition`` is the only code that changes a
case's status, and it reads nothing but this table to decide whether it may. ``None`` as the
target means the state does not change (``arrive``, ``extend``, ``approve_extension``); for
``escalate`` the state stays ``filed`` but the case moves to the parent grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    COLLECTED = "collected"
    FILED = "filed"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    FED_BACK = "fed_back"
    VERIFIED = "verified"
    EVALUATED = "evaluated"
    ASSESSED = "assessed"
    SUSPENDED = "suspended"
    VOIDED = "voided"


class Action(StrEnum):
    FILE = "file"
    REJECT = "reject"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    RETURN = "return"
    ARRIVE = "arrive"
    ESCALATE = "escalate"
    FEEDBACK = "feedback"
    VERIFY = "verify"
    REWORK = "rework"
    EVALUATE = "evaluate"
    EXTEND = "extend"
    APPROVE_EXTENSION = "approve_extension"
    SUSPEND = "suspend"
    RESUME = "resume"
    VOID = "void"
    ASSESS = "assess"


class Actor(StrEnum):
    """Who may act, as the services resolve it for a user and a case."""

    DISPATCHER = "dispatcher"  # platform operator / the office (whole-city roles)
    HANDLER = "handler"  # a member of the case's lead (or assisting) department
    OFFICER = "officer"  # an enforcement officer of the case's grid or above
    INSPECTOR = "inspector"  # the grid inspector or supervisor of the case's grid or above
    PRINCIPAL = "principal"  # the grid's leader / principal / direct responsible person
    SYSTEM = "system"  # the performance-assessment lock


@dataclass(frozen=True)
class Transition:
    target: State | None
    actors: frozenset[Actor]
    requires: tuple[str, ...] = ()
    photo: str | None = None  # a photo kind the action needs ("after")


def _t(target, actors, requires=(), photo=None) -> Transition:
    return Transition(target, frozenset(actors), tuple(requires), photo)


D, H, O, I, P, S = (  # noqa: E741
    Actor.DISPATCHER,
    Actor.HANDLER,
    Actor.OFFICER,
    Actor.INSPECTOR,
    Actor.PRINCIPAL,
    Actor.SYSTEM,
)

TRANSITIONS: dict[tuple[State, Action], Transition] = {
    (State.COLLECTED, Action.FILE): _t(State.FILED, {D}),
    (State.COLLECTED, Action.REJECT): _t(State.REJECTED, {D}, ["reason"]),
    (State.COLLECTED, Action.VOID): _t(State.VOIDED, {D}, ["reason"]),
    (State.FILED, Action.DISPATCH): _t(State.DISPATCHED, {D}, ["department"]),
    (State.FILED, Action.ESCALATE): _t(State.FILED, {D, P}, ["reason"]),
    (State.FILED, Action.VOID): _t(State.VOIDED, {D}, ["reason"]),
    (State.DISPATCHED, Action.ACCEPT): _t(State.HANDLING, {H}),
    (State.DISPATCHED, Action.RETURN): _t(State.FILED, {H}, ["reason"]),
    (State.DISPATCHED, Action.ARRIVE): _t(None, {H, O}, ["arrived_at", "lat", "lng"]),
    (State.DISPATCHED, Action.EXTEND): _t(None, {H}, ["reason", "until"]),
    (State.DISPATCHED, Action.APPROVE_EXTENSION): _t(None, {D}),
    (State.HANDLING, Action.ARRIVE): _t(None, {H, O}, ["arrived_at", "lat", "lng"]),
    (State.HANDLING, Action.ESCALATE): _t(State.FILED, {H, P}, ["reason"]),
    (State.HANDLING, Action.FEEDBACK): _t(State.FED_BACK, {H}, ["result"], photo="after"),
    (State.HANDLING, Action.EXTEND): _t(None, {H}, ["reason", "until"]),
    (State.HANDLING, Action.APPROVE_EXTENSION): _t(None, {D}),
    (State.HANDLING, Action.SUSPEND): _t(State.SUSPENDED, {D}, ["reason"]),
    (State.SUSPENDED, Action.RESUME): _t(State.HANDLING, {D}),
    (State.FED_BACK, Action.VERIFY): _t(State.VERIFIED, {I, D}, photo="after"),
    (State.FED_BACK, Action.REWORK): _t(State.HANDLING, {I, D}, ["reason"]),
    (State.VERIFIED, Action.EVALUATE): _t(State.EVALUATED, {D}),
    (State.EVALUATED, Action.ASSESS): _t(State.ASSESSED, {S}),
}

FINAL_STATES = frozenset({State.REJECTED, State.VOIDED, State.ASSESSED})


def allowed_actions(state: str) -> list[str]:
    """The actions the table allows from ``state`` (for 409 answers and the case page)."""
    return [action.value for (s, action) in TRANSITIONS if s == state]


def transition_for(state: str, action: str) -> Transition | None:
    try:
        return TRANSITIONS.get((State(state), Action(action)))
    except ValueError:
        return None
