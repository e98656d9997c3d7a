"""Alembic migrations (run with `troubleflow db upgrade`)."""
