"""Declarative base, naming convention and the portable column types.

PostgreSQL gets JSONB and native integer arrays; SQLite (the embedded default) stores both as
JSON text through `with_variant`, so one model and one migration history serve both.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Integer, MetaData, Numeric
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: JSON document: JSONB on PostgreSQL, JSON text elsewhere.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")
#: List of int positions: INTEGER[] on PostgreSQL, a JSON list elsewhere.
IntList = JSON().with_variant(ARRAY(Integer()), "postgresql")
#: Surrogate keys: BIGINT on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
#: Money: NUMERIC(20, 2), exact with cents; read back as `decimal.Decimal`.
Money = Numeric(20, 2, asdecimal=True)

NAME_LENGTH = 200


class Base(DeclarativeBase):
    """The one declarative base; every table's constraints get predictable names."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
