"""The transition table itself: every edge of API.md, and nothing more."""

import pytest

from cases.transitions import TRANSITIONS, Action, State, allowed_actions, transition_for

# API.md "Cases": action → (from states, to state); None = the same state.
API_TABLE = {
    "file": ({"collected"}, "filed"),
    "reject": ({"collected"}, "rejected"),
    "dispatch": ({"filed"}, "dispatched"),
    "accept": ({"dispatched"}, "handling"),
    "return": ({"dispatched"}, "filed"),
    "arrive": ({"dispatched", "handling"}, None),
    "escalate": ({"filed", "handling"}, "filed"),
    "feedback": ({"handling"}, "fed_back"),
    "verify": ({"fed_back"}, "verified"),
    "rework": ({"fed_back"}, "handling"),
    "evaluate": ({"verified"}, "evaluated"),
    "extend": ({"dispatched", "handling"}, None),
    "approve_extension": ({"dispatched", "handling"}, None),
    "suspend": ({"handling"}, "suspended"),
    "resume": ({"suspended"}, "handling"),
    "void": ({"collected", "filed"}, "voided"),
}


@pytest.mark.parametrize("action", sorted(API_TABLE))
def test_every_api_edge_is_in_the_table(action):
    sources, target = API_TABLE[action]
    for state in sources:
        edge = transition_for(state, action)
        assert edge is not None, (state, action)
        assert (edge.target.value if edge.target else None) == target


def test_the_table_has_no_edge_the_api_does_not_name():
    api_edges = {(s, a) for a, (sources, _t) in API_TABLE.items() for s in sources}
    table_edges = {(s.value, a.value) for (s, a) in TRANSITIONS}
    assert table_edges - api_edges == {("evaluated", "assess")}  # set by the assessment lock


def test_required_fields_and_photos():
    assert transition_for("collected", "reject").requires == ("reason",)
    assert transition_for("dispatched", "return").requires == ("reason",)
    assert transition_for("handling", "feedback").photo == "after"
    assert transition_for("fed_back", "verify").photo == "after"
    assert transition_for("filed", "dispatch").requires == ("department",)


def test_unknown_state_or_action_has_no_edge():
    assert transition_for("handling", "teleport") is None
    assert transition_for("nowhere", "file") is None
    assert transition_for("rejected", "file") is None


def test_allowed_actions_lists_the_edges_of_a_state():
    assert sorted(allowed_actions("handling")) == [
        "approve_extension",
        "arrive",
        "escalate",
        "extend",
        "feedback",
        "suspend",
    ]
    assert allowed_actions("rejected") == []
    assert {s.value for s in State} >= {"collected", "assessed", "voided"}
    assert Action("approve_extension")
