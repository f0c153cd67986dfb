"""Fuzzing the public API from its own OpenAPI document (schemathesis): every GET operation, with
generated valid and invalid parameters, over HTTP against the portal served from the test
database. No answer may be a 5xx, and every answer must be one the document promises: a documented
status code and content type, and a body that matches the documented schema, so that a client
generated from the document does not break on a real answer.

The operations are read from the document drf-spectacular builds (at collection, one test each);
the first test checks that it is the one the service serves. Bounded: ``FUZZ_EXAMPLES`` valid and
as many invalid examples per operation (default 15; about a minute on 2 cores)."""

import os

import pytest
import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

pytestmark = pytest.mark.django_db

DOCUMENT = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT).include(method="GET")
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}


def test_the_fuzzed_document_is_the_one_served(portal_server):
    served = requests.get(f"{portal_server}/api/v1/schema/", params={"format": "json"}, timeout=30)
    assert served.status_code == 200
    assert served.json()["paths"].keys() == DOCUMENT["paths"].keys()
    assert len(OPERATIONS) >= 17  # every public read, not a filtered few


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_public_answer_is_documented_and_no_5xx(label, portal_server):
    operation = OPERATIONS[label]
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=2 * EXAMPLES,
        deadline=None,
        database=None,  # no .hypothesis/ directory in the work tree
        derandomize=True,  # the same cases every run: a failure in CI reproduces here
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        case.call_and_validate(base_url=portal_server, checks=CHECKS, timeout=30)

    fuzz()
