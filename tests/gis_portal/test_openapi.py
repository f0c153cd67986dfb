"""The OpenAPI document describes every endpoint without warnings, and lists the public contract."""

import yaml
from django.core.management import call_command


def test_schema_builds_without_warnings_and_has_the_contract(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    paths = set(yaml.safe_load(target.read_text(encoding="utf-8"))["paths"])
    assert {
        "/api/v1/placenames/search",
        "/api/v1/placenames/autocomplete",
        "/api/v1/placenames/{placename_id}",
        "/api/v1/locate",
        "/api/v1/divisions",
        "/api/v1/boundary-lines",
        "/api/v1/inspections/summary",
        "/api/v1/facilities",
        "/api/v1/coverage",
        "/api/v1/coverage/gaps",
        "/api/v1/coverage/suggest",
        "/api/v1/coverage/suggest/jobs",
        "/api/v1/jobs/{job_id}",
        "/api/v1/survey-uploads",
    } <= paths
