"""Problems delegated to a partner (Track & Manage 1.3.7.3 → S/P Problem Reporting & Management 1.6.10,
checklist C9/C5): submitted through the durable hand-off outbox, followed by events and polling, the
partner's commitment as a jeopardy input, silence escalated once, our cancellation cascaded; a failing
partner never loses a hand-off. Through the public API and the worker, against a faked partner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.conftest import api
from tests.partner_peers import FakePartner, inventory_file, partner_report, start_partner
from tests.running import free_port
from troubleflow.cli import main
from troubleflow.clock import FixedClock
from troubleflow.config import Settings
from troubleflow.storage.db import Database
from troubleflow.worker import Worker

X = "/tmf-api/troubleflow/v1"


@pytest.fixture
def partner() -> Iterator[FakePartner]:
    fake = FakePartner()
    server = start_partner(fake)
    yield fake
    server.shutdown()


@pytest.fixture
def worker(db: Database, settings: Settings, clock: FixedClock) -> Iterator[Worker]:
    w = Worker(db, settings, clock=clock)
    yield w
    w.close()


def cli(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", database_url, *args])
    return result.exit_code, result.output


def setup_inventory(database_url: str, tmp_path: Path, endpoint: str | None, time: str = "PT8H") -> None:
    code, out = cli(database_url, "inventory", "import", str(inventory_file(tmp_path, endpoint, time)))
    assert code == 0, out


def create(client: TestClient, **overrides: Any) -> str:
    r = client.post(f"{api('v4')}/troubleTicket", json=partner_report(**overrides))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def records(client: TestClient, ticket_id: str) -> list[dict[str, Any]]:
    r = client.get(f"{X}/troubleTicket/{ticket_id}/partnerTicket")
    assert r.status_code == 200, r.text
    return list(r.json())


def tasks_by_template(client: TestClient, ticket_id: str) -> dict[str, str]:
    found = client.get(f"{X}/troubleTicket/{ticket_id}/task").json()
    return {t["name"]: t["state"] for t in found}


def trail(client: TestClient, ticket_id: str) -> list[dict[str, Any]]:
    from troubleflow.processes.reports import report_history

    app_db = client.app.state.runtime.db  # type: ignore[attr-defined]
    return [
        {"process": e.process_id, "action": e.action, "reason": e.reason or ""}
        for e in report_history(app_db, ticket_id)
    ]


def submitted(
    client: TestClient, worker: Worker, partner: FakePartner, database_url: str, tmp_path: Path
) -> tuple[str, str]:
    """A partner-fault report submitted at intake and accepted by the partner: (our id, theirs)."""
    setup_inventory(database_url, tmp_path, partner.url)
    ticket_id = create(client)
    worker.run_once()  # the create hand-off; its 201 queues the hub subscription
    worker.run_once()  # the subscription
    (record,) = records(client, ticket_id)
    return ticket_id, record["partnerTroubleTicket"]["id"]


def status_event(partner_ticket: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        "eventId": f"e-{status}",
        "eventTime": "2026-03-02T10:00:00.000Z",
        "eventType": "TroubleTicketStatusChangeEvent",
        "event": {
            "troubleTicket": {**partner_ticket, "status": status, "statusChangeReason": "splice repaired"}
        },
    }


def test_a_report_on_a_partner_owned_product_is_submitted_to_the_partner_and_followed(
    client: TestClient, worker: Worker, partner: FakePartner, database_url: str, tmp_path: Path
) -> None:
    setup_inventory(database_url, tmp_path, partner.url)
    ticket_id = create(client)

    (pending,) = client.get(f"{X}/handoff", params={"ticketId": ticket_id}).json()
    assert pending["state"] == "pending" and pending["action"] == "create"
    assert pending["url"] == f"{partner.url}/troubleTicket" and pending["body"]["externalId"] == ticket_id

    worker.run_once()
    worker.run_once()

    (sent,) = partner.posted("/troubleTicket")
    assert sent["externalId"] == ticket_id and sent["description"] == "Fibre line shows no sync since 07:50"
    assert sent["relatedEntity"][0]["id"] == "prod-9" and "requestedResolutionDate" in sent
    (hub,) = partner.hubs
    assert hub["callback"] == f"http://testserver{X}/listener/partner/fibrenet"
    assert hub["query"] == "event.troubleTicket.id=P-1"
    (record,) = records(client, ticket_id)
    assert record["partnerTroubleTicket"]["id"] == "P-1" and record["partnerStatus"] == "acknowledged"
    assert record["hubId"] == "H-1" and record["restorationCommitment"] == "2026-03-02T17:00:00.000Z"
    report = client.get(f"{api('v4')}/troubleTicket/{ticket_id}").json()
    assert report["status"] == "inProgress"  # ours stays ours, worked through the delegation
    assert tasks_by_template(client, ticket_id)["Raise partner problem (1.6.10.3)"] == "done"
    entries = trail(client, ticket_id)
    submitted_entry = next(e for e in entries if e["action"] == "partnerSubmitted")
    assert submitted_entry["process"] == "1.3.7.3.1"
    assert submitted_entry["reason"].startswith("1.6.10.3 Submit Business Partner Problem:")


def test_a_resolved_event_from_the_partner_finishes_the_delegated_tasks(
    client: TestClient, worker: Worker, partner: FakePartner, database_url: str, tmp_path: Path
) -> None:
    ticket_id, theirs = submitted(client, worker, partner, database_url, tmp_path)

    r = client.post(f"{X}/listener/partner/fibrenet", json=status_event(partner.tickets[theirs], "resolved"))

    assert r.status_code == 201, r.text
    (record,) = records(client, ticket_id)
    assert record["partnerStatus"] == "resolved"
    states = tasks_by_template(client, ticket_id)
    assert states["Track partner restoration"] == "done"
    assert states["Verify service with the customer"] == "ready"  # next: the service desk, then clearing
    report = client.get(f"{api('v4')}/troubleTicket/{ticket_id}").json()
    assert any("is resolved (splice repaired)" in n["text"] for n in report["note"])
    updated = [e for e in trail(client, ticket_id) if e["action"] == "partnerUpdated"]
    assert updated[-1]["process"] == "1.3.7.3.1"
    assert updated[-1]["reason"].startswith("1.6.10.5 Resolve Business Partner Problem:")
    # the same event again is no news
    client.post(f"{X}/listener/partner/fibrenet", json=status_event(partner.tickets[theirs], "resolved"))
    assert len([e for e in trail(client, ticket_id) if e["action"] == "partnerUpdated"]) == len(updated)


def test_without_an_event_the_partner_ticket_is_polled(
    client: TestClient,
    worker: Worker,
    partner: FakePartner,
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    ticket_id, theirs = submitted(client, worker, partner, database_url, tmp_path)
    partner.set_status(theirs, "resolved", "splice repaired")  # no event reaches us

    clock.advance(timedelta(minutes=15))
    worker.run_once()  # the poll timer queues a GET
    worker.run_once()  # the GET is sent, its answer read

    assert ("GET", f"/tmf-api/troubleTicket/v4/troubleTicket/{theirs}", None) in partner.calls
    (record,) = records(client, ticket_id)
    assert record["partnerStatus"] == "resolved"
    assert tasks_by_template(client, ticket_id)["Track partner restoration"] == "done"
    assert any("(via poll)" in e["reason"] for e in trail(client, ticket_id))


def test_our_clock_stop_pauses_our_jeopardy_timers_but_not_the_partners_poll(
    client: TestClient,
    worker: Worker,
    partner: FakePartner,
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    ticket_id, theirs = submitted(client, worker, partner, database_url, tmp_path)
    moved = client.patch(
        f"{api('v4')}/troubleTicket/{ticket_id}",
        json={"status": "pending", "statusChangeReason": "waiting for the customer"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert moved.status_code == 200, moved.text
    partner.set_status(theirs, "resolved", "splice repaired")  # no event reaches us

    clock.advance(timedelta(minutes=15))
    worker.run_once()  # the poll timer still fires while our report waits
    worker.run_once()

    assert ("GET", f"/tmf-api/troubleTicket/v4/troubleTicket/{theirs}", None) in partner.calls
    (record,) = records(client, ticket_id)
    assert record["partnerStatus"] == "resolved"
    stopped = next(e for e in trail(client, ticket_id) if e["action"] == "clockStopped")
    assert stopped["reason"].endswith("timer(s) paused")


def test_a_partner_silent_past_its_commitment_is_escalated_to_the_partner_managers_once(
    client: TestClient,
    worker: Worker,
    partner: FakePartner,
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    ticket_id, _ = submitted(client, worker, partner, database_url, tmp_path)

    for _ in range(4):  # well past the 8 h commitment, polls and re-checks included
        clock.advance(timedelta(hours=3))
        worker.run_once()
        worker.run_once()

    told = client.get(f"{X}/notification").json()
    managers = [n for n in told if n["notificationList"] == "partner-managers"]
    assert [n["address"] for n in managers] == ["partner-managers@operator.example"]
    assert "partner fibrenet silent past its commitment" in managers[0]["subject"]
    steps = client.get(f"{X}/troubleTicket/{ticket_id}/escalation").json()["step"]
    assert [(s["level"], s["cause"]) for s in steps if s["cause"] == "partnerSilence"] == [
        (0, "partnerSilence")
    ]
    (record,) = records(client, ticket_id)
    assert "silenceEscalationDate" in record
    silent = [e for e in trail(client, ticket_id) if e["action"] == "partnerSilent"]
    assert len(silent) == 1 and silent[0]["process"] == "1.3.7.3.3"
    assert silent[0]["reason"].startswith("1.6.10.4 Track Business Partner Problem:")


def test_a_partner_that_keeps_reporting_is_not_escalated_for_silence(
    client: TestClient,
    worker: Worker,
    partner: FakePartner,
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
) -> None:
    _, theirs = submitted(client, worker, partner, database_url, tmp_path)
    clock.advance(timedelta(hours=7, minutes=55))
    client.post(f"{X}/listener/partner/fibrenet", json=status_event(partner.tickets[theirs], "inProgress"))

    clock.advance(timedelta(minutes=10))  # the commitment passes 5 minutes after the partner spoke
    worker.run_once()

    assert [
        n for n in client.get(f"{X}/notification").json() if n["notificationList"] == "partner-managers"
    ] == []


def test_the_partners_later_expected_resolution_is_a_forecast_breach(
    client: TestClient, worker: Worker, partner: FakePartner, database_url: str, tmp_path: Path
) -> None:
    partner.expected_resolution = "2026-04-30T12:00:00.000Z"  # weeks after our gold commitment
    ticket_id, _ = submitted(client, worker, partner, database_url, tmp_path)

    escalation = client.get(f"{X}/troubleTicket/{ticket_id}/escalation").json()

    assert escalation["forecastBreach"]["source"] == "partner fibrenet ticket P-1"
    assert escalation["forecastBreach"]["eta"] == "2026-04-30T12:00:00.000Z"
    assert any(
        e["action"] == "forecastBreach" and e["process"] == "1.3.7.3.4" for e in trail(client, ticket_id)
    )


def test_cancelling_our_report_cancels_the_partners_ticket(
    client: TestClient, worker: Worker, partner: FakePartner, database_url: str, tmp_path: Path
) -> None:
    ticket_id, theirs = submitted(client, worker, partner, database_url, tmp_path)

    r = client.patch(
        f"{api('v4')}/troubleTicket/{ticket_id}",
        json={"status": "cancelled", "statusChangeReason": "duplicate of an earlier report"},
    )
    assert r.status_code == 200, r.text
    worker.run_once()

    assert partner.tickets[theirs]["status"] == "cancelled"
    assert "duplicate of an earlier report" in partner.tickets[theirs]["statusChangeReason"]
    (record,) = records(client, ticket_id)
    assert record["partnerStatus"] == "cancelled" and "cancellationReason" in record
    actions = [(e["process"], e["action"]) for e in trail(client, ticket_id)]
    assert ("1.3.7.3.2", "partnerCancelRequested") in actions and ("1.3.7.3.2", "partnerCancelled") in actions


def test_a_cancellation_before_the_partner_answered_is_sent_once_it_does(
    client: TestClient, worker: Worker, partner: FakePartner, database_url: str, tmp_path: Path
) -> None:
    setup_inventory(database_url, tmp_path, partner.url)
    ticket_id = create(client)
    client.patch(
        f"{api('v4')}/troubleTicket/{ticket_id}",
        json={"status": "cancelled", "statusChangeReason": "customer withdrew"},
    )

    worker.run_once()  # create → 201 → the cancel is queued instead of following
    worker.run_once()

    assert partner.tickets["P-1"]["status"] == "cancelled" and partner.hubs == []


def test_a_failing_partner_is_retried_with_backoff_parked_and_replayed_never_lost(
    client: TestClient,
    worker: Worker,
    partner: FakePartner,
    database_url: str,
    tmp_path: Path,
    clock: FixedClock,
    settings: Settings,
) -> None:
    setup_inventory(database_url, tmp_path, partner.url)
    partner.failures_left = 100
    ticket_id = create(client)

    worker.run_once()
    (h,) = client.get(f"{X}/handoff", params={"ticketId": ticket_id}).json()
    assert (h["state"], h["attempts"], h["responseStatus"]) == ("pending", 1, 500)
    assert h["nextAttemptDate"] == "2026-03-02T09:00:01.000Z"  # retry_delay(1)
    assert "partner backend unavailable" in h["lastError"]
    worker.run_once()  # not due yet: no second attempt
    assert len(partner.calls) == 1

    for attempt in range(2, settings.webhook_max_attempts + 1):
        clock.advance(settings.retry_delay(attempt - 1))
        worker.run_once()
    (h,) = client.get(f"{X}/handoff", params={"state": "parked"}).json()
    assert (
        h["attempts"] == settings.webhook_max_attempts and len(partner.calls) == settings.webhook_max_attempts
    )
    code, out = cli(database_url, "handoff", "list", "--state", "parked")
    assert code == 0 and "parked" in out and "partnerTroubleTicket create" in out

    partner.failures_left = 0
    r = client.post(f"{X}/handoff/replay", json={"id": [int(h["id"])]})
    assert r.status_code == 200 and r.json() == {"replayed": 1}
    worker.run_once()

    assert client.get(f"{X}/handoff/{h['id']}").json()["state"] == "sent"
    assert records(client, ticket_id)[0]["partnerTroubleTicket"]["id"] == "P-1"


def test_a_partner_that_is_down_keeps_the_handoff_pending(
    client: TestClient, worker: Worker, database_url: str, tmp_path: Path
) -> None:
    setup_inventory(database_url, tmp_path, f"http://127.0.0.1:{free_port()}/tmf-api/troubleTicket/v4")
    ticket_id = create(client)

    worker.run_once()

    (h,) = client.get(f"{X}/handoff", params={"ticketId": ticket_id}).json()
    assert h["state"] == "pending" and h["attempts"] == 1 and "Error" in h["lastError"]
    code, out = cli(database_url, "partner-ticket", "list", "--ticket", ticket_id)
    assert code == 0 and "(not yet accepted) submitting" in out


def test_a_report_is_submitted_explicitly_and_only_once(
    client: TestClient, partner: FakePartner, database_url: str, tmp_path: Path
) -> None:
    setup_inventory(database_url, tmp_path, partner.url)
    ticket_id = create(
        client, relatedEntity=[{"id": "prod-own", "role": "affectedProduct", "@referredType": "Product"}]
    )
    assert records(client, ticket_id) == []  # our own product: nothing delegated at intake

    r = client.post(f"{X}/troubleTicket/{ticket_id}/partnerTicket", json={"partnerId": "fibrenet"})

    assert r.status_code == 201, r.text
    assert r.headers["Location"] == r.json()["href"] and r.json()["partner"]["id"] == "fibrenet"
    again = client.post(f"{X}/troubleTicket/{ticket_id}/partnerTicket", json={"partnerId": "fibrenet"})
    assert again.status_code == 409 and again.json()["code"]
    assert len(client.get(f"{X}/handoff").json()) == 1


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/troubleTicket/nope/partnerTicket", {}, 404),  # unknown report
        ("/troubleTicket/{own}/partnerTicket", {}, 409),  # no partner owns what it names
        ("/troubleTicket/{own}/partnerTicket", {"partnerId": "nobody"}, 404),
        ("/troubleTicket/{own}/partnerTicket", {"partnerId": "cablenet"}, 409),  # no endpoint
        ("/troubleTicket/{own}/partnerTicket", {"partner": "fibrenet"}, 400),  # unknown attribute
        ("/troubleTicket/{own}/partnerTicket", [1], 400),
        ("/listener/partner/nobody", {"event": {"troubleTicket": {"id": "P-1"}}}, 404),
        ("/listener/partner/fibrenet", {"event": {"troubleTicket": {"id": "P-9"}}}, 404),
        ("/listener/partner/fibrenet", {"eventType": "x"}, 400),
        ("/listener/partner/fibrenet", {"event": {"troubleTicket": {"id": "P-1", "status": "fixed"}}}, 400),
        ("/handoff/replay", {"id": [12345]}, 404),
        ("/handoff/replay", {"id": ["x"]}, 400),
    ],
)
def test_bad_input_is_a_tmf_error_and_changes_nothing(
    client: TestClient,
    partner: FakePartner,
    database_url: str,
    tmp_path: Path,
    path: str,
    body: Any,
    status: int,
) -> None:
    setup_inventory(database_url, tmp_path, partner.url)
    own = create(
        client, relatedEntity=[{"id": "prod-own", "role": "affectedProduct", "@referredType": "Product"}]
    )
    before = client.get(f"{X}/handoff").json(), client.get(f"{api('v4')}/troubleTicket/{own}").json()

    r = client.post(X + path.format(own=own), json=body)

    assert r.status_code == status, r.text
    error = r.json()
    assert error["code"] and error["reason"] and error["status"] == str(status)
    assert (
        client.get(f"{X}/handoff").json(),
        client.get(f"{api('v4')}/troubleTicket/{own}").json(),
    ) == before


def test_bad_queries_on_the_lists_are_400(client: TestClient) -> None:
    assert client.get(f"{X}/handoff", params={"state": "lost"}).status_code == 400
    assert client.get(f"{X}/handoff", params={"colour": "red"}).status_code == 400
    assert client.get(f"{X}/handoff/abc").status_code == 400
    assert client.get(f"{X}/handoff/99").status_code == 404
    assert client.get(f"{X}/partnerTicket/nope").status_code == 404
    assert client.get(f"{X}/partnerTicket", params={"limit": "-1"}).status_code == 400


def test_the_cli_submits_a_report_and_shows_its_handoffs(
    client: TestClient, partner: FakePartner, database_url: str, tmp_path: Path
) -> None:
    setup_inventory(database_url, tmp_path, partner.url)
    own = create(
        client, relatedEntity=[{"id": "prod-own", "role": "affectedProduct", "@referredType": "Product"}]
    )

    code, out = cli(database_url, "partner-ticket", "submit", own, "--partner", "fibrenet")
    assert code == 0 and out.startswith("submitted: ") and "partner fibrenet" in out, out
    record_id = out.split()[1]
    code, out = cli(database_url, "partner-ticket", "show", record_id)
    assert (
        code == 0 and "pending  partnerTroubleTicket create" in out and f"{partner.url}/troubleTicket" in out
    )

    code, out = cli(database_url, "partner-ticket", "submit", own, "--partner", "fibrenet")
    assert code != 0 and "already submitted" in out
    code, out = cli(database_url, "handoff", "replay", "999")
    assert code != 0 and "not parked" in out


def test_the_policy_must_name_an_existing_list_for_partner_silence(tmp_path: Path) -> None:
    from troubleflow.errors import InvalidInput
    from troubleflow.policy_files import default_policy_dir, load_policies

    text = default_policy_dir().joinpath("default.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "policy.yaml"
    broken.write_text(
        text.replace("silence_notify: partner-managers", "silence_notify: nobody"), encoding="utf-8"
    )

    with pytest.raises(InvalidInput, match=r"delegation\.silence_notify: unknown notification list 'nobody'"):
        load_policies(broken)
