"""Demo records of the six mechanisms for the Linyi demo city, so that every county-level grid
gets a plausible score sheet for a year (idempotent: a second run finds the year seeded).

Each of the 16 county-level grids gets a "diligence" from a fixed list; with it a seeded random
draw decides how much of the year's work it did: township agencies and staff, officers
stationed in its villages, listed sources, the departments' plans, inspections, ledger reports
and supervisions, the county's reports and joint meetings, supervisions published, a few cases
closed late, penalty decisions, and a few facts the office entered. Everything is written
through the services (``assessment``, ``grids``, ``inspections``, ``cases``); the sheets are
computed at the end.
"""

from __future__ import annotations

import io
import random
from datetime import date, datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from assessment import services
from assessment.evidence import report_due_on
from assessment.models import AssessmentLog, ScoreSheet
from core.models import User
from grids import county as county_sql
from grids import services as grid_services
from grids.models import Department, Grid, GridRole, Role, Sector
from inspections import plans as inspection_plans
from inspections import services as inspection_services
from inspections.credit_code import CHARSET, credit_code_check_char
from inspections.models import Patrol, PollutionSource

DILIGENCE = [
    0.97,
    0.93,
    0.9,
    0.88,
    0.85,
    0.82,
    0.8,
    0.75,
    0.7,
    0.66,
    0.6,
    0.55,
    0.95,
    0.9,
    0.78,
    0.5,
]
SOURCE_KINDS = [
    ("化工有限公司", "enterprise"),
    ("建筑工地", "construction_site"),
    ("饭店", "catering"),
    ("养殖场", "livestock_farm"),
]


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% demo document\n", content_type="application/pdf")


def _jpeg() -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 140, 90)).save(buffer, "JPEG")
    return SimpleUploadedFile("after.jpg", buffer.getvalue(), content_type="image/jpeg")


def _user(username: str, full_name: str) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"full_name": full_name})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _holder(grid: Grid, role: str) -> User | None:
    found = GridRole.objects.filter(grid=grid, role=role).select_related("user").first()
    return found.user if found else None


def _credit_code(rng: random.Random, division: str) -> str:
    body = "91" + division[:6] + "".join(rng.choice(CHARSET[:18]) for _ in range(9))
    return body + credit_code_check_char(body)


def _point(grid: Grid) -> tuple[float | None, float | None]:
    if not grid.boundary:
        return None, None
    ring = grid.boundary["coordinates"][0]
    lngs = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return (min(lats) + max(lats)) / 2, (min(lngs) + max(lngs)) / 2


def demo_assessment_seed(*, year: int, now: datetime | None = None) -> dict[str, int]:
    """Seed ``year``'s records for the demo city and compute its sheets (once per year)."""
    now = now or timezone.now()
    if AssessmentLog.objects.filter(action="demo_seed", year=year).exists():
        return {"score_sheets": ScoreSheet.objects.filter(year=year).count()}
    services.ruleset_install_linyi(year=year)
    with transaction.atomic():
        counties = county_sql.grids_at_level(level=2, on=date(year, 12, 31))
        office = User.objects.get(username="office")
        dispatcher = User.objects.filter(username="dispatcher").first()
        for index, county in enumerate(counties):
            _county_seed(
                county=county,
                diligence=DILIGENCE[index % len(DILIGENCE)],
                rng=random.Random(year * 100 + index),  # noqa: S311 - synthetic demo data
                year=year,
                now=now,
                office=office,
                dispatcher=dispatcher,
            )
        AssessmentLog.objects.create(
            action="demo_seed", year=year, data={"counties": len(counties)}
        )
    sheets = services.assessment_run(year=year, actor=None, now=now)
    return {"score_sheets": len(sheets)}


def _county_seed(*, county, diligence, rng, year, now, office, dispatcher) -> None:
    principal = _holder(county, Role.PRINCIPAL)
    officer = _holder(county, Role.DIRECT_RESPONSIBLE)
    if principal is None or officer is None:
        return
    today = timezone.localdate(now)
    env_sector = Sector.objects.get(code="environment")
    departments = list(Department.objects.filter(grid=county, active=True).order_by("code"))
    env = next((d for d in departments if d.sector_id == env_sector.pk), None)
    done = lambda share=diligence: rng.random() < share  # noqa: E731

    # 2.4 township agencies and staff; 2.2 officers stationed in the base grids.
    townships = list(Grid.objects.filter(parent=county).order_by("code"))
    for township in townships:
        if (
            done(min(1.0, diligence + 0.05))
            and not Department.objects.filter(grid=township, sector=env_sector).exists()
        ):
            grid_services.department_create(
                code=f"{township.code}.environment",
                name=f"{township.name}环保所",
                sector=env_sector,
                grid=township,
            )
        staff = _user(f"g{township.code}_staff", f"{township.name}环保员")
        if done(min(1.0, diligence + 0.05)):
            grid_services.grid_role_assign(
                grid=township,
                user=staff,
                role=Role.INSPECTOR,
                employment="part_time",
                starts_on=date(year, 1, 1),
            )
        if env is None:
            continue
        stationed = _user(f"g{township.code}_stationed", f"{township.name}派驻执法员")
        officer_grids = GridRole.objects.filter(
            role__in=[Role.OFFICER, Role.DIRECT_RESPONSIBLE]
        ).values("grid_id")
        villages = list(
            Grid.objects.filter(parent=township).exclude(pk__in=officer_grids).order_by("code")
        )
        if not villages and not Grid.objects.filter(parent=township).exists():
            villages = [township]  # a township without villages is a base grid itself
        unstaffed = 0 if diligence >= 0.9 else int((1 - diligence) * 12)
        # Thousands of villages: one insert per township, not one service call per village.
        grid_services.grid_role_assign_many(
            grids=villages[unstaffed:],
            user=stationed,
            role=Role.OFFICER,
            department=env,
            starts_on=date(year, 1, 1),
        )

    # 3.1 listed sources (one county keeps none), 3.2 plans, inspections, ledgers.
    sources = list(
        PollutionSource.objects.filter(grid__in=Grid.objects.filter(parent__parent=county))[:4]
    )
    if diligence > 0.52 and len(sources) < 3:
        for n in range(3 + int(diligence * 3)):
            village = rng.choice(list(Grid.objects.filter(parent__parent=county)[:40]) or [county])
            label, kind = SOURCE_KINDS[n % len(SOURCE_KINDS)]
            lat, lng = _point(village)
            # Some enterprises are listed without their credit code (an incomplete list).
            credit = _credit_code(rng, village.code) if kind == "enterprise" and done() else ""
            source = inspection_services.source_create(
                grid=village,
                data=inspection_services.SourceInput(
                    name=f"{county.name.removesuffix('区').removesuffix('县')}{rng.choice('东西南北新')}{label}",
                    kind=kind,
                    control_tier="county" if kind == "enterprise" else "other",
                    credit_code=credit,
                    lat=lat,
                    lng=lng,
                ),
                actor=principal,
            )
            # The demo's register dates from before the year (as inspections.demo does).
            PollutionSource.objects.filter(pk=source.pk).update(confirmed_on=date(year, 1, 15))
            source.refresh_from_db()
            sources.append(source)
    for dept in departments:
        planned = rng.choice([1, 2, 3])
        if done():
            inspection_plans.supervision_plan_create(
                department=dept,
                grid=county,
                year=year,
                title=f"{dept.name}{year}年度环境监管计划",
                inspections_planned=planned,
                actor=principal,
            )
        inspections = planned if done() else rng.randint(0, planned - 1)
        for k in range(inspections if sources else 0):
            source = sources[k % len(sources)]
            if source.status != PollutionSource.Status.ACTIVE or source.lat is None:
                continue
            inspection_services.patrol_record(
                source=source,
                data=inspection_services.PatrolInput(
                    kind=Patrol.Kind.INSPECTION,
                    patrolled_at=_at(date(year, 3 + 2 * k, 10 + k)),
                    outcome=Patrol.Outcome.COMPLIANT,
                    officers=[principal, officer],
                    lat=source.lat,
                    lng=source.lng,
                    department=dept,
                    findings="现场检查未发现问题",
                ),
                actor=principal,
                now=now,
            )
        for half in (1, 2):
            if done():
                late = 0 if done() else rng.randint(2, 20)
                when = _at(report_due_on(year, half) - timedelta(days=3) + timedelta(days=late))
                if when <= now:
                    services.half_year_report_submit(
                        grid=county,
                        department=dept,
                        year=year,
                        half=half,
                        summary="检查台账、督查情况和工作总结",
                        actor=principal,
                        now=when,
                    )
        if done() and len(townships):
            services.supervision_record(
                supervisor_grid=county,
                target_grid=rng.choice(townships),
                department=dept,
                held_on=date(year, rng.randint(4, 11), rng.randint(1, 28)),
                topic=f"{dept.name}专项督查",
                findings="个别台账记录不全，已要求整改",
                actor=principal,
                now=now,
            )
        if done(0.35):
            decision = services.penalty_decision_record(
                department=dept,
                grid=county,
                number=f"{county.code[:6]}-{dept.sector_id}-{year}-{rng.randint(10, 99)}",
                party=f"临沂{rng.choice('东西南北')}某{rng.choice(['化工', '建材', '板材'])}有限公司",
                violation="未按规定落实扬尘污染防治措施",
                penalty="罚款",
                amount=rng.choice([20000, 50000, 100000]),
                decided_on=date(year, rng.randint(2, 11), rng.randint(1, 28)),
                actor=principal,
                now=now,
            )
            if done():
                services.penalty_decision_publish(decision=decision, actor=principal, now=now)

    # 3.3 the county's reports; 3.5 joint meetings; 3.6 / 3.7 comprehensive supervision.
    for half in (1, 2):
        if done(min(1.0, diligence + 0.05)):
            late = 0 if done() else rng.randint(1, 15)
            when = _at(report_due_on(year, half) - timedelta(days=2) + timedelta(days=late))
            if when <= now:
                services.half_year_report_submit(
                    grid=county,
                    year=year,
                    half=half,
                    summary=f"{county.name}{year}年第{half}半年网格化工作总结",
                    actor=principal,
                    now=when,
                )
    for month in (4, 10):
        if done(min(1.0, diligence + 0.1)):
            held = date(year, month, rng.randint(8, 25))
            services.joint_meeting_record(
                grid=county,
                held_on=held,
                title=f"{county.name}环境监管网格化工作联席会议",
                chaired_by=f"{county.name}人民政府分管副职",
                attendees=[d.name for d in departments] or [county.name],
                minutes="通报网格化运行情况，研究部署重点环境问题整治。",
                decisions=[
                    services.DecisionInput(
                        text="开展建筑工地扬尘专项整治",
                        issued_as="supervision_letter",
                        department=departments[0] if departments else None,
                        due_on=held + timedelta(days=30),
                    )
                ]
                if departments
                else [],
                actor=principal,
                now=_at(held + timedelta(days=1)),
            )
    if townships and done(min(1.0, diligence + 0.05)):
        target = rng.choice(townships)
        supervision = services.supervision_record(
            supervisor_grid=county,
            target_grid=target,
            held_on=date(year, rng.randint(5, 11), rng.randint(1, 28)),
            topic="环境监管网格化综合督查",
            findings="部分村居网格员巡查记录不完整",
            rectification_due=date(year, 12, 31),
            actor=principal,
            now=now,
        )
        services.supervision_rectification_record(
            supervision=supervision,
            actor=principal,
            rectification="已补齐巡查记录并建立周报制度",
            rectified_on=min(date(year, 12, 20), today),
            now=now,
        )
        if done():
            services.supervision_publish(supervision=supervision, actor=principal, now=now)

    # 3.4 a few cases of the county's own closed late, through the workflow.
    if env and dispatcher is not None and not done(0.5 + diligence / 2):
        _late_cases(
            county=county,
            env=env,
            dispatcher=dispatcher,
            year=year,
            rng=rng,
            count=rng.randint(1, 3),
        )

    # Facts the office entered.
    facts = []
    if done(0.6):
        facts.append(("B3.2", "组织网格员业务培训"))
    if diligence >= 0.9 and done(0.5):
        facts.append(("B3.1", "建成区级网格化环境监管平台"))
    if done(0.3):
        facts.append(("B2.3", "省级媒体报道网格化监管经验"))
    if diligence < 0.6:
        facts.append(("D1.1", "网格化工作受到市级通报批评"))
    if diligence < 0.7 and done(0.5):
        facts.append(("2.1.3", "领导小组未设办公室"))
    if diligence > 0.9 and done(0.3):
        facts.append(("B1.1", "落实“三个一律”追责一起"))
    for code, note in facts:
        services.fact_enter(
            year=year,
            grid=county,
            rule_code=code,
            note=note,
            document=_pdf(f"{code}.pdf"),
            actor=office,
            occurred_on=date(year, rng.randint(3, 11), 15),
            now=now,
        )


def _late_cases(*, county, env, dispatcher, year, rng, count) -> None:
    from cases import services as case_services
    from cases.models import ProblemCategory

    handler = _user(f"g{county.code}_env_handler", f"{env.name}受理员")
    grid_services.department_member_add(
        department=env, user=handler, position="handler", starts_on=date(year, 1, 1)
    )
    category = (
        ProblemCategory.objects.filter(active=True, is_emergency=False)
        .order_by("sort_order", "code")
        .first()
    )
    village = Grid.objects.filter(parent__parent=county).order_by("code").first() or county
    for n in range(count):
        start = _at(date(year, rng.randint(3, 10), rng.randint(3, 24)), 9)
        case, _created = case_services.case_create(
            data=case_services.CaseInput(
                channel="inspector",
                category=category.code,
                description="网格员巡查发现工地裸土未覆盖",
                reported_at=start,
                grid=village.code,
            ),
            actor=dispatcher,
            now=start,
        )
        step = case_services.ActionInput
        case_services.case_transition(
            case=case, action="file", actor=dispatcher, now=start + timedelta(minutes=20)
        )
        case_services.case_transition(
            case=case,
            action="dispatch",
            actor=dispatcher,
            data=step(department=env.code),
            now=start + timedelta(hours=1),
        )
        case_services.case_transition(
            case=case, action="accept", actor=handler, now=start + timedelta(hours=2)
        )
        case_services.case_transition(
            case=case,
            action="feedback",
            actor=handler,
            data=step(result="已督促施工单位覆盖裸土", photos=[_jpeg()]),
            now=start + timedelta(days=16 + n),
        )
