"""What the pages call the workflow's states and actions.

The machine names (``cases.transitions``) stay English; people read these labels, Chinese by
default. Each carries a message context ("case state", "case action") so that words such as
"File" or "Return" get their workflow meaning in the translation, not another one.
"""

from django.utils.translation import pgettext_lazy

from cases.transitions import Action, State

STATE_LABELS = {
    State.COLLECTED: pgettext_lazy("case state", "Collected"),
    State.FILED: pgettext_lazy("case state", "Filed"),
    State.DISPATCHED: pgettext_lazy("case state", "Dispatched"),
    State.HANDLING: pgettext_lazy("case state", "Handling"),
    State.FED_BACK: pgettext_lazy("case state", "Fed back"),
    State.VERIFIED: pgettext_lazy("case state", "Verified"),
    State.EVALUATED: pgettext_lazy("case state", "Evaluated"),
    State.ASSESSED: pgettext_lazy("case state", "Assessed"),
    State.REJECTED: pgettext_lazy("case state", "Rejected"),
    State.SUSPENDED: pgettext_lazy("case state", "Suspended"),
    State.VOIDED: pgettext_lazy("case state", "Voided"),
}

# "collect" is the first event of every case (intake), not an action of the table.
COLLECT = "collect"

ACTION_LABELS = {
    COLLECT: pgettext_lazy("case action", "Report"),
    Action.FILE: pgettext_lazy("case action", "File"),
    Action.REJECT: pgettext_lazy("case action", "Reject"),
    Action.DISPATCH: pgettext_lazy("case action", "Dispatch"),
    Action.ACCEPT: pgettext_lazy("case action", "Accept"),
    Action.RETURN: pgettext_lazy("case action", "Return"),
    Action.ARRIVE: pgettext_lazy("case action", "Arrive on site"),
    Action.ESCALATE: pgettext_lazy("case action", "Escalate to the parent grid"),
    Action.FEEDBACK: pgettext_lazy("case action", "Feed back"),
    Action.VERIFY: pgettext_lazy("case action", "Verify and close"),
    Action.REWORK: pgettext_lazy("case action", "Rework"),
    Action.EVALUATE: pgettext_lazy("case action", "Evaluate"),
    Action.EXTEND: pgettext_lazy("case action", "Ask for an extension"),
    Action.APPROVE_EXTENSION: pgettext_lazy("case action", "Approve the extension"),
    Action.SUSPEND: pgettext_lazy("case action", "Suspend"),
    Action.RESUME: pgettext_lazy("case action", "Resume"),
    Action.VOID: pgettext_lazy("case action", "Void"),
    Action.ASSESS: pgettext_lazy("case action", "Assess"),
}

# The deadlines a case can run against, in the order the workflow meets them.
DEADLINE_LABELS = {
    "response": pgettext_lazy("case deadline", "On site"),
    "dispatch": pgettext_lazy("case deadline", "Dispatch"),
    "handling": pgettext_lazy("case deadline", "Handling"),
    "verify": pgettext_lazy("case deadline", "Verification"),
}

LIGHT_LABELS = {
    "green": pgettext_lazy("traffic light", "On time"),
    "yellow": pgettext_lazy("traffic light", "Due soon"),
    "red": pgettext_lazy("traffic light", "Overdue"),
    "done": pgettext_lazy("traffic light", "Met"),
    "late": pgettext_lazy("traffic light", "Met late"),
}


def state_label(state: str) -> str:
    try:
        return str(STATE_LABELS[State(state)])
    except ValueError:
        return state or ""


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action
