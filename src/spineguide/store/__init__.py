"""Persistence: SQLAlchemy 2 models, Alembic migrations and a small repository API."""
