"""Fuzzing the portal from every OpenAPI document it serves (schemathesis): the public API's
(``/api/v1/schema/``) and the OGC API – Features service's (``/ogc/api``). Every GET operation, with
generated valid and invalid parameters, over HTTP against the portal served from the test
database. No answer may be a 5xx, and every answer must be one the document promises: a documented
status code and content type, and a body that matches the documented schema, so that a client
generated from the document does not break on a real answer.

The operations are read from the documents as the service builds them (at collection, one test
each); a test checks that each is the one the service serves. In the OGC operations about half the
cases name a real collection (``collectionId`` is any string to the document, and a random one only
finds the 404). Bounded: ``FUZZ_EXAMPLES`` valid and as many invalid examples per operation (default
15; about a minute for each document on 2 cores)."""

import os
import re

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

from gis_portal.portal.ogc import urls as ogc_urls
from gis_portal.portal.ogc.collections import STORED
from gis_portal.portal.ogc.document import openapi_document

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

pytestmark = pytest.mark.django_db

DOCUMENT = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT).include(method="GET")
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}
OGC_DOCUMENT = openapi_document(base="http://testserver/ogc")
OGC_SCHEMA = schemathesis.openapi.from_dict(OGC_DOCUMENT).include(method="GET")
OGC_OPERATIONS = {op.ok().label: op.ok() for op in OGC_SCHEMA.get_all_operations()}


def fuzz(operation, base_url: str, *, path_values: dict[str, list[str]] | None = None) -> None:
    """``FUZZ_EXAMPLES`` valid and as many invalid cases of ``operation``, each sent and checked;
    a path parameter named in ``path_values`` takes one of its values in about half the cases."""
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    for name, values in (path_values or {}).items():
        if f"{{{name}}}" in operation.path:

            def put(pair, name=name):
                case, value = pair
                if value is not None:
                    case.path_parameters = {**(case.path_parameters or {}), name: value}
                return case

            cases = st.tuples(cases, st.sampled_from([*values, *[None] * len(values)])).map(put)

    @given(case=cases)
    @settings(
        max_examples=2 * EXAMPLES,
        deadline=None,
        database=None,  # no .hypothesis/ directory in the work tree
        derandomize=True,  # the same cases every run: a failure in CI reproduces here
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=30)

    run()


def test_the_fuzzed_document_is_the_one_served(portal_server):
    served = requests.get(f"{portal_server}/api/v1/schema/", params={"format": "json"}, timeout=30)
    assert served.status_code == 200
    assert served.json()["paths"].keys() == DOCUMENT["paths"].keys()
    assert len(OPERATIONS) >= 17  # every public read, not a filtered few


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_public_answer_is_documented_and_no_5xx(label, portal_server):
    fuzz(OPERATIONS[label], portal_server)


def test_the_fuzzed_ogc_document_is_the_one_served(portal_server):
    served = requests.get(f"{portal_server}/ogc/api", timeout=30)
    assert served.status_code == 200
    assert served.json()["openapi"].startswith("3.0.")
    assert served.json()["paths"] == OGC_DOCUMENT["paths"]
    # Every route under /ogc/ is documented (the stored collections' items twice: the general
    # operation and each collection's own, with its queryables).
    routes = {"/" + re.sub(r"<str:(\w+)_id>", r"{\1Id}", str(route.pattern)) for route in ogc_urls.urlpatterns}
    assert routes == {path for path in OGC_DOCUMENT["paths"] if "{" in path or path.count("/") < 3}
    assert len(OGC_OPERATIONS) == len(routes) + len(STORED)


@pytest.mark.parametrize("label", sorted(OGC_OPERATIONS))
def test_every_ogc_answer_is_documented_and_no_5xx(label, portal_server):
    listed = requests.get(f"{portal_server}/ogc/collections", timeout=30).json()["collections"]
    ids = [collection["id"] for collection in listed]
    assert {c.id for c in STORED} < set(ids)  # and the coverage gaps of each standard
    fuzz(OGC_OPERATIONS[label], f"{portal_server}/ogc", path_values={"collectionId": ids})
