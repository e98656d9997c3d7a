"""troubleflow benchmarks: `make bench` (full) and `make bench-quick` (about a minute).

Starts troubleflow as a user would (`troubleflow serve --workers 2`, production log level) beside the
same-stack ceiling app (bench/ceiling.py), loads it with wrk (Debian package; a small Python load generator
is the fallback when wrk is missing), and records for every scenario: requests/s (median of the runs),
p50/p99 latency, non-2xx count, peak server RSS and the ratio to the ceiling measured in the same run.
Results go to bench/results/<date>-<commit>.json and .md, and are compared with the previous file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CREATE_BODY = {
    "name": "No broadband",
    "description": "Line down since 08:10, modem shows red DSL light",
    "severity": "Major",
    "ticketType": "incident",
    "priority": "High",
    "note": [{"author": "agent-7", "text": "customer already rebooted the modem"}],
    "relatedParty": [{"id": "cust-42", "role": "customer", "@referredType": "Individual", "name": "Ada L."}],
    "relatedEntity": [{"id": "prod-9", "role": "affectedProduct", "@referredType": "Product"}],
    "channel": {"id": "call-centre", "name": "Call centre"},
}
API = "/tmf-api/troubleTicket/v4/troubleTicket"


@dataclass
class Figure:
    scenario: str
    database: str
    tickets: int
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    runs: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    ceiling: str = ""
    ratio: float | None = None
    valid: bool = True


# --- processes --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def start(cmd: list[str], env: dict[str, str], probe: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    wait_up(probe, proc)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn's worker processes), in MB."""
    total = 0
    pids = [pid]
    seen = set()
    while pids:
        p = pids.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            pids.extend(int(c) for c in children)
        except (FileNotFoundError, AttributeError, ProcessLookupError):
            continue
    return total / 1024


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            self._stop.wait(0.2)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- load generation ----------------------------------------------------------------------------------

LUA_COMMON = """
local ids = {}
init = function(args)
  local f = io.open(args[1], "r")
  if f then for line in f:lines() do ids[#ids + 1] = line end f:close() end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
"""

LUA = {
    "get": LUA_COMMON + 'request = function() return wrk.format("GET", "%s/" .. ids[math.random(#ids)]) end',
    "create": 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"',
    "patch": LUA_COMMON
    + """
local targets = {"held", "inProgress"}
request = function()
  local body = '{"status":"' .. targets[math.random(2)] .. '","statusChangeReason":"bench"}'
  return wrk.format("PATCH", "%s/" .. ids[math.random(#ids)],
                    {["Content-Type"] = "application/merge-patch+json"}, body)
end""",
}


def wrk(
    url: str,
    *,
    connections: int,
    seconds: int,
    script: str | None = None,
    script_args: list[str] | None = None,
    threads: int = 2,
) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, non-2xx+socket errors) of one wrk run."""
    cmd = [
        "wrk",
        "-t",
        str(min(threads, connections)),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--latency",
        # wrk's default 2 s timeout drops the slowest answers from the latencies and counts them as
        # socket errors; only an answer slower than this counts as an error (the deep offset page's p99
        # is above 1.5 s at 1M: it is reported, not cut).
        "--timeout",
        "10s",
    ]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if script_args:
        cmd += ["--", *script_args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    return rps, _ms(latency.get("50", "0ms")), _ms(latency.get("99", "0ms")), errors


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def python_load(
    method: str, urls: list[str], body: bytes | None, *, connections: int, seconds: int
) -> tuple[float, float, float, int]:
    """Fallback load generator (threads + httpx) for machines without wrk; slower, so it under-reports."""
    import random

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop() -> None:
        with httpx.Client(timeout=10) as client:
            while time.monotonic() < stop_at:
                url = random.choice(urls)
                began = time.perf_counter()
                response = client.request(
                    method, url, content=body, headers={"Content-Type": "application/json"}
                )
                took = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(took)
                    errors[0] += response.status_code >= 300

    workers = [threading.Thread(target=loop) for _ in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    latencies.sort()
    count = len(latencies)
    return count / seconds, latencies[count // 2], latencies[int(count * 0.99)], errors[0]


# --- scenarios ------------------------------------------------------------------------------------------


@dataclass
class Setup:
    database: str
    url: str
    tickets: int
    seed_rate: float = 0.0


def prepare_database(
    kind: str, tickets: int, work: Path, *, extra: list[str] | None = None, name: str = "bench"
) -> Setup:
    if kind == "sqlite":
        url = f"sqlite:///{work}/{name}-{tickets}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work}/{name}-{tickets}.db{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS troubleflow_{name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE troubleflow_{name}")
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/troubleflow_{name}"
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "troubleflow"), "--database-url", url, "db", "seed", "--tickets", str(tickets)]
        + (extra or []),
        check=True,
        env={**os.environ, "TROUBLEFLOW_LOG_LEVEL": "WARNING"},
    )
    rate = tickets / (time.perf_counter() - started)
    if kind == "postgresql":
        import psycopg

        with psycopg.connect(url.replace("postgresql://", "postgresql://"), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return Setup(kind, url, tickets, rate)


def sample_ids(url: str, where: str, limit: int, path: Path) -> Path:
    from sqlalchemy import text

    from troubleflow.storage.db import Database

    db = Database.from_url(url)
    with db.read() as conn:
        rows = (
            conn.execute(text(f"SELECT id FROM trouble_ticket WHERE {where} LIMIT {limit}")).scalars().all()
        )
    db.dispose()
    path.write_text("\n".join(rows) + "\n")
    return path


def measure(
    name: str,
    setup: Setup,
    base: str,
    connections: int,
    runs: int,
    seconds: int,
    server_pid: int,
    *,
    path: str = "",
    script: str | None = None,
    script_args: list[str] | None = None,
    fallback: tuple[str, list[str], bytes | None] | None = None,
) -> Figure:
    with RssSampler(server_pid) as rss:
        results = [
            load_once(base + path, connections, seconds, script, script_args, fallback) for _ in range(runs)
        ]
    return load_figure(name, setup, connections, results, rss.peak)


def load_once(
    url: str,
    connections: int,
    seconds: int,
    script: str | None,
    script_args: list[str] | None,
    fallback: tuple[str, list[str], bytes | None] | None,
) -> tuple[float, float, float, int]:
    """One run of wrk, or of the Python load generator (`fallback`: method, urls, body) without it."""
    if shutil.which("wrk"):
        return wrk(url, connections=connections, seconds=seconds, script=script, script_args=script_args)
    assert fallback is not None
    method, urls, body = fallback
    return python_load(method, urls, body, connections=connections, seconds=seconds)


def load_figure(
    name: str, setup: Setup, connections: int, results: list[tuple[float, float, float, int]], peak: float
) -> Figure:
    """The median run's rate and latencies, every run's rate, the errors of all runs (any: invalid)."""
    ordered = sorted(results, key=lambda r: r[0])
    median = ordered[len(ordered) // 2]
    errors = sum(r[3] for r in results)
    return Figure(
        name,
        setup.database,
        setup.tickets,
        connections,
        round(median[0], 1),
        round(median[1], 2),
        round(median[2], 2),
        errors,
        [round(r[0], 1) for r in results],
        round(peak, 1),
        valid=errors == 0,
    )


def server_env(url: str, port: int) -> dict[str, str]:
    """Production settings for a benchmarked troubleflow process on `port`."""
    return {
        "TROUBLEFLOW_DATABASE_URL": url,
        "TROUBLEFLOW_LOG_LEVEL": "WARNING",
        "TROUBLEFLOW_BASE_URL": f"http://127.0.0.1:{port}",
    }


def worker_figure(
    name: str, database: str, tickets: int, done: int, expected: int, seconds: float, peak_rss: float
) -> Figure:
    """A worker throughput figure (items per second of one in-process worker; no latency)."""
    rate = round(done / seconds, 1) if seconds else 0.0
    return Figure(
        name,
        database,
        tickets,
        1,
        rate,
        0.0,
        0.0,
        expected - done,
        [rate],
        round(peak_rss, 1),
        valid=done == expected,
    )


def run_matrix(setup: Setup, args: argparse.Namespace, work: Path) -> list[Figure]:
    port, ceiling_port = free_port(), free_port()
    env = server_env(setup.url, port)
    ceiling_db = setup.url.replace(".db", "-ceiling.db") if setup.database == "sqlite" else setup.url
    server = start(
        [
            str(BIN / "troubleflow"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-migrate",
        ],  # with its worker, as a user runs it (it folds the tallies and dispatches the events)
        env,
        f"http://127.0.0.1:{port}/health",
    )
    ceiling = start(
        [
            str(BIN / "uvicorn"),
            "bench.ceiling:create_app",
            "--factory",
            "--port",
            str(ceiling_port),
            "--workers",
            "2",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {"CEILING_DATABASE_URL": ceiling_db, "PYTHONPATH": str(ROOT)},
        f"http://127.0.0.1:{ceiling_port}/noop",
    )
    base, cbase = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ceiling_port}"
    lua = Path(tempfile.mkdtemp(dir=work))
    scripts = {}
    for key, text in LUA.items():
        body = json.dumps(CREATE_BODY) if key == "create" else None
        scripts[key] = lua / f"{key}.lua"
        scripts[key].write_text(text % (body if key == "create" else API,))
    ids = sample_ids(
        setup.url,
        "1=1 ORDER BY random()"
        if setup.database == "postgresql"
        else "id IN (SELECT id FROM trouble_ticket ORDER BY random() LIMIT 20000)",
        20000,
        lua / "ids.txt",
    )
    open_ids = sample_ids(setup.url, "status IN ('inProgress','held')", 5000, lua / "open.txt")
    all_ids = ids.read_text().split()
    body = json.dumps(CREATE_BODY).encode()
    deep = max(setup.tickets * 9 // 10, 0)
    n, s, runs = args.connections, args.seconds, args.runs
    figures: list[Figure] = []
    try:
        ceil_get = measure(
            "ceiling: no-op GET",
            setup,
            cbase,
            n[0],
            runs,
            s,
            ceiling.pid,
            path="/noop",
            fallback=("GET", [cbase + "/noop"], None),
        )
        ceil_ins = measure(
            "ceiling: raw two-row insert POST",
            setup,
            cbase,
            n[0],
            runs,
            s,
            ceiling.pid,
            path="/insert",
            script=str(scripts["create"]),
            fallback=("POST", [cbase + "/insert"], body),
        )
        figures += [ceil_get, ceil_ins]
        for c in n:
            fig = measure(
                f"POST /troubleTicket c={c}",
                setup,
                base,
                c,
                runs,
                s,
                server.pid,
                path=API,
                script=str(scripts["create"]),
                fallback=("POST", [base + API], body),
            )
            fig.ceiling, fig.ratio = ceil_ins.scenario, round(fig.rps / ceil_ins.rps, 3)
            figures.append(fig)
        reads = [
            (
                "GET /troubleTicket/{id} (random)",
                "",
                str(scripts["get"]),
                [str(ids)],
                [f"{base}{API}/{i}" for i in all_ids[:2000]],
            ),
            (
                "GET ?status=inProgress&severity=Major&limit=50",
                f"{API}?status=inProgress&severity=Major&limit=50",
                None,
                None,
                None,
            ),
            (
                f"GET ?sort=-creationDate&offset={deep}&limit=50 (deep page)",
                f"{API}?sort=-creationDate&offset={deep}&limit=50",
                None,
                None,
                None,
            ),
            (
                f"GET ?sort=-creationDate&after=<cursor at {deep}>&limit=50 (deep page, cursor)",
                f"{API}?sort=-creationDate&limit=50&after={deep_cursor(setup.url, deep)}",
                None,
                None,
                None,
            ),
            (
                "GET ?status=acknowledged&fields=id,status,severity&limit=50",
                f"{API}?status=acknowledged&fields=id,status,severity&limit=50",
                None,
                None,
                None,
            ),
        ]
        for name, path, script, sargs, urls in reads:
            fig = measure(
                name,
                setup,
                base,
                n[0],
                runs,
                s,
                server.pid,
                path=path,
                script=script,
                script_args=sargs,
                fallback=("GET", urls or [base + path], None),
            )
            fig.ceiling, fig.ratio = ceil_get.scenario, round(fig.rps / ceil_get.rps, 3)
            figures.append(fig)
        fig = measure(
            "PATCH status inProgress<->held",
            setup,
            base,
            n[0],
            runs,
            s,
            server.pid,
            script=str(scripts["patch"]),
            script_args=[str(open_ids)],
        )
        fig.ceiling, fig.ratio = ceil_ins.scenario, round(fig.rps / ceil_ins.rps, 3)
        figures.append(fig)
    finally:
        stop(server)
        stop(ceiling)
    figures += deferred_creates(setup, args, work, scripts["create"], ceil_ins)
    figures.append(delivery_rate(setup, args, work))
    return figures


def deferred_creates(
    setup: Setup, args: argparse.Namespace, work: Path, script: Path, ceiling: Figure
) -> list[Figure]:
    """Creates with Track & Manage left to the worker (policy `intake.start_tracking: in_worker`, a
    storm's mode): the API's rate, then how fast the worker starts the queued reports once the burst is
    over, and the rate of the whole (created and started, per second of burst plus catch-up)."""
    from sqlalchemy import text

    from troubleflow.policy_files import default_policy_dir
    from troubleflow.storage.db import Database

    policies = Path(tempfile.mkdtemp(dir=work))
    default = default_policy_dir().joinpath("default.yaml").read_text(encoding="utf-8")
    deferred = default.replace("start_tracking: at_creation", "start_tracking: in_worker")
    assert deferred != default
    (policies / "default.yaml").write_text(deferred, encoding="utf-8")
    port = free_port()
    env = server_env(setup.url, port) | {"TROUBLEFLOW_POLICY_DIR": str(policies)}
    server = start(
        [str(BIN / "troubleflow"), "serve", "--port", str(port), "--workers", "2", "--no-migrate"],
        env,
        f"http://127.0.0.1:{port}/health",
    )
    base, c = f"http://127.0.0.1:{port}", args.connections[0]
    db = Database.from_url(setup.url)
    queued = text("SELECT count(*) FROM timer WHERE state = 'armed' AND kind = 'trackStart'")
    creates, drains, wholes = [], [], []
    body = json.dumps(CREATE_BODY).encode()
    try:
        with RssSampler(server.pid) as rss:
            for _ in range(args.runs):
                fallback = ("POST", [base + API], body)
                result = load_once(base + API, c, args.seconds, str(script), None, fallback)
                creates.append(result)
                started = time.perf_counter()
                with db.read() as conn:
                    backlog = pending = int(conn.execute(queued).scalar_one())
                while pending:
                    time.sleep(0.05)
                    with db.read() as conn:
                        pending = int(conn.execute(queued).scalar_one())
                drained = time.perf_counter() - started
                drains.append(backlog / drained if backlog else 0.0)
                wholes.append(result[0] * args.seconds / (args.seconds + drained))
    finally:
        db.dispose()
        stop(server)
    create = load_figure(
        f"POST /troubleTicket c={c}, Track & Manage in the worker", setup, c, creates, rss.peak
    )
    create.ceiling, create.ratio = ceiling.scenario, round(create.rps / ceiling.rps, 3)
    errors = create.errors
    out = [create]
    for name, rates in (
        ("queued starts done by the worker after the burst, per s", drains),
        ("creates with tracking started, per s of burst and catch-up", wholes),
    ):
        mid = sorted(rates)[len(rates) // 2]
        out.append(
            Figure(
                name,
                setup.database,
                setup.tickets,
                c,
                round(mid, 1),
                0.0,
                0.0,
                errors,
                [round(r, 1) for r in rates],
                round(rss.peak, 1),
                valid=errors == 0,
            )
        )
    return out


def deep_cursor(url: str, offset: int) -> str:
    """The `after` cursor of the report at `offset` in `sort=-creationDate` order, as a Link would carry."""
    from sqlalchemy import text

    from troubleflow.api import tmf630
    from troubleflow.api.tmf621_v4 import V4
    from troubleflow.storage.db import Database

    db = Database.from_url(url)
    try:
        with db.read() as conn:
            row = conn.execute(
                text(
                    "SELECT CAST(creation_date AS TEXT), id FROM trouble_ticket"
                    " ORDER BY creation_date DESC, id DESC LIMIT 1 OFFSET :o"
                ),
                {"o": offset},
            ).one()
    finally:
        db.dispose()
    sort = tmf630.parse_list("sort=-creationDate", V4()).sort
    return tmf630.encode_cursor(sort, (str(row[0]), str(row[1])))


def delivery_rate(setup: Setup, args: argparse.Namespace, work: Path) -> Figure:
    """Outbox events delivered per second by one worker to a local listener (ceiling app, 1 process)."""
    from troubleflow.clock import SystemClock
    from troubleflow.config import Settings
    from troubleflow.processes import hub, reports
    from troubleflow.storage.db import Database
    from troubleflow.worker import Worker

    events = args.events
    port = free_port()
    listener = start(
        [
            str(BIN / "uvicorn"),
            "bench.ceiling:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {"CEILING_DATABASE_URL": f"sqlite:///{work}/listener.db", "PYTHONPATH": str(ROOT)},
        f"http://127.0.0.1:{port}/noop",
    )
    db = Database.from_url(setup.url)
    settings = Settings(database_url=setup.url, worker_batch_size=500)
    try:
        worker = Worker(db, settings)
        worker.run_once()  # drain what the HTTP scenarios produced (no subscribers yet: nothing to send)
        while worker.dispatch()[0]:
            pass
        hub.subscribe(
            db,
            api_version="v4",
            callback=f"http://127.0.0.1:{port}/listener",
            query=None,
            secret=None,
            extensions={},
            clock=SystemClock(),
        )
        from troubleflow.api.tmf621_v4 import V4

        values = V4().parse(CREATE_BODY)
        time.sleep(0.01)
        for _ in range(events):
            reports.create_report(db, dict(values), clock=SystemClock(), actor="bench")
        started = time.perf_counter()
        delivered = 0
        with RssSampler(os.getpid()) as rss:
            while delivered < events:
                done = worker.run_once()
                delivered += done.delivered
                if done.failed:
                    break
        seconds = time.perf_counter() - started
    finally:
        db.dispose()
        stop(listener)
    return worker_figure(
        "outbox events delivered by 1 worker",
        setup.database,
        setup.tickets,
        delivered,
        events,
        seconds,
        rss.peak,
    )


def timer_rate(kind: str, tickets: int, due: int, work: Path) -> tuple[Figure, float]:
    """Due timers fired per second by one in-process worker: `tickets` open reports, each with an armed
    jeopardy timer, `due` of them due now (bench/README.md, "Timers")."""
    from troubleflow.config import Settings
    from troubleflow.storage.db import Database
    from troubleflow.worker import Worker

    setup = prepare_database(kind, tickets, work, extra=["--open", "--due-timers", str(due)], name="timers")
    db = Database.from_url(setup.url)
    worker = Worker(db, Settings(database_url=setup.url, worker_batch_size=500))
    fired = 0
    try:
        with RssSampler(os.getpid()) as rss:
            started = time.perf_counter()
            while True:
                done = worker.fire_timers()
                if not done:
                    break
                fired += done
            seconds = time.perf_counter() - started
    finally:
        worker.close()
        db.dispose()
    figure = worker_figure(
        f"due timers fired by 1 worker ({due:,} due of {tickets:,} open, {seconds:.2f} s)",
        kind,
        tickets,
        fired,
        due,
        seconds,
        rss.peak,
    )
    return figure, setup.seed_rate


def scaling(setup: Setup, args: argparse.Namespace, work: Path) -> list[Figure]:
    """Create throughput with 1 API process + 1 worker, then 2 API processes + 2 workers."""
    figures = []
    for processes in (1, 2):
        port = free_port()
        env = server_env(setup.url, port)
        cmd = [str(BIN / "troubleflow"), "serve", "--port", str(port), "--workers", str(processes)]
        server = start([*cmd, "--no-worker", "--no-migrate"], env, f"http://127.0.0.1:{port}/health")
        workers = [
            subprocess.Popen(
                [str(BIN / "troubleflow"), "worker"],
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for _ in range(processes)
        ]
        lua = work / "scaling-create.lua"
        lua.write_text(LUA["create"] % (json.dumps(CREATE_BODY),))
        try:
            fig = measure(
                f"POST /troubleTicket c=16, {processes} API + {processes} worker processes",
                setup,
                f"http://127.0.0.1:{port}",
                16,
                args.runs,
                args.seconds,
                server.pid,
                path=API,
                script=str(lua),
                fallback=("POST", [f"http://127.0.0.1:{port}{API}"], json.dumps(CREATE_BODY).encode()),
            )
        finally:
            stop(server)
            for w in workers:
                stop(w)
        figures.append(fig)
    figures[1].ceiling, figures[1].ratio = figures[0].scenario, round(figures[1].rps / figures[0].rps, 3)
    return figures


# --- reporting --------------------------------------------------------------------------------------------


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"


def previous_results(doc: dict[str, Any], files: list[Path]) -> Path | None:
    """The results file to compare with: the same mode (full or quick), sharing at least one
    (database, tickets) size, from the newest commit in this branch's history (file names sort by
    commit hash, not by time)."""
    try:
        history = subprocess.run(
            ["git", "rev-list", "--abbrev-commit", "--abbrev=7", "HEAD"],
            capture_output=True, text=True, cwd=ROOT, check=True,
        ).stdout.split()  # fmt: skip
    except (subprocess.CalledProcessError, FileNotFoundError):
        history = []
    rank = {c: i for i, c in enumerate(history)}
    sizes = {(f["database"], f["tickets"]) for f in doc["figures"]}
    best: tuple[int, Path] | None = None
    for path in files:
        old = json.loads(path.read_text())
        if old.get("mode") != doc["mode"] or not sizes & {
            (f["database"], f["tickets"]) for f in old["figures"]
        }:
            continue
        age = rank.get(str(old.get("commit", ""))[:7], len(rank))
        if best is None or age < best[0]:
            best = (age, path)
    return best[1] if best else None


def markdown(doc: dict[str, Any]) -> str:
    lines = [
        f"# troubleflow benchmark {doc['date']} ({doc['commit']}, {doc['mode']})",
        "",
        f"Machine: {doc['machine']}. Load generator: {doc['load_generator']}. Runs per figure: "
        f"{doc['runs']} x {doc['seconds']} s (median).",
        "",
        "| database | tickets | scenario | conns | req/s | p50 ms | p99 ms | errors | ratio to ceiling | "
        "peak RSS MB |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in doc["figures"]:
        ratio = f"{f['ratio']:.2f}" if f["ratio"] is not None else ""
        flag = "" if f["valid"] else " (INVALID)"
        lines.append(
            f"| {f['database']} | {f['tickets']:,} | {f['scenario']}{flag} | {f['connections']} | "
            f"{f['rps']:,.0f} | {f['p50_ms']} | {f['p99_ms']} | {f['errors']} | {ratio} | "
            f"{f['peak_rss_mb']} |"
        )
    lines += ["", "| database | tickets | seed rate (reports/s) |", "|---|---:|---:|"]
    lines += [
        f"| {s['database']} | {s['tickets']:,}{' (all open, armed timers)' if s.get('open') else ''} | "
        f"{s['seed_rate']:,.0f} |"
        for s in doc["seeds"]
    ]
    return "\n".join(lines) + "\n"


def compare(doc: dict[str, Any], previous: Path | None) -> None:
    if previous is None:
        print("no earlier results to compare with")
        return
    old = {
        (f["database"], f["tickets"], f["scenario"]): f for f in json.loads(previous.read_text())["figures"]
    }
    print(f"\ncompared with {previous.name}:")
    for f in doc["figures"]:
        before = old.get((f["database"], f["tickets"], f["scenario"]))
        if before and before["rps"]:
            change = (f["rps"] - before["rps"]) / before["rps"] * 100
            print(
                f"  {f['database']:<10} {f['tickets']:>9,} {f['scenario']:<55} {before['rps']:>9,.0f} -> "
                f"{f['rps']:>9,.0f} req/s ({change:+.0f} %)"
            )


def show(fig: Figure) -> None:
    print(
        f"   {fig.scenario:<58} c={fig.connections:<3} {fig.rps:>9,.0f} req/s  p50 {fig.p50_ms} ms"
        f"  p99 {fig.p99_ms} ms  errors {fig.errors}  rss {fig.peak_rss_mb} MB"
        + (f"  ratio {fig.ratio}" if fig.ratio is not None else ""),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="about a minute: 10k tickets, SQLite, 1 run x 3 s"
    )
    parser.add_argument("--tickets", default="10000,1000000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--due-timers", type=int, default=10000, help="0 skips the timer benchmark")
    args = parser.parse_args()
    if args.quick:
        args.tickets, args.databases, args.runs, args.seconds = "10000", "sqlite", 1, 3
        args.events, args.due_timers = 1000, 1000
    args.connections = [int(c) for c in args.connections.split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = sorted(RESULTS.glob("*.json"))
    work = Path(tempfile.mkdtemp(prefix="troubleflow-bench-"))
    figures: list[Figure] = []
    seeds: list[dict[str, Any]] = []
    try:
        sizes = [int(t) for t in args.tickets.split(",")]
        for kind in args.databases.split(","):
            for tickets in sizes:
                print(f"== {kind}, {tickets:,} tickets", flush=True)
                setup = prepare_database(kind, tickets, work)
                seeds.append({"database": kind, "tickets": tickets, "seed_rate": round(setup.seed_rate, 1)})
                batch = run_matrix(setup, args, work)
                if kind == "postgresql" and tickets == sizes[0]:
                    batch += scaling(setup, args, work)
                for fig in batch:
                    show(fig)
                    figures.append(fig)
            if args.due_timers:
                print(f"== {kind}, timers: {sizes[-1]:,} open reports, {args.due_timers:,} due", flush=True)
                fig, rate = timer_rate(kind, sizes[-1], args.due_timers, work)
                seeds.append(
                    {"database": kind, "tickets": sizes[-1], "seed_rate": round(rate, 1), "open": True}
                )
                show(fig)
                figures.append(fig)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    date = datetime.now(UTC).strftime("%Y-%m-%d")
    doc = {
        "date": date,
        "commit": commit(),
        "mode": "quick" if args.quick else "full",
        "machine": f"{os.cpu_count()} cores",
        "load_generator": "wrk" if shutil.which("wrk") else "python",
        "runs": args.runs,
        "seconds": args.seconds,
        "seeds": seeds,
        "figures": [asdict(f) for f in figures],
    }
    stem = RESULTS / f"{date}-{doc['commit']}{'-quick' if args.quick else ''}"
    stem.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(doc))
    print("\n" + markdown(doc))
    print(f"written {stem}.json and .md")
    compare(doc, previous_results(doc, previous))
    if not all(f.valid for f in figures):
        sys.exit("some runs had errors (non-2xx responses): those figures are invalid")


if __name__ == "__main__":
    main()
