"""The demo city: Linyi from the real divisions, with synthetic but consistent boundaries,
departments, responsible people and the demo logins. ``demo_city_seed`` is idempotent: a
second run finds everything in place and changes nothing.

The Linyi notice (004_…) counts 16 county-level grids; the statistics list 13 of them (plus
the placeholder 市辖区), so the three zones it names are added as development-zone grids.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction

from core.models import User
from grids import geometry, services
from grids.divisions import divisions_parse_bytes
from grids.models import Department, DivisionPlan, Grid, GridKind, GridRole, Role, Sector

DIVISIONS_DIR = Path(settings.BASE_DIR) / "data" / "divisions"
CITY_FILE = DIVISIONS_DIR / "linyi.csv"
CITY_CODE = "371300000000"
# Linyi's extent, roughly (lng, lat); the synthetic tiling lives inside it.
CITY_RECT = (117.40, 34.40, 119.20, 36.20)
ZONES = [
    ("临沂经济技术开发区", "经济技术开发区"),
    ("临沂临港经济开发区", "临港经济开发区"),
    ("蒙山旅游度假区", "蒙山旅游度假区"),
]
ZONE_SUBGRIDS = ["园区一网格", "园区二网格", "重点区域网格"]

DEPARTMENT_SUFFIX = {
    "environment": "生态环境局",
    "city_management": "城市管理局",
    "housing": "住房和城乡建设局",
    "water": "水利局",
    "public_security": "公安局",
    "agriculture": "农业农村局",
    "animal_husbandry": "畜牧发展促进中心",
    "land": "自然资源和规划局",
    "transport": "交通运输局",
    "forestry": "林业局",
    "market": "市场监督管理局",
    "work_safety": "应急管理局",
}
COUNTY_SECTORS = ["environment", "city_management", "housing", "water", "agriculture", "market"]

DEMO_COUNTY = "371302000000"  # 兰山区
DEMO_TOWNSHIP = "371302001000"  # 兰山街道
DEMO_VILLAGE = "371302001001"  # 前十里堡社区居委会


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    description: str


DEMO_LOGINS = [
    DemoLogin("office", "市网格化监管领导小组办公室", "leadership-group office, whole city"),
    DemoLogin("county_officer", "王建国", "direct responsible officer of 兰山区"),
    DemoLogin("township_principal", "李明", "principal of 兰山街道"),
    DemoLogin("inspector", "张丽", "grid inspector of 前十里堡社区"),
    DemoLogin("dispatcher", "赵平", "platform operator, whole city"),
    DemoLogin("handler", "陈静", "case handler of 临沂市生态环境局"),
    DemoLogin("platform", "数字化城市管理平台", "machine client of the city-management platform"),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰海波鹏飞宇晨"


def tile(rect: tuple[float, float, float, float], keys: list[str]) -> dict[str, dict]:
    """Split a rectangle into ``len(keys)`` rectangles that cover it exactly without overlap:
    rows of equal height, each row cut into equal widths. Shared edges are computed by the same
    expression on both sides, so neighbours meet exactly."""
    min_lng, min_lat, max_lng, max_lat = rect
    n = len(keys)
    if n == 0:
        return {}
    rows = max(1, round(math.sqrt(n)))
    per_row = [n // rows + (1 if i < n % rows else 0) for i in range(rows)]
    out: dict[str, dict] = {}
    index = 0
    for r, count in enumerate(per_row):
        lat0 = min_lat + (max_lat - min_lat) * r / rows
        lat1 = min_lat + (max_lat - min_lat) * (r + 1) / rows
        for c in range(count):
            lng0 = min_lng + (max_lng - min_lng) * c / count
            lng1 = min_lng + (max_lng - min_lng) * (c + 1) / count
            out[keys[index]] = geometry.rectangle(lng0, lat0, lng1, lat1)
            index += 1
    return out


def _bounds(boundary: dict) -> tuple[float, float, float, float]:
    ring = boundary["coordinates"][0]
    lngs = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return min(lngs), min(lats), max(lngs), max(lats)


def synthetic_boundaries(rows, *, extra_children: dict[str, list[str]]) -> dict[str, dict]:
    """Boundaries for every row (keyed by 12-digit code) plus reserved cells for extra children
    (keyed as given), each tiling its parent."""
    codes = {r.code for r in rows}
    children: dict[str, list[str]] = {}
    roots = []
    for r in rows:
        if r.name in services.PLACEHOLDER_NAMES and not any(x.parent_code == r.code for x in rows):
            continue
        if r.parent_code in codes:
            children.setdefault(services.admin_code(r.parent_code), []).append(
                services.admin_code(r.code)
            )
        else:
            roots.append(services.admin_code(r.code))
    for parent, extra in extra_children.items():
        children.setdefault(parent, []).extend(extra)
    out: dict[str, dict] = {}
    stack = []
    for root in roots:
        out[root] = geometry.rectangle(*CITY_RECT)
        stack.append(root)
    while stack:
        code = stack.pop()
        kids = sorted(children.get(code, []))
        out.update(tile(_bounds(out[code]), kids))
        stack.extend(kids)
    return out


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _user(username: str, full_name: str, *, password: str | None, is_machine: bool = False) -> User:
    user, created = User.objects.get_or_create(
        username=username, defaults={"full_name": full_name, "is_machine": is_machine}
    )
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _role(grid: Grid, user: User, role: str, **extra) -> None:
    if not GridRole.objects.filter(grid=grid, user=user, role=role).exists():
        services.grid_role_assign(
            grid=grid, user=user, role=role, starts_on=date(2025, 1, 1), **extra
        )


@transaction.atomic
def demo_city_seed(*, password: str | None = None) -> dict[str, int]:
    password = password or settings.DEMO_PASSWORD
    zone_keys = [f"zone:{short}" for _name, short in ZONES]
    if not Grid.objects.filter(code=CITY_CODE).exists():
        rows = divisions_parse_bytes(CITY_FILE.read_bytes())
        shapes = synthetic_boundaries(rows, extra_children={CITY_CODE: zone_keys})
        services.divisions_load(rows=rows, actor=None, boundaries=shapes)
        database_statistics_refresh()
        zone_shapes = {k: shapes[k] for k in zone_keys}
    else:
        zone_shapes = {}
    city = Grid.objects.get(code=CITY_CODE)

    for (name, short), key in zip(ZONES, zone_keys, strict=True):
        zone = Grid.objects.filter(parent=city, name=name).first()
        if zone is None:
            zone = services.grid_create(
                parent=city,
                data=services.GridInput(
                    name=name, kind=GridKind.DEVELOPMENT_ZONE, boundary=zone_shapes.get(key)
                ),
                actor=None,
            )
            parts = tile(_bounds(zone.boundary), ZONE_SUBGRIDS) if zone.boundary else {}
            for sub in ZONE_SUBGRIDS:
                services.grid_create(
                    parent=zone,
                    data=services.GridInput(
                        name=f"{short}{sub}",
                        kind=GridKind.KEY_AREA if "重点" in sub else GridKind.INDUSTRIAL_PARK,
                        boundary=parts.get(sub),
                    ),
                    actor=None,
                )

    counties = list(Grid.objects.filter(parent=city).order_by("code"))
    sectors = {s.code: s for s in Sector.objects.all()}
    for code in DEPARTMENT_SUFFIX:
        _department(city, sectors[code])
    for county in counties:
        for code in COUNTY_SECTORS:
            _department(county, sectors[code])

    _people(city, counties)
    _plans(counties)
    database_statistics_refresh()
    return {
        "grids": Grid.objects.count(),
        "departments": Department.objects.count(),
        "users": User.objects.count(),
    }


def database_statistics_refresh() -> None:
    """After a bulk load, refresh PostgreSQL's planner statistics (autovacuum would do it a
    little later; set-based statements planned on empty-table estimates can be very slow)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _department(grid: Grid, sector: Sector) -> Department:
    existing = Department.objects.filter(grid=grid, sector=sector).first()
    if existing:
        return existing
    suffix = DEPARTMENT_SUFFIX[sector.code]
    if grid.kind == GridKind.DEVELOPMENT_ZONE:
        suffix = suffix.removesuffix("局") + "分局"
    prefix = grid.code.rstrip("0") if len(grid.code) == 12 else grid.code
    return services.department_create(
        code=f"{prefix}.{sector.code}", name=f"{grid.name}{suffix}", sector=sector, grid=grid
    )


def _people(city: Grid, counties: list[Grid]) -> None:
    rng = random.Random(371300)  # noqa: S311 - synthetic names, not security
    pw = settings.DEMO_PASSWORD
    logins = {d.username: d for d in DEMO_LOGINS}

    def login(name: str, **kw) -> User:
        return _user(name, logins[name].full_name, password=pw, **kw)

    env_city = Department.objects.get(grid=city, sector__code="environment")
    office = login("office")
    _role(city, office, Role.OFFICE)
    _role(city, login("dispatcher"), Role.DISPATCHER)
    _role(city, login("platform", is_machine=True), Role.PLATFORM)
    handler = login("handler")
    services.department_member_add(
        department=env_city, user=handler, position="handler", starts_on=date(2025, 1, 1)
    )

    # The city's own responsible people.
    for role in (Role.LEADER, Role.DEPUTY_LEADER, Role.PRINCIPAL, Role.DIRECT_RESPONSIBLE):
        _role(city, _user(f"g{city.code}_{role}", _person(rng), password=None), role)

    # County-level grids: the four responsible people, a few deliberately missing so that the
    # grid-health report has something to show.
    for index, county in enumerate(counties):
        env = Department.objects.get(grid=county, sector__code="environment")
        for role in (Role.LEADER, Role.DEPUTY_LEADER, Role.PRINCIPAL, Role.DIRECT_RESPONSIBLE):
            if role == Role.DEPUTY_LEADER and index % 5 == 4:
                continue
            if county.code == DEMO_COUNTY and role == Role.DIRECT_RESPONSIBLE:
                user = login("county_officer")
            else:
                user = _user(f"g{county.code}_{role}", _person(rng), password=None)
            extra = {"department": env} if role == Role.DIRECT_RESPONSIBLE else {}
            _role(county, user, role, **extra)

    # 兰山区: every township named, and the demo township's villages staffed.
    lanshan = Grid.objects.get(code=DEMO_COUNTY)
    env = Department.objects.get(grid=lanshan, sector__code="environment")
    for township in Grid.objects.filter(parent=lanshan).order_by("code"):
        for role in (Role.LEADER, Role.PRINCIPAL, Role.DIRECT_RESPONSIBLE):
            if township.code == DEMO_TOWNSHIP and role == Role.PRINCIPAL:
                user = login("township_principal")
            else:
                user = _user(f"g{township.code}_{role}", _person(rng), password=None)
            extra = {"department": env} if role == Role.DIRECT_RESPONSIBLE else {}
            _role(township, user, role, **extra)
    for n, village in enumerate(Grid.objects.filter(parent__code=DEMO_TOWNSHIP).order_by("code")):
        if village.code == DEMO_VILLAGE:
            user = login("inspector")
        else:
            user = _user(f"g{village.code}_inspector", _person(rng), password=None)
        _role(village, user, Role.INSPECTOR, employment="full_time" if n % 3 else "part_time")
        officers = 2 if n % 4 else 1  # every fourth village short of its second officer
        for k in range(officers):
            officer = _user(f"g{village.code}_officer{k + 1}", _person(rng), password=None)
            _role(village, officer, Role.OFFICER, department=env)
        if n % 2 == 0:
            _role(
                village,
                _user(f"g{village.code}_supervisor", _person(rng), password=None),
                Role.SUPERVISOR,
            )


def _plans(counties: list[Grid]) -> None:
    for index, county in enumerate(counties):
        if DivisionPlan.objects.filter(grid=county).exists() or index % 7 == 6:
            continue  # every seventh county has not adopted a plan yet
        services.division_plan_record(
            grid=county,
            title=f"{county.name}环境监管网格划分方案",
            adopted_on=date(2025, 3, 1),
            filed_on=date(2025, 3, 15) if index % 4 else None,
            filed_with="临沂市环境保护网格化监管领导小组办公室",
            published_on=date(2025, 3, 20) if index % 3 else None,
        )
