"""Property-based: requests generated from the served OpenAPI description never get a 500,
and every JSON error is the spec's error list."""

from __future__ import annotations

import json

import hypothesis.strategies as st
import schemathesis
from hypothesis import HealthCheck, given, settings

from hotline.domain.actors import SYSTEM_ACTOR
from hotline.web import create_app


def test_no_generated_request_gets_a_500(sqlite_services):
    app = create_app(sqlite_services)
    key = sqlite_services.app.issue_api_key("性质测试", SYSTEM_ACTOR).key
    schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    seen = set()

    @given(case=st.one_of([operation.as_strategy() for operation in operations]), use_key=st.booleans())
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case, use_key):
        if case.method == "POST" and isinstance(case.body, dict) and use_key:
            case.body["api_key"] = key  # half the POSTs get past the key check, and have a place
            case.body.setdefault("address_string", "解放路 1 号")
        response = case.call()
        seen.add((case.method, case.operation.path, response.status_code))
        assert response.status_code < 500, (case.method, case.formatted_path, case.query, case.body)
        if response.status_code >= 400 and case.path_parameters.get("format") == "json":
            errors = json.loads(response.text)
            assert errors and all(set(e) == {"code", "description"} for e in errors)

    check()
    assert ("POST", "/requests.{format}", 200) in seen
    assert {path for _, path, _ in seen} == {operation.path for operation in operations}
