"""Property-based fuzz of the OpenAPI schema (schemathesis, bounded): no request gets a 5xx."""

import pytest
import schemathesis
from conftest import SEEDS
from hypothesis import HealthCheck, given, settings

from askbrief.engine import Engine
from askbrief.serve.api import create_app
from askbrief.settings import Settings

EXAMPLES = 25  # per operation: enough to hit empty, huge, odd-typed and unicode inputs in ~1 min


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    engine = Engine("fuzz", Settings(home=tmp_path_factory.mktemp("fuzz")))
    engine.ingest_paths([SEEDS])
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(engine))


def test_no_request_gets_a_server_error(api_schema):
    seen = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)  # the same cases every run, so CI is repeatable
        def fuzz(case):
            response = case.call()
            seen[operation.label] = seen.get(operation.label, 0) + 1
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

        fuzz()
    print(f"fuzzed {sum(seen.values())} requests over {len(seen)} operations: {seen}")
    assert len(seen) >= 8
