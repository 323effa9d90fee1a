"""run leases and losses

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 23:40:00.000000

"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("lease_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("lost", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("lost_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    _lease_running_runs()


def _lease_running_runs() -> None:
    """Runs solving while this migration runs belong to work horses of the previous release, which do not
    refresh a lease: give each one until its time limit (and a minute) is up, so no worker starts a second
    attempt beside them; one whose work horse is gone is then resumed as usual."""
    run = sa.table(
        "run",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("worker", sa.String),
        sa.column("time_limit", sa.Float),
        sa.column("lease_owner", sa.String),
        sa.column("lease_expires_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    conn = op.get_bind()
    now = datetime.now(UTC)
    running = conn.execute(sa.select(run.c.id, run.c.worker, run.c.time_limit).where(run.c.status == "running"))
    for run_id, worker, time_limit in list(running):
        until = now + timedelta(seconds=float(time_limit) + 60)
        lease = {"lease_owner": worker or "previous release", "lease_expires_at": until}
        conn.execute(sa.update(run).where(run.c.id == run_id).values(**lease))


def downgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_column("lost_reason")
        batch_op.drop_column("lost")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
