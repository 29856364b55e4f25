"""Alerts: record what an operator should see, list them back.

An alert is `kind` (e.g. "run_failed", "slow_run", "high_memory", "hybrid_fallback"),
`severity` (one of `ALERT_SEVERITIES`), a one-line `message` and a JSON `context`.
Query functions take the session as `session=`; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db import _validate as v
from db.errors import DataValidationError
from db.models import ALERT_SEVERITIES, Alert

__all__ = ["list_alerts", "record_alert", "record_alerts"]


def _row(where: str, alert: Mapping[str, Any]) -> dict[str, Any]:
    severity = alert.get("severity", "warning")
    if severity not in ALERT_SEVERITIES:
        raise DataValidationError(
            f"{where}.severity: must be one of {', '.join(ALERT_SEVERITIES)}, got {severity!r}"
        )
    try:
        return {
            "kind": v.text("kind", alert.get("kind"), max_length=50),
            "severity": severity,
            "message": v.text("message", alert.get("message"), max_length=10_000),
            "context": v.json_doc("context", dict(alert.get("context") or {}) or None),
        }
    except DataValidationError as exc:
        raise DataValidationError(f"{where}.{exc}") from None


def record_alert(
    *,
    session: Session,
    kind: str,
    message: str,
    severity: str = "warning",
    context: Mapping[str, Any] | None = None,
) -> Alert:
    """Store one alert and return it, id assigned."""
    alert = Alert(**_row("alert", {"kind": kind, "message": message, "severity": severity,
                                   "context": context}))
    session.add(alert)
    session.flush()
    return alert


def record_alerts(*, session: Session, alerts: Iterable[Mapping[str, Any]]) -> int:
    """Store many alerts in one statement (all or nothing); returns how many."""
    rows = [_row(f"alerts[{i}]", a) for i, a in enumerate(alerts)]
    if rows:
        with session.begin_nested():
            session.execute(insert(Alert), rows)
    return len(rows)


def list_alerts(
    *,
    session: Session,
    kind: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[Alert]:
    """The newest alerts first, optionally of one kind or created at/after `since`."""
    if limit < 1:
        raise DataValidationError(f"limit must be >= 1, got {limit}")
    stmt = select(Alert).order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)
    if kind is not None:
        stmt = stmt.where(Alert.kind == kind)
    if since is not None:
        stmt = stmt.where(Alert.created_at >= since)
    return list(session.scalars(stmt))
