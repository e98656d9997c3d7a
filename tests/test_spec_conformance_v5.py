"""Interoperability with the OFFICIAL TMF621 v5.0.1 spec: drive /tmf-api/troubleTicket/v5 as an
independent client built from that spec would, and validate every response body (and every v5 event
envelope) against the schema the spec declares for it. See tests/spec_validator.py for how the TMF
discriminators are handled."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import BASE, SPECS, api, finish_work_plan, ticket_body
from tests.spec_validator import DATE_TIME_CHECKED, OpenApiSpec, SpecViolation
from troubleflow import webhooks
from troubleflow.storage import outbox
from troubleflow.storage.db import Database

SPEC = SPECS / "TMF621-Trouble_Ticket-v5.0.1.oas.yaml"
V5 = api("v5")
MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}
MINIMAL = {
    "@type": "TroubleTicket",
    "description": "Slow line",
    "severity": "Minor",
    "ticketType": "incident",
}

pytestmark = pytest.mark.skipif(
    not SPEC.exists(), reason="official TMF621 v5 spec not found at ../shared/specs (CI has it)"
)


@pytest.fixture(scope="module")
def spec() -> OpenApiSpec:
    return OpenApiSpec.load(SPEC)


def assert_conforms(spec: OpenApiSpec, response: Response, *, as_status: int | None = None) -> Any:
    """Validate a v5 response body against the spec's schema for its path, method and status.

    `as_status` validates against another declared status (206 is not declared by TMF621 v5; its
    body is the 200 array). Returns the decoded body (None when there is none)."""
    path = response.request.url.path.removeprefix(V5)
    body = response.json() if response.content else None
    spec.validate_response(
        path,
        response.request.method,
        as_status or response.status_code,
        body,
        media_type=response.headers.get("content-type", "application/json"),
    )
    return body


def create(client: TestClient, body: dict[str, object]) -> dict[str, Any]:
    response = client.post(f"{V5}/troubleTicket", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def v5_envelopes(db: Database) -> list[dict[str, Any]]:
    """The v5 event envelopes a subscriber would receive for everything in the outbox so far."""
    with db.read() as conn:
        events = outbox.undispatched(conn, 100)
    return [webhooks.envelope(event, "v5", BASE) for event in events]


# --------------------------------------------------------------------------- tickets
def test_created_minimal_ticket_conforms_to_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    response = client.post(f"{V5}/troubleTicket", json=MINIMAL)

    assert response.status_code == 201, response.text
    body = assert_conforms(spec, response)
    assert body["@type"] == "TroubleTicket"
    assert body["status"] == "acknowledged"


def test_created_rich_ticket_conforms_to_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    response = client.post(f"{V5}/troubleTicket", json=ticket_body("v5"))

    assert response.status_code == 201, response.text
    body = assert_conforms(spec, response)
    assert body["relatedParty"][0]["partyOrPartyRole"]["@type"] == "PartyRef"


def test_created_ticket_with_attachments_characteristic_and_party_role_conforms_to_v5_spec(
    client: TestClient, spec: OpenApiSpec
) -> None:
    body = ticket_body(
        "v5",
        attachment=[
            {
                "@type": "Attachment",
                "attachmentType": "image",
                "mimeType": "image/png",
                "content": "aGVsbG8=",
                "name": "x.png",
            },
            {"@type": "AttachmentRef", "id": "att-1"},
        ],
        troubleTicketCharacteristic=[{"@type": "StringCharacteristic", "name": "line", "value": "DSL-1"}],
        relatedParty=[
            {
                "@type": "RelatedPartyRefOrPartyRoleRef",
                "role": "reporter",
                "partyOrPartyRole": {
                    "@type": "PartyRoleRef",
                    "id": "cr-7",
                    "partyId": "cust-42",
                    "partyName": "Ada Lovelace",
                    "@referredType": "Customer",
                },
            }
        ],
    )

    response = client.post(f"{V5}/troubleTicket", json=body)

    assert response.status_code == 201, response.text
    created = assert_conforms(spec, response)
    assert [a["@type"] for a in created["attachment"]] == ["Attachment", "AttachmentRef"]
    assert created["troubleTicketCharacteristic"][0]["@type"] == "StringCharacteristic"
    assert created["relatedParty"][0]["partyOrPartyRole"]["@type"] == "PartyRoleRef"


def test_retrieved_ticket_conforms_to_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    ticket = create(client, ticket_body("v5"))

    response = client.get(f"{V5}/troubleTicket/{ticket['id']}")

    assert response.status_code == 200
    assert assert_conforms(spec, response)["id"] == ticket["id"]


def test_listed_tickets_conform_to_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    create(client, MINIMAL)
    create(client, ticket_body("v5"))

    response = client.get(f"{V5}/troubleTicket")

    assert response.status_code == 200
    assert len(assert_conforms(spec, response)) == 2


def test_partial_list_page_conforms_to_v5_list_schema(client: TestClient, spec: OpenApiSpec) -> None:
    create(client, MINIMAL)
    create(client, ticket_body("v5"))

    response = client.get(f"{V5}/troubleTicket", params={"limit": "1"})

    assert response.status_code == 206
    assert len(assert_conforms(spec, response, as_status=200)) == 1


def test_projected_ticket_conforms_to_v5_spec_and_keeps_identity(
    client: TestClient, spec: OpenApiSpec
) -> None:
    ticket = create(client, ticket_body("v5"))

    one = client.get(f"{V5}/troubleTicket/{ticket['id']}", params={"fields": "status,severity"})
    many = client.get(f"{V5}/troubleTicket", params={"fields": "status"})

    assert one.status_code == 200 and many.status_code == 200
    assert set(assert_conforms(spec, one)) == {"id", "href", "@type", "status", "severity"}
    assert [set(t) for t in assert_conforms(spec, many)] == [{"id", "href", "@type", "status"}]


def test_merge_patched_ticket_conforms_to_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    ticket = create(client, ticket_body("v5"))

    response = client.patch(
        f"{V5}/troubleTicket/{ticket['id']}",
        headers=MERGE,
        json={
            "status": "inProgress",
            "statusChangeReason": "assigned to field team",
            "note": [{"@type": "Note", "author": "agent-9", "text": "engineer booked for 14:00"}],
        },
    )

    assert response.status_code == 200, response.text
    body = assert_conforms(spec, response)
    assert body["status"] == "inProgress"
    assert len(body["note"]) == 2


def test_json_patched_ticket_conforms_to_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    ticket = create(client, ticket_body("v5"))

    response = client.patch(
        f"{V5}/troubleTicket/{ticket['id']}",
        headers=JSON_PATCH,
        json=[
            {"op": "replace", "path": "/priority", "value": "Low"},
            {"op": "add", "path": "/note/-", "value": {"@type": "Note", "text": "customer called back"}},
        ],
    )

    assert response.status_code == 200, response.text
    assert assert_conforms(spec, response)["priority"] == "Low"


def test_deleted_ticket_answer_conforms_to_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    ticket = create(client, MINIMAL)

    response = client.delete(f"{V5}/troubleTicket/{ticket['id']}")

    assert response.status_code == 204
    assert assert_conforms(spec, response) is None


# --------------------------------------------------------------------------- hub
def test_hub_subscription_lifecycle_conforms_to_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    created = client.post(
        f"{V5}/hub",
        json={
            "@type": "Hub",
            "callback": "http://listener.example/events",
            "query": "eventType=TroubleTicketCreateEvent",
        },
    )
    assert created.status_code == 201, created.text
    hub_id = assert_conforms(spec, created)["id"]

    fetched = client.get(f"{V5}/hub/{hub_id}")
    deleted = client.delete(f"{V5}/hub/{hub_id}")

    assert fetched.status_code == 200
    assert assert_conforms(spec, fetched)["callback"] == "http://listener.example/events"
    assert deleted.status_code == 204
    assert assert_conforms(spec, deleted) is None


def test_unknown_hub_error_conforms_to_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    response = client.get(f"{V5}/hub/no-such-hub")

    assert response.status_code == 404
    assert assert_conforms(spec, response)["@type"] == "Error"


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("missing", ["description", "@type"])
def test_invalid_create_error_conforms_to_v5_spec(
    client: TestClient, spec: OpenApiSpec, missing: str
) -> None:
    body = {k: v for k, v in ticket_body("v5").items() if k != missing}

    response = client.post(f"{V5}/troubleTicket", json=body)

    assert response.status_code == 400
    assert assert_conforms(spec, response)["@type"] == "Error"


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_ticket_error_conforms_to_v5_spec(client: TestClient, spec: OpenApiSpec, method: str) -> None:
    response = client.request(
        method,
        f"{V5}/troubleTicket/no-such-ticket",
        headers=MERGE,
        json={"priority": "Low"} if method == "PATCH" else None,
    )

    assert response.status_code == 404
    assert assert_conforms(spec, response)["@type"] == "Error"


def test_illegal_transition_error_conforms_to_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    ticket = create(client, MINIMAL)

    response = client.patch(f"{V5}/troubleTicket/{ticket['id']}", headers=MERGE, json={"status": "closed"})

    assert response.status_code == 409
    assert assert_conforms(spec, response)["@type"] == "Error"


# --------------------------------------------------------------------------- events
EVENT_TYPES = [
    "TroubleTicketCreateEvent",
    "TroubleTicketAttributeValueChangeEvent",
    "TroubleTicketStatusChangeEvent",
    "TroubleTicketInformationRequiredEvent",
    "TroubleTicketResolvedEvent",
    "TroubleTicketDeleteEvent",
]


def run_lifecycle(client: TestClient) -> None:
    """Create a ticket and take it through every kind of change that emits an event."""
    ticket = create(client, ticket_body("v5"))
    url = f"{V5}/troubleTicket/{ticket['id']}"
    for patch in (
        {"priority": "Low", "note": [{"@type": "Note", "text": "customer called back"}]},
        {"status": "inProgress", "statusChangeReason": "assigned"},
        {"status": "pending", "statusChangeReason": "need the modem serial number"},
        {"status": "inProgress", "statusChangeReason": "serial received"},
        {"status": "resolved", "statusChangeReason": "line card replaced"},
    ):
        if patch.get("status") == "resolved":
            finish_work_plan(client, ticket["id"])  # no clearing with mandatory tasks open (1.3.7.3.1)
        response = client.patch(url, headers=MERGE, json=patch)
        assert response.status_code == 200, response.text
    assert client.delete(url).status_code == 204


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_v5_event_envelope_conforms_to_v5_spec(
    client: TestClient, db: Database, spec: OpenApiSpec, event_type: str
) -> None:
    run_lifecycle(client)

    envelopes = [e for e in v5_envelopes(db) if e["@type"] == event_type]

    assert envelopes, f"the lifecycle emitted no {event_type}"
    for envelope in envelopes:
        assert envelope["eventType"] == event_type
        spec.validate_component(event_type, envelope)


# --------------------------------------------------------------------------- the validator itself
def test_validator_rejects_a_ticket_that_breaks_the_v5_spec(client: TestClient, spec: OpenApiSpec) -> None:
    ticket = create(client, ticket_body("v5"))
    broken = [
        {**ticket, "status": "open"},
        {k: v for k, v in ticket.items() if k != "@type"},
        {**ticket, "note": [{"text": "no @type"}]},
        {**ticket, "relatedParty": [{"@type": "RelatedParty", "id": "cust-42", "role": "customer"}]},
    ]

    for body in broken:
        with pytest.raises(SpecViolation):
            spec.validate_response("/troubleTicket/{id}", "GET", 200, body)


@pytest.mark.skipif(not DATE_TIME_CHECKED, reason="rfc3339-validator is not installed")
def test_validator_rejects_a_date_time_that_is_not_rfc3339(client: TestClient, spec: OpenApiSpec) -> None:
    ticket = create(client, MINIMAL)

    with pytest.raises(SpecViolation, match="date-time"):
        spec.validate_response(
            "/troubleTicket/{id}", "GET", 200, {**ticket, "creationDate": "2026-03-02 09:00"}
        )
