"""Demo cases for the Linyi demo city: the last month's work, so that the dashboard, the
queue, the inbox and the case pages have something to show (idempotent).

About sixty cases reported over the past 30 days across the counties (more in 兰山区, the demo
county), each taken through the workflow as far as its age makes plausible: the newest still
waiting to be filed or dispatched, older ones handled, fed back, verified and evaluated; a few
rejected, a few late. Everything goes through ``cases.services``, so events, deadlines, timers
and callbacks are those of real use.
"""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from cases import selectors, services
from cases.models import Case, ProblemCategory
from core.models import User
from grids.demo import DEMO_COUNTY
from grids.models import Department, DepartmentMembership, Grid

EXTERNAL_PREFIX = "DEMO-"
STEPS = ("file", "dispatch", "accept", "arrive", "feedback", "verify", "evaluate")
DESCRIPTIONS = {
    "dust": ["工地裸土未覆盖，风起扬尘", "渣土车未密闭运输，沿路抛洒", "道路清扫扬尘严重"],
    "open_burning": ["村头焚烧秸秆，烟雾较大", "空地露天焚烧垃圾"],
    "coal_stove": ["沿街商户使用散煤小煤炉", "居民院内燃煤取暖炉冒烟"],
    "black_smoke": ["工程机械作业冒黑烟", "厂区烟囱间歇冒黑烟"],
    "odour": ["化工园区周边有刺鼻异味", "养殖场臭味扰民"],
    "wastewater": ["河道发现不明排污口", "企业雨水管网有污水流出"],
    "new_source": ["村东新开工地未办理备案", "新增小作坊疑似无环评手续"],
    "complaint": ["群众来电反映夜间噪声和异味", "市民投诉饭店油烟直排"],
}


def _jpeg() -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (80, 130, 110)).save(buffer, "JPEG")
    return SimpleUploadedFile("after.jpg", buffer.getvalue(), content_type="image/jpeg")


def _handler(department: Department) -> User:
    member = (
        DepartmentMembership.objects.filter(
            department=department, position__in=["handler", "head"], ends_on__isnull=True
        )
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if member:
        return member.user
    from grids import services as grid_services

    user, created = User.objects.get_or_create(
        username=f"d{department.pk}_handler", defaults={"full_name": f"{department.name}受理员"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    grid_services.department_member_add(department=department, user=user, position="handler")
    return user


def _villages(county: Grid) -> list[Grid]:
    grids = list(
        Grid.objects.filter(tree_id=county.tree_id, lft__gt=county.lft, rght__lt=county.rght)
        .filter(children__isnull=True)
        .order_by("code")[:40]
    )
    return grids or [county]


def _centre(grid: Grid) -> tuple[float, float]:
    if grid.boundary:
        from grids.geometry import geometry

        centre = geometry(grid.boundary).representative_point()
        return centre.y, centre.x
    return 35.1, 118.35


def _depth(age: timedelta, rng: random.Random) -> int:
    """How many workflow steps a case of this age has been through."""
    days = age.total_seconds() / 86400
    if days < 0.5:
        return rng.choice([0, 0, 1, 2])
    if days < 3:
        return rng.choice([1, 2, 3, 4])
    if days < 8:
        return rng.choice([3, 4, 5, 5, 6])
    return rng.choice([5, 6, 7, 7, 7])


@transaction.atomic
def demo_cases_seed(*, now: datetime | None = None, count: int = 60, seed: int = 2026) -> int:
    """Create the demo cases once; a second run finds them and does nothing."""
    if Case.objects.filter(external_id__startswith=EXTERNAL_PREFIX).exists():
        return 0
    now = now or timezone.now()
    rng = random.Random(seed)
    platform = User.objects.filter(username="platform").first()
    dispatcher = User.objects.filter(username="dispatcher").first()
    counties = list(Grid.objects.filter(level=2).order_by("code"))
    categories = list(ProblemCategory.objects.filter(active=True, is_emergency=False))
    if not (platform and dispatcher and counties and categories):
        return 0
    weights = [6 if c.code == DEMO_COUNTY else 1 for c in counties]
    villages = {c.pk: _villages(c) for c in counties}
    created = 0
    for n in range(count):
        county = rng.choices(counties, weights=weights)[0]
        grid = rng.choice(villages[county.pk])
        category = rng.choice(categories)
        if category.code == "online_anomaly":  # belongs to a monitored source: not in the demo
            category = categories[0]
        reported = now - timedelta(days=rng.uniform(0, 29.5))
        reported = reported.replace(hour=rng.choice([8, 9, 10, 11, 14, 15, 16, 19, 21]))
        if reported >= now:
            reported = now - timedelta(minutes=rng.randint(20, 300))
        texts = DESCRIPTIONS.get(category.code) or [f"{category.name}问题"]
        case, _new = services.case_create(
            data=services.CaseInput(
                channel=rng.choice(["platform", "complaint", "hotline", "inspector", "patrol"]),
                category=category.code,
                description=rng.choice(texts),
                reported_at=reported,
                grid=grid.code,
                external_id=f"{EXTERNAL_PREFIX}{n:04d}",
            ),
            actor=platform,
            now=reported,
        )
        created += 1
        if rng.random() < 0.05:
            services.case_transition(
                case=case,
                action="reject",
                actor=dispatcher,
                data=services.ActionInput(reason="重复上报，已合并"),
                now=reported + timedelta(minutes=40),
            )
            continue
        _advance(
            case,
            depth=_depth(now - reported, rng),
            at=reported,
            now=now,
            rng=rng,
            dispatcher=dispatcher,
        )
    return created


def _advance(case, *, depth, at, now, rng, dispatcher) -> None:
    """Take ``case`` through its first ``depth`` steps, each a plausible while after the last,
    never past ``now``."""
    step = services.ActionInput
    gaps = {
        "file": timedelta(minutes=rng.randint(10, 90)),
        "dispatch": timedelta(minutes=rng.randint(20, 240)),
        "accept": timedelta(minutes=rng.randint(15, 120)),
        "arrive": timedelta(minutes=rng.randint(10, 150)),
        "feedback": timedelta(hours=rng.randint(4, 96)),
        "verify": timedelta(hours=rng.randint(2, 30)),
        "evaluate": timedelta(hours=rng.randint(1, 24)),
    }
    department = None
    for action in STEPS[:depth]:
        at = at + gaps[action]
        if at >= now:
            return
        if action == "file":
            services.case_transition(case=case, action="file", actor=dispatcher, now=at)
        elif action == "dispatch":
            grid = Grid.objects.get(pk=case.grid_id)
            category = ProblemCategory.objects.get(pk=case.category_id)
            department = selectors.duty_department_propose(category=category, grid=grid)
            if department is None:
                return
            services.case_transition(
                case=case,
                action="dispatch",
                actor=dispatcher,
                now=at,
                data=step(department=department.code),
            )
        elif action == "accept":
            services.case_transition(case=case, action="accept", actor=_handler(department), now=at)
        elif action == "arrive":
            lat, lng = _centre(Grid.objects.get(pk=case.grid_id))
            services.case_transition(
                case=case,
                action="arrive",
                actor=_handler(department),
                now=at,
                data=step(arrived_at=at, lat=lat, lng=lng),
            )
        elif action == "feedback":
            services.case_transition(
                case=case,
                action="feedback",
                actor=_handler(department),
                now=at,
                data=step(result="已现场处置并督促整改到位", photos=[_jpeg()]),
            )
        elif action == "verify":
            services.case_transition(
                case=case, action="verify", actor=dispatcher, now=at, data=step(photos=[_jpeg()])
            )
        elif action == "evaluate":
            services.case_transition(case=case, action="evaluate", actor=dispatcher, now=at)
