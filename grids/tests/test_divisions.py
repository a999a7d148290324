from pathlib import Path

import pytest
from django.conf import settings

from core.errors import DomainError
from grids import services
from grids.divisions import divisions_parse_bytes
from grids.models import Grid, GridChange, GridLevel

pytestmark = pytest.mark.usefixtures("english")

DIVISIONS = Path(settings.BASE_DIR) / "data" / "divisions"
HEADER = "code,name,level,parent_code\n"


def load(text: str, **kw):
    return services.divisions_load(rows=divisions_parse_bytes(text.encode()), actor=None, **kw)


def test_malformed_rows_are_named_by_line_and_nothing_is_stored(db):
    text = HEADER + "3713,临沂市,1,37\n371302,兰山区,2\n37130x,坏,2,3713\n371311,,two,3713\n"
    with pytest.raises(DomainError) as exc:
        load(text)
    errors = exc.value.extra["errors"]
    assert errors[0].startswith("line 3: expected 4 columns")
    assert errors[1].startswith("line 4: code '37130x'")
    assert "line 5: the name is empty" in errors[2] and "level 'two'" in errors[2]
    assert Grid.objects.count() == 0


def test_wrong_header_is_refused(db):
    with pytest.raises(DomainError, match="line 1: the header"):
        load("id,name\n1,x\n")


def test_non_utf8_file_is_refused(db):
    with pytest.raises(DomainError, match="UTF-8"):
        divisions_parse_bytes(HEADER.encode() + "3713,临沂市,1,37\n".encode("gb18030"))


def test_a_row_that_breaks_the_tree_stops_the_whole_load(db):
    # the third row claims level 2 below a level-2 parent
    text = HEADER + "3713,临沂市,1,37\n371302,兰山区,2,3713\n371302001,兰山街道,2,371302\n"
    with pytest.raises(DomainError) as exc:
        load(text)
    assert exc.value.extra["errors"] == ["line 4: level 2 below a parent of level 2"]
    assert Grid.objects.count() == 0 and GridChange.objects.count() == 0


def test_existing_codes_are_refused(db):
    load(HEADER + "3713,临沂市,1,37\n")
    with pytest.raises(DomainError) as exc:
        load(HEADER + "3713,临沂市,1,37\n")
    assert "already exists" in exc.value.extra["errors"][0]


def test_linyi_loads_whole_with_twelve_digit_codes_and_a_consistent_tree(db):
    rows = divisions_parse_bytes((DIVISIONS / "linyi.csv").read_bytes())
    assert len(rows) == 4249
    result = services.divisions_load(rows=rows, actor=None)
    # the childless 市辖区 placeholder is not territory
    assert result.skipped == ["371301 市辖区"]
    assert result.created == 4248
    counts = {lvl: Grid.objects.filter(level=lvl).count() for lvl in (1, 2, 3, 4)}
    assert counts == {1: 1, 2: 13, 3: 156, 4: 4078}
    assert all(len(c) == 12 for c in Grid.objects.values_list("code", flat=True))
    lanshan = Grid.objects.get(code="371302000000")
    assert lanshan.name == "兰山区" and lanshan.parent.code == "371300000000"
    # the nested-set values written by the loader equal what django-mptt's rebuild computes
    before = list(Grid.objects.order_by("pk").values_list("pk", "lft", "rght", "depth", "tree_id"))
    Grid.objects.rebuild()
    after = list(Grid.objects.order_by("pk").values_list("pk", "lft", "rght", "depth", "tree_id"))
    assert before == after
    assert lanshan.get_descendant_count() == (
        Grid.objects.filter(code__startswith="371302").count() - 1
    )
    assert GridChange.objects.filter(action="load").count() == 4248


def test_a_three_level_city_loads_by_depth(db):
    # Xicheng's file has levels 1, 3, 4 (no county level); a 3-level city names its levels
    GridLevel.objects.filter(number=4).delete()
    GridLevel.objects.filter(number=1).update(name="区")
    GridLevel.objects.filter(number=2).update(name="街道")
    GridLevel.objects.filter(number=3).update(name="社区")
    rows = divisions_parse_bytes((DIVISIONS / "xicheng.csv").read_bytes())
    result = services.divisions_load(rows=rows, actor=None)
    assert result.created == 279
    assert Grid.objects.get(code="110102000000").level == 1
    assert Grid.objects.get(code="110102001000").level == 2
    assert Grid.objects.get(code="110102001004").level == 3


def test_too_deep_a_file_for_the_configured_levels_is_refused(db):
    GridLevel.objects.filter(number__in=[3, 4]).delete()
    with pytest.raises(DomainError) as exc:
        load(HEADER + "3713,临沂市,1,37\n371302,兰山区,2,3713\n371302001,兰山街道,3,371302\n")
    assert "deeper than the 2 configured levels" in exc.value.extra["errors"][0]
    assert Grid.objects.count() == 0


def test_a_file_can_hang_below_an_existing_grid(db):
    load(HEADER + "3713,临沂市,1,37\n371302,兰山区,2,3713\n")
    city = Grid.objects.get(code="371300000000")
    load(HEADER + "371311,罗庄区,2,3713\n371311001,罗庄街道,3,371311\n", under=city)
    street = Grid.objects.get(code="371311001000")
    assert street.level == 3
    assert street.is_descendant_of(Grid.objects.get(code="371300000000"))
    assert [g.code for g in Grid.objects.get(code="371300000000").get_children()] == [
        "371302000000",
        "371311000000",
    ]


def test_management_command_reports_bad_lines(db, tmp_path):
    from django.core.management import CommandError, call_command

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "3713,临沂市,1,37\n371302,兰山区\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 3: expected 4 columns"):
        call_command("load_divisions", str(bad))
    assert Grid.objects.count() == 0
