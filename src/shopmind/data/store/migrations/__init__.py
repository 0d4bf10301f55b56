"""Alembic migrations: a newer ShopMind opens (and upgrades) an older store."""
