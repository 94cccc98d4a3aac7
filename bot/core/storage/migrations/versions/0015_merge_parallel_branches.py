"""merge this session's parallel branches (timed jobs, hardening, loyalty, outages,
proactive care, KPIs)

Revision ID: 0015
Revises: 0007, 0010, 0013, 0014
"""
from collections.abc import Sequence

revision: str = "0015"
down_revision: str | Sequence[str] | None = ("0007", "0010", "0013", "0014")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
