"""Exit 0 when PostgreSQL answers at the given URL, 75 (skip the leg) when it does not — except in CI,
where a missing PostgreSQL is a failure (exit 1): CI must run the PostgreSQL leg."""

from __future__ import annotations

import os
import sys

import psycopg

url = sys.argv[1]
try:
    psycopg.connect(url, connect_timeout=3).close()
except psycopg.OperationalError as exc:
    if os.environ.get("CI"):
        print(f"PostgreSQL is required in CI but not reachable at {url}: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"SKIPPED the PostgreSQL leg: no PostgreSQL at {url} ({exc.__class__.__name__})", file=sys.stderr)
    sys.exit(75)
