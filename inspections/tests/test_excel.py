"""Import of a source list from Excel (all or nothing, with a per-row report), the template,
and the export of the register (issue 3, item 6)."""

import io

import pytest
from openpyxl import Workbook, load_workbook
from rest_framework.test import APIClient

from core.errors import DomainError
from grids.models import Role
from grids.tests.conftest import user_with_role
from inspections import excel
from inspections.models import PollutionSource, SourceChange

pytestmark = pytest.mark.usefixtures("english")

HEADERS = [c.header for c in excel.SOURCE_COLUMNS]
GOOD_CODE = "91350100M000100Y43"
VILLAGE_A, VILLAGE_B, VILLAGE_C = "371302001001", "371302001002", "371311001001"


def line(**overrides) -> list:
    """One data row in the template's column order."""
    values = {
        "名称": "兰山化工有限公司",
        "统一社会信用代码": GOOD_CODE,
        "地址": "兰山区化工路 8 号",
        "网格编码": VILLAGE_A,
        "纬度": 34.5,
        "经度": 117.2,
        "行业": "化工",
        "类别": "企业",
        "监管等级": "省控",
        "在线监控": "是",
        "省级环境安全重点": "否",
        "联系人": "李四",
        "联系电话": "13900000000",
        "排污许可证号": "91350100M000100Y43001P",
        "主要污染物": "COD",
        "排放去向": "沂河",
    }
    values.update(overrides)
    return [values[h] for h in HEADERS]


def xlsx(rows: list[list], headers: list | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers or HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read(data: bytes) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()


def run_import(data: bytes, user) -> int:
    return excel.source_import(workbook_bytes=data, actor=user, grid_scope_user=user)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- import ----------------------------------------------------------------------------------


def test_a_good_file_registers_every_source_through_the_service(small_city, officer):
    # given two rows, one with Chinese labels and one with codes
    data = xlsx(
        [
            line(),
            line(
                名称="银雀山餐馆",
                统一社会信用代码="",
                网格编码=VILLAGE_B,
                纬度=None,
                经度=None,
                类别="catering",
                监管等级="other",
                在线监控="",
                省级环境安全重点="是",
            ),
        ]
    )
    # when the officer imports them
    created = run_import(data, officer)
    # then both are registered, active, with their history and schedule
    assert created == 2
    first = PollutionSource.objects.get(name="兰山化工有限公司")
    assert (first.grid.code, first.kind, first.control_tier) == (
        VILLAGE_A,
        "enterprise",
        "provincial",
    )
    assert (first.online_monitoring, first.safety_key, first.credit_code) == (
        True,
        False,
        GOOD_CODE,
    )
    assert first.status == "active" and first.patrol_interval_days == 14
    second = PollutionSource.objects.get(name="银雀山餐馆")
    assert (second.kind, second.control_tier, second.safety_key) == ("catering", "other", True)
    assert (second.lat, second.lng, second.online_monitoring) == (None, None, False)
    assert SourceChange.objects.filter(action="create").count() == 2


def test_an_imported_source_is_the_source_the_service_would_register(small_city, officer):
    # given the same source registered through the service and imported from a file
    from inspections import services

    by_service = services.source_create(
        grid=small_city.village_a,
        data=services.SourceInput(
            name="兰山化工有限公司",
            kind="enterprise",
            control_tier="provincial",
            credit_code=GOOD_CODE,
            address="兰山区化工路 8 号",
            lat=34.5,
            lng=117.2,
            industry="化工",
            online_monitoring=True,
            contact_name="李四",
            contact_phone="13900000000",
            permit_number="91350100M000100Y43001P",
            pollutants="COD",
            discharge_to="沂河",
        ),
        actor=officer,
    )
    run_import(xlsx([line(网格编码=VILLAGE_B)]), officer)
    imported = PollutionSource.objects.get(grid=small_city.village_b)
    # then both hold the same fields, status, confirmation, schedule and history
    skip = {"id", "grid", "created_at", "updated_at"}
    for f in PollutionSource._meta.concrete_fields:
        if f.name not in skip:
            assert getattr(imported, f.attname) == getattr(by_service, f.attname), f.name
    service_change = by_service.changes.get()
    change = imported.changes.get()
    assert (change.action, change.actor) == (service_change.action, service_change.actor)
    assert change.after == {**service_change.after, "grid": VILLAGE_B}


def test_an_inspector_s_import_enters_as_reported(small_city):
    inspector = user_with_role(small_city.village_a, Role.INSPECTOR)
    assert run_import(xlsx([line()]), inspector) == 1
    assert PollutionSource.objects.get().status == "reported"


def test_one_bad_row_stores_nothing_and_the_report_names_rows_and_fields(small_city, officer):
    # given a good row 2, a wrong check character on row 3, a grid outside the officer's
    # street on row 4, and a good row 5
    data = xlsx(
        [
            line(名称="甲厂"),
            line(名称="乙厂", 统一社会信用代码="91350100M000100Y44"),
            line(名称="丙厂", 网格编码=VILLAGE_C),
            line(名称="丁厂"),
        ]
    )
    # when imported
    with pytest.raises(excel.SourceImportRejected) as caught:
        run_import(data, officer)
    # then nothing is stored and rows 3 and 4 are reported
    assert PollutionSource.objects.count() == 0
    assert SourceChange.objects.count() == 0
    rows = caught.value.rows
    assert [(r["row"], r["field"], r["column"]) for r in rows] == [
        (3, "credit_code", "统一社会信用代码"),
        (4, "grid", "网格编码"),
    ]
    assert rows[0]["message"] == "The check character is wrong (expected 3)."
    assert rows[1]["message"] == (
        "Unknown grid code 371311001001, or the grid lies outside your area."
    )
    assert caught.value.extra["errors_total"] == 2


def test_the_service_s_own_rules_reach_the_report(small_city, officer):
    # coordinates outside the city are the service's rule, not the reader's
    data = xlsx([line(纬度=40.1, 经度=117.2), line(名称="乙", 纬度=34.5, 经度=None)])
    with pytest.raises(excel.SourceImportRejected) as caught:
        run_import(data, officer)
    assert [(r["row"], r["field"], r["message"]) for r in caught.value.rows] == [
        (2, "lat", "The coordinates lie outside the city."),
        (3, "lat", "Give both latitude and longitude, or neither."),
    ]
    assert PollutionSource.objects.count() == 0


def test_each_cell_problem_is_reported_with_its_column(small_city, officer):
    data = xlsx(
        [
            line(
                名称="",
                类别="工厂",
                监管等级="",
                在线监控="也许",
                纬度="北纬",
                联系人="长" * 61,
            ),
            line(名称="数字代码", 统一社会信用代码=913501001234567890),
        ]
    )
    with pytest.raises(excel.SourceImportRejected) as caught:
        run_import(data, officer)
    found = {(r["row"], r["field"]): r["message"] for r in caught.value.rows}
    assert found[(2, "name")] == "A source needs a name."
    assert found[(2, "kind")].startswith("Unknown value '工厂'; write one of 企业、建筑工地")
    assert found[(2, "control_tier")] == "Required."
    assert found[(2, "online_monitoring")] == "Write 是 or 否."
    assert found[(2, "lat")] == "Write a number between -90 and 90."
    assert found[(2, "contact_name")] == "At most 60 characters."
    assert "format the column as text" in found[(3, "credit_code")]


def test_a_grid_the_importer_sees_but_may_not_register_in_is_a_row_error(small_city, officer):
    dispatcher = user_with_role(small_city.lanshan_street, Role.DISPATCHER)
    with pytest.raises(excel.SourceImportRejected) as caught:
        run_import(xlsx([line()]), dispatcher)
    assert [(r["row"], r["field"], r["message"]) for r in caught.value.rows] == [
        (2, "grid", "You may not register sources in this grid.")
    ]


def test_a_source_already_registered_or_twice_in_the_file_is_refused(small_city, officer):
    run_import(xlsx([line(名称="甲厂")]), officer)
    with pytest.raises(excel.SourceImportRejected) as caught:
        run_import(xlsx([line(名称="甲厂"), line(名称="乙厂"), line(名称="乙厂")]), officer)
    assert [(r["row"], r["message"]) for r in caught.value.rows] == [
        (2, "This source is already registered in this grid."),
        (4, "The same source appears on row 3."),
    ]
    assert PollutionSource.objects.count() == 1
    # the same name in another grid is another source
    assert run_import(xlsx([line(名称="甲厂", 网格编码=VILLAGE_B)]), officer) == 1


def test_empty_rows_are_skipped_and_rows_keep_excel_numbers(small_city, officer):
    blank = [None] * len(HEADERS)
    data = xlsx([line(名称="甲"), blank, line(名称="乙", 监管等级="特控")])
    with pytest.raises(excel.SourceImportRejected) as caught:
        run_import(data, officer)
    assert [r["row"] for r in caught.value.rows] == [4]


def test_headers_may_come_in_any_order(small_city, officer):
    order = list(reversed(HEADERS))
    row = list(reversed(line()))
    assert run_import(xlsx([row], headers=order), officer) == 1


def test_wrong_headers_are_a_clear_error(small_city, officer):
    headers = [h for h in HEADERS if h != "监管等级"] + ["备注"]
    with pytest.raises(DomainError) as caught:
        run_import(xlsx([line()[:-1]], headers=headers), officer)
    assert caught.value.extra["missing_columns"] == ["监管等级"]
    assert caught.value.extra["unknown_columns"] == ["备注"]
    assert "Row 1 must hold the column headers" in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [b"name,grid\nA,1\n", b"", b"PK\x03\x04 not really a zip", None],
    ids=["csv", "empty", "broken-zip", "zip-without-workbook"],
)
def test_a_file_that_is_not_a_workbook_is_a_clear_error(small_city, officer, data):
    if data is None:
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "hi")
        data = buffer.getvalue()
    with pytest.raises(DomainError) as caught:
        run_import(data, officer)
    assert str(caught.value) == "The file is not an Excel workbook (.xlsx)."


def test_a_file_with_only_headers_is_an_error(small_city, officer):
    with pytest.raises(DomainError, match="no sources below the headers"):
        run_import(xlsx([]), officer)


def test_too_many_rows_is_a_clear_error(small_city, officer, monkeypatch):
    monkeypatch.setattr(excel, "MAX_ROWS", 3)
    rows = [line(名称=f"厂{i}") for i in range(4)]
    with pytest.raises(DomainError, match="at most 3 sources"):
        run_import(xlsx(rows), officer)
    assert PollutionSource.objects.count() == 0


# --- template and export ---------------------------------------------------------------------


def test_the_template_has_the_headers_and_an_example_row_that_imports(small_city, officer):
    buffer = io.BytesIO()
    excel.source_template_write(user=officer, out=buffer)
    rows = read(buffer.getvalue())
    assert list(rows[0]) == HEADERS
    assert len(rows) == 2
    assert rows[1][HEADERS.index("网格编码")] == VILLAGE_A  # a grid of the officer's
    assert run_import(buffer.getvalue(), officer) == 1


def test_export_lists_the_scoped_register_with_its_schedule(small_city, officer, make_source):
    make_source(tier="national", name="国控厂", credit_code=GOOD_CODE)
    make_source(tier="other", name='=HYPERLINK("http://x")', kind="catering")
    make_source(tier="national", name="罗庄厂", grid=small_city.village_c)  # outside the street
    buffer = io.BytesIO()
    count = excel.source_export_write(user=officer, out=buffer)
    rows = read(buffer.getvalue())
    header = list(rows[0])
    assert header == HEADERS + ["网格名称", "状态", "巡查周期（天）", "最近巡查", "下次应巡查"]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert count == 2 and set(by_name) == {"国控厂", '=HYPERLINK("http://x")'}
    national = by_name["国控厂"]
    assert national["统一社会信用代码"] == GOOD_CODE
    assert (national["监管等级"], national["类别"], national["状态"]) == ("国控", "企业", "在册")
    assert national["巡查周期（天）"] == 14
    assert national["下次应巡查"].date().isoformat() == "2026-01-15"
    # a name that looks like a formula stays text
    workbook = load_workbook(io.BytesIO(buffer.getvalue()))
    assert all(cell.data_type != "f" for row in workbook.active.iter_rows() for cell in row)


def test_export_takes_the_source_list_s_filters(small_city, officer, make_source):
    make_source(tier="national", name="国控厂")
    make_source(tier="other", name="小作坊", grid=small_city.village_b)
    buffer = io.BytesIO()
    excel.source_export_write(user=officer, out=buffer, control_tier="other")
    assert [row[0] for row in read(buffer.getvalue())[1:]] == ["小作坊"]
    buffer = io.BytesIO()
    excel.source_export_write(user=officer, out=buffer, grid=small_city.village_a)
    assert [row[0] for row in read(buffer.getvalue())[1:]] == ["国控厂"]


def test_export_then_import_into_an_empty_grid_gives_the_same_register(
    small_city, officer, make_source
):
    # given three sources of village A, exported
    make_source(tier="national", name="甲厂", credit_code=GOOD_CODE, online_monitoring=True)
    make_source(tier="county", name="乙餐馆", kind="catering", contact_phone="0539-1234567")
    make_source(tier="other", name="丙锅炉", kind="boiler", safety_key=True)
    buffer = io.BytesIO()
    excel.source_export_write(user=officer, out=buffer)
    # when the file is moved to the empty village B and imported again
    workbook = load_workbook(io.BytesIO(buffer.getvalue()))
    grid_column = HEADERS.index("网格编码") + 1
    for row in range(2, workbook.active.max_row + 1):
        workbook.active.cell(row=row, column=grid_column).value = VILLAGE_B
    moved = io.BytesIO()
    workbook.save(moved)
    assert run_import(moved.getvalue(), officer) == 3

    # then village B holds the same sources with the same fields
    def register(grid):
        return sorted(
            PollutionSource.objects.filter(grid=grid).values_list(
                "name",
                "credit_code",
                "kind",
                "control_tier",
                "online_monitoring",
                "safety_key",
                "contact_phone",
                "lat",
                "lng",
            )
        )

    assert register(small_city.village_b) == register(small_city.village_a)


# --- API -------------------------------------------------------------------------------------

api = pytest.mark.urls("inspections.tests.urls_for_excel")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def upload(data: bytes, name: str = "sources.xlsx") -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = name
    return buffer


@api
def test_api_import_good_file_is_201(small_city, officer):
    response = client_for(officer).post(
        "/api/v1/sources/import/", {"file": upload(xlsx([line(), line(名称="乙")]))}
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 2}


@api
def test_api_import_bad_rows_is_400_with_the_report(small_city, officer):
    data = xlsx(
        [line(), line(名称="乙", 统一社会信用代码="123"), line(名称="丙", 网格编码="9" * 12)]
    )
    response = client_for(officer).post("/api/v1/sources/import/", {"file": upload(data)})
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("2 problem(s) in the file; nothing was stored.")
    assert [(r["row"], r["field"]) for r in body["rows"]] == [(3, "credit_code"), (4, "grid")]
    assert body["errors_total"] == 2
    assert PollutionSource.objects.count() == 0


@api
@pytest.mark.parametrize(
    "payload, key",
    [
        ({"file": upload(b"not a workbook", "list.xlsx")}, "file"),
        ({"file": upload(xlsx([line()], headers=["名称", "网格"]))}, "missing_columns"),
        ({}, "file"),
    ],
    ids=["not-xlsx", "wrong-headers", "no-file"],
)
def test_api_import_bad_files_are_400(small_city, officer, payload, key):
    response = client_for(officer).post("/api/v1/sources/import/", payload)
    assert response.status_code == 400
    assert key in response.json()


@api
def test_api_import_too_large_is_400(small_city, officer, monkeypatch):
    from inspections.api import excel_views

    monkeypatch.setattr(excel_views, "MAX_IMPORT_BYTES", 100)
    response = client_for(officer).post("/api/v1/sources/import/", {"file": upload(xlsx([line()]))})
    assert response.status_code == 400
    assert "larger than" in response.json()["file"][0]


@api
def test_api_export_and_template_are_workbooks(small_city, officer, make_source):
    make_source(tier="national", name="国控厂")
    make_source(tier="other", name="小作坊")
    client = client_for(officer)
    response = client.get("/api/v1/sources/export/", {"control_tier": "national"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert "attachment" in response["Content-Disposition"]
    assert [row[0] for row in read(b"".join(response.streaming_content))[1:]] == ["国控厂"]
    response = client.get("/api/v1/sources/import-template/", HTTP_ACCEPT=XLSX_TYPE)
    assert response.status_code == 200
    assert list(read(b"".join(response.streaming_content))[0]) == HEADERS


@api
def test_api_export_bad_filters_are_json_errors(small_city, officer):
    client = client_for(officer)
    response = client.get("/api/v1/sources/export/", {"control_tier": "x"}, HTTP_ACCEPT=XLSX_TYPE)
    assert response.status_code == 400
    assert "control_tier" in response.json()
    assert client.get("/api/v1/sources/export/", {"grid": VILLAGE_C}).status_code == 404


@api
def test_api_excel_routes_need_a_login(small_city):
    client = APIClient()
    assert client.get("/api/v1/sources/export/").status_code == 401
    assert client.get("/api/v1/sources/import-template/").status_code == 401
    assert client.post("/api/v1/sources/import/", {}).status_code == 401
