"""The store's tables, as SQLAlchemy Core metadata (one schema for SQLite and PostgreSQL).

`incidents` holds one row per incident: what to diagnose, the alert that asked (JSON), where
the diagnosis is (`phase`), its result (diagnosis JSON, the rendered HTML report, the top
cause), and the user-visible `state`. The captured bundle lives in `bundles`, one row per
incident, so listing incidents never reads it. The migrations in `migrations/versions/` create
exactly this; a test compares the migrated database with this metadata.

    state   open | closed | failed         (DESIGN.md §3; closed = the alert resolved)
    phase   queued | running | done        (running rows carry a lease: a crashed worker's
                                            row is taken again once the lease has passed)
    firing  true while the alert that opened it fires: at most one such row per fingerprint
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

OPEN, CLOSED, FAILED = "open", "closed", "failed"
STATES = (OPEN, CLOSED, FAILED)
QUEUED, RUNNING, DONE = "queued", "running", "done"

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("source", sa.String(512), nullable=False),
    sa.Column("target", sa.String(512), nullable=False),
    sa.Column("port", sa.String(64), nullable=True),
    sa.Column("namespace", sa.String(253), nullable=True),
    sa.Column("fingerprint", sa.String(128), nullable=True),
    sa.Column("firing", sa.Boolean, nullable=False),
    sa.Column("alert", sa.Text, nullable=True),
    sa.Column("diagnosis", sa.Text, nullable=True),
    sa.Column("report", sa.Text, nullable=True),
    sa.Column("top_cause", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_incidents_state", "state"),
    sa.Index("ix_incidents_phase", "phase"),
    sa.Index(
        "ux_incidents_firing_fingerprint",
        "fingerprint",
        unique=True,
        sqlite_where=sa.text("firing"),
        postgresql_where=sa.text("firing"),
    ),
)

bundles = sa.Table(
    "bundles",
    metadata,
    sa.Column(
        "incident_id",
        sa.Integer,
        sa.ForeignKey("incidents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
