"""JSON logs: one object per line (timestamp, level, message and the record's fields).

`pipeline_logger(path)` returns the `budget.pipeline` logger writing JSON lines to `path`
(appending; one handler per path). `log_runs` writes one line per solver result with the
flow-run id, dataset id, algorithm, n and execution stats. Prefect's own run logs are kept
as they are; these lines sit next to them.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIELDS = ("flow_run_id", "dataset_id", "algorithm", "requested_algorithm", "n", "status",
          "execution_time", "memory_used", "total_cost", "budget", "kind")
_lock = threading.Lock()
_handlers: dict[str, logging.Handler] = {}


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON object; extra fields come from `record.fields`."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}) or {})
        return json.dumps(doc, default=str, separators=(",", ":"))


def pipeline_logger(path: str | Path) -> logging.Logger:
    """The `budget.pipeline` logger with a JSON-lines file handler on `path`."""
    logger = logging.getLogger("budget.pipeline")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    key = str(Path(path).resolve())
    with _lock:
        if key not in _handlers:
            Path(key).parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(key, encoding="utf-8")
            handler.setFormatter(JsonLineFormatter())
            logger.addHandler(handler)
            _handlers[key] = handler
    return logger


def run_fields(result: Mapping[str, Any], flow_run_id: str | None) -> dict[str, Any]:
    """The fields of one solver result that a JSON log line carries."""
    fields = {k: result.get(k) for k in FIELDS if k in result}
    fields["flow_run_id"] = flow_run_id
    fields["dataset_id"] = result.get("dataset_id", result.get("project_set_id"))
    return fields


def log_runs(logger: logging.Logger, results: Iterable[Mapping[str, Any]],
             flow_run_id: str | None) -> int:
    """One INFO line per result; returns how many were written."""
    count = 0
    for r in results:
        logger.info("run recorded", extra={"fields": run_fields(r, flow_run_id)})
        count += 1
    return count


def log_alerts(logger: logging.Logger, alerts: Iterable[Mapping[str, Any]]) -> int:
    """One WARNING line per alert; returns how many were written."""
    count = 0
    for a in alerts:
        logger.warning(a["message"], extra={"fields": {"kind": a["kind"], **(a.get("context")
                                                                              or {})}})
        count += 1
    return count
