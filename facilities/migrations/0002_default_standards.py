"""The default coverage standards of the design, each with its source (staff edit them in the admin)."""

from django.db import migrations

WORK_PLAN = "重庆市民政局《2019年全市民政工作要点》及养老服务体系建设工作方案 (2019)"
DEFAULTS = [
    {
        "category": "elder_station",
        "kind": "radius",
        "radius_urban_m": 1000,
        "demand_kind": "community",
        "description": "every urban community within 1,000 m (a 15-minute walk) of a community elder-care station",
        "source": "GB 50180-2018《城市居住区规划设计标准》: 15-minute life circle, 社区养老服务站 within about 1,000 m",
    },
    {
        "category": "elder_centre",
        "kind": "presence",
        "level": "township",
        "min_count": 1,
        "description": "an elder-care centre in every township and street",
        "source": WORK_PLAN + ": 街道、乡镇养老服务中心全覆盖",
    },
    {
        "category": "elder_institution",
        "kind": "capacity",
        "level": "district",
        "beds_per_1000_elderly": 40,
        "description": "40 elder-care beds per 1,000 people aged 60+ in every district/county",
        "source": "GB 50437-2007《城镇老年人设施规划规范》 (2018 edition): 养老床位不少于 40 张/千名老人",
    },
    {
        "category": "funeral_home",
        "kind": "presence",
        "level": "district",
        "min_count": 1,
        "description": "a funeral home in every district and county",
        "source": WORK_PLAN + ": 每个区县至少一个殡仪馆 (《殡葬管理条例》)",
    },
    {
        "category": "cemetery",
        "kind": "presence",
        "level": "township",
        "division_kinds": "town,township",
        "min_count": 1,
        "description": "a public cemetery in every rural township (镇, 乡)",
        "source": WORK_PLAN + ": 农村公益性公墓乡镇全覆盖",
    },
    {
        "category": "service_centre",
        "kind": "presence",
        "level": "village",
        "min_count": 1,
        "description": "a community service centre in every community and village (a centre belongs to the nearest one of its township)",
        "source": WORK_PLAN + ": 城乡社区综合服务设施全覆盖 (民政部《城乡社区服务体系建设规划》)",
    },
]


def add_defaults(apps, schema_editor):
    CoverageStandard = apps.get_model("facilities", "CoverageStandard")
    for item in DEFAULTS:
        CoverageStandard.objects.update_or_create(category=item["category"], kind=item["kind"], defaults=item)


def remove_defaults(apps, schema_editor):
    CoverageStandard = apps.get_model("facilities", "CoverageStandard")
    for item in DEFAULTS:
        CoverageStandard.objects.filter(category=item["category"], kind=item["kind"]).delete()


class Migration(migrations.Migration):
    dependencies = [("facilities", "0001_initial")]
    operations = [migrations.RunPython(add_defaults, remove_defaults)]
