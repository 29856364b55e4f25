"""Registry: versions count up, the champion moves only on improvement, rollback, and a
tampered or missing model file is refused so `auto` falls back to the rules."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

import solvers
from db import model_registry as reg
from db.engine import session_scope
from db.errors import NotFoundError
from ml.selection import promotion, train_selector
from ml.serving import champion_selector

from .conftest import SMALL_TIME_LIMIT

SHA = "0" * 64


def _register(url: str, **extra) -> int:
    with session_scope(url) as s:
        return reg.register_version(session=s, name="selector", sha256=SHA, path="/x",
                                    **extra).version


def test_versions_count_up_and_alias_history_rolls_back(migrated_db_url) -> None:
    """1, 2, 3 per name; promote twice then rollback returns to the earlier champion."""
    assert [_register(migrated_db_url) for _ in range(3)] == [1, 2, 3]
    with session_scope(migrated_db_url) as s:
        assert reg.register_version(session=s, name="other", sha256=SHA, path="/y").version == 1
        assert reg.get_champion(session=s, name="selector") is None
        reg.promote(session=s, name="selector", version=1)
        reg.promote(session=s, name="selector", version=3)
        assert reg.get_champion(session=s, name="selector").version == 3
        assert reg.aliases(session=s, name="selector") == {3: ["champion"]}
        assert reg.rollback(session=s, name="selector").version == 1
        assert reg.get_champion(session=s, name="selector").version == 1
        with pytest.raises(NotFoundError):
            reg.rollback(session=s, name="selector")
        with pytest.raises(NotFoundError):
            reg.promote(session=s, name="selector", version=9)
        assert [v.version for v in reg.list_versions(session=s, name="selector")] == [3, 2, 1]


def _register_outcome(url: str, out, trained_until=None) -> int:
    art = out.artifact
    with session_scope(url) as s:
        row = reg.register_version(session=s, name="selector", sha256=art["sha256"],
                                   path=art["path"], params=art["params"], metrics=out.metrics,
                                   feature_names=art["feature_names"],
                                   class_order=art["class_order"],
                                   library_versions=art["library_versions"],
                                   training_window_end=trained_until)
        if out.promote:
            reg.promote(session=s, name="selector", version=row.version)
        return row.version


def test_promotion_rule_by_hand() -> None:
    """Promote only when strictly better than the rules, and than the champion on new data."""
    champ = "model:selector@v1"
    assert promotion(0.10, 0.20, None)[0] is True
    assert promotion(0.10, 0.20, champ, 0.12, 0.15, 40)[0] is True
    assert promotion(0.10, 0.20, champ, 0.15, 0.15, 40)[0] is False  # a tie keeps it
    assert promotion(0.10, 0.20, champ, 0.16, 0.15, 40)[0] is False
    keep, why = promotion(0.10, 0.20, champ, None, None, 0)
    assert keep is False and "nothing to compare" in why
    keep, why = promotion(0.30, 0.20, None)
    assert keep is False and "rule-based auto" in why


def _stamp(records, when):
    return [{**r, "runs": [{**run, "created_at": when} for run in r["runs"]]} for r in records]


def test_champion_is_compared_on_instances_it_never_saw(sqlite_migrated_url, small_history,
                                                        tmp_path) -> None:
    """Retraining on the same data never promotes (nothing new to compare on); with newer
    instances the challenger's out-of-fold cost is compared with the champion's there."""
    t0, t1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    old = _stamp(small_history[:45], t0)
    first = train_selector(old, time_limit=SMALL_TIME_LIMIT, model_dir=tmp_path,
                           candidates="base+hybrid", n_splits=3)
    v1 = _register_outcome(sqlite_migrated_url, first, trained_until=t0)
    with session_scope(sqlite_migrated_url) as s:  # as `budget models promote 1` would
        reg.promote(session=s, name="selector", version=v1)
    champion = champion_selector(sqlite_migrated_url)
    assert champion is not None and champion.version == v1

    same = train_selector(old, time_limit=SMALL_TIME_LIMIT, model_dir=tmp_path,
                          candidates="base+hybrid", n_splits=3, champion=champion)
    assert same.artifact["sha256"] == first.artifact["sha256"]
    assert same.promote is False and same.metrics["new_instances"] == 0
    assert _register_outcome(sqlite_migrated_url, same, t0) == v1 + 1
    assert champion_selector(sqlite_migrated_url).version == v1

    grown = old + _stamp(small_history[45:], t1)
    new = train_selector(grown, time_limit=SMALL_TIME_LIMIT, model_dir=tmp_path,
                         candidates="base+hybrid", n_splits=3, champion=champion)
    m = new.metrics
    assert m["new_instances"] == len(small_history) - 45
    margin = m["promotion_margin"]  # the re-timing noise floor: a gain must exceed it

    def beats(mine: float, other: float) -> bool:
        return mine < other and (other - mine) / other > margin

    expected = (beats(m["selector_par10_new"], m["champion_par10_new"])
                and beats(m["selector_par10"], m["rules_par10"]))
    assert new.promote == expected, new.decision
    v3 = _register_outcome(sqlite_migrated_url, new, t1)
    assert champion_selector(sqlite_migrated_url).version == (v3 if new.promote else v1)


def test_tampered_or_missing_file_is_refused_and_rules_decide(
        migrated_db_url, small_history, tmp_path, caplog) -> None:
    """One changed byte → sha256 mismatch → no selector (logged) → solve uses the rules."""
    out = train_selector(small_history, time_limit=SMALL_TIME_LIMIT, model_dir=tmp_path,
                         candidates="base+hybrid")
    version = _register_outcome(migrated_db_url, out)
    with session_scope(migrated_db_url) as s:
        reg.promote(session=s, name="selector", version=version)
    selector = champion_selector(migrated_db_url)
    assert selector is not None and selector.name == f"model:selector@v{version}"
    result = solvers.solve([3, 5, 9, 11], 20, selector=selector)
    assert result["selector"] == selector.name and result["total_cost"] == 20

    path = Path(out.artifact["path"])
    path.write_bytes(path.read_bytes().replace(b"num_leaves=", b"num_leaves=9", 1))
    with caplog.at_level(logging.WARNING, logger="ml.serving"):
        assert champion_selector(migrated_db_url) is None
    assert "tampered" in caplog.text and "rules used" in caplog.text
    result = solvers.solve([3, 5, 9, 11], 20, selector=champion_selector(migrated_db_url))
    assert result["selector"] == "rules" and result["total_cost"] == 20

    path.unlink()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ml.serving"):
        assert champion_selector(migrated_db_url) is None
    assert "missing" in caplog.text


def test_no_model_or_no_database_means_no_selector(sqlite_migrated_url, caplog) -> None:
    """No champion yet, or a database that does not answer: None, logged, no exception."""
    assert champion_selector(sqlite_migrated_url) is None
    url = "postgresql+psycopg2://nobody:secret@127.0.0.1:1/none"
    with caplog.at_level(logging.WARNING, logger="ml.serving"):
        assert champion_selector(url) is None
    assert "unavailable" in caplog.text and "secret" not in caplog.text


def test_models_cli_on_an_empty_database_says_what_to_do(sqlite_url, capsys) -> None:
    """`budget models list` on a database without the schema: one line, exit 2, no traceback."""
    from cli.main import main

    assert main(["models", "list", "--url", sqlite_url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "budget db upgrade" in err and "Traceback" not in err
