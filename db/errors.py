"""Errors the data layer raises on purpose. Each message names the field and the value."""

from __future__ import annotations


class DatabaseError(Exception):
    """Base class for the data layer's own errors."""


class DatabaseUnavailableError(DatabaseError):
    """The database server cannot be reached. The message is safe to print: no password."""


class DataValidationError(DatabaseError, ValueError):
    """Input rejected before it reaches the database (too long, negative, wrong type, ...)."""


class BudgetMismatchError(DataValidationError):
    """A run refers to a budget that does not belong to the run's project set."""


class NotFoundError(DatabaseError, LookupError):
    """A row looked up by id does not exist."""


class SchemaRevisionError(DatabaseError):
    """The database's schema is not at the revision this code runs against (no schema, behind
    head, or a revision this code does not know). The message names both revisions and the
    fix, and no password."""
