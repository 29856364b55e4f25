"""Algorithm runs: round trip, bulk writes, ownership checks, all-or-nothing batches."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db import (
    AlgorithmRun,
    BudgetMismatchError,
    DataValidationError,
    NotFoundError,
    create_project_set,
    get_run,
    record_run,
    record_runs,
)


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(AlgorithmRun))


def test_recorded_run_reads_back_unchanged(session, project_set, solver_result):
    """A solver result recorded, committed and fetched by id has the same values."""
    result = solver_result(reason='it\'s "fine"; -- really', upper_bound="60.50")
    run = record_run(
        session=session,
        project_set_id=project_set.id,
        budget_id=project_set.budgets[0].id,
        result=result,
        flow_run_id="0b6f7a0e-1",
        requested_algorithm="auto",
    )
    session.commit()
    session.expunge_all()
    back = get_run(session=session, run_id=run.id).to_dict()
    assert back["selected_indices"] == result["selected_indices"]
    assert back["total_cost"] == Decimal("60.50")
    assert back["upper_bound"] == Decimal("60.50")
    for key in ("execution_time", "memory_used", "status", "algorithm", "reason", "selector"):
        assert back[key] == result[key], key
    assert (back["flow_run_id"], back["requested_algorithm"]) == ("0b6f7a0e-1", "auto")
    assert back["created_at"] is not None


def test_bulk_recorded_runs_read_back_unchanged(session, project_set, solver_result):
    """record_runs stores every row with its values, including empty selections and NULLs."""
    budget = project_set.budgets[1]
    rows = [
        {
            **solver_result(
                selected_indices=[],
                total_cost=0,
                status="failed",
                memory_used=None,
                upper_bound=None,
                reason="time\tout\nafter 1s \\ \\N 'q' \"d\"",
                selector=None,
            ),
            "project_set_id": project_set.id,
            "budget_id": budget.id,
        },
        {
            **solver_result(
                selected_indices=[4, 1],
                total_cost="75.00",
                algorithm="greedy",
                status="approximate",
            ),
            "project_set_id": project_set.id,
            "budget_id": budget.id,
        },
    ]
    assert record_runs(session=session, runs=iter(rows), page_size=1) == 2
    session.commit()
    stored = session.scalars(select(AlgorithmRun).order_by(AlgorithmRun.id)).all()
    assert [
        (r.selected_projects, r.total_cost, r.match_type, r.memory_used, r.reason) for r in stored
    ] == [
        ([], Decimal("0.00"), "failed", None, "time\tout\nafter 1s \\ \\N 'q' \"d\""),
        ([1, 4], Decimal("75.00"), "approximate", 0.75, None),
    ]


def test_budget_of_another_set_is_rejected(session, project_set, solver_result):
    """A budget that belongs to a different set raises BudgetMismatchError naming both sets."""
    other, _ = create_project_set(session=session, name="other", projects=[1, 2], budgets=[3])
    foreign = other.budgets[0].id
    with pytest.raises(BudgetMismatchError, match=rf"budget {foreign} belongs to project set"):
        record_run(
            session=session,
            project_set_id=project_set.id,
            budget_id=foreign,
            result=solver_result(),
        )
    with pytest.raises(BudgetMismatchError, match="no budget 12345"):
        record_runs(
            session=session,
            runs=[{**solver_result(), "project_set_id": project_set.id, "budget_id": 12345}],
        )
    assert _count(session) == 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"selected_indices": [0, 5]}, r"position 5, outside 0\.\.4"),
        ({"selected_indices": [1, 1]}, "position 1 twice"),
        ({"status": "optimal"}, "status must be one of exact, approximate, failed"),
        ({"execution_time": -1}, "execution_time must be finite and non-negative"),
        ({"algorithm": "a" * 65}, "algorithm is 65 characters long, the limit is 64"),
        ({"total_cost": "12.345"}, "total_cost: has more decimal places than cents"),
    ],
)
def test_bad_run_fields_are_rejected(session, project_set, override, message, solver_result):
    """Each bad field raises DataValidationError naming it; nothing is written."""
    with pytest.raises(DataValidationError, match=message):
        record_run(
            session=session,
            project_set_id=project_set.id,
            budget_id=project_set.budgets[0].id,
            result=solver_result(**override),
        )
    assert _count(session) == 0


def test_failed_bulk_write_leaves_nothing(session, project_set, solver_result):
    """A bad row after written pages undoes the whole batch, even if the caller commits."""
    good = {
        **solver_result(),
        "project_set_id": project_set.id,
        "budget_id": project_set.budgets[0].id,
    }
    rows = [good] * 7 + [{**good, "status": "bogus"}]
    with pytest.raises(DataValidationError, match=r"runs\[7\]\.status"):
        record_runs(session=session, runs=rows, page_size=2)
    session.commit()
    assert _count(session) == 0
    # the session is still usable (three measurements of one pair: remeasured on purpose)
    assert record_runs(session=session, runs=[good] * 3, kind="remeasure") == 3
    session.commit()
    assert _count(session) == 3


def test_database_level_failure_in_bulk_write_leaves_nothing(session, project_set, solver_result):
    """A row only the database rejects (its set deleted mid-batch: FK) undoes earlier pages."""
    from sqlalchemy.exc import IntegrityError

    good = {
        **solver_result(),
        "project_set_id": project_set.id,
        "budget_id": project_set.budgets[0].id,
    }
    other, _ = create_project_set(session=session, name="doomed", projects=[1, 2], budgets=[3])
    session.commit()
    doomed = {
        **solver_result(selected_indices=[0], total_cost=1),
        "project_set_id": other.id,
        "budget_id": other.budgets[0].id,
    }
    sets = other.__table__

    def rows():
        yield from [doomed, good, good, good]  # page 1: written, ownership cached
        session.execute(sets.delete().where(sets.c.id == other.id))
        yield from [good, doomed]  # page 2: passes the cached checks, fails the foreign key

    with pytest.raises(IntegrityError):
        record_runs(session=session, runs=rows(), page_size=4)
    session.commit()
    assert _count(session) == 0


def test_unknown_run_is_not_found(session):
    """get_run on a missing id raises NotFoundError."""
    with pytest.raises(NotFoundError, match="algorithm run 42 does not exist"):
        get_run(session=session, run_id=42)


@pytest.mark.parametrize("bulk", [False, True])
def test_runs_store_exact_money_and_memory_method(session, solver_result, bulk):
    """Money past float precision is stored from the solver's exact strings, with its cents
    (PostgreSQL's NUMERIC; SQLite keeps NUMERIC as a double, exact to ~9e13 with cents), and
    the run keeps how its memory was measured."""
    import solvers

    sqlite = session.get_bind().dialect.name == "sqlite"
    big, budget = ("12345678901.23", "12345678902.25") if sqlite else (
        "12345678901234567.89", "12345678901234569.00")
    projects = [{"name": "big", "cost": big}, {"name": "s", "cost": "1.01"}]
    ps, _ = create_project_set(session=session, name="big money", projects=projects,
                               budgets=[budget])
    session.commit()
    result = solvers.solve(projects, budget, algorithm="meet_in_the_middle", measure_memory=True)
    want = Decimal(big) + Decimal("1.01")
    assert Decimal(result["total_cost_exact"]) == want
    if not sqlite:
        assert result["total_cost"] != want  # the float alone would lose the cents
    ids = {"project_set_id": ps.id, "budget_id": ps.budgets[0].id}
    if bulk:
        record_runs(session=session, runs=[{**result, **ids}])
        run_id = session.scalar(select(func.max(AlgorithmRun.id)))
    else:
        run_id = record_run(session=session, **ids, result=result).id
    session.commit()
    session.expunge_all()
    back = get_run(session=session, run_id=run_id).to_dict()
    assert back["total_cost"] == want
    assert back["upper_bound"] == want
    assert back["memory_method"] == result["memory_method"] == "tracemalloc"
