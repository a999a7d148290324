"""Default patrol policy (Zhejiang notice §4(4)1) and checklists per source kind."""

CHECKLISTS = {
    "enterprise": [
        "治污设施正常运行",
        "排污许可证在有效期内",
        "排放口规范设置",
        "在线监控设备正常",
        "危险废物规范贮存",
        "台账记录完整",
    ],
    "construction_site": [
        "围挡封闭",
        "裸土覆盖",
        "车辆冲洗",
        "道路硬化",
        "湿法作业",
        "渣土车辆密闭运输",
    ],
    "catering": ["油烟净化设施正常运行", "油烟净化设施定期清洗", "无露天烧烤"],
    "livestock_farm": ["粪污处理设施运行", "雨污分流", "无粪污直排"],
    "boiler": ["燃料符合要求", "除尘脱硫设施运行", "无冒黑烟"],
    "other": ["无违法排污", "设施运行正常"],
}


def defaults_install(PatrolPolicy, Checklist) -> None:
    if not PatrolPolicy.objects.exists():
        PatrolPolicy.objects.create()
    for kind, items in CHECKLISTS.items():
        Checklist.objects.get_or_create(kind=kind, defaults={"items": items})
