"""Default reference data for a new installation (editable by the office afterwards).

Levels follow Hefei and Linyi (市 / 县(市、区) / 乡镇(街道) / 村(社区)); the roles each level must
name follow Linyi's assessment item 1.2 (leader, deputy leader, principal, direct responsible
person) and the village inspector of Hefei §3.
"""

RESPONSIBLE_FOUR = ["leader", "deputy_leader", "principal", "direct_responsible"]

LEVELS = [
    {"number": 1, "name": "市", "name_en": "City", "required_roles": RESPONSIBLE_FOUR},
    {
        "number": 2,
        "name": "县(市、区)",
        "name_en": "County / district",
        "required_roles": RESPONSIBLE_FOUR,
    },
    {
        "number": 3,
        "name": "乡镇(街道)",
        "name_en": "Township / street",
        "required_roles": ["leader", "principal", "direct_responsible"],
    },
    {
        "number": 4,
        "name": "村(社区)",
        "name_en": "Village / community",
        "required_roles": ["inspector"],
    },
]

# Functional departments with environmental duties (DOMAIN §3).
SECTORS = [
    ("environment", "生态环境", "Ecology and environment"),
    ("city_management", "城市管理", "City management"),
    ("housing", "住房和城乡建设", "Housing and construction"),
    ("water", "水务", "Water"),
    ("public_security", "公安", "Public security"),
    ("agriculture", "农业农村", "Agriculture"),
    ("animal_husbandry", "畜牧", "Animal husbandry"),
    ("land", "自然资源", "Land and resources"),
    ("transport", "交通运输", "Transport"),
    ("forestry", "林业", "Forestry"),
    ("market", "市场监管", "Market regulation"),
    ("work_safety", "应急管理", "Work safety"),
]


def levels_install(GridLevel) -> None:
    for level in LEVELS:
        GridLevel.objects.get_or_create(number=level["number"], defaults=level)


def sectors_install(Sector) -> None:
    for code, name, name_en in SECTORS:
        Sector.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})
