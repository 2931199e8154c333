"""Property-based requests from the service's own OpenAPI document (schemathesis), to a real process.

For every operation of ``/v1/openapi.json``, generated requests must never
get a 5xx (other than a 503 the document lists, which needs a host down) and
every answer must match the document: its status, content type and body
schema.  Every 400 must leave every Redis host as it was.  Kept small
(:data:`EXAMPLES` per operation) so that the whole module runs in well under
a minute.
"""
import hypothesis
import pytest
import schemathesis
from schemathesis.checks import (
    content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance,
)

import compat_replay as cr
from servers import RedisServer
from service_servers import serve_settings

EXAMPLES = 10
DBS = (1, 2)
TOKEN = "schema-admin-token"
KEYS = 30


@pytest.fixture(scope="module")
def running():
    server = RedisServer().start()
    service = serve_settings({"hosts": ["%s/%d" % (server.url, db) for db in DBS]}, "--token", "admin:" + TOKEN)
    yield [server.client(db) for db in DBS], service
    service.stop()
    server.cleanup()


@pytest.fixture(scope="module")
def api_document(running):
    document = schemathesis.openapi.from_url(running[1].url + "/v1/openapi.json")
    document.config.phases.coverage.enabled = False
    return document


schema = schemathesis.pytest.from_fixture("api_document")


@schema.parametrize()
@hypothesis.settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_answers_match_the_document(case, running):
    clients, service = running
    if sum(client.dbsize() for client in clients) > KEYS:
        clients[0].flushall()  # keeps each before/after dump small
    before = [cr.dump_host(client) for client in clients]
    response = case.call(base_url=service.url, headers={"Authorization": "Bearer " + TOKEN})
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                             response_schema_conformance])
    assert response.status_code < 500, response.text
    if response.status_code == 400:
        assert [cr.dump_host(client) for client in clients] == before, response.text
