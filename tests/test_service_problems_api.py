"""TMF656 Service Problem Management v4 and v5 through the public API: CRUD, TMF630 list rules, the
lifecycle (illegal moves refused), If-Match, problemGroup/problemUngroup, event records and hub events
delivered by the worker to a real listener. Responses and event bodies are validated against the official
specs (v4 Swagger definitions with jsonschema Draft 4; v5 with tests/spec_validator.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft4Validator

from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.processes.service_problems import problem_history
from troubleflow.storage.db import Database
from troubleflow.worker import Worker

from .conftest import BASE, SPECS, api, ticket_body
from .spec_validator import OpenApiSpec
from .test_event_delivery import Receiver, receivers  # noqa: F401  (the listener fixture)

V4_SPEC = SPECS / "TMF656-ServiceProblem-v4.0.0.swagger.json"
V5_SPEC = SPECS / "TMF656-Service_Problem_Management-v5.0.0.oas.yaml"
pytestmark = pytest.mark.skipif(not V4_SPEC.exists(), reason="official TMF656 specs not found")


def root(version: str) -> str:
    return f"/tmf-api/serviceProblemManagement/{version}"


def body(version: str, **overrides: Any) -> dict[str, Any]:
    if version == "v4":
        out: dict[str, Any] = {
            "name": "IPTV middleware down",
            "category": "iptv",
            "priority": 2,
            "description": "Middleware cluster in Frankfurt not answering",
            "reason": "alarm storm on mw-fra-1",
            "originatingSystem": "nms-1",
            "originatorParty": {"id": "noc", "role": "originator", "@referredType": "Organization"},
            "affectedService": [{"id": "svc-9-iptv", "@referredType": "Service"}],
            "affectedResource": [{"id": "mw-fra-1", "@referredType": "Resource"}],
            "affectedLocation": [{"id": "fra-1", "role": "site", "@referredType": "GeographicSite"}],
        }
    else:
        out = {
            "@type": "ServiceProblem",
            "name": "IPTV middleware down",
            "category": "iptv",
            "priority": 2,
            "description": "Middleware cluster in Frankfurt not answering",
            "reason": "alarm storm on mw-fra-1",
            "originatingSystem": "nms-1",
            "originatorParty": {
                "@type": "RelatedPartyRefOrPartyRoleRef",
                "role": "originator",
                "partyOrPartyRole": {"@type": "PartyRef", "id": "noc", "@referredType": "Organization"},
            },
            "affectedService": [{"@type": "ServiceRef", "id": "svc-9-iptv"}],
            "affectedResource": [{"@type": "ResourceRef", "id": "mw-fra-1"}],
            "affectedLocation": [
                {
                    "@type": "RelatedPlaceRefOrValue",
                    "role": "site",
                    "place": {"@type": "PlaceRef", "id": "fra-1"},
                }
            ],
        }
    out.update(overrides)
    return out


@cache
def _v4_definitions() -> dict[str, Any]:
    return dict(json.loads(V4_SPEC.read_text())["definitions"])


def v4_conforms(definition: str, doc: Any) -> None:
    Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": _v4_definitions()}).validate(doc)


@pytest.fixture(scope="module")
def v5_spec() -> OpenApiSpec:
    return OpenApiSpec.load(V5_SPEC)


def conforms(spec: OpenApiSpec | None, response: httpx.Response, definition: str | None = None) -> Any:
    """Validate a response body against the version's spec (v4: the named definition; v5: the
    path/method/status schema). Returns the body."""
    doc = response.json() if response.content else None
    path = response.request.url.path
    if path.startswith(root("v5")) and spec is not None:
        status = 200 if response.status_code == 206 else response.status_code
        spec.validate_response(path.removeprefix(root("v5")), response.request.method, status, doc)
    elif definition is not None:
        for item in doc if isinstance(doc, list) else [doc]:
            v4_conforms(definition, item)
    return doc


def create(client: TestClient, version: str, **overrides: Any) -> dict[str, Any]:
    r = client.post(f"{root(version)}/serviceProblem", json=body(version, **overrides))
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_a_service_problem_is_created_read_listed_patched_and_deleted_as_the_spec_says(
    client: TestClient, version: str, v5_spec: OpenApiSpec
) -> None:
    r = client.post(f"{root(version)}/serviceProblem", json=body(version))
    assert r.status_code == 201, r.text
    created = conforms(v5_spec, r, "ServiceProblem")
    pid = created["id"]
    assert r.headers["Location"] == f"{BASE}{root(version)}/serviceProblem/{pid}" == created["href"]
    assert created["status"] == "acknowledged" and created["priority"] == 2
    assert created["affectedService"][0]["id"] == "svc-9-iptv" and created["originatingSystem"] == "nms-1"
    location = created["affectedLocation"][0]
    assert (location["place"]["id"] if version == "v5" else location["id"]) == "fra-1"

    got = client.get(f"{root(version)}/serviceProblem/{pid}")
    assert conforms(v5_spec, got, "ServiceProblem") == created and got.headers["ETag"] == '"1"'
    listed = client.get(f"{root(version)}/serviceProblem")
    assert [p["id"] for p in conforms(v5_spec, listed, "ServiceProblem")] == [pid]

    patched = client.patch(
        f"{root(version)}/serviceProblem/{pid}",
        json={"status": "inProgress", "priority": 1, "note": [{"text": "field team on site"}]},
        headers={"Content-Type": "application/merge-patch+json", "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    doc = conforms(v5_spec, patched, "ServiceProblem")
    assert (doc["status"], doc["priority"], doc["note"][0]["text"]) == ("inProgress", 1, "field team on site")
    assert patched.headers["ETag"] == '"2"'

    deleted = client.delete(f"{root(version)}/serviceProblem/{pid}")
    assert deleted.status_code == 204
    assert client.get(f"{root(version)}/serviceProblem/{pid}").status_code == 404


def test_a_v4_problem_reads_in_v5_with_wrapped_references(client: TestClient, v5_spec: OpenApiSpec) -> None:
    pid = create(client, "v4")["id"]
    got = client.get(f"{root('v5')}/serviceProblem/{pid}")
    doc = conforms(v5_spec, got)
    assert doc["originatorParty"]["partyOrPartyRole"] == {
        "@type": "PartyRef",
        "id": "noc",
        "@referredType": "Organization",
    }
    assert doc["affectedService"] == [{"@type": "ServiceRef", "id": "svc-9-iptv", "@referredType": "Service"}]


def test_the_list_filters_sorts_pages_and_selects_fields_like_tmf630(client: TestClient) -> None:
    ids = [create(client, "v4", priority=n, category="iptv" if n < 3 else "voice")["id"] for n in (1, 2, 3)]
    url = f"{root('v4')}/serviceProblem"
    assert [p["id"] for p in client.get(f"{url}?category=iptv").json()] == ids[:2]
    assert [p["id"] for p in client.get(f"{url}?priority.gte=2&sort=-priority").json()] == [ids[2], ids[1]]
    assert [p["id"] for p in client.get(f"{url}?affectedService.id=svc-9-iptv").json()] == ids
    page = client.get(f"{url}?offset=1&limit=1&fields=priority")
    assert page.status_code == 206 and page.json() == [{"priority": 2}]
    assert page.headers["X-Total-Count"] == "3" and page.headers["X-Result-Count"] == "1"
    v5 = client.get(f"{root('v5')}/serviceProblem?fields=status&limit=1").json()
    assert set(v5[0]) == {"id", "href", "@type", "status"}


def test_an_illegal_status_move_is_refused_with_a_tmf_error_and_changes_nothing(
    client: TestClient, db: Database
) -> None:
    pid = create(client, "v4")["id"]
    url = f"{root('v4')}/serviceProblem/{pid}"
    refused = client.patch(url, json={"status": "resolved"})
    assert refused.status_code == 409
    assert (
        refused.json()["code"] == "invalidTransition"
        and "allowed: cancelled, inProgress" in refused.json()["message"]
    )
    unknown = client.patch(url, json={"status": "cleared"})
    assert unknown.status_code == 400
    client.patch(url, json={"status": "rejected"})
    final = client.patch(url, json={"status": "inProgress"})
    assert final.status_code == 409 and "final status" in final.json()["message"]
    assert client.get(url).json()["status"] == "rejected"
    assert [e.action for e in problem_history(db, pid)] == ["created", "statusChanged"]


def test_the_tmf656_lifecycle_lets_a_rejected_solution_reopen_a_closed_problem(client: TestClient) -> None:
    pid = create(client, "v4")["id"]
    url = f"{root('v4')}/serviceProblem/{pid}"
    for status in ("inProgress", "held", "resolved", "closed", "inProgress", "pending", "resolved"):
        r = client.patch(url, json={"status": status})
        assert r.status_code == 200, (status, r.text)
    assert "resolutionDate" in client.get(url).json()


def test_bad_input_gets_400_404_409_or_412_and_changes_nothing(client: TestClient) -> None:
    url = f"{root('v4')}/serviceProblem"
    missing = client.post(url, json={k: v for k, v in body("v4").items() if k != "reason"})
    assert missing.status_code == 400 and missing.json()["message"] == "'reason' is mandatory"
    for bad in ("1", 0, 11, 2.5, True):
        r = client.post(url, json=body("v4", priority=bad))
        assert r.status_code == 400, bad
    no_type = client.post(
        f"{root('v5')}/serviceProblem", json={k: v for k, v in body("v5").items() if k != "@type"}
    )
    assert no_type.status_code == 400
    assert (
        client.post(url, content=b"{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert client.get(url).json() == []

    pid = create(client, "v4")["id"]
    one = f"{url}/{pid}"
    assert client.patch(one, json={"id": "other"}).status_code == 400
    assert client.patch(one, json={"originatingSystem": "other"}).status_code == 400
    assert client.patch(one, json={"priority": 12}).status_code == 400
    stale = client.patch(one, json={"name": "x"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert client.get(f"{url}/nope").status_code == 404
    assert client.patch(f"{url}/nope", json={"name": "x"}).status_code == 404
    assert client.delete(f"{url}/nope").status_code == 404
    assert client.get(one).json()["name"] == "IPTV middleware down"
    assert client.get(one).headers["ETag"] == '"1"'


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_problems_are_grouped_under_a_parent_and_ungrouped_again(
    client: TestClient, version: str, v5_spec: OpenApiSpec
) -> None:
    parent, a, b = (create(client, version)["id"] for _ in range(3))
    ref_type = {"@type": "ServiceProblemRef"} if version == "v5" else {}
    task = {
        "parentProblem": {"id": parent, **ref_type},
        "childProblem": [{"id": a, **ref_type}, {"id": b, **ref_type}],
    }
    if version == "v5":
        task["@type"] = "ProblemGroup"
    grouped = client.post(f"{root(version)}/problemGroup", json=task)
    assert grouped.status_code == 201, grouped.text
    conforms(v5_spec, grouped, "ProblemGroup")
    p = client.get(f"{root(version)}/serviceProblem/{parent}").json()
    assert [r["id"] for r in p["underlyingProblem"]] == [a, b]
    assert client.get(f"{root(version)}/serviceProblem/{a}").json()["parentProblem"][0]["id"] == parent

    other = create(client, version)["id"]
    clash = client.post(
        f"{root(version)}/problemGroup", json={**task, "parentProblem": {"id": other, **ref_type}}
    )
    assert clash.status_code == 409  # already under a parent
    unknown = client.post(f"{root(version)}/problemGroup", json={**task, "childProblem": [{"id": "nope"}]})
    assert unknown.status_code == 400

    task["@type"] = "ProblemUngroup" if version == "v5" else task.get("@type", "ProblemUngroup")
    ungrouped = client.post(
        f"{root(version)}/problemUngroup", json={**task, "childProblem": [task["childProblem"][0]]}
    )
    assert ungrouped.status_code == 201, ungrouped.text
    assert [
        r["id"] for r in client.get(f"{root(version)}/serviceProblem/{parent}").json()["underlyingProblem"]
    ] == [b]
    assert "parentProblem" not in client.get(f"{root(version)}/serviceProblem/{a}").json()
    again = client.post(
        f"{root(version)}/problemUngroup", json={**task, "childProblem": [task["childProblem"][0]]}
    )
    assert again.status_code == 409
    if version == "v5":
        tid = grouped.json()["id"]
        assert conforms(v5_spec, client.get(f"{root('v5')}/problemGroup/{tid}"))["state"] == "done"
        assert [t["id"] for t in client.get(f"{root('v5')}/problemGroup").json()] == [tid]
    else:
        assert client.get(f"{root('v4')}/problemGroup").status_code == 405


def test_every_event_of_a_problem_is_kept_as_an_event_record(client: TestClient) -> None:
    # A record's `notification` is an `Any`, whose only mapped @type is "Any": the event it holds is a
    # TMF630 sub-class of it (its own @type), which the lenient reading of the spec admits.
    lenient = OpenApiSpec.load(V5_SPEC, strict=False)
    pid = create(client, "v5")["id"]
    client.patch(f"{root('v5')}/serviceProblem/{pid}", json={"status": "inProgress"})
    records = client.get(f"{root('v5')}/serviceProblemEventRecord")
    docs = conforms(lenient, records)
    assert [d["eventType"] for d in docs] == ["ServiceProblemCreateEvent", "ServiceProblemStateChangeEvent"]
    one = client.get(f"{root('v4')}/serviceProblemEventRecord/{docs[1]['id']}")
    record = conforms(None, one, "ServiceProblemEventRecord")
    assert record["serviceProblem"]["id"] == pid and record["notification"]["event"]["serviceProblem"][
        "status"
    ] == ("inProgress")
    assert client.get(f"{root('v4')}/serviceProblemEventRecord/nope").status_code == 404


@pytest.fixture
def worker(db: Database, settings: Settings, clock: FixedClock) -> Iterator[Worker]:
    w = Worker(db, settings, clock=clock)
    yield w
    w.close()


def test_hub_subscribers_get_tmf656_events_and_trouble_ticket_subscribers_do_not(
    client: TestClient,
    worker: Worker,
    receivers: Callable[..., Receiver],  # noqa: F811
    v5_spec: OpenApiSpec,
) -> None:
    v4_listener, v5_listener, tt_listener = receivers(), receivers(), receivers()
    hubs = [
        client.post(f"{root('v4')}/hub", json={"callback": v4_listener.url}),
        client.post(f"{root('v5')}/hub", json={"@type": "Hub", "callback": v5_listener.url}),
        client.post(f"{api('v4')}/hub", json={"callback": tt_listener.url}),
    ]
    assert [h.status_code for h in hubs] == [201, 201, 201]
    v4_conforms("EventSubscription", hubs[0].json())
    conforms(v5_spec, hubs[1])

    pid = create(client, "v4")["id"]
    url = f"{root('v4')}/serviceProblem/{pid}"
    client.patch(url, json={"description": "mw-fra-1 and mw-fra-2 down"})
    client.patch(url, json={"status": "inProgress"})
    client.patch(url, json={"status": "pending", "statusChangeReason": "which channels?"})
    client.delete(url)
    worker.run_once()

    expected = [
        "ServiceProblemCreateEvent",
        "ServiceProblemAttributeValueChangeEvent",
        "ServiceProblemStateChangeEvent",
        "ServiceProblemStateChangeEvent",
        "ServiceProblemInformationRequiredEvent",
    ]
    v4_events = [r.body for r in v4_listener.requests]
    assert [e["eventType"] for e in v4_events] == expected  # v4 has no delete event
    for event in v4_events:
        v4_conforms(event["eventType"], event)
    assert v4_events[1]["fieldPath"] == "description"
    v5_events = [r.body for r in v5_listener.requests]
    assert [e["eventType"] for e in v5_events] == [*expected, "ServiceProblemDeleteEvent"]
    for event in v5_events:
        v5_spec.validate_component(event["eventType"], event)
    assert tt_listener.requests == []
    hub_id = hubs[0].json()["id"]
    assert client.delete(f"{api('v4')}/hub/{hub_id}").status_code == 404  # not a TMF621 subscription
    assert client.delete(f"{root('v4')}/hub/{hub_id}").status_code == 204


def test_a_report_linked_to_a_problem_tells_its_trouble_ticket_subscribers(
    client: TestClient,
    worker: Worker,
    receivers: Callable[..., Receiver],  # noqa: F811
) -> None:
    tt_listener = receivers()
    client.post(f"{api('v4')}/hub", json={"callback": tt_listener.url})
    rid = client.post(f"{api('v4')}/troubleTicket", json=ticket_body()).json()["id"]
    pid = create(client, "v4", troubleTicket=[{"id": rid}])["id"]
    worker.run_once()
    changed = [
        r.body
        for r in tt_listener.requests
        if r.body["eventType"] == "TroubleTicketAttributeValueChangeEvent"
    ]
    assert changed and changed[-1]["event"]["troubleTicket"]["relatedEntity"][-1]["id"] == pid
