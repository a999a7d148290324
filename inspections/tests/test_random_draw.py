"""Random inspection (双随机、一公开): reproducible draws, quotas, officers kept away from their own
grids, the secret list, publication, and the API.

The test city (grids/tests/conftest.py): the draw covers 兰山街道 and its two villages;
``officer`` and ``officer2`` hold roles on 兰山街道 itself, so they sit above every source drawn.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, include, path, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from core.errors import Conflict, DomainError, Forbidden
from core.models import User
from core.tests.factories import UserFactory
from grids import services as grid_services
from grids.models import Role, Sector
from grids.tests.conftest import user_with_role
from inspections import draw_selectors, draw_services, services
from inspections.models import Patrol, PollutionSource
from inspections.models_draw import RandomDraw, RandomDrawTarget
from inspections.random_draw import (
    DrawInputs,
    draw_run,
    inputs_hash,
    quota_count,
    source_class,
)
from inspections.tests.conftest import at

# Until the project's urlconf includes inspections.api.draw_urls, route the API here.
try:
    resolve("/api/v1/random-draws/")
    pytestmark = [pytest.mark.usefixtures("english")]
except Resolver404:
    urlpatterns = [path("api/v1/", include("inspections.api.draw_urls"))]
    pytestmark = [pytest.mark.usefixtures("english"), pytest.mark.urls(__name__)]

START, END = date(2026, 1, 1), date(2026, 3, 31)
DRAWN_ON = date(2026, 3, 2)
INSPECTION = date(2026, 3, 10)


# --- the rule itself, without the database ---------------------------------------------------


def inputs(**kw) -> DrawInputs:
    values = {
        "sources": [(pk, "key") for pk in range(1, 9)] + [(pk, "other") for pk in range(9, 29)],
        "officers": [101, 102, 103, 104],
        "quotas": {"key": 0.25, "other": 0.05},
        "period_start": START,
        "period_end": END,
        "seed": "s1",
    }
    return DrawInputs(**(values | kw))


@pytest.mark.parametrize(
    "quota, population, expected",
    [(0.25, 8, 2), (0.05, 20, 1), (0.07, 100, 7), (0.01, 5, 1), (1, 5, 5), (0.5, 0, 0), (0, 9, 0)],
)
def test_quota_is_the_ceiling_of_the_share(quota, population, expected):
    assert quota_count(quota=quota, population=population) == expected


def test_key_class_is_national_provincial_or_safety_key():
    assert source_class(control_tier="national", safety_key=False) == "key"
    assert source_class(control_tier="provincial", safety_key=False) == "key"
    assert source_class(control_tier="county", safety_key=True) == "key"
    assert source_class(control_tier="municipal", safety_key=False) == "other"
    assert source_class(control_tier="other", safety_key=False) == "other"


def test_same_inputs_and_seed_give_the_same_draw_and_hash():
    assert draw_run(inputs()) == draw_run(inputs())
    assert inputs_hash(inputs()) == inputs_hash(inputs())
    # the order in which candidates arrive does not matter
    shuffled = inputs(sources=list(reversed(inputs().sources)), officers=[104, 102, 101, 103])
    assert draw_run(shuffled) == draw_run(inputs())
    assert inputs_hash(shuffled) == inputs_hash(inputs())


def test_the_seed_changes_the_draw():
    results = {tuple(draw_run(inputs(seed=f"seed-{n}"))) for n in range(20)}
    assert len(results) > 1
    assert inputs_hash(inputs(seed="a")) != inputs_hash(inputs(seed="b"))


PINNED = [(3, "key", (101, 103)), (8, "key", (101, 102)), (20, "other", (102, 103))]
PINNED_HASH = "81266fb2803d58d4ef5d3d6b8696294d10d67787273da806b0cbb2861782deda"


def test_the_draw_is_pinned_so_old_draws_still_verify():
    # given fixed inputs and seed, when drawn, then always exactly this (a change to the
    # algorithm would make every stored draw fail verification)
    drawn = draw_run(inputs(seed="pinned"))
    assert [(t.source_id, t.source_class, t.officer_ids) for t in drawn] == PINNED
    assert inputs_hash(inputs(seed="pinned")) == PINNED_HASH


def test_a_changed_class_changes_the_hash():
    moved = [(pk, "key" if pk == 9 else cls) for pk, cls in inputs().sources]
    assert inputs_hash(inputs(sources=moved)) != inputs_hash(inputs())


def test_quotas_draw_per_class_and_two_distinct_officers_each():
    drawn = draw_run(inputs())
    assert sorted(t.source_class for t in drawn) == ["key", "key", "other"]
    assert all(len(set(t.officer_ids)) == 2 for t in drawn)


def test_officers_with_a_role_over_the_source_are_avoided_when_possible():
    conflicts = {pk: frozenset({101, 102}) for pk in range(1, 29)}
    for n in range(30):
        drawn = draw_run(inputs(seed=str(n), conflicts=conflicts, quotas={"key": 1, "other": 1}))
        assert all(set(t.officer_ids) == {103, 104} and not t.fallback for t in drawn)


def test_fallback_keeps_the_free_officer_and_marks_the_target():
    conflicts = {pk: frozenset({101, 102, 103}) for pk in range(1, 29)}
    drawn = draw_run(inputs(conflicts=conflicts, quotas={"key": 1}))
    assert drawn and all(t.fallback and 104 in t.officer_ids for t in drawn)
    assert all(len(set(t.officer_ids)) == 2 for t in drawn)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def department(small_city):
    return grid_services.department_create(
        code="LS-ENV",
        name="兰山区生态环境分局",
        sector=Sector.objects.get(code="environment"),
        grid=small_city.lanshan,
    )


def member(department, position, username=None):
    user = UserFactory(**({"username": username} if username else {}))
    grid_services.department_member_add(
        department=department, user=user, position=position, starts_on=date(2024, 1, 1)
    )
    return user


@pytest.fixture
def dept_officers(department):
    return [member(department, "officer", f"dept_officer{n}") for n in range(3)]


@pytest.fixture
def sources(small_city):
    """8 key and 20 other active sources, split over the two villages (made in one query:
    registering them is not what these tests are about)."""
    key_tiers = [("national", False), ("provincial", False), ("county", True)]
    rows = [("重点源", *key_tiers[n % 3], n) for n in range(8)]
    rows += [("一般源", ["municipal", "county", "other"][n % 3], False, n) for n in range(20)]
    return PollutionSource.objects.bulk_create(
        PollutionSource(
            name=f"{prefix}{n}",
            grid=small_city.village_a if n % 2 else small_city.village_b,
            kind="enterprise",
            control_tier=tier,
            safety_key=safety_key,
            status=PollutionSource.Status.ACTIVE,
            confirmed_on=date(2026, 1, 1),
        )
        for prefix, tier, safety_key, n in rows
    )


def create(*, department, grid, actor, quotas=None, seed="seed-1", now=None, **kw):
    values = {
        "title": "2026年第一季度双随机抽查",
        "period_start": START,
        "period_end": END,
        "inspection_date": INSPECTION,
    } | kw
    return draw_services.random_draw_create(
        department=department,
        grid=grid,
        quotas=quotas or {"key": 0.25, "other": 0.05},
        actor=actor,
        seed=seed,
        now=now or at(DRAWN_ON),
        **values,
    )


def result_of(draw):
    return {
        (t.source_id, frozenset(t.officers.values_list("pk", flat=True)), t.officers_fallback)
        for t in draw.targets.all()
    }


# --- the draw --------------------------------------------------------------------------------


def test_quotas_draw_two_of_eight_key_and_one_of_twenty_other(
    small_city, department, dept_officers, sources, officer
):
    draw = create(department=department, grid=small_city.lanshan_street, actor=officer)
    classes = sorted(draw.targets.values_list("source_class", flat=True))
    assert classes == ["key", "key", "other"]
    assert draw.pool == {"key": 8, "other": 20, "officers": 4}  # three members and `officer`
    assert draw.quotas == {"key": 0.25, "other": 0.05}
    assert len(draw.inputs_hash) == 64 and draw.seed == "seed-1"
    for target in draw.targets.all():
        assert target.officers.count() == 2


def test_same_seed_gives_the_same_targets_and_officers_and_verifies(
    small_city, department, dept_officers, sources, officer
):
    # given two draws with the same inputs and seed
    first = create(department=department, grid=small_city.lanshan_street, actor=officer)
    second = create(department=department, grid=small_city.lanshan_street, actor=officer)
    # then they agree, and each verifies
    assert result_of(first) == result_of(second)
    assert first.inputs_hash == second.inputs_hash
    assert draw_services.random_draw_verify(first) is True
    other_seed = create(
        department=department, grid=small_city.lanshan_street, actor=officer, seed="seed-2"
    )
    assert other_seed.inputs_hash != first.inputs_hash


def test_a_generated_seed_is_stored_and_verifies(
    small_city, department, dept_officers, sources, officer
):
    draw = create(department=department, grid=small_city.lanshan_street, actor=officer, seed=None)
    assert len(draw.seed) == 16
    assert draw_services.random_draw_verify(draw) is True


def test_changing_a_sources_tier_after_the_draw_fails_verification(
    small_city, department, dept_officers, sources, officer
):
    draw = create(department=department, grid=small_city.lanshan_street, actor=officer)
    # when an "other" source becomes national-controlled
    services.source_update(source=sources[-1], actor=officer, changes={"control_tier": "national"})
    # then the draw no longer matches its inputs
    assert draw_services.random_draw_verify(draw) is False


def test_a_tampered_officer_fails_verification(
    small_city, department, dept_officers, sources, officer
):
    draw = create(department=department, grid=small_city.lanshan_street, actor=officer)
    target = draw.targets.first()
    target.officers.remove(target.officers.first())
    target.officers.add(officer)
    assert draw_services.random_draw_verify(draw) is False


def test_officers_never_come_from_the_sources_own_grid_when_others_exist(
    small_city, department, dept_officers, sources, officer, officer2
):
    village_a_officer = user_with_role(small_city.village_a, Role.OFFICER)
    village_b_officer = user_with_role(small_city.village_b, Role.DIRECT_RESPONSIBLE)
    over = {
        small_city.village_a.pk: {officer.pk, officer2.pk, village_a_officer.pk},
        small_city.village_b.pk: {officer.pk, officer2.pk, village_b_officer.pk},
    }
    for n in range(5):
        draw = create(
            department=department,
            grid=small_city.lanshan_street,
            actor=officer,
            quotas={"key": 1, "other": 1},
            seed=f"grid-{n}",
        )
        assert draw.pool["officers"] == 7
        for target in draw.targets.select_related("source"):
            drawn = set(target.officers.values_list("pk", flat=True))
            assert not drawn & over[target.source.grid_id]
            assert not target.officers_fallback


def test_officers_from_other_villages_may_be_drawn(small_city, department, sources, officer):
    # only village officers: each source gets the officers of the other village
    a = [user_with_role(small_city.village_a, Role.OFFICER) for _ in range(2)]
    b = [user_with_role(small_city.village_b, Role.OFFICER) for _ in range(2)]
    draw = create(
        department=department,
        grid=small_city.lanshan_street,
        actor=officer,
        quotas={"key": 1, "other": 1},
    )
    for target in draw.targets.select_related("source"):
        expected = b if target.source.grid_id == small_city.village_a.pk else a
        assert set(target.officers.all()) == set(expected)
        assert not target.officers_fallback


def test_fallback_when_every_officer_holds_a_role_over_the_source(
    small_city, department, sources, officer, officer2
):
    # given only the two officers of 兰山街道, above every source
    draw = create(department=department, grid=small_city.lanshan_street, actor=officer)
    # then they are drawn anyway, and the fallback is recorded
    assert draw.pool["officers"] == 2
    for target in draw.targets.all():
        assert set(target.officers.all()) == {officer, officer2}
        assert target.officers_fallback
    assert draw_services.random_draw_verify(draw) is True


def test_fallback_keeps_the_one_free_officer(small_city, department, sources, officer, officer2):
    free = member(department, "officer")
    draw = create(department=department, grid=small_city.lanshan_street, actor=officer)
    for target in draw.targets.all():
        officers = set(target.officers.all())
        assert free in officers and len(officers) == 2
        assert target.officers_fallback


def test_only_active_sources_in_the_subtree_and_current_officers_count(
    small_city, department, officer, officer2, make_source
):
    make_source(tier="national", grid=small_city.village_a)
    services.source_create(  # in another county
        grid=small_city.village_c,
        data=services.SourceInput(name="罗庄源", kind="enterprise", control_tier="national"),
        actor=user_with_role(small_city.luozhuang, Role.OFFICER),
    )
    closed = make_source(tier="national", grid=small_city.village_b)
    services.source_close(source=closed, actor=officer, on=date(2026, 2, 1), reason="停产")
    gone = member(department, "officer")
    grid_services.department_member_add(
        department=department, user=UserFactory(), position="handler", starts_on=date(2024, 1, 1)
    )
    membership = gone.department_memberships.get()
    membership.ends_on = date(2025, 12, 31)
    membership.save()
    draw = create(
        department=department, grid=small_city.lanshan_street, actor=officer, quotas={"key": 1}
    )
    assert draw.pool == {"key": 1, "other": 0, "officers": 2}


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"quotas": {"key": 1.5}}, "quotas"),
        ({"quotas": {"key": -0.1}}, "quotas"),
        ({"quotas": {"key": float("nan")}}, "quotas"),
        ({"quotas": {"key": "0.2"}}, "quotas"),
        ({"quotas": {"key": True}}, "quotas"),
        ({"quotas": {"county": 0.2}}, "quotas"),
        ({"quotas": ["key"]}, "quotas"),
        ({"quotas": {"key": 0, "other": 0}}, "quotas"),
        ({"period_end": date(2025, 12, 31)}, "period_end"),
        ({"inspection_date": date(2025, 12, 31)}, "inspection_date"),
        ({"inspection_date": date(2026, 3, 1)}, "inspection_date"),  # before the day of the draw
        ({"title": "  "}, "title"),
        ({"seed": ""}, "seed"),
        ({"seed": "x" * 65}, "seed"),
    ],
)
def test_bad_input_stores_nothing(
    small_city, department, dept_officers, sources, officer, changes, field
):
    values = {"department": department, "grid": small_city.lanshan_street, "actor": officer}
    with pytest.raises(DomainError) as error:
        create(**(values | changes))
    assert field in error.value.extra
    assert not RandomDraw.objects.exists() and not RandomDrawTarget.objects.exists()


def test_inspection_date_after_the_period_is_fine(
    small_city, department, dept_officers, sources, officer
):
    draw = create(
        department=department,
        grid=small_city.lanshan_street,
        actor=officer,
        inspection_date=date(2026, 4, 15),
    )
    assert draw.inspection_date == date(2026, 4, 15)


def test_fewer_than_two_officers_is_refused(small_city, department, sources):
    # given one department officer, and no officer role in 前十里堡 (``officer`` sits above it)
    actor = user_with_role(small_city.lanshan, Role.PRINCIPAL)
    member(department, "officer")
    with pytest.raises(DomainError) as error:
        create(department=department, grid=small_city.village_a, actor=actor)
    assert "officers" in error.value.extra
    assert not RandomDraw.objects.exists()


def test_an_actor_without_an_enforcement_role_is_forbidden(
    small_city, department, dept_officers, sources
):
    for actor in (
        user_with_role(small_city.lanshan_street, Role.INSPECTOR),
        user_with_role(small_city.village_c, Role.DIRECT_RESPONSIBLE),
        member(department, "head"),
    ):
        with pytest.raises(Forbidden):
            create(department=department, grid=small_city.lanshan_street, actor=actor)
    assert not RandomDraw.objects.exists()


def test_the_grid_must_lie_in_the_departments_area(small_city, dept_officers, sources):
    luozhuang = grid_services.department_create(
        code="LZ-ENV",
        name="罗庄区生态环境分局",
        sector=Sector.objects.get(code="environment"),
        grid=small_city.luozhuang,
    )
    actor = user_with_role(small_city.city, Role.OFFICE)
    with pytest.raises(DomainError) as error:
        create(department=luozhuang, grid=small_city.lanshan_street, actor=actor)
    assert "grid" in error.value.extra


# --- visibility ------------------------------------------------------------------------------


@pytest.fixture
def draw(small_city, department, dept_officers, sources, officer):
    return create(department=department, grid=small_city.lanshan_street, actor=officer)


def sees(user, draw, on):
    try:
        draw_selectors.random_draw_get(user=user, pk=draw.pk, on=on)
    except Http404:
        return False
    return True


def test_before_the_inspection_date_only_the_organisers_see_the_draw(
    small_city, department, draw, officer, officer2, dept_officers
):
    before = INSPECTION - timedelta(days=1)
    organisers = [
        officer,  # the creator
        dept_officers[0],
        member(department, "head"),
        member(department, "staff"),
        UserFactory(is_superuser=True),
    ]
    others = [
        officer2,  # an officer of the grid, but no organiser
        member(department, "handler"),
        user_with_role(small_city.lanshan, Role.PRINCIPAL),
        user_with_role(small_city.village_a, Role.INSPECTOR),
    ]
    for user in organisers:
        assert sees(user, draw, before), user
    for user in others:
        assert not sees(user, draw, before), user
        assert not draw_selectors.random_draw_list(user=user, on=before).exists()


def test_from_the_inspection_date_the_grids_people_see_it(small_city, draw, officer2):
    county = user_with_role(small_city.lanshan, Role.PRINCIPAL)
    village = user_with_role(small_city.village_a, Role.INSPECTOR)
    elsewhere = user_with_role(small_city.luozhuang, Role.PRINCIPAL)
    stranger = UserFactory()
    for user in (county, officer2):
        assert sees(user, draw, INSPECTION)
    # the draw covers 兰山街道: a village's people do not see the whole street's list
    for user in (village, elsewhere, stranger):
        assert not sees(user, draw, INSPECTION)
        assert not sees(user, draw, INSPECTION + timedelta(days=30))


def test_a_departed_department_member_no_longer_organises(department, draw, dept_officers):
    membership = dept_officers[1].department_memberships.get()
    membership.ends_on = DRAWN_ON
    membership.save()
    assert sees(dept_officers[1], draw, DRAWN_ON)
    assert not sees(dept_officers[1], draw, DRAWN_ON + timedelta(days=1))


# --- results and publication -----------------------------------------------------------------


def record_all(draw, when):
    for target in draw.targets.all():
        draw_services.random_draw_result_record(
            target=target,
            outcome=Patrol.Outcome.COMPLIANT,
            result="未发现环境违法行为",
            actor=target.officers.first(),
            now=when,
        )


def test_an_assigned_officer_records_the_result(draw):
    target = draw.targets.first()
    assigned = target.officers.first()
    target = draw_services.random_draw_result_record(
        target=target,
        outcome=Patrol.Outcome.NOTICE_ISSUED,
        result="雨污分流不到位，责令限期整改",
        actor=assigned,
        now=at(INSPECTION),
    )
    target.refresh_from_db()
    assert (target.result_outcome, target.result_recorded_by) == ("notice_issued", assigned)


def test_results_are_refused_from_others_early_or_malformed(small_city, draw, officer2):
    target = draw.targets.first()
    assigned = target.officers.first()
    stranger = officer2  # above every source, so never drawn while free officers exist
    with pytest.raises(Forbidden):
        draw_services.random_draw_result_record(
            target=target, outcome="compliant", result="ok", actor=stranger, now=at(INSPECTION)
        )
    with pytest.raises(DomainError):
        draw_services.random_draw_result_record(
            target=target, outcome="compliant", result="ok", actor=assigned, now=at(DRAWN_ON)
        )
    for outcome, result in (("abnormal_reading", "x"), ("", "x"), ("compliant", "  ")):
        with pytest.raises(DomainError):
            draw_services.random_draw_result_record(
                target=target, outcome=outcome, result=result, actor=assigned, now=at(INSPECTION)
            )
    target.refresh_from_db()
    assert target.result_outcome == ""


def test_a_linked_inspection_must_be_of_the_same_source_and_outcome(draw, sources):
    target = draw.targets.select_related("source").first()
    officers = list(target.officers.all())
    other_source = next(s for s in sources if s.pk != target.source_id)

    def inspection(source, outcome="compliant"):
        return services.patrol_record(
            source=source,
            data=services.PatrolInput(
                kind=Patrol.Kind.INSPECTION,
                patrolled_at=at(INSPECTION),
                outcome=outcome,
                officers=officers,
                lat=34.5,
                lng=117.2,
            ),
            actor=draw.created_by,
            now=at(INSPECTION, 18),
        )

    def record(patrol, outcome="compliant"):
        return draw_services.random_draw_result_record(
            target=target,
            outcome=outcome,
            result="检查合格",
            patrol=patrol,
            actor=officers[0],
            now=at(INSPECTION, 19),
        )

    with pytest.raises(DomainError) as error:
        record(inspection(other_source))
    assert "patrol" in error.value.extra
    own = inspection(target.source)
    with pytest.raises(DomainError) as error:
        record(own, outcome="corrected_on_site")
    assert "outcome" in error.value.extra
    assert record(own).patrol == own


def test_publish_only_after_the_inspection_date_and_with_every_result(draw, officer, small_city):
    with pytest.raises(DomainError):
        draw_services.random_draw_publish(draw=draw, actor=officer, now=at(DRAWN_ON))
    with pytest.raises(DomainError):
        draw_services.random_draw_publish(draw=draw, actor=officer, now=at(INSPECTION, 20))
    with pytest.raises(Conflict) as error:
        draw_services.random_draw_publish(
            draw=draw, actor=officer, now=at(INSPECTION + timedelta(days=1))
        )
    assert len(error.value.extra["missing"]) == 3
    record_all(draw, at(INSPECTION))
    outsider = user_with_role(small_city.lanshan, Role.PRINCIPAL)
    with pytest.raises(Forbidden):
        draw_services.random_draw_publish(draw=draw, actor=outsider, now=at(date(2026, 3, 11)))
    published = draw_services.random_draw_publish(
        draw=draw, actor=officer, now=at(date(2026, 3, 11))
    )
    assert published.published_at == at(date(2026, 3, 11))
    with pytest.raises(Conflict):
        draw_services.random_draw_publish(draw=draw, actor=officer, now=at(date(2026, 3, 12)))
    # a published result no longer changes
    target = draw.targets.first()
    with pytest.raises(Conflict):
        draw_services.random_draw_result_record(
            target=target,
            outcome="case_opened",
            result="改",
            actor=target.officers.first(),
            now=at(date(2026, 3, 12)),
        )


def test_the_public_list_shows_published_draws_only(
    small_city, department, dept_officers, sources, officer
):
    kept = create(department=department, grid=small_city.lanshan_street, actor=officer)
    shown = create(department=department, grid=small_city.lanshan_street, actor=officer)
    record_all(shown, at(INSPECTION))
    draw_services.random_draw_publish(draw=shown, actor=officer, now=at(date(2026, 3, 11)))
    assert list(draw_selectors.random_draws_published()) == [shown]
    assert kept.published_at is None


# --- API -------------------------------------------------------------------------------------


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def payload(**kw):
    today = timezone.localdate()
    return {
        "title": "季度双随机抽查",
        "department": "LS-ENV",
        "grid": "371302001000",
        "period_start": today.isoformat(),
        "period_end": (today + timedelta(days=60)).isoformat(),
        "inspection_date": (today + timedelta(days=10)).isoformat(),
        "quotas": {"key": 0.25, "other": 0.05},
    } | kw


@pytest.fixture
def county_officer(small_city):
    """Sees 兰山区 and so its environment bureau; above the draw's grid, so never drawn."""
    return user_with_role(small_city.lanshan, Role.DIRECT_RESPONSIBLE, username="county_officer")


def test_api_creates_a_draw_with_a_server_seed(department, dept_officers, sources, county_officer):
    response = api(county_officer).post(
        "/api/v1/random-draws/", payload(seed="chosen-by-me"), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["target_count"] == 3 and len(body["targets"]) == 3
    assert body["seed"] != "chosen-by-me" and len(body["seed"]) == 16
    assert all(len(t["officers"]) == 2 for t in body["targets"])
    draw = RandomDraw.objects.get(pk=body["id"])
    assert draw_services.random_draw_verify(draw) is True


@pytest.mark.parametrize(
    "changes",
    [
        {"quotas": "0.25"},
        {"quotas": {"key": "lots"}},
        {"quotas": {"key": 2}},
        {"quotas": {"tier": 0.5}},
        {"quotas": {}},
        {"period_end": "2020-01-01"},
        {"inspection_date": "not a date"},
        {"department": "NOPE"},
        {"grid": "371311001001"},  # outside the organiser's scope
        {"grid": "999999999999"},
        {"grid": "x"},
        {"title": ""},
    ],
)
def test_api_bad_input_is_a_400(department, dept_officers, sources, county_officer, changes):
    response = api(county_officer).post("/api/v1/random-draws/", payload(**changes), format="json")
    assert response.status_code == 400, response.json()
    assert not RandomDraw.objects.exists()


def test_api_refuses_non_objects_and_anonymous(department, officer):
    assert api(officer).post("/api/v1/random-draws/", [1, 2], format="json").status_code == 400
    assert api().get("/api/v1/random-draws/").status_code == 401


def test_api_forbidden_for_an_inspector(small_city, department, dept_officers, sources):
    inspector = user_with_role(small_city.lanshan, Role.INSPECTOR)
    response = api(inspector).post("/api/v1/random-draws/", payload(), format="json")
    assert response.status_code == 403


def test_api_detail_is_404_until_the_inspection_date_for_non_organisers(
    small_city, department, dept_officers, sources, county_officer
):
    officer = county_officer
    draw_id = api(officer).post("/api/v1/random-draws/", payload(), format="json").json()["id"]
    county = user_with_role(small_city.lanshan, Role.PRINCIPAL)
    assert api(officer).get(f"/api/v1/random-draws/{draw_id}/").status_code == 200
    assert api(county).get(f"/api/v1/random-draws/{draw_id}/").status_code == 404
    assert api(county).get("/api/v1/random-draws/").json()["count"] == 0
    assert api(officer).get("/api/v1/random-draws/").json()["count"] == 1
    assert api(officer).get(f"/api/v1/random-draws/{2**70}/").status_code == 404
    # publishing before the date is refused
    response = api(officer).post(f"/api/v1/random-draws/{draw_id}/publish/")
    assert response.status_code == 400


def test_api_result_and_publish_after_the_inspection_date(draw, small_city, officer):
    # the fixture's inspection date (2026-03-10) lies in the past by now
    county = user_with_role(small_city.lanshan, Role.PRINCIPAL)
    assert api(county).get(f"/api/v1/random-draws/{draw.pk}/").status_code == 200
    targets = list(draw.targets.prefetch_related("officers"))
    url = f"/api/v1/random-draws/{draw.pk}/targets/{{}}/result/"
    assert (
        api(county)
        .post(url.format(targets[0].pk), {"outcome": "compliant", "result": "合格"}, format="json")
        .status_code
        == 403
    )
    assigned = targets[0].officers.all()[0]
    for bad in (
        {"outcome": "abnormal_reading", "result": "x"},
        {"outcome": "compliant"},
        {"outcome": "compliant", "result": "x", "patrol": "abc"},
        {"outcome": "compliant", "result": "x", "patrol": 123456},
    ):
        response = api(assigned).post(url.format(targets[0].pk), bad, format="json")
        assert response.status_code == 400, (bad, response.json())
    assert (
        api(assigned)
        .post(url.format(999999), {"outcome": "compliant", "result": "x"}, format="json")
        .status_code
        == 404
    )
    for target in targets:
        response = api(target.officers.all()[1]).post(
            url.format(target.pk), {"outcome": "compliant", "result": "未发现问题"}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert response.json()["outcome"] == "compliant"
    assert api(county).post(f"/api/v1/random-draws/{draw.pk}/publish/").status_code == 403
    response = api(officer).post(f"/api/v1/random-draws/{draw.pk}/publish/")
    assert response.status_code == 200 and response.json()["published_at"]
    assert api(officer).post(f"/api/v1/random-draws/{draw.pk}/publish/").status_code == 409


def test_public_api_lists_published_draws_without_officers(
    small_city, department, dept_officers, sources, officer
):
    hidden = create(department=department, grid=small_city.lanshan_street, actor=officer)
    shown = create(department=department, grid=small_city.lanshan_street, actor=officer)
    record_all(shown, at(INSPECTION))
    draw_services.random_draw_publish(draw=shown, actor=officer, now=at(date(2026, 3, 11)))
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Bearer stale-token")
    response = client.get("/api/v1/public/random-draws/")
    assert response.status_code == 200
    body = response.json()
    assert [d["id"] for d in body["results"]] == [shown.pk]
    assert hidden.pk not in [d["id"] for d in body["results"]]
    assert all("officers" not in t for d in body["results"] for t in d["targets"])
    assert "dept_officer" not in response.content.decode()
    assert {t["outcome"] for t in body["results"][0]["targets"]} == {"compliant"}


def test_lists_take_a_fixed_number_of_queries(
    small_city, department, dept_officers, sources, officer
):
    def count(url, user):
        client = api(User.objects.get(pk=user.pk) if user else None)  # no cached scope
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def add_published():
        draw = create(department=department, grid=small_city.lanshan_street, actor=officer)
        record_all(draw, at(INSPECTION))
        draw_services.random_draw_publish(draw=draw, actor=officer, now=at(date(2026, 3, 11)))

    add_published()
    one = (count("/api/v1/random-draws/", officer), count("/api/v1/public/random-draws/", None))
    for _ in range(3):
        add_published()
    many = (count("/api/v1/random-draws/", officer), count("/api/v1/public/random-draws/", None))
    assert one == many
