"""Storage: tables, repositories, outbox and deliveries (SQLAlchemy Core; SQLite or PostgreSQL)."""
