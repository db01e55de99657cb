"""Alembic environment: migrate the connection `store.migrate` hands over, under a lock.

On PostgreSQL several replicas may start at once: a transaction-scoped advisory lock lets one
of them migrate while the others wait, then find nothing left to do.
"""

from __future__ import annotations

from alembic import context

from paramedic.serve import schema

_LOCK_KEY = 0x70617261  # "para": the advisory lock id of paramedic's migrations

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=schema.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
    context.run_migrations()
