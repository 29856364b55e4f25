"""Concurrent writers adding the same new budget amount to a set on real PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import func, select

from db import Budget, create_project_set, session_scope
from db.api_queries import budget_for_amount

THREADS = 6
ROUNDS = 5
PROJECTS = [{"name": f"p{i}", "cost": c} for i, c in enumerate([10, 20, 30, 45])]


def _race(url: str, work) -> list[BaseException]:
    """Run `work(amount)` in THREADS threads released together, ROUNDS times; errors raised."""
    errors: list[BaseException] = []
    for round_no in range(ROUNDS):
        barrier = threading.Barrier(THREADS)
        amount = Decimal(1000 + round_no)

        def one(amount: Decimal = amount, barrier: threading.Barrier = barrier) -> None:
            try:
                barrier.wait()
                work(amount)
            except BaseException as exc:  # collected and asserted on in the test thread
                errors.append(exc)

        threads = [threading.Thread(target=one) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return errors


def _set_id(url: str) -> int:
    with session_scope(url) as s:
        ps, _ = create_project_set(session=s, name="race", projects=PROJECTS, budgets=[5])
        return ps.id


def _budget_count(url: str, set_id: int) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(Budget)
                        .where(Budget.project_set_id == set_id))


def test_budget_for_amount_is_safe_under_concurrent_inserts(pg_migrated_url) -> None:
    """Six threads asking for the same new amount all get the one stored budget, no error."""
    set_id = _set_id(pg_migrated_url)
    ids: list[int] = []

    def work(amount: Decimal) -> None:
        with session_scope(pg_migrated_url) as s:
            ids.append(budget_for_amount(session=s, set_id=set_id, amount=amount).id)

    assert _race(pg_migrated_url, work) == []
    assert len(ids) == THREADS * ROUNDS and len(set(ids)) == ROUNDS
    assert _budget_count(pg_migrated_url, set_id) == 1 + ROUNDS


def test_create_project_set_adds_new_budgets_safely_under_concurrency(pg_migrated_url) -> None:
    """Six threads re-creating a stored set with the same new budget all succeed, one row each."""
    set_id = _set_id(pg_migrated_url)

    def work(amount: Decimal) -> None:
        with session_scope(pg_migrated_url) as s:
            ps, created = create_project_set(session=s, name="race", projects=PROJECTS,
                                             budgets=[amount, 5])
            assert ps.id == set_id and not created

    assert _race(pg_migrated_url, work) == []
    assert _budget_count(pg_migrated_url, set_id) == 1 + ROUNDS
