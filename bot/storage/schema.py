"""Imports every model module so that ``Base.metadata`` describes the whole schema.

Add a line here when you add a models module; Alembic and the tests use this module.
"""

from bot.storage import (
    models,
    models_cases,
    models_proactive,
    models_selfservice,
    security_models,
)
from bot.storage.models import Base

metadata = Base.metadata

__all__ = ["Base", "metadata", "models", "models_cases", "models_proactive",
           "models_selfservice", "security_models"]
