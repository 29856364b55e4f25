"""API keys: create, list, revoke, authenticate. Only a key's SHA-256 is ever stored.

A key is `bk_` followed by 43 URL-safe characters (32 random bytes from `secrets`): it has
256 bits of entropy, so one SHA-256 is enough to store it (a slow password hash protects
guessable secrets; nobody guesses 256 random bits). A key is looked up by its hash (the
unique index `uq_api_keys_key_hash`) and the hash is compared again with
`hmac.compare_digest`. `prefix` (the first 11 characters, `bk_` and 8 random ones) is what
`budget keys list` shows to tell keys apart; it authenticates nothing.

Same conventions as the rest of `db/`: the session is a keyword argument, unknown keys raise
`NotFoundError`, bad values raise `DataValidationError` naming the field and the value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db import _validate as v
from db.errors import DataValidationError, NotFoundError
from db.models import ApiKey

__all__ = [
    "KEY_PREFIX",
    "ApiKey",
    "authenticate",
    "create_key",
    "hash_key",
    "list_keys",
    "revoke_key",
    "valid_owner",
]

KEY_PREFIX = "bk_"
PREFIX_LENGTH = 11
"""Characters of a key kept for display: `bk_` and 8 random ones (48 bits)."""
_KEY_SHAPE = re.compile(r"bk_[A-Za-z0-9_-]{43}")
_OWNER_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
OWNER_RULE = ("1 to 100 characters: letters, digits and . _ @ -, starting with a letter or a "
              "digit")


def hash_key(key: str) -> str:
    """The SHA-256 (hex) a key is stored as."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def valid_owner(owner_id: object) -> str:
    """`owner_id` checked against `OWNER_RULE`; `DataValidationError` naming it otherwise."""
    if not isinstance(owner_id, str) or not _OWNER_SHAPE.fullmatch(owner_id):
        raise DataValidationError(f"owner must be {OWNER_RULE}, got {v._show(owner_id)}")
    return owner_id


def create_key(*, session: Session, owner_id: str, name: str | None = None,
               admin: bool = False) -> tuple[ApiKey, str]:
    """A new key for `owner_id`: `(row, key)`. The key itself is returned this once and
    stored nowhere (the row holds its hash and prefix)."""
    valid_owner(owner_id)
    v.text("name", name, max_length=100, required=False)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(owner_id=owner_id, name=name, key_hash=hash_key(key),
                 prefix=key[:PREFIX_LENGTH], admin=bool(admin))
    session.add(row)
    session.flush()
    return row, key


def list_keys(*, session: Session, owner_id: str | None = None) -> list[ApiKey]:
    """Every key (revoked ones too), oldest first; only `owner_id`'s when given."""
    stmt = select(ApiKey).order_by(ApiKey.id)
    if owner_id is not None:
        stmt = stmt.where(ApiKey.owner_id == owner_id)
    return list(session.scalars(stmt))


def revoke_key(*, session: Session, key: str) -> ApiKey:
    """Revoke the key whose id or prefix is `key` (from `budget keys list`); revoking a
    revoked key changes nothing. `NotFoundError` if none matches, `DataValidationError` if a
    prefix matches several keys (then give the id)."""
    text = str(key).strip()
    clauses = [ApiKey.prefix == text]
    if text.isdigit():
        clauses.append(ApiKey.id == int(text))
    if len(text) > PREFIX_LENGTH and text.startswith(KEY_PREFIX):  # the whole key
        clauses.append(ApiKey.key_hash == hash_key(text))
    rows = list(session.scalars(select(ApiKey).where(or_(*clauses))))
    if not rows:
        raise NotFoundError(f"no API key with id or prefix {v._show(text)}")
    if len(rows) > 1:
        ids = ", ".join(str(r.id) for r in rows)
        raise DataValidationError(f"key {v._show(text)} matches keys {ids}: give the id")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.flush()
    return row


def authenticate(*, session: Session, key: str) -> ApiKey | None:
    """The live (not revoked) key row for `key`, or None. Anything not shaped like a key is
    refused before the database is asked."""
    if not isinstance(key, str) or not _KEY_SHAPE.fullmatch(key):
        return None
    digest = hash_key(key)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest,
                                              ApiKey.revoked_at.is_(None)))
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return row
