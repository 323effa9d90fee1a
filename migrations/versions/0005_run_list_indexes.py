"""run list indexes: (status, id) and (problem_type, id) for filtered lists, newest first

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-01 23:30:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_run_status_id", "run", ["status", "id"], unique=False)
    op.create_index("ix_run_problem_type_id", "run", ["problem_type", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_run_problem_type_id", table_name="run")
    op.drop_index("ix_run_status_id", table_name="run")
