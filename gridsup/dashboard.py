"""The home page: a dashboard of what needs attention in the user's area.

It lives in the project package because it composes the apps' read models (each app keeps
its own queries in its selectors); it writes nothing. The figures are the user's scope only:
the city office sees the city with one row per county, a county officer his county with one
row per township, an inspector his village.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.labels import STATE_LABELS
from cases.models import OPEN_STATES
from cases.overview import case_overview
from grids import selectors as grid_selectors
from inspections.models import ControlTier
from inspections.selectors import source_overview

RECEIVED_DAYS = 30


@dataclass
class AreaRow:
    code: str
    name: str
    cases_open: int
    cases_overdue: int
    sources_active: int
    sources_overdue: int


@dataclass
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@login_required
@require_GET
def home(request):
    user, now = request.user, timezone.now()
    today = timezone.localdate(now)
    top = grid_selectors.grid_list(user=user).order_by("level", "code").first()
    areas = list(grid_selectors.grid_children(user=user, grid=top).order_by("code")) if top else []
    cases = case_overview(user=user, areas=areas, now=now, days=RECEIVED_DAYS)
    sources = source_overview(user=user, areas=areas, on=today)
    rows = [
        AreaRow(
            code=area.code,
            name=area.name,
            cases_open=cases.by_area.get(area.pk, {}).get("open", 0),
            cases_overdue=cases.by_area.get(area.pk, {}).get("overdue", 0),
            sources_active=sources.by_area.get(area.pk, {}).get("active", 0),
            sources_overdue=sources.by_area.get(area.pk, {}).get("overdue", 0),
        )
        for area in areas
    ]
    states = [
        (state, STATE_LABELS[state], cases.by_status.get(state, 0))
        for state in STATE_LABELS
        if state in OPEN_STATES
    ]
    tiers = [
        (
            tier,
            label,
            sources.by_tier.get(tier, {}).get("active", 0),
            sources.by_tier.get(tier, {}).get("overdue", 0),
        )
        for tier, label in ControlTier.choices
    ]
    return render(
        request,
        "dashboard.html",
        {
            "nav": "home",
            "top": top,
            "cases": cases,
            "sources": sources,
            "rows": rows,
            "cases_max": max([r.cases_open for r in rows] + [1]),
            "sources_max": max([r.sources_active for r in rows] + [1]),
            "states": states,
            "state_max": max([n for _s, _l, n in states] + [1]),
            "tiers": tiers,
            "received": _bars(cases.received),
            "received_total": sum(n for _d, n in cases.received),
        },
    )


def _bars(days) -> list[Bar]:
    """The bars of the reported-per-day chart, in the SVG's 0–300 × 0–100 box."""
    top = max([n for _d, n in days] + [1])
    width = 300 / max(len(days), 1)
    bars = []
    for i, (day, n) in enumerate(days):
        height = round(90 * n / top, 2)
        bars.append(
            Bar(
                label=day.isoformat(),
                value=n,
                x=round(i * width, 2),
                y=round(100 - height, 2),
                width=round(width * 0.8, 2),
                height=height,
            )
        )
    return bars
