"""The default scopes within which a proposed name may neither repeat a standard name nor sound the
same (same toneless pinyin), with their sources. They are data: an administrator edits them in the
admin. Sources: 《地名管理条例》(国发〔1986〕11号) 第四条(三) and 《地名管理条例实施细则》(民政部, 1996)
第八条(五); the wording was read in secondary copies (the official gazette text was not available here),
and the clause numbers of the 2022 revision of the regulation were not confirmed."""

from django.db import migrations

RULES_1986 = "《地名管理条例》(1986) 第四条(三): 不应重名，并避免同音"
DETAIL_1996 = "《地名管理条例实施细则》(1996) 第八条(五)"

SCOPES = [
    ("county", "municipality", ["district"], f"{RULES_1986} (全国范围内的县、市以上名称); {DETAIL_1996}",
     "the rule is nationwide; the gazetteer holds Chongqing only"),
    ("division", "district", ["township"], f"{DETAIL_1996}: 一个县(市、区)内的乡、镇、街道办事处名称不应重名，避免同音", ""),
    ("community", "township", ["village"], f"{DETAIL_1996}: 一个乡、镇内自然村名称不应重名，避免同音",
     "communities and villages share one class in the gazetteer"),
    ("village", "township", ["village"], f"{DETAIL_1996}: 一个乡、镇内自然村名称不应重名，避免同音", ""),
    ("road", "district", ["road"], f"{DETAIL_1996}: 一个城镇内的街、巷、居民区名称不应重名，避免同音",
     "the town or urban area is approximated by the district/county"),
    ("residential_area", "district", ["other"], f"{DETAIL_1996}: 一个城镇内的街、巷、居民区名称不应重名，避免同音",
     "the town or urban area is approximated by the district/county"),
    ("bridge", "district", ["facility"], "project rule by analogy with roads (实施细则 第八条(五) names no bridges)", ""),
    ("natural_feature", "municipality", ["natural"],
     f"{DETAIL_1996}: 一个省、自治区、直辖市行政区域内，较重要的自然地理实体名称不应重名", ""),
]


def scopes_create(apps, schema_editor):
    CheckScope = apps.get_model("office", "CheckScope")
    for object_type, area, classes, source, note in SCOPES:
        CheckScope.objects.update_or_create(
            object_type=object_type,
            defaults={"area": area, "feature_classes": classes, "source": source, "note": note},
        )


class Migration(migrations.Migration):
    dependencies = [("office", "0001_initial")]
    operations = [migrations.RunPython(scopes_create, migrations.RunPython.noop)]
