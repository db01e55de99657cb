"""Alembic migrations of the serve store (run by `store.Store.migrate`, never by hand)."""
