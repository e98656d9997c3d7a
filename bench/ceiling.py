"""The reference ceiling: the same stack (FastAPI on uvicorn, SQLAlchemy, msgspec) doing the least
possible work, so every troubleflow figure can be reported as a ratio measured side by side.

GET /noop (no-op JSON), POST /insert (a raw two-row insert transaction, like a ticket + its history row),
POST /listener (a webhook receiver answering 204, for outbox delivery figures).
"""

from __future__ import annotations

import os
import time

import msgspec
from fastapi import FastAPI, Request
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from troubleflow.domain.ids import new_id
from troubleflow.storage.db import Database

metadata = MetaData()
parent = Table("ceiling_parent", metadata, Column("id", String(40), primary_key=True), Column("doc", Text))
child = Table(
    "ceiling_child",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("parent_id", String(40), index=True),
    Column("at", Text),
)

RECEIVED = {"count": 0}


def create_app() -> FastAPI:
    db = Database.from_url(os.environ["CEILING_DATABASE_URL"])
    with db.begin() as conn:
        metadata.create_all(conn)
    app = FastAPI()

    def _insert(body: bytes) -> str:
        ident = new_id()
        with db.begin() as conn:
            conn.execute(insert(parent), [{"id": ident, "doc": body.decode()}])
            conn.execute(insert(child), [{"parent_id": ident, "at": str(time.time())}])
        return ident

    @app.get("/noop")
    async def noop() -> Response:
        return Response(b'{"ok":true}', media_type="application/json")

    @app.post("/insert")
    async def raw_insert(request: Request) -> Response:
        ident = await run_in_threadpool(_insert, await request.body())
        return Response(msgspec.json.encode({"id": ident}), status_code=201, media_type="application/json")

    @app.post("/listener")
    async def listener(request: Request) -> Response:
        await request.body()
        RECEIVED["count"] += 1
        return Response(status_code=204)

    @app.get("/received")
    async def received() -> Response:
        return Response(msgspec.json.encode(RECEIVED), media_type="application/json")

    return app
