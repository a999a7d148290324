"""Default problem categories (DOMAIN §5) and duty matrix; editable by the office.

Handling limits are in working days. The duty matrix names, for each category and level, the
sector whose department is legally responsible; dispatch proposes that department.
"""

from decimal import Decimal

# code, name, English name, handling limit (working days), emergency, sector at levels 1-2
CATEGORIES = [
    ("dust", "扬尘", "Dust", "3", False, "housing"),
    ("open_burning", "焚烧", "Open burning", "1", False, "agriculture"),
    ("coal_stove", "小煤炉", "Small coal stove", "5", False, "city_management"),
    ("black_smoke", "冒黑烟", "Black smoke", "3", False, "environment"),
    ("odour", "异味气体", "Odorous gas", "3", False, "environment"),
    ("wastewater", "废水乱排", "Wastewater discharged at random", "5", False, "environment"),
    (
        "new_source",
        "新增施工工地/新污染源",
        "New construction site or pollution source",
        "10",
        False,
        "environment",
    ),
    ("online_anomaly", "在线监控异常", "Online-monitoring anomaly", "1", False, "environment"),
    ("complaint", "信访投诉", "Complaint and petition", "10", False, "environment"),
    ("emergency", "突发环境事件", "Environmental emergency", "1", True, "environment"),
]
DUTY_LEVELS = (1, 2)


def categories_install(ProblemCategory, DutyRule, Sector) -> None:
    sectors = {s.code: s for s in Sector.objects.all()}
    for order, (code, name, name_en, limit, emergency, sector) in enumerate(CATEGORIES):
        category, _ = ProblemCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "handling_limit_days": Decimal(limit),
                "is_emergency": emergency,
                "sort_order": order,
            },
        )
        for level in DUTY_LEVELS:
            DutyRule.objects.get_or_create(
                category=category, level=level, defaults={"sector": sectors[sector]}
            )


def settings_install(CaseSettings) -> None:
    if not CaseSettings.objects.exists():
        CaseSettings.objects.create(work_periods=[["08:30", "12:00"], ["13:30", "17:30"]])
