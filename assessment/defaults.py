"""The Linyi rule set as data (临政办字〔2017〕121号, annex 3 "考核办法" and its "考核细则").

Items 1.1–3.7 carry 10 + 25 + 65 = 100 points; three bonus groups are capped at 4, 6 and 5;
three deductions are unbounded (−5, −5, −10 each); ≥ 90 excellent, ≥ 80 good, ≥ 60 pass,
< 60 fail. The Chinese titles are the notice's own words; each rule names the evidence
collector that counts it (``assessment.evidence``) or ``fact`` for what the office enters with
a document. ``ruleset_install`` takes the model classes so that the data migration can use it
with historical models; ``assessment.services.ruleset_install_linyi`` calls it for a year.
"""

from __future__ import annotations

from decimal import Decimal

D = Decimal
FACT = "fact"
NAME = "临沂市环境监管网格化体系考核"
SOURCE = "临政办字〔2017〕121号 附件3《临沂市环境监管网格化体系考核办法（试行）》及考核细则"

SECTIONS = {
    "1": "制定、完善环境监管网格化体系划分方案情况（10分）",
    "2": "环境监管网格化体系建立情况（25分）",
    "3": "网格化环境监管体系运行情况（65分）",
    "4": "加分项（15分）",
    "5": "扣分项",
}


def _r(code, title, title_en, kind, points, evidence, params=None, fact_range=None):
    return {
        "code": code,
        "title": title,
        "title_en": title_en,
        "kind": kind,
        "points": None if points is None else D(points),
        "evidence": evidence,
        "params": params or {},
        "fact_range": fact_range,
    }


# One item per row of the notice's table; kept as a table, not reformatted.
# fmt: off
ITEMS = [
    {
        "code": "1.1",
        "section": "1",
        "group": "base",
        "max": D(5),
        "title": "网格划分方案",
        "title_en": "Grid division plan",
        "content": "是否制定网格划分方案，向上级政府备案并向社会公开；划分方案是否实施动态管理，定期更新。",
        "rules": [
            _r("1.1.1", "未制定方案的，该项不得分", "No plan: the item scores 0", "zero_if", None, "division_plan_missing"),
            _r("1.1.2", "未向上级备案的减1分", "Not filed upward: −1", "once", "-1", "division_plan_not_filed"),
            _r("1.1.3", "网格未编码的减1分", "Grids not coded: −1", "once", "-1", "grids_uncoded"),
            _r("1.1.4", "未实施动态管理的减2分", "No dynamic management: −2", "once", "-2", "division_not_maintained"),
            _r("1.1.5", "未向社会公开的减1分", "Not published: −1", "once", "-1", "division_plan_not_published"),
        ],
    },
    {
        "code": "1.2",
        "section": "1",
        "group": "base",
        "max": D(5),
        "title": "网格监管职责",
        "title_en": "Responsibilities defined",
        "content": "是否明确各级网格环境监管职责；是否明确各级网格领导责任人、分管领导责任人、主体责任人、直接责任人；是否明确各相关职能部门环境监管职责。",
        "rules": [
            _r("1.2.1", "未明确各级网格监管责任的减2分", "Grid duties not defined: −2", "once", "-2", FACT),
            _r("1.2.2", "未明确领导责任人的减1分", "No grid leader named: −1", "once", "-1", "role_missing", {"role": "leader"}),
            _r("1.2.3", "未明确分管领导责任人的减1分", "No deputy leader named: −1", "once", "-1", "role_missing", {"role": "deputy_leader"}),
            _r("1.2.4", "未明确主体责任人的减1分", "No principal named: −1", "once", "-1", "role_missing", {"role": "principal"}),
            _r("1.2.5", "未明确直接责任人的减1分", "No direct responsible person named: −1", "once", "-1", "role_missing", {"role": "direct_responsible"}),
            _r("1.2.6", "未明确各相关职能部门环境监管职责的减2分", "Departments' duties not defined: −2", "once", "-2", FACT),
        ],
    },
    {
        "code": "2.1",
        "section": "2",
        "group": "base",
        "max": D(5),
        "title": "领导小组",
        "title_en": "Leading group",
        "content": "是否成立以政府负责人任组长的环境监管网格化工作领导小组并下设办公室。",
        "rules": [
            _r("2.1.1", "未成立领导小组的不得分", "No leading group: the item scores 0", "zero_if", None, FACT),
            _r("2.1.2", "政府负责人未担任组长的减2分", "Not headed by a government leader: −2", "once", "-2", FACT),
            _r("2.1.3", "未设办公室的减1分", "No office: −1", "once", "-1", FACT),
        ],
    },
    {
        "code": "2.2",
        "section": "2",
        "group": "base",
        "max": D(5),
        "title": "派驻监管执法人员",
        "title_en": "Officers stationed per grid",
        "content": "各相关职能部门是否按网格派驻监管执法人员，环境监管职责是否细化分解至内设机构和岗位，并向社会公开派驻人员信息。",
        "rules": [
            _r("2.2.1", "负有环境监督管理职责的部门每少1个网格派驻人员减0.1分", "−0.1 per grid lacking a stationed officer of a department with environmental duties", "per_instance", "-0.1", "base_grids_without_officer"),
            _r("2.2.2", "环境监督管理职责未细化分解至内设机构和岗位，每少1个部门减1分", "−1 per department whose duties are not broken down to units and posts", "per_instance", "-1", FACT),
            _r("2.2.3", "未公开派驻人员信息的，每个部门减1分", "−1 per department not publishing its stationed staff", "per_instance", "-1", FACT),
        ],
    },
    {
        "code": "2.3",
        "section": "2",
        "group": "base",
        "max": D(5),
        "title": "工作机制",
        "title_en": "Mechanisms established",
        "content": "是否建立巡查、报告、处置、沟通、督查五项工作机制。",
        "rules": [
            _r("2.3.1", "未建立巡查机制的减1分", "No patrol mechanism: −1", "once", "-1", FACT),
            _r("2.3.2", "未建立报告机制的减1分", "No report mechanism: −1", "once", "-1", FACT),
            _r("2.3.3", "未建立处置机制的减1分", "No disposal mechanism: −1", "once", "-1", FACT),
            _r("2.3.4", "未建立沟通机制的减1分", "No communication mechanism: −1", "once", "-1", FACT),
            _r("2.3.5", "未建立督查机制的减1分", "No supervision mechanism: −1", "once", "-1", FACT),
        ],
    },
    {
        "code": "2.4",
        "section": "2",
        "group": "base",
        "max": D(10),
        "title": "镇街环保机构、人员",
        "title_en": "Township agencies and staff",
        "content": "是否落实镇街专（兼）职环保机构、人员及相关保障。",
        "rules": [
            _r("2.4.1", "未成立监管机构的，每乡（镇、街道）减1分", "−1 per township without an environmental agency", "per_instance", "-1", "townships_without_agency"),
            _r("2.4.2", "未设专（兼）职环保人员的，每乡（镇、街道）减1分", "−1 per township without full- or part-time staff", "per_instance", "-1", "townships_without_staff"),
        ],
    },
    {
        "code": "3.1",
        "section": "3",
        "group": "base",
        "max": D(5),
        "title": "污染源清单",
        "title_en": "Pollution-source list",
        "content": "网格污染源清单编制情况。",
        "rules": [
            _r("3.1.1", "未建立清单的该项不得分", "No list: the item scores 0", "zero_if", None, "sources_missing"),
            _r("3.1.2", "清单建立不全的减2分", "List incomplete: −2", "once", "-2", "sources_incomplete", {"confirm_days": 30}),
        ],
    },
    {
        "code": "3.2",
        "section": "3",
        "group": "base",
        "max": D(10),
        "title": "巡查机制运行",
        "title_en": "Patrol mechanism running",
        "content": "二级网格相关职能部门是否按照各自职责分工制定年度环境监管计划，对所监管的事项开展专项检查或随机抽查；是否填写、汇总检查台账并定期报送环境监管二级网格领导小组办公室。",
        "rules": [
            _r("3.2.1", "未制定年度监管计划的，每部门减1分", "−1 per department without a yearly plan", "per_instance", "-1", "departments_without_plan"),
            _r("3.2.2", "未按照计划内容、频次开展专项检查或随机抽查的，每部门减2分", "−2 per department not checking to its plan's content and frequency", "per_instance", "-2", "departments_plan_unfulfilled"),
            _r("3.2.3", "未建立检查台账的每部门减2分", "−2 per department without an inspection ledger", "per_instance", "-2", "departments_without_ledger"),
            _r("3.2.4", "未按规定向二级网格领导小组办公室定期报送检查台账的每部门减1分", "−1 per department not reporting its ledger regularly", "per_instance", "-1", "department_reports_missing"),
        ],
    },
    {
        "code": "3.3",
        "section": "3",
        "group": "base",
        "max": D(10),
        "title": "报告机制运行",
        "title_en": "Report mechanism running",
        "content": "二级网格监管人员在检查中发现的问题，是否及时上报本部门或单位；三级网格在巡查中发现问题且无权处置的，是否按职责分工上报二级网格相关职能部门；二级网格是否按要求定期向一级网格报送检查、督查情况和工作总结等。",
        "rules": [
            _r("3.3.1", "查阅检查档案，发现应报未报的，每次减1分", "−1 per instance that should have been reported and was not", "per_instance", "-1", FACT),
            _r("3.3.2", "未按规定定期向一级网格报送检查、督查情况和工作总结的，减2分", "Half-yearly reports to the city not made (on time): −2", "once", "-2", "half_year_reports_missing"),
        ],
    },
    {
        "code": "3.4",
        "section": "3",
        "group": "base",
        "max": D(10),
        "title": "处置机制运行",
        "title_en": "Disposal mechanism running",
        "content": "二级网格监管人员发现问题后，对属于本部门管辖的，是否及时处理处置；对不属于本部门管辖的，是否及时移交移送；对需要多个部门进行联合处置的，是否由本级政府组织各部门实施联合执法。",
        "rules": [
            _r("3.4.1", "属于本部门管辖未按规定时间处理办结的，每件减1分", "−1 per case of the department's own not closed in time", "per_instance", "-1", "cases_handled_late"),
            _r("3.4.2", "对应移交移送未按要求移交移送的，每件减1分", "−1 per case not transferred as required", "per_instance", "-1", "cases_not_transferred"),
            _r("3.4.3", "需多部门联合处置但未报告或未组织实施联合执法的，每件减2分", "−2 per case needing joint disposal not jointly enforced", "per_instance", "-2", "joint_cases_not_joint"),
        ],
    },
    {
        "code": "3.5",
        "section": "3",
        "group": "base",
        "max": D(10),
        "title": "沟通机制运行",
        "title_en": "Communication mechanism running",
        "content": "二级网格领导小组是否定期召开联席会议，联席会议次数是否符合规定。",
        "rules": [
            _r("3.5.1", "未建立联席会议制度的减5分", "No joint-meeting system: −5", "once", "-5", FACT),
            _r("3.5.2", "未按期召开联席会的每少一次减2.5分", "−2.5 per joint meeting not held", "per_instance", "-2.5", "joint_meetings_missing", {"per_half_year": 1}),
        ],
    },
    {
        "code": "3.6",
        "section": "3",
        "group": "base",
        "max": D(10),
        "title": "督查机制运行",
        "title_en": "Supervision mechanism running",
        "content": "二级网格领导小组办公室是否按照“一级督一级”的原则组织相关职能部门对三级网格进行督查，督查频次是否达到要求；二级网格各负有环境监管职责的部门是否对三级网格开展隶属本部门监管事项的督查。",
        "rules": [
            _r("3.6.1", "未组织相关职能部门对三级网格开展综合性督查的减4分", "No comprehensive supervision of township grids: −4", "once", "-4", "comprehensive_supervision_missing"),
            _r("3.6.2", "各负有环境监督管理职责的部门未对三级网格开展隶属于本部门监管事项督查的，每部门减1分", "−1 per department not supervising its own matters in township grids", "per_instance", "-1", "departments_without_supervision"),
        ],
    },
    {
        "code": "3.7",
        "section": "3",
        "group": "base",
        "max": D(10),
        "title": "信息公开",
        "title_en": "Disclosure",
        "content": "二级网格对三级网格开展综合性督查发现的问题及整改情况是否向社会公开；各部门对本部门监管问题事项的处理处罚情况是否依法向社会公开；各部门是否定期报送巡查台账、督查情况和工作总结；二级网格领导小组办公室是否将各部门的巡查和督查机制落实情况向社会公开。",
        "rules": [
            _r("3.7.1", "未将综合性督查发现的三级网格问题及整改情况向社会公开的减3分", "Office did not publish supervision findings and rectification: −3", "once", "-3", "supervisions_not_published"),
            _r("3.7.2", "各部门未按规定向二级网格领导小组办公室报送检查台账、督查情况和工作总结的，每部门减1分", "−1 per department not sending ledgers and reports to the office", "per_instance", "-1", "department_reports_missing"),
            _r("3.7.3", "未将隶属于本部门监管事项问题的处理处罚情况向社会公开的，每部门减1分", "−1 per department not publishing its penalties", "per_instance", "-1", "penalties_not_published"),
            _r("3.7.4", "未将各相关职能部门的巡查和督查机制落实情况向社会公开的，减3分", "Office did not publish the departments' patrol and supervision record: −3", "once", "-3", FACT),
        ],
    },
    {
        "code": "B1",
        "section": "4",
        "group": "bonus",
        "max": D(4),
        "title": "落实“三个一律”机制",
        "title_en": "Accountability under the “three always” rule",
        "content": "严格落实“三个一律”追责情形的，每起加2分。（最高4分）",
        "rules": [
            _r("B1.1", "有“三个一律”追责情形的，每起加2分", "+2 per case", "bonus_per", "2", FACT),
        ],
    },
    {
        "code": "B2",
        "section": "4",
        "group": "bonus",
        "max": D(6),
        "title": "典型示范带动",
        "title_en": "Model work",
        "content": "开展典型示范带动，健全完善运行机制。（最高6分）",
        "rules": [
            _r("B2.1", "开展环境监管网格化工作典型推动试点的，加1分", "Pilot: +1", "once", "1", FACT),
            _r("B2.2", "召开环境监管网格化工作现场会（推进会）的，加2分", "On-site promotion meeting: +2", "once", "2", FACT),
            _r("B2.3", "被省部级媒体正面报道的，每次加0.5分", "Provincial media report: +0.5 each", "bonus_per", "0.5", FACT),
            _r("B2.4", "被国家级报刊、媒体正面报道的，每次加1分", "National media report: +1 each", "bonus_per", "1", FACT),
        ],
    },
    {
        "code": "B3",
        "section": "4",
        "group": "bonus",
        "max": D(5),
        "title": "探索实践",
        "title_en": "Practice",
        "content": "结合各自实际，开展探索实践，有效保障各级网格高效运转。（最高5分）",
        "rules": [
            _r("B3.1", "建立网格化环境监管平台的，加4分", "Has a grid supervision platform: +4", "once", "4", FACT),
            _r("B3.2", "对网格员开展培训的，加1分", "Trained its inspectors: +1", "once", "1", FACT),
        ],
    },
    {
        "code": "D1",
        "section": "5",
        "group": "deduction",
        "max": None,
        "title": "通报批评类",
        "title_en": "Criticised in a city-level or higher notice",
        "content": "网格化工作受到市级及以上通报批评的，每次扣5分。",
        "rules": [
            _r("D1.1", "网格化工作受到市级及以上通报批评的，每次扣5分", "−5 each", "deduction_per", "-5", FACT),
        ],
    },
    {
        "code": "D2",
        "section": "5",
        "group": "deduction",
        "max": None,
        "title": "挂牌督办类",
        "title_en": "Put on a superior's watch list or blacklist",
        "content": "因监管人员工作不到位，区域、流域或重点污染源被上级列入挂牌督办、“黑名单”的，每个（次）扣5分。",
        "rules": [
            _r("D2.1", "区域、流域或重点污染源被上级列入挂牌督办、“黑名单”的，每个（次）扣5分", "−5 each", "deduction_per", "-5", FACT),
        ],
    },
    {
        "code": "D3",
        "section": "5",
        "group": "deduction",
        "max": None,
        "title": "监管失职类",
        "title_en": "A grid officer convicted for dereliction",
        "content": "网格监管人员因环境监管失职、渎职受到司法审判的，每人（次）扣10分。",
        "rules": [
            _r("D3.1", "网格监管人员因环境监管失职、渎职受到司法审判的，每人（次）扣10分", "−10 per person", "deduction_per", "-10", FACT),
        ],
    },
]
# fmt: on

GRADES = {"excellent_from": D(90), "good_from": D(80), "pass_from": D(60)}


def _fact_range(item: dict, rule: dict) -> tuple[Decimal | None, Decimal | None]:
    """The points an entry may carry: the rule's own points (an entry is one instance);
    for "item scores 0" the item's whole maximum, taken away."""
    if rule["evidence"] != FACT:
        return None, None
    if rule["fact_range"]:
        low, high = rule["fact_range"]
        return D(low), D(high)
    if rule["kind"] == "zero_if":
        return -item["max"], -item["max"]
    return rule["points"], rule["points"]


def ruleset_install(RuleSet, RuleItem, Rule, *, year: int):  # noqa: N803 - model classes
    """Install the Linyi rule set for ``year`` unless the year already has one; returns it."""
    existing = RuleSet.objects.filter(year=year).first()
    if existing is not None:
        return existing
    rule_set = RuleSet.objects.create(year=year, name=f"{year}年度{NAME}", source=SOURCE, **GRADES)
    for item_order, item in enumerate(ITEMS, start=1):
        row = RuleItem.objects.create(
            rule_set=rule_set,
            code=item["code"],
            section=item["section"],
            section_title=SECTIONS[item["section"]],
            title=item["title"],
            title_en=item["title_en"],
            content=item["content"],
            group=item["group"],
            max_points=item["max"],
            order=item_order,
        )
        for rule_order, rule in enumerate(item["rules"], start=1):
            low, high = _fact_range(item, rule)
            Rule.objects.create(
                rule_set=rule_set,
                item=row,
                code=rule["code"],
                title=rule["title"],
                title_en=rule["title_en"],
                kind=rule["kind"],
                points=rule["points"],
                evidence=rule["evidence"],
                params=rule["params"],
                fact_min=low,
                fact_max=high,
                order=rule_order,
            )
    return rule_set
