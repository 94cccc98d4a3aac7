"""Every table of Kefu, imported so that ``Base.metadata`` knows them all.

Add a line here when you add a models module; Alembic and the tests use this module.
"""

from bot.core.storage import (
    models,
    models_cases,
    models_jobs,
    models_loyalty,
    models_proactive,
    models_selfservice,
    security_models,
)
from bot.core.storage.models import Base

metadata = Base.metadata

__all__ = [
    "Base",
    "metadata",
    "models",
    "models_cases",
    "models_jobs",
    "models_loyalty",
    "models_proactive",
    "models_selfservice",
    "security_models",
]
