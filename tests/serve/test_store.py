"""The incident store, the same tests on SQLite and on a real PostgreSQL 15."""

from __future__ import annotations

import concurrent.futures
import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import autogenerate, migration

from paramedic import errors
from paramedic.serve import firing, records, schema, store

INCIDENT = {"from": "user-service", "to": "profile-db.data", "port": 5432, "namespace": "app"}


def _expire_lease(db: store.Store, incident_id: int) -> None:
    past = records.now() - dt.timedelta(seconds=1)
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(schema.incidents)
            .where(schema.incidents.c.id == incident_id)
            .values(lease_until=past)
        )


def test_migrated_schema_equals_the_metadata(db: store.Store) -> None:
    with db.engine.connect() as conn:
        context = migration.MigrationContext.configure(conn)
        assert context.get_current_revision() == "0001"
        assert autogenerate.compare_metadata(context, schema.metadata) == []


def test_migrating_twice_changes_nothing(store_url: str) -> None:
    first = store.Store.open(store_url)
    first.add(INCIDENT)
    first.close()
    again = store.Store.open(store_url)
    assert [r.id for r in again.list()] == [1]
    again.close()


def test_an_incident_is_stored_queued_and_open(db: store.Store) -> None:
    incident_id, created = db.add(INCIDENT, alert={"labels": {"a": "b"}}, fingerprint="f1")
    record = db.get(incident_id)
    assert created and record is not None
    assert (record.state, record.phase, record.firing) == ("open", "queued", True)
    assert record.incident == INCIDENT
    assert record.alert == {"labels": {"a": "b"}}
    assert record.created_at.tzinfo is not None


def test_a_fingerprint_firing_again_is_the_same_incident(db: store.Store) -> None:
    first, created = db.add(INCIDENT, fingerprint="f1")
    again, created_again = db.add(INCIDENT, fingerprint="f1")
    other, _ = db.add(INCIDENT, fingerprint="f2")
    assert created and not created_again
    assert first == again != other


def test_concurrent_adds_of_one_fingerprint_make_one_incident(db: store.Store) -> None:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: db.add(INCIDENT, fingerprint="same"), range(16)))
    assert len({incident_id for incident_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(db.list()) == 1


def test_alerts_written_in_one_transaction_deduplicate_against_each_other(
    db: store.Store,
) -> None:
    """The webhook's writer stores many requests in one commit (intake.py): a later alert sees
    an earlier one's incident before the commit."""
    with db.transaction() as conn:
        first = firing.add(conn, INCIDENT, fingerprint="f1")
        again = firing.add(conn, INCIDENT, fingerprint="f1")
        closed = firing.resolve(conn, "f1")
        reopened = firing.add(conn, INCIDENT, fingerprint="f1")
        manual = [firing.add(conn, INCIDENT) for _ in range(2)]
    assert first[1] and again == (first[0], False) and closed == first[0]
    assert reopened[1] and reopened[0] != first[0]
    assert all(created for _, created in manual) and manual[0][0] != manual[1][0]
    listed = [(r.id, r.state) for r in db.list()]
    assert listed[-2:] == [(reopened[0], "open"), (first[0], "closed")]


def test_a_failed_transaction_stores_none_of_its_alerts(db: store.Store) -> None:
    with pytest.raises(RuntimeError), db.transaction() as conn:
        firing.add(conn, INCIDENT, fingerprint="f1")
        raise RuntimeError("the batch failed")
    assert db.list() == []


def test_resolving_closes_and_keeps_the_diagnosis(db: store.Store) -> None:
    incident_id, _ = db.add(INCIDENT, fingerprint="f1")
    assert db.claim(incident_id, lease=30) is not None
    db.finish(
        incident_id,
        diagnosis={"schema": "x"},
        report="<p>r</p>",
        top_cause="dns: x",
        bundle=b"\x1f\x8b data",
    )
    assert db.resolve("f1") == incident_id
    record = db.get(incident_id)
    assert record is not None
    assert (record.state, record.firing, record.diagnosis) == ("closed", False, {"schema": "x"})
    assert db.bundle(incident_id) == b"\x1f\x8b data"
    assert db.resolve("f1") is None  # nothing fires under it any more
    reopened, created = db.add(INCIDENT, fingerprint="f1")  # fires again: a new incident
    assert created and reopened != incident_id


def test_a_claimed_incident_is_not_claimed_twice(db: store.Store) -> None:
    incident_id, _ = db.add(INCIDENT)
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        claims = list(pool.map(lambda _: db.claim(incident_id, lease=30), range(6)))
    assert sum(c is not None for c in claims) == 1
    assert db.recoverable() == []  # running under a live lease


def test_a_diagnosis_cut_off_by_a_crash_is_retried(db: store.Store) -> None:
    incident_id, _ = db.add(INCIDENT)
    db.claim(incident_id, lease=30)
    _expire_lease(db, incident_id)  # the server died while it ran
    assert db.recoverable() == [incident_id]
    record = db.claim(incident_id, lease=30)
    assert record is not None and record.attempts == 2


def test_a_diagnosis_cut_off_too_often_is_failed_with_why(db: store.Store) -> None:
    incident_id, _ = db.add(INCIDENT)
    for _ in range(store.MAX_ATTEMPTS):
        assert db.claim(incident_id, lease=30) is not None
        _expire_lease(db, incident_id)
    assert db.recoverable() == []
    record = db.get(incident_id)
    assert record is not None
    assert (record.state, record.phase) == ("failed", "done")
    assert record.error is not None and "cut off 3 times" in record.error


@pytest.mark.parametrize("outcome", ["finish", "fail"])
def test_a_worker_whose_claim_was_taken_over_stores_nothing(db: store.Store, outcome: str) -> None:
    """A worker stores its own result (serve/diagnosis.py) only while its attempt's claim
    holds: one that outlived its lease, re-claimed as attempt 2, is dropped."""
    incident_id, _ = db.add(INCIDENT)
    first = db.claim(incident_id, lease=30)
    assert first is not None
    _expire_lease(db, incident_id)
    second = db.claim(incident_id, lease=30)
    assert second is not None and second.attempts == first.attempts + 1

    def store_as(attempt: int) -> bool:
        if outcome == "fail":
            return db.fail(incident_id, "timed out", attempt=attempt)
        return db.finish(
            incident_id,
            diagnosis={"schema": str(attempt)},
            report="<p>r</p>",
            top_cause=None,
            bundle=b"b",
            attempt=attempt,
        )

    assert store_as(first.attempts) is False
    record = db.get(incident_id)
    assert record is not None and (record.phase, record.error, record.diagnosis) == (
        "running",
        None,
        None,
    )
    assert db.bundle(incident_id) is None
    assert store_as(second.attempts) is True
    record = db.get(incident_id)
    assert record is not None and record.phase == "done"
    assert store_as(second.attempts) is False  # done: nothing is stored twice


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_sqlite_store_is_refused_in_one_line(url: str) -> None:
    with pytest.raises(errors.InputError, match="in-memory SQLite store is not shared"):
        store.Store.open(url)


def test_a_failed_diagnosis_keeps_one_line_why(db: store.Store) -> None:
    incident_id, _ = db.add(INCIDENT)
    db.claim(incident_id, lease=30)
    db.fail(incident_id, "cannot reach the API server\nsecond line")
    record = db.get(incident_id)
    assert record is not None
    assert (record.state, record.error) == ("failed", "cannot reach the API server")


def test_listing_is_newest_first_and_filters_by_state(db: store.Store) -> None:
    ids = [db.add(INCIDENT, fingerprint=f"f{n}")[0] for n in range(3)]
    db.resolve("f0")
    assert [r.id for r in db.list()] == ids[::-1]
    assert [r.id for r in db.list(state="closed")] == [ids[0]]
    assert db.counts() == {"open": 2, "closed": 1, "failed": 0}
    assert all(r.diagnosis is None and r.report is None for r in db.list())


def test_a_store_that_answers_is_ready(db: store.Store) -> None:
    assert db.ping() == ""


def test_a_store_that_went_away_is_not_ready(tmp_path: pytest.TempPathFactory) -> None:
    db = store.Store.open(f"sqlite:///{tmp_path}/gone.db")  # type: ignore[operator]
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE bundles"))
        conn.execute(sa.text("DROP TABLE incidents"))
    assert "incidents" in db.ping()
    db.close()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://x/y", "use sqlite:///PATH or postgresql://"),
        ("sqlite:////nonexistent-dir/x/serve.db", "cannot open the store"),
        ("postgresql://nobody@127.0.0.1:1/db", "cannot open the store"),
    ],
)
def test_an_unusable_store_url_is_one_input_error(url: str, says: str) -> None:
    with pytest.raises(errors.InputError, match=says):
        store.Store.open(url, timeout=2)
