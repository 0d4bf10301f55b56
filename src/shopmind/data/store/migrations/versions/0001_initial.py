"""Initial schema: shops, catalog, users (+ personal fields apart), events, reviews, orders,
quarantine and ingest progress.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TEXT = sa.Text()
_TIME = sa.BigInteger()  # UTC microseconds since the epoch


def _shop() -> sa.Column:
    return sa.Column("shop_id", sa.Text(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "shops",
        sa.Column("shop_id", sa.Text(), primary_key=True),
        sa.Column("name", _TEXT),
        sa.Column("currency", _TEXT),
        sa.Column("created_at", _TIME),
    )
    op.create_table(
        "items",
        _shop(),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("title", _TEXT),
        sa.Column("description", _TEXT),
        sa.Column("category", _TEXT),
        sa.Column("brand", _TEXT),
        sa.Column("price", sa.Float()),
        sa.Column("currency", _TEXT),
        sa.Column("stock", sa.BigInteger()),
        sa.Column("attributes", _TEXT),
        sa.Column("created_at", _TIME),
        sa.Column("updated_at", _TIME),
        sa.Column("placeholder", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("shop_id", "item_id"),
    )
    op.create_table(
        "users",
        _shop(),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("attributes", _TEXT),
        sa.Column("consent_personalization", sa.Boolean()),
        sa.Column("consent_marketing", sa.Boolean()),
        sa.Column("created_at", _TIME),
        sa.Column("updated_at", _TIME),
        sa.Column("placeholder", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("shop_id", "user_id"),
    )
    op.create_table(
        "user_pii",
        _shop(),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("name", _TEXT),
        sa.Column("email", _TEXT),
        sa.Column("phone", _TEXT),
        sa.Column("address", _TEXT),
        sa.PrimaryKeyConstraint("shop_id", "user_id"),
    )
    op.create_table(
        "events",
        _shop(),
        sa.Column("event_key", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("item_id", _TEXT),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("ts", _TIME, nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("session_id", _TEXT),
        sa.Column("query", _TEXT),
        sa.Column("event_id", _TEXT),
        # event_key first: 64-bit hash keys compare faster than the text shop_id
        sa.PrimaryKeyConstraint("event_key", "shop_id"),
    )
    op.create_table(
        "reviews",
        _shop(),
        sa.Column("review_id", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("user_id", _TEXT),
        sa.Column("rating", sa.Float()),
        sa.Column("text", _TEXT),
        sa.Column("ts", _TIME),
        sa.PrimaryKeyConstraint("shop_id", "review_id"),
    )
    op.create_table(
        "orders",
        _shop(),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("status", _TEXT),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME),
        sa.Column("total", sa.Float()),
        sa.Column("currency", _TEXT),
        sa.PrimaryKeyConstraint("shop_id", "order_id"),
    )
    op.create_table(
        "order_lines",
        _shop(),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("line_key", sa.Text(), nullable=False),
        sa.Column("item_id", _TEXT),
        sa.Column("quantity", sa.BigInteger()),
        sa.Column("unit_price", sa.Float()),
        sa.PrimaryKeyConstraint("shop_id", "order_id", "line_key"),
    )
    op.create_table(
        "quarantine",
        _shop(),
        sa.Column("quarantine_key", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("row_number", sa.BigInteger()),
        sa.Column("field", _TEXT),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", _TEXT),
        sa.Column("created_at", _TIME),
        sa.PrimaryKeyConstraint("quarantine_key", "shop_id"),
    )
    op.create_table(
        "ingest_progress",
        _shop(),
        sa.Column("source_key", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("chunks_done", sa.BigInteger(), nullable=False),
        sa.Column("rows_done", sa.BigInteger(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", _TIME),
        sa.PrimaryKeyConstraint("shop_id", "source_key"),
    )


def downgrade() -> None:
    for table in (
        "ingest_progress", "quarantine", "order_lines", "orders", "reviews", "events",
        "user_pii", "users", "items", "shops",
    ):
        op.drop_table(table)
