"""Property-based fuzzing of every operation in OUR OpenAPI document (`app.openapi()`) with
schemathesis: whatever a client sends — valid or not — the server answers without a 5xx, and its
answers match the responses that document declares.

Bounded for CI: fuzzing phase only, at most MAX_EXAMPLES cases per operation, a fixed seed and
derandomized Hypothesis (same cases every run), no example database on disk."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from schemathesis import Case
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.conftest import BASE, api, ticket_body
from troubleflow.api.app import create_app
from troubleflow.config import Settings

MAX_EXAMPLES = 25
SEED = 621

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "phases": {
            "examples": {"enabled": False},
            "coverage": {"enabled": False},
            "stateful": {"enabled": False},
            "fuzzing": {"enabled": True},
        },
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
    }
)


# The document is generated at collection time (the parametrization needs it); building an app just
# to read its OpenAPI opens no database connection. The requests go through the `client` fixture,
# i.e. the app over the test database (`db`), with raise_server_exceptions=False so that a crash is
# seen as the 500 a real client would get (and reported by `not_a_server_error` with a curl line).
# Lazy `schemathesis.pytest.from_fixture` is not usable here: schemathesis 4.32 sets
# `request.node._nodeid`, which pytest 9.2 no longer has (AttributeError at run time).
schema = schemathesis.openapi.from_dict(
    create_app(Settings(database_url="sqlite://")).openapi(), config=CONFIG
)

# Response conformance is checked against OUR document for every response except those to requests
# with `fields=`: the document declares the 200/201 body as the full v4_/v5_TroubleTicket (whose
# `required` lists description, severity, ticketType ...), while a TMF630 projection legitimately
# returns only the selected attributes plus the identity keys. That gap is in the document, and is
# reported rather than papered over by relaxing the schema.


def existing_id(client: TestClient, path: str) -> str:
    """Create the resource a `.../{id}` operation addresses, so the case reaches real logic, not 404."""
    version = "v5" if "/v5/" in path else "v4"
    if "/serviceProblemManagement/" in path:
        return service_problem_id(client, path, version)
    if path.endswith("/hub/{id}"):
        body: dict[str, object] = {"callback": "http://listener.example/events"}
        if version == "v5":
            body["@type"] = "Hub"
        response = client.post(f"{api(version)}/hub", json=body)
    elif path.endswith("/knownError/{id}"):
        body = {"title": "Fuzzed", "symptom": "fuzzed symptom", "workaround": "none"}
        response = client.post("/tmf-api/troubleflow/v1/knownError", json=body)
    else:
        response = client.post(f"{api(version)}/troubleTicket", json=ticket_body(version))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def service_problem_id(client: TestClient, path: str, version: str) -> str:
    """TMF656 (docs/service-problems.md): a problem, its event record or a subscription to address."""
    root = path.split("/serviceProblemManagement/")[0] + f"/serviceProblemManagement/{version}"
    if path.endswith("/hub/{id}"):
        hub: dict[str, object] = {"callback": "http://listener.example/events"}
        response = client.post(f"{root}/hub", json=hub if version == "v4" else {**hub, "@type": "Hub"})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])
    problem: dict[str, object] = {
        "@type": "ServiceProblem",
        "category": "fuzz",
        "priority": 5,
        "description": "fuzzed",
        "reason": "fuzzed",
        "originatorParty": {"id": "noc", "@referredType": "Organization"},
    }
    response = client.post(f"{root}/serviceProblem", json=problem)
    assert response.status_code == 201, response.text
    if path.endswith("/serviceProblemEventRecord/{id}"):
        return str(client.get(f"{root}/serviceProblemEventRecord").json()[-1]["id"])
    return str(response.json()["id"])


def send(client: TestClient, case: Case) -> Response:
    """Send a generated case with our TestClient (requests-style kwargs → httpx)."""
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url=BASE)
    kwargs.pop("cookies", None)  # none in our API; httpx deprecates per-request cookies
    data = kwargs.pop("data", None)
    if isinstance(data, (bytes, str)):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    return client.request(**kwargs)


# CPython 3.11 sometimes raises "SystemError: AST constructor recursion depth mismatch" from `ast`
# while Hypothesis describes a strategy (an interpreter bug, not ours); only that error is retried.
@pytest.mark.flaky(reruns=2, only_rerun=["AST constructor recursion depth mismatch"])
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
@schema.parametrize()
def test_no_operation_answers_with_a_server_error(case: Case, client: TestClient) -> None:
    if "{id}" in case.path:  # unknown ids (404) are covered by the conformance tests
        case.path_parameters = {**(case.path_parameters or {}), "id": existing_id(client, case.path)}

    response = send(client, case)

    checks = [not_a_server_error]
    if "fields" not in (case.query or {}):  # projections: see the note above
        checks.append(response_schema_conformance)
    case.validate_response(response, checks=checks)


def test_fuzzed_document_is_the_one_the_app_under_test_serves(app: FastAPI) -> None:
    assert schema.raw_schema == app.openapi()


# Inputs the fuzzer found (or that it reaches only by chance) that once crashed a database driver:
# a 2**64-1 offset overflows SQLite INTEGER / PostgreSQL bigint; PostgreSQL text refuses U+0000.
EDGE_REQUESTS = {
    "offset beyond 64 bits": ("GET", "/troubleTicket?offset=18446744073709551615", None),
    "NUL in a filter value": ("GET", "/troubleTicket?name=a%00b", None),
    "NUL in a ticket id": ("GET", "/troubleTicket/a%00b", None),
    "NUL in a patched name": ("PATCH", "/troubleTicket/{id}", {"name": "a\u0000b"}),
    "NUL in a created name": ("POST", "/troubleTicket", {"name": "a\u0000b"}),
}


@pytest.mark.parametrize("version", ["v4", "v5"])
@pytest.mark.parametrize("label", list(EDGE_REQUESTS))
def test_edge_input_gets_a_client_answer_not_a_server_error(
    client: TestClient, version: str, label: str
) -> None:
    method, path, patch = EDGE_REQUESTS[label]
    if "{id}" in path:
        path = path.replace("{id}", existing_id(client, f"/{version}/troubleTicket/{{id}}"))
    body = {**ticket_body(version), **patch} if method == "POST" and patch else patch
    headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}

    response = client.request(method, f"{api(version)}{path}", json=body, headers=headers)

    assert response.status_code < 500, response.text
