"""Check Known Error and the known-error database, through the public API: matching at intake (linked,
workaround offered, audited), the matching rule's robustness and precision, recording a known error
from a diagnosed report, full-text search, bad input and stale versions."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from troubleflow.clock import FixedClock
from troubleflow.domain.known_error import terms
from troubleflow.processes.known_errors import Record, change_known_error
from troubleflow.processes.reports import create_report, report_history
from troubleflow.storage import known_errors as known_errors_store
from troubleflow.storage.db import Database

from .conftest import api, finish_work_plan, ticket_body

KE = "/tmf-api/troubleflow/v1/knownError"
MERGE = {"Content-Type": "application/merge-patch+json"}
DIAL_TONE = {
    "title": "Landline has no dial-tone after firmware upgrade",
    "symptom": "Telephony on the Fritz!Box 7590 stays silent after the automatic firmware upgrade to 7.57",
    "category": "access-fault",
    "product": "Fritz!Box 7590",
    "rootCause": "Firmware 7.57 resets the SIP registration of the telephony port",
    "workaround": "Restart the router twice with a 30 second pause; telephony registers again.",
    "permanentFixStatus": "inProgress",
    "changeRequest": "CR-2211",
}


def _record(client: TestClient, **overrides: Any) -> dict[str, Any]:
    r = client.post(KE, json={**DIAL_TONE, **overrides})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _report(
    client: TestClient, description: str, name: str = "Phone line", **overrides: Any
) -> dict[str, Any]:
    body = ticket_body("v4", name=name, description=description, priority=None, note=[], **overrides)
    r = client.post(api("v4") + "/troubleTicket", json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _checks(db: Database, ticket_id: str) -> list[tuple[str, str, str]]:
    return [
        (h.process_id, h.action, h.reason or "")
        for h in report_history(db, ticket_id)
        if h.action.startswith("knownError")
    ]


def _total(client: TestClient, query: str = "") -> int:
    return int(client.get(f"{KE}?{query}").headers["X-Total-Count"])


def test_a_report_matching_a_known_error_is_linked_offered_the_workaround_and_audited(
    client: TestClient, db: Database
) -> None:
    known = _record(client)

    report = _report(client, "No dial tone on the landline since this morning")

    assert report["category"] == "access-fault"  # diagnosis ran first (rule no-connection)
    link = report["knownError"]
    assert link["id"] == known["id"] and link["@referredType"] == "KnownError"
    assert link["href"] == f"http://testserver{KE}/{known['id']}"
    assert link["workaround"] == DIAL_TONE["workaround"]
    assert link["permanentFixStatus"] == "inProgress"
    assert link["score"] == 0.6  # dial, tone, landline: 3 of the report's 5 terms (phone, line too)
    (note,) = [n for n in report["note"] if n["author"] == "troubleflow"]
    assert DIAL_TONE["workaround"] in note["text"] and "in progress" in note["text"]
    ((process, action, reason),) = _checks(db, report["id"])
    assert (process, action) == ("1.3.7.1.6", "knownErrorOffered")
    assert f"known error {known['id']}" in reason and f"note {note['id']}" in reason
    assert client.get(f"{KE}/{known['id']}").json()["hitCount"] == 1
    v5 = client.get(f"{api('v5')}/troubleTicket/{report['id']}").json()
    assert v5["knownError"] == link


@pytest.mark.parametrize(
    "description",
    [
        "no dial tone on landline",
        "After upgrading the firmware our landline phones have no dial tones",
        "Dial-tone missing, LANDLINE dead",
        "Firmware upgraded last night, now the phone is silent",
    ],
)
def test_matching_ignores_word_order_word_forms_case_and_stop_words(
    client: TestClient, description: str
) -> None:
    known = _record(client)

    report = _report(client, description, name="Telephony")

    assert report.get("knownError", {}).get("id") == known["id"], description


@pytest.mark.parametrize(
    "description",
    [
        "Slow speeds in the evening",  # nothing in common
        "Landline bill is wrong this month",  # one shared word is never enough
        "Router firmware upgrade failed and the wifi keeps dropping out every few minutes",  # 2 of 6
    ],
)
def test_an_unrelated_report_is_not_matched_and_the_check_says_so(
    client: TestClient, db: Database, description: str
) -> None:
    known = _record(client)

    report = _report(client, description, name="Complaint")

    assert "knownError" not in report
    assert not [n for n in report.get("note", []) if n["author"] == "troubleflow"]
    ((process, action, reason),) = _checks(db, report["id"])
    assert (process, action) == ("1.3.7.1.6", "knownErrorChecked")
    assert "no known error matches" in reason
    assert client.get(f"{KE}/{known['id']}").json()["hitCount"] == 0


def test_a_retired_known_error_is_not_offered_but_stays_readable(client: TestClient) -> None:
    known = _record(client)
    assert client.delete(f"{KE}/{known['id']}").status_code == 204

    report = _report(client, "no dial tone on landline")

    assert "knownError" not in report
    assert client.get(f"{KE}/{known['id']}").json()["status"] == "retired"


def test_a_fixed_known_error_is_still_offered_until_retired(client: TestClient) -> None:
    known = _record(client, permanentFixStatus="fixed")

    report = _report(client, "no dial tone on landline")

    assert report["knownError"]["id"] == known["id"]
    assert report["knownError"]["permanentFixStatus"] == "fixed"


def test_a_known_error_of_another_category_is_not_offered(client: TestClient) -> None:
    _record(client, category="billing")

    report = _report(client, "no dial tone on landline")

    assert report["category"] == "access-fault"
    assert "knownError" not in report


def test_a_known_error_without_category_is_offered_to_any_category(client: TestClient) -> None:
    known = _record(client, category=None)

    report = _report(client, "no dial tone on landline")

    assert report["knownError"]["id"] == known["id"]


def test_the_best_matching_known_error_is_linked(client: TestClient) -> None:
    _record(client, title="Landline crackles", symptom="Noise and crackling on the landline", product=None)
    best = _record(client)

    report = _report(client, "Landline: no dial tone after the firmware upgrade")

    assert report["knownError"]["id"] == best["id"]


def test_a_known_error_is_recorded_from_a_diagnosed_report_and_linked_both_ways(
    client: TestClient, db: Database
) -> None:
    report = _report(client, "No dial tone on the landline after the router restarted itself at night")

    r = client.post(
        KE,
        json={
            "sourceTroubleTicket": {"id": report["id"]},
            "rootCause": "Firmware 7.57 resets the SIP registration",
            "workaround": "Restart the router twice",
        },
    )

    assert r.status_code == 201, r.text
    known = r.json()
    assert r.headers["Location"] == known["href"] and r.headers["ETag"] == '"1"'
    assert known["symptom"] == report["description"] and known["title"] == "Phone line"
    assert known["category"] == "access-fault"  # from the report's diagnosis
    assert known["sourceTroubleTicket"]["id"] == report["id"]
    assert (known["status"], known["permanentFixStatus"], known["hitCount"]) == ("active", "open", 1)
    linked = client.get(f"{api('v4')}/troubleTicket/{report['id']}")
    assert linked.headers["ETag"] == '"2"'
    assert linked.json()["knownError"] | {"linkedDate": None} == {
        "id": known["id"],
        "href": known["href"],
        "title": "Phone line",
        "workaround": "Restart the router twice",
        "permanentFixStatus": "open",
        "linkedDate": None,
        "@referredType": "KnownError",
        "source": True,
    }
    assert ("1.3.7.1.9", "knownErrorCreated") in [(p, a) for p, a, _ in _checks(db, report["id"])]
    later = _report(client, "Landline without dial tone", name="Phone")
    assert later["knownError"]["id"] == known["id"]


def test_recording_from_a_cleared_report_takes_its_resolution_as_the_workaround(client: TestClient) -> None:
    report = _report(client, "No dial tone on the landline")
    for status, reason in (("inProgress", None), ("resolved", "Power-cycled the router twice")):
        if status == "resolved":
            finish_work_plan(client, report["id"])  # no clearing with mandatory tasks open (1.3.7.3.1)
        r = client.patch(
            f"{api('v4')}/troubleTicket/{report['id']}",
            json={"status": status, "statusChangeReason": reason},
            headers=MERGE,
        )
        assert r.status_code == 200, r.text

    r = client.post(KE, json={"sourceTroubleTicket": {"id": report["id"]}})

    assert r.status_code == 201, r.text
    assert r.json()["workaround"] == "Power-cycled the router twice"


def test_recording_from_an_unknown_or_unfit_report_is_refused_and_changes_nothing(client: TestClient) -> None:
    unknown = client.post(KE, json={"sourceTroubleTicket": {"id": "nope"}, "workaround": "x"})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "invalidInput" and "nope" in unknown.json()["message"]

    open_report = _report(client, "No dial tone on the landline")
    no_workaround = client.post(KE, json={"sourceTroubleTicket": {"id": open_report["id"]}})
    assert no_workaround.status_code == 400 and "workaround" in no_workaround.json()["message"]

    cancelled = _report(client, "Test ticket, please ignore")
    client.patch(
        f"{api('v4')}/troubleTicket/{cancelled['id']}",
        json={"status": "cancelled", "statusChangeReason": "test submission"},
        headers=MERGE,
    )
    refused = client.post(KE, json={"sourceTroubleTicket": {"id": cancelled["id"]}, "workaround": "x"})
    assert refused.status_code == 409 and refused.json()["code"] == "conflict"

    assert _total(client) == 0
    first = client.post(KE, json={"sourceTroubleTicket": {"id": open_report["id"]}, "workaround": "x"})
    assert first.status_code == 201
    again = client.post(KE, json={"sourceTroubleTicket": {"id": open_report["id"]}, "workaround": "y"})
    assert again.status_code == 409 and first.json()["id"] in again.json()["message"]
    assert _total(client) == 1


def test_q_searches_the_full_text_best_match_first(client: TestClient) -> None:
    dial = _record(client)
    _record(
        client,
        title="Wi-Fi drops every evening",
        symptom="Wireless connection drops between 19:00 and 23:00",
        category="cpe-fault",
        product="Speedport Smart 4",
        permanentFixStatus="open",
    )
    _record(
        client,
        title="Double charge for roaming",
        symptom="Roaming charged twice",
        category="billing",
        product=None,
        permanentFixStatus="wontFix",
    )

    r = client.get(f"{KE}?q=dial+tones+landline")

    assert r.status_code == 200
    assert [k["id"] for k in r.json()] == [dial["id"]]
    assert r.headers["X-Total-Count"] == "1"
    assert [k["title"] for k in client.get(f"{KE}?q=wireless dropping").json()] == [
        "Wi-Fi drops every evening"
    ]
    assert client.get(f"{KE}?q=the+and+of").json() == []  # no significant word: nothing
    assert _total(client, "category=billing,cpe-fault") == 2
    assert _total(client, "permanentFixStatus=inProgress") == 1
    assert _total(client, "q=firmware&category=billing") == 0
    page = client.get(f"{KE}?offset=1&limit=1&fields=title")
    assert page.status_code == 206 and page.headers["X-Total-Count"] == "3"
    assert page.json() == [{"id": page.json()[0]["id"], "title": "Wi-Fi drops every evening"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in DIAL_TONE.items() if k != "workaround"}, "workaround"),
        ({**DIAL_TONE, "title": "  "}, "title"),
        ({**DIAL_TONE, "permanentFixStatus": "someday"}, "permanentFixStatus"),
        ({**DIAL_TONE, "category": "no-such-category"}, "category"),
        ({**DIAL_TONE, "severity": "Major"}, "severity"),
        ({**DIAL_TONE, "status": "retired"}, "status"),
        ({**DIAL_TONE, "symptom": 42}, "symptom"),
        ({**DIAL_TONE, "title": "x" * 501}, "title"),
    ],
)
def test_bad_input_is_refused_with_a_tmf_error_and_changes_nothing(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    r = client.post(KE, json=body)

    assert r.status_code == 400, r.text
    error = r.json()
    assert (error["@type"], error["code"], error["reason"], error["status"]) == (
        "Error",
        "invalidInput",
        "Bad Request",
        "400",
    )
    assert field.lower() in error["message"].lower().replace("_", "")
    assert _total(client) == 0


@pytest.mark.parametrize(
    "patch",
    [
        {"hitCount": 7},
        {"id": "99"},
        {"sourceTroubleTicket": {"id": "x"}},
        {"permanentFixStatus": "soon"},
        {"workaround": None},
        {"colour": "red"},
        {"category": "no-such-category"},
    ],
)
def test_a_bad_patch_is_refused_and_changes_nothing(client: TestClient, patch: dict[str, Any]) -> None:
    known = _record(client)

    r = client.patch(f"{KE}/{known['id']}", json=patch, headers=MERGE)

    assert r.status_code == 400, r.text
    after = client.get(f"{KE}/{known['id']}")
    assert after.headers["ETag"] == '"1"' and after.json() == known


def test_a_patch_with_a_stale_if_match_is_refused_with_412(client: TestClient) -> None:
    known = _record(client)
    url = f"{KE}/{known['id']}"

    first = client.patch(url, json={"permanentFixStatus": "fixed"}, headers={**MERGE, "If-Match": '"1"'})
    stale = client.patch(url, json={"workaround": "something else"}, headers={**MERGE, "If-Match": '"1"'})

    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    assert first.json()["permanentFixStatus"] == "fixed"
    assert stale.status_code == 412 and stale.json()["code"] == "preconditionFailed"
    assert client.get(url).json()["workaround"] == DIAL_TONE["workaround"]


def test_the_known_error_link_on_a_report_is_server_owned(client: TestClient) -> None:
    _record(client)
    report = _report(client, "no dial tone on landline")

    r = client.patch(f"{api('v4')}/troubleTicket/{report['id']}", json={"knownError": None}, headers=MERGE)

    assert r.status_code == 400 and "knownError" in r.json()["message"]


def test_an_unknown_known_error_is_404(client: TestClient) -> None:
    for ke_id in ("12345", "abc"):
        r = client.get(f"{KE}/{ke_id}")
        assert r.status_code == 404 and r.json()["code"] == "notFound"
    assert client.patch(f"{KE}/12345", json={"title": "x"}, headers=MERGE).status_code == 404


def test_a_list_filter_the_resource_does_not_have_is_refused(client: TestClient) -> None:
    r = client.get(f"{KE}?severity=Major")

    assert r.status_code == 400 and "severity" in r.json()["message"]


def test_two_patches_with_the_same_if_match_one_wins_one_gets_412(client: TestClient) -> None:
    url = f"{KE}/{_record(client)['id']}"
    start = threading.Barrier(2)

    def patch(workaround: str) -> int:
        start.wait(timeout=5)
        return client.patch(
            url, json={"workaround": workaround}, headers={**MERGE, "If-Match": '"1"'}
        ).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(patch, ["Restart once", "Restart twice"]))

    assert codes == [200, 412]
    final = client.get(url)
    assert final.headers["ETag"] == '"2"' and final.json()["workaround"] in {"Restart once", "Restart twice"}


def test_racing_writers_without_if_match_both_apply_in_turn(
    db: Database, client: TestClient, clock: FixedClock
) -> None:
    ke_id = int(_record(client)["id"])
    both_read = threading.Barrier(2)

    def writer(values: dict[str, Any]) -> None:
        def compute(_current: Record) -> dict[str, Any]:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait(timeout=1)  # the second writer must wait for the first, then recompute
            return values

        change_known_error(db, ke_id, compute, clock=clock)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(writer, [{"root_cause": "SIP reset"}, {"change_request": "CR-1"}]))

    final = client.get(f"{KE}/{ke_id}").json()
    assert (final["rootCause"], final["changeRequest"]) == ("SIP reset", "CR-1")
    assert client.get(f"{KE}/{ke_id}").headers["ETag"] == '"3"'


def test_a_report_never_diagnosed_cannot_become_a_known_error(
    db: Database, client: TestClient, clock: FixedClock
) -> None:
    values = {"description": "No dial tone", "severity": "Major", "ticket_type": "incident"}
    undiagnosed = create_report(db, values, clock=clock, actor="t", policy=None).ticket  # no Track & Manage

    r = client.post(KE, json={"sourceTroubleTicket": {"id": undiagnosed.id}, "workaround": "x"})

    assert r.status_code == 409 and "never diagnosed" in r.json()["message"]
    assert _total(client) == 0


@given(st.text(max_size=300))
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_any_report_text_is_searched_without_error(db: Database, client: TestClient, text: str) -> None:
    if _total(client) == 0:
        _record(client)

    with db.read() as conn:
        found = known_errors_store.search(conn, terms(DIAL_TONE["title"], text))

    assert len(found) == 1  # the title's words always find the record, whatever else the text holds


def test_the_search_follows_a_changed_symptom(client: TestClient) -> None:
    known = _record(client)
    new = {"title": "Fax machine rings forever", "symptom": "Incoming faxes never answered", "product": None}

    assert client.patch(f"{KE}/{known['id']}", json=new, headers=MERGE).status_code == 200

    assert [k["id"] for k in client.get(f"{KE}?q=faxes").json()] == [known["id"]]
    assert client.get(f"{KE}?q=dial+tone+landline").json() == []
