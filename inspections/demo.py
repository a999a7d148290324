"""Demo pollution sources and a season of patrols for the Linyi demo city (idempotent).

Sources are spread over the villages of 兰山区 (the demo county) and a few other counties, with
the tier mix of a real register; patrols over the past 120 days leave some sources on time,
some due soon and some overdue, so the register, the overdue list and the alarms have
something to show. Everything is written through ``inspections.services``.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from core.models import User
from grids.demo import DEMO_COUNTY, DEMO_VILLAGE, database_statistics_refresh
from grids.models import Grid
from inspections import services
from inspections.credit_code import CHARSET, credit_code_check_char
from inspections.models import Patrol, PollutionSource

NAMES = {
    "enterprise": [
        "化工有限公司",
        "机械制造有限公司",
        "板材厂",
        "陶瓷有限公司",
        "食品有限公司",
        "印染厂",
    ],
    "construction_site": ["安置房项目工地", "商住楼项目工地", "道路改造工程", "学校扩建工程"],
    "catering": ["烧烤店", "饭店", "快餐店"],
    "livestock_farm": ["养猪场", "养鸡场", "奶牛养殖场"],
    "boiler": ["燃煤锅炉房", "供热站"],
    "other": ["洗车场", "汽修厂", "加油站"],
}
PLACES = "东西南北前后新老大小金银沂蒙兰华泰和顺兴旺丰"
TIERS = [("national", 2), ("provincial", 5), ("municipal", 18), ("county", 20), ("other", 55)]


def _credit_code(rng: random.Random, division: str) -> str:
    body = "91" + division[:6] + "".join(rng.choice(CHARSET[:10] + "ABCDEFGH") for _ in range(9))
    return body + credit_code_check_char(body)


@transaction.atomic
def demo_sources_seed(*, count: int = 240, now: datetime | None = None) -> dict[str, int]:
    if PollutionSource.objects.exists():
        return {"sources": PollutionSource.objects.count(), "patrols": Patrol.objects.count()}
    now = now or timezone.now()
    today = timezone.localdate(now)
    rng = random.Random(20261122)  # noqa: S311 - synthetic demo data
    office = User.objects.get(username="office")
    county = Grid.objects.get(code=DEMO_COUNTY)
    villages = list(county.get_descendants().filter(level=4).order_by("code")[:60])
    demo_village = Grid.objects.get(code=DEMO_VILLAGE)
    inspector = User.objects.get(username="inspector")
    county_officer = User.objects.get(username="county_officer")
    tiers = [t for t, weight in TIERS for _ in range(weight)]
    sources = []
    for n in range(count):
        village = demo_village if n < 12 else rng.choice(villages)
        kind = rng.choice(list(NAMES))
        ring = village.boundary["coordinates"][0]
        lng = rng.uniform(ring[0][0], ring[1][0])
        lat = rng.uniform(ring[0][1], ring[2][1])
        data = services.SourceInput(
            name=f"临沂{rng.choice(PLACES)}{rng.choice(PLACES)}{rng.choice(NAMES[kind])}",
            kind=kind,
            control_tier=rng.choice(tiers)
            if kind == "enterprise"
            else rng.choice(["county", "other", "other"]),
            credit_code=_credit_code(rng, village.code) if kind != "construction_site" else "",
            address=f"{village.name}{rng.randint(1, 300)}号",
            lat=lat,
            lng=lng,
            industry={"enterprise": "制造业", "catering": "餐饮业", "livestock_farm": "畜牧业"}.get(
                kind, ""
            ),
            online_monitoring=kind == "enterprise" and rng.random() < 0.25,
            safety_key=kind == "enterprise" and rng.random() < 0.05,
            contact_name=rng.choice("王李张刘陈杨赵")
            + rng.choice(["经理", "主任", "先生", "女士"]),
            contact_phone=f"139{rng.randint(10000000, 99999999)}",
            permit_number=f"91371302MA{rng.randint(1000000, 9999999)}001P"
            if kind == "enterprise"
            else "",
            pollutants={
                "enterprise": "颗粒物、VOCs",
                "construction_site": "扬尘",
                "catering": "油烟",
                "livestock_farm": "氨氮、COD",
                "boiler": "SO2、NOx、烟尘",
            }.get(kind, ""),
            discharge_to={"enterprise": "污水处理厂", "livestock_farm": "还田利用"}.get(kind, ""),
        )
        source = services.source_create(grid=village, data=data, actor=office)
        PollutionSource.objects.filter(pk=source.pk).update(
            confirmed_on=today - timedelta(days=rng.randint(150, 700))
        )
        sources.append(source)
    services.source_schedule_refresh(source_ids=[s.pk for s in sources])

    # A season of patrols: most sources kept up, a share left behind.
    inspector_grid_sources = [s for s in sources if s.grid_id == demo_village.pk]
    for source in sources:
        behind = rng.random() < 0.18
        day = today - timedelta(days=120)
        interval = source.patrol_interval_days or 30
        while True:
            day += timedelta(days=max(1, interval - rng.randint(0, 4)))
            if day > today - timedelta(days=(interval + rng.randint(2, 20)) if behind else 1):
                break
            who = inspector if source in inspector_grid_sources else county_officer
            outcome = rng.choices(
                [
                    Patrol.Outcome.COMPLIANT,
                    Patrol.Outcome.CORRECTED_ON_SITE,
                    Patrol.Outcome.NOTICE_ISSUED,
                ],
                weights=[85, 10, 5],
            )[0]
            when = timezone.make_aware(
                datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)))
            )
            services.patrol_record(
                source=source,
                data=services.PatrolInput(
                    kind=Patrol.Kind.PATROL,
                    patrolled_at=when,
                    outcome=outcome,
                    officers=[who],
                    lat=source.lat,
                    lng=source.lng,
                    findings="现场检查未发现异常"
                    if outcome == Patrol.Outcome.COMPLIANT
                    else "发现问题，已要求整改",
                    rectification_deadline=day + timedelta(days=7)
                    if outcome == Patrol.Outcome.NOTICE_ISSUED
                    else None,
                ),
                actor=who,
                now=now,
            )
    database_statistics_refresh()
    services.patrol_alarms_sweep(now=now)
    return {"sources": PollutionSource.objects.count(), "patrols": Patrol.objects.count()}
