"""TMF630 behaviours and the TMF621 server checklist (research/tmf-apis.md §9), on both versions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import api, ticket_body
from troubleflow.clock import FixedClock

MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def create(client: TestClient, version: str = "v4", **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{api(version)}/troubleTicket", json=ticket_body(version, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = dict(response.json())
    assert body["@type"] == "Error"
    assert body["status"] == str(status)
    assert isinstance(body["code"], str) and body["reason"] and body["message"]
    assert "Traceback" not in response.text
    return body


# --- create -------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_create_answers_201_with_location_etag_and_server_fields(client: TestClient, version: str) -> None:
    response = client.post(f"{api(version)}/troubleTicket", json=ticket_body(version))

    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"] == body["href"]
    assert body["href"] == f"http://testserver{api(version)}/troubleTicket/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert body["status"] == "acknowledged"
    assert (
        body["creationDate"] == body["lastUpdate"] == body["statusChangeDate"] == "2026-03-02T09:00:00.000Z"
    )


@pytest.mark.parametrize("missing", ["description", "severity", "ticketType"])
@pytest.mark.parametrize("version", ["v4", "v5"])
def test_create_without_mandatory_attribute_is_400(client: TestClient, version: str, missing: str) -> None:
    body = ticket_body(version)
    del body[missing]

    error = assert_error(client.post(f"{api(version)}/troubleTicket", json=body), 400)

    assert missing in error["message"]
    assert client.get(f"{api(version)}/troubleTicket").json() == []


def test_v5_create_without_type_is_400(client: TestClient) -> None:
    body = ticket_body("v5")
    del body["@type"]

    assert_error(client.post(f"{api('v5')}/troubleTicket", json=body), 400)


@pytest.mark.parametrize(
    "bad",
    [
        {"note": {"text": "not a list"}},
        {"note": [{"author": "x"}]},
        {"severity": 5},
        {"description": ""},
        {"relatedParty": [{"role": "customer"}]},
        {"requestedResolutionDate": "next tuesday"},
        {"channel": "web"},
        {"attachment": "x"},
    ],
)
def test_malformed_attributes_are_400_and_create_nothing(client: TestClient, bad: dict[str, Any]) -> None:
    assert_error(client.post(f"{api('v4')}/troubleTicket", json=ticket_body("v4", **bad)), 400)

    assert client.get(f"{api('v4')}/troubleTicket").json() == []


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[]", b"null", b'"text"'])
def test_body_that_is_not_a_json_object_is_400(client: TestClient, raw: bytes) -> None:
    response = client.post(
        f"{api('v4')}/troubleTicket", content=raw, headers={"Content-Type": "application/json"}
    )

    assert_error(response, 400)


def test_client_cannot_choose_server_owned_attributes(client: TestClient) -> None:
    body = ticket_body(
        "v4",
        id="mine",
        href="http://evil/x",
        creationDate="2001-01-01T00:00:00Z",
        status="closed",
        statusChange=[{"status": "closed"}],
    )

    created = client.post(f"{api('v4')}/troubleTicket", json=body).json()

    assert created["id"] != "mine" and created["href"].startswith("http://testserver/")
    assert created["creationDate"] == "2026-03-02T09:00:00.000Z"
    assert created["status"] == "acknowledged"
    assert [h["status"] for h in created["statusChange"]] == ["acknowledged"]


def test_charset_and_trailing_slash_are_tolerated(client: TestClient) -> None:
    headers = {"Content-Type": "application/json;charset=utf-8"}
    import json

    response = client.post(
        f"{api('v4')}/troubleTicket/",
        content=json.dumps(ticket_body("v4")),
        headers=headers,
        follow_redirects=False,
    )

    assert response.status_code == 201
    listed = client.get(f"{api('v4')}/troubleTicket/", follow_redirects=False)
    assert listed.status_code == 200 and len(listed.json()) == 1
    assert listed.headers["content-type"] == "application/json;charset=utf-8"


def test_unknown_extension_attributes_round_trip_unchanged(client: TestClient) -> None:
    extension = {"siteAccess": {"gateCode": "1234", "hours": ["08-12", "14-18"]}, "customerTier": "gold"}
    party = {"id": "cust-42", "role": "customer", "@referredType": "Individual", "segment": "residential"}
    created = create(client, "v4", relatedParty=[party], **extension)

    fetched = client.get(f"{api('v4')}/troubleTicket/{created['id']}").json()

    assert fetched["siteAccess"] == extension["siteAccess"]
    assert fetched["customerTier"] == "gold"
    assert fetched["relatedParty"][0]["segment"] == "residential"
    v5 = client.get(f"{api('v5')}/troubleTicket/{created['id']}").json()
    assert v5["siteAccess"] == extension["siteAccess"]


def test_optional_attributes_are_omitted_not_null(client: TestClient) -> None:
    body = {"description": "d", "severity": "Minor", "ticketType": "request"}

    created = client.post(f"{api('v4')}/troubleTicket", json=body).json()

    assert None not in created.values()
    assert "note" not in created
    assert created["priority"].startswith("P")  # not sent: Prioritize Customer Problem set it (1.3.7.3.5)


# --- idempotency --------------------------------------------------------------------------------


def test_retried_create_with_same_idempotency_key_returns_the_first_ticket(client: TestClient) -> None:
    headers = {"Idempotency-Key": "crm-req-77"}
    first = client.post(f"{api('v4')}/troubleTicket", json=ticket_body("v4"), headers=headers)

    again = client.post(f"{api('v4')}/troubleTicket", json=ticket_body("v4"), headers=headers)

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(client.get(f"{api('v4')}/troubleTicket").json()) == 1


def test_idempotency_key_reused_with_another_body_is_409(client: TestClient) -> None:
    headers = {"Idempotency-Key": "crm-req-78"}
    client.post(f"{api('v4')}/troubleTicket", json=ticket_body("v4"), headers=headers)

    response = client.post(
        f"{api('v4')}/troubleTicket", json=ticket_body("v4", severity="Minor"), headers=headers
    )

    assert_error(response, 409)
    assert len(client.get(f"{api('v4')}/troubleTicket").json()) == 1


# --- retrieve, delete ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_unknown_id_is_404(client: TestClient, method: str) -> None:
    kwargs: dict[str, Any] = {"json": {"severity": "Minor"}} if method == "patch" else {}

    response = getattr(client, method)(f"{api('v5')}/troubleTicket/nope", **kwargs)

    assert_error(response, 404)


def test_delete_answers_204_and_the_ticket_is_gone(client: TestClient) -> None:
    ticket = create(client)

    response = client.delete(f"{api('v4')}/troubleTicket/{ticket['id']}")

    assert response.status_code == 204 and response.content == b""
    assert_error(client.get(f"{api('v4')}/troubleTicket/{ticket['id']}"), 404)


def test_wrong_method_is_405_with_a_tmf_error(client: TestClient) -> None:
    assert_error(client.put(f"{api('v4')}/troubleTicket/x", json={}), 405)


# --- PATCH ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["application/merge-patch+json", "application/json", "application/merge-patch+json;charset=utf-8"],
)
def test_merge_patch_changes_only_the_given_attributes(client: TestClient, content_type: str) -> None:
    ticket = create(client)

    response = client.patch(
        f"{api('v4')}/troubleTicket/{ticket['id']}",
        json={"severity": "Critical", "priority": None},
        headers={"Content-Type": content_type},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["severity"] == "Critical" and "priority" not in body
    assert body["description"] == ticket["description"]
    assert response.headers["ETag"] == '"2"'


def test_merge_patch_note_array_appends_and_keeps_existing_notes(client: TestClient) -> None:
    ticket = create(client)

    body = client.patch(
        f"{api('v4')}/troubleTicket/{ticket['id']}",
        json={"note": [{"author": "noc", "text": "tech dispatched"}]},
        headers=MERGE,
    ).json()

    assert [(n["id"], n["text"]) for n in body["note"]] == [
        ("1", "customer already rebooted the modem"),
        ("2", "tech dispatched"),
    ]


def test_json_patch_applies_rfc6902_operations(client: TestClient) -> None:
    ticket = create(client, "v5")
    ops = [
        {"op": "replace", "path": "/severity", "value": "Minor"},
        {"op": "add", "path": "/note/-", "value": {"@type": "Note", "text": "called back"}},
        {"op": "replace", "path": "/status", "value": "inProgress"},
    ]

    response = client.patch(f"{api('v5')}/troubleTicket/{ticket['id']}", json=ops, headers=JSON_PATCH)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["severity"], body["status"], body["note"][-1]["text"]) == (
        "Minor",
        "inProgress",
        "called back",
    )


def test_json_patch_failed_test_operation_is_409_and_changes_nothing(client: TestClient) -> None:
    ticket = create(client)
    ops = [
        {"op": "test", "path": "/severity", "value": "Minor"},
        {"op": "replace", "path": "/severity", "value": "Low"},
    ]

    assert_error(client.patch(f"{api('v4')}/troubleTicket/{ticket['id']}", json=ops, headers=JSON_PATCH), 409)

    assert client.get(f"{api('v4')}/troubleTicket/{ticket['id']}").json()["severity"] == "Major"


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "remove", "path": "/note/0"}],
        [{"op": "jump", "path": "/x"}],
        {"op": "add"},
        [{"op": "remove", "path": "/nothing/here"}],
    ],
)
def test_bad_json_patch_is_400(client: TestClient, ops: Any) -> None:
    ticket = create(client)

    assert_error(client.patch(f"{api('v4')}/troubleTicket/{ticket['id']}", json=ops, headers=JSON_PATCH), 400)


@pytest.mark.parametrize(
    "attribute", ["id", "href", "creationDate", "lastUpdate", "statusChange", "statusChangeDate", "@type"]
)
def test_server_owned_attributes_are_not_patchable(client: TestClient, attribute: str) -> None:
    ticket = create(client)

    response = client.patch(f"{api('v4')}/troubleTicket/{ticket['id']}", json={attribute: "x"}, headers=MERGE)

    assert attribute in assert_error(response, 400)["message"]


def test_mandatory_attribute_cannot_be_removed_by_patch(client: TestClient) -> None:
    ticket = create(client)

    assert_error(
        client.patch(f"{api('v4')}/troubleTicket/{ticket['id']}", json={"description": None}, headers=MERGE),
        400,
    )


def test_unsupported_patch_media_type_is_415(client: TestClient) -> None:
    ticket = create(client)

    assert_error(
        client.patch(
            f"{api('v4')}/troubleTicket/{ticket['id']}",
            content=b"severity=x",
            headers={"Content-Type": "text/plain"},
        ),
        415,
    )


def test_stale_if_match_is_412_and_changes_nothing(client: TestClient) -> None:
    ticket = create(client)
    url = f"{api('v4')}/troubleTicket/{ticket['id']}"
    client.patch(url, json={"severity": "Minor"}, headers=MERGE)

    response = client.patch(url, json={"severity": "Critical"}, headers={**MERGE, "If-Match": '"1"'})

    assert_error(response, 412)
    assert client.get(url).json()["severity"] == "Minor"
    assert_error(client.delete(url, headers={"If-Match": '"1"'}), 412)


def test_current_if_match_is_accepted(client: TestClient) -> None:
    ticket = create(client)
    url = f"{api('v4')}/troubleTicket/{ticket['id']}"
    etag = client.get(url).headers["ETag"]

    response = client.patch(url, json={"severity": "Minor"}, headers={**MERGE, "If-Match": etag})

    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    assert client.delete(url, headers={"If-Match": 'W/"2"'}).status_code == 204


# --- list: filters, fields, sort, paging ----------------------------------------------------------


@pytest.fixture
def three(client: TestClient, clock: FixedClock) -> list[dict[str, Any]]:
    made = []
    for severity, party, author in (
        ("Critical", "cust-1", "ann"),
        ("Major", "cust-2", "bob"),
        ("Minor", "cust-1", "cy"),
    ):
        made.append(
            create(
                client,
                "v4",
                severity=severity,
                name=f"{severity}, with comma",
                relatedParty=[{"id": party, "role": "customer", "@referredType": "Individual"}],
                note=[{"author": author, "text": "hello"}],
            )
        )
        clock.advance(timedelta(hours=1))
    client.patch(f"{api('v4')}/troubleTicket/{made[1]['id']}", json={"status": "inProgress"}, headers=MERGE)
    return made


def ids(response: Any) -> list[str]:
    return [t["id"] for t in response.json()]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("severity=Major", [1]),
        ("severity=Major,Minor", [1, 2]),
        ("severity=Major&severity=Critical", [0, 1]),
        ("severity=Minor&status=acknowledged", [2]),
        ("status=inProgress", [1]),
        ('name="Minor, with comma"', [2]),
        ("relatedParty.id=cust-1", [0, 2]),
        ("note.author=bob", [1]),
        ("creationDate.gt=2026-03-02T09:30:00Z", [1, 2]),
        ("creationDate.gte=2026-03-02T10:00:00.000Z", [1, 2]),
        ("creationDate.lt=2026-03-02T10:00:00Z", [0]),
        ("creationDate.lte=2026-03-02T10:00:00Z", [0, 1]),
        ("creationDate%3E%3D2026-03-02T10:00:00Z", [1, 2]),
        ("creationDate%3C2026-03-02T10:00:00Z", [0]),
        ('lastUpdate="2026-03-02T09:00:00.000Z"', [0]),
        ("severity.regex=^M", [1, 2]),
        ("severity=~ti", [0]),
        ("relatedParty.@referredType=Individual&severity=Critical", [0]),
    ],
)
def test_attribute_filters(
    client: TestClient, three: list[dict[str, Any]], query: str, expected: list[int]
) -> None:
    response = client.get(f"{api('v4')}/troubleTicket?{query}&sort=creationDate")

    assert response.status_code == 200, response.text
    assert ids(response) == [three[i]["id"] for i in expected]


def test_v5_filters_address_the_wrapped_references(client: TestClient, three: list[dict[str, Any]]) -> None:
    response = client.get(f"{api('v5')}/troubleTicket?relatedParty.partyOrPartyRole.id=cust-2")

    assert ids(response) == [three[1]["id"]]


def test_filter_on_extension_attribute(client: TestClient) -> None:
    gold = create(client, customerTier="gold")
    create(client, customerTier="bronze")

    assert ids(client.get(f"{api('v4')}/troubleTicket?customerTier=gold")) == [gold["id"]]


@pytest.mark.parametrize(
    "query",
    [
        "creationDate.gt=yesterday",
        "limit=-1",
        "offset=x",
        "severity.regex=(",
        "sort=note.text",
        "a%3Db=1&%3D",
    ],
)
def test_bad_query_is_400(client: TestClient, query: str) -> None:
    assert_error(client.get(f"{api('v4')}/troubleTicket?{query}"), 400)


def test_jsonpath_filter_is_501_not_ignored(client: TestClient) -> None:
    assert_error(client.get(f"{api('v5')}/troubleTicket?filter=note[?(@.author=='x')]"), 501)


def test_sort_ascending_descending_and_by_several_keys(
    client: TestClient, three: list[dict[str, Any]]
) -> None:
    url = f"{api('v4')}/troubleTicket"

    assert ids(client.get(f"{url}?sort=-creationDate")) == [t["id"] for t in reversed(three)]
    assert ids(client.get(f"{url}?sort=severity")) == [three[0]["id"], three[1]["id"], three[2]["id"]]
    assert ids(client.get(f"{url}?sort=status,-creationDate")) == [
        three[2]["id"],
        three[0]["id"],
        three[1]["id"],
    ]


def test_paging_reports_total_and_result_counts_with_206(
    client: TestClient, three: list[dict[str, Any]]
) -> None:
    url = f"{api('v4')}/troubleTicket?sort=creationDate"

    page = client.get(f"{url}&offset=1&limit=1")
    whole = client.get(url)
    empty = client.get(f"{url}&limit=0")

    assert page.status_code == 206 and ids(page) == [three[1]["id"]]
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("3", "1")
    assert whole.status_code == 200 and whole.headers["X-Total-Count"] == "3" and len(whole.json()) == 3
    assert empty.status_code == 206 and empty.json() == [] and empty.headers["X-Total-Count"] == "3"


def test_v4_fields_returns_exactly_the_selected_attributes(
    client: TestClient, three: list[dict[str, Any]]
) -> None:
    listed = client.get(f"{api('v4')}/troubleTicket?fields=status,severity").json()
    one = client.get(f"{api('v4')}/troubleTicket/{three[0]['id']}?fields=severity").json()

    assert all(set(t) == {"status", "severity"} for t in listed)
    assert one == {"severity": "Critical"}


def test_v5_fields_keeps_the_identity_keys(client: TestClient, three: list[dict[str, Any]]) -> None:
    listed = client.get(f"{api('v5')}/troubleTicket?fields=status").json()

    assert all(set(t) == {"id", "href", "@type", "status"} for t in listed)


def test_openapi_document_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    assert "/tmf-api/troubleTicket/v4/troubleTicket" in spec["paths"]
    assert "/tmf-api/troubleTicket/v5/hub/{id}" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_a_date_past_year_9999_in_utc_is_refused_with_a_tmf_error(client: TestClient) -> None:
    body = ticket_body("v4", requestedResolutionDate="9999-12-31T23:00:00-05:00")
    r = client.post(api("v4") + "/troubleTicket", json=body)
    assert r.status_code == 400, r.text
    assert {"code", "reason", "message"} <= r.json().keys()
