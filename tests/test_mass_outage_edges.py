"""Mass outages through the CLI (`troubleflow outage raise | update | restore | show`) and the read-only
progress API (`GET /tmf-api/troubleflow/v1/massOutage/{causeId}`), worker passes in between."""

from __future__ import annotations

import json

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.test_mass_outage import drain, load_inventory
from troubleflow.cli import main
from troubleflow.clock import SystemClock
from troubleflow.processes.reports import report_history
from troubleflow.storage.db import Database

URL = "/tmf-api/troubleflow/v1/massOutage"


def run(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", database_url, *args])
    return result.exit_code, result.output


def test_cli_raises_updates_restores_and_shows_a_mass_outage(
    db: Database, database_url: str, client: TestClient
) -> None:
    load_inventory(db, 12)
    code, out = run(
        database_url,
        "outage",
        "raise",
        "--cause-id",
        "sp-1",
        "--cause-name",
        "fibre cut",
        "--service",
        "iptv-east",
        "--eta",
        "2026-03-02T15:00:00Z",
    )
    assert code == 0, out
    assert json.loads(out)["pendingJobs"] == {"sweep": 1}
    drain(db, SystemClock())

    shown = client.get(f"{URL}/sp-1")
    assert shown.status_code == 200
    body = shown.json()
    assert body["children"]["opened"] == 12 and body["children"]["notified"] == 12
    assert body["cause"] == {"id": "sp-1", "@referredType": "ServiceProblem", "name": "fibre cut"}
    assert body["masterTicket"]["href"].endswith(f"/troubleTicket/{body['masterTicket']['id']}")
    master = client.get(f"/tmf-api/troubleTicket/v4/troubleTicket/{body['masterTicket']['id']}").json()
    assert master["majorOutage"] is True and master["initiatingMode"] == "system"
    assert master["channel"]["id"] == "system"

    code, out = run(database_url, "outage", "update", "--cause-id", "sp-1", "--eta", "2026-03-02T18:00:00Z")
    assert code == 0, out
    drain(db, SystemClock())
    assert client.get(f"{URL}/sp-1").json()["children"]["updated"] == 12

    code, out = run(database_url, "outage", "restore", "--cause-id", "sp-1", "--resolution", "spliced")
    assert code == 0, out
    drain(db, SystemClock())
    code, out = run(database_url, "outage", "show", "--cause-id", "sp-1")
    assert code == 0
    shown_after = json.loads(out)
    assert shown_after["state"] == "restored" and shown_after["resolution"] == "spliced"
    assert shown_after["children"]["cleared"] == 12 and shown_after["children"]["restoreNotified"] == 12
    master = client.get(f"/tmf-api/troubleTicket/v4/troubleTicket/{body['masterTicket']['id']}").json()
    # The master's own work plan (policy: review the major problem, 1.3.7.6.7) is still open: it stays open
    # for its engineers, with the reason in its trail; the customers' reports are cleared all the same.
    assert master["status"] == "inProgress"
    assert "notCleared" in [e.action for e in report_history(db, master["id"])]


def test_cli_refuses_an_unknown_service_with_a_clear_message(db: Database, database_url: str) -> None:
    load_inventory(db, 2)
    code, out = run(database_url, "outage", "raise", "--cause-id", "sp-2", "--service", "nope")
    assert code == 1
    assert "not in the inventory" in out and "nope" in out
    code, out = run(database_url, "outage", "raise", "--cause-id", "sp-2")
    assert code == 1 and "at least one affected service" in out


def test_progress_of_an_unknown_cause_is_a_tmf_404(client: TestClient) -> None:
    r = client.get(f"{URL}/sp-404")
    assert r.status_code == 404
    assert r.json()["code"] and "sp-404" in r.json()["message"]


def test_a_patched_eta_and_a_note_on_any_master_reach_its_children(
    db: Database, client: TestClient, database_url: str
) -> None:
    """The known gap "master ETA change not pushed to children", for a master made through TMF621 too."""
    from tests.conftest import api, ticket_body

    load_inventory(db, 3)
    entity = {"id": "iptv-east", "role": "affectedService", "@referredType": "ServiceSpecification"}
    r = client.post(
        api("v4") + "/troubleTicket",
        json=ticket_body(majorOutage=True, relatedParty=[], relatedEntity=[entity]),
    )
    assert r.status_code == 201, r.text
    master = r.json()
    children = []
    for i in range(3):
        body = ticket_body(
            relatedParty=[{"id": f"c{i:05}", "role": "customer", "@referredType": "Individual"}],
            relatedEntity=[{"id": f"s-c{i:05}", "role": "affectedService", "@referredType": "Service"}],
        )
        made = client.post(api("v4") + "/troubleTicket", json=body)
        assert made.status_code == 201, made.text
        children.append(made.json()["id"])
    eta = "2026-03-04T12:00:00.000Z"
    patch = {"expectedResolutionDate": eta, "note": [*master["note"], {"text": "splicing team on site"}]}
    r = client.patch(
        f"{api('v4')}/troubleTicket/{master['id']}",
        json=patch,
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    drain(db, SystemClock())
    for child in (client.get(f"{api('v4')}/troubleTicket/{c}").json() for c in children):
        assert child["expectedResolutionDate"] == eta
        assert "splicing team on site" in [n["text"] for n in child["note"]]
    assert ("1.3.7.3.1", "followedMaster") in [
        (e.process_id, e.action) for e in report_history(db, children[0])
    ]


def test_system_opened_reports_conform_to_tmf621_v4_and_v5(db: Database, client: TestClient) -> None:
    from tests.conftest import SPECS
    from tests.spec_validator import OpenApiSpec
    from troubleflow.processes.mass_outage import Cause, declare

    load_inventory(db, 2)
    cause = Cause("sp-9", "/tmf-api/serviceProblemManagement/v5/serviceProblem/sp-9", "fibre cut")
    shown = declare(db, clock=SystemClock(), policy=None, cause=cause, services=["s-c00001"])
    drain(db, SystemClock())
    spec = OpenApiSpec.load(SPECS / "TMF621-Trouble_Ticket-v5.0.1.oas.yaml")
    with db.read() as conn:
        child = conn.execute(text("SELECT ticket_id FROM mass_outage_child")).scalar_one()
    for ticket_id in (child, shown.outage.master_id):
        v5 = client.get(f"/tmf-api/troubleTicket/v5/troubleTicket/{ticket_id}").json()
        spec.validate_response("/troubleTicket/{id}", "get", 200, v5)
        assert v5["initiatingMode"] == "system" and v5["channel"]["id"] == "system"
        caused_by = next(e for e in v5["relatedEntity"] if e["role"] == "causedBy")
        assert (
            caused_by["entity"]["@referredType"] == "ServiceProblem" and caused_by["entity"]["id"] == "sp-9"
        )
    v4 = client.get(f"/tmf-api/troubleTicket/v4/troubleTicket/{child}").json()
    assert v4["relatedParty"][0] == {
        "id": "c00001",
        "name": "Customer 1",
        "role": "customer",
        "@referredType": "Customer",
    }
    assert v4["status"] == "inProgress"
