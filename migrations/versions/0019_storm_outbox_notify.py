"""PostgreSQL: new outbox rows NOTIFY oncall_outbox at commit, so idle dispatchers wake at once instead of polling

Revision ID: 0019
Revises: 0018
"""
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# One notification per committing transaction however many rows it wrote (PostgreSQL folds equal ones), and
# nothing at all for a transaction that rolls back. oncall/worker.py listens.
FUNCTION = """
CREATE FUNCTION oncall_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('oncall_outbox', '');
    RETURN NULL;
END
$$
"""
TRIGGER = """
CREATE TRIGGER notifications_notify_outbox AFTER INSERT ON notifications
FOR EACH STATEMENT EXECUTE FUNCTION oncall_outbox_notify()
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has one writing process; the web nudges the worker it runs itself
    op.execute(FUNCTION)
    op.execute(TRIGGER)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER notifications_notify_outbox ON notifications")
    op.execute("DROP FUNCTION oncall_outbox_notify()")
