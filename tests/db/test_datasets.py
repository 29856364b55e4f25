"""Project sets: idempotent creation, verbatim names, clear errors, paginated history."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db import (
    DataValidationError,
    NotFoundError,
    Project,
    ProjectSet,
    content_hash,
    create_project_set,
    get_project_set,
    record_runs,
)

NASTY = 'Robert\'); DROP TABLE project_sets;-- "quoted" %s %(x)s \\ ; ü ✓'


def test_same_content_is_stored_once(session, project_set):
    """A second create with equal projects (costs spelled differently) returns the stored set."""
    again, created = create_project_set(
        session=session,
        name="another name",
        projects=[
            {"name": f"p{i}", "cost": c, "metadata": {"i": i}}
            for i, c in enumerate([10, "20.00", "30.50", 40.0, "55.00"])
        ],
        budgets=[60, 75],
    )
    assert created is False
    assert again.id == project_set.id
    assert [b.amount for b in again.budgets] == [Decimal("60"), Decimal("100.50"), Decimal("75")]
    assert session.scalar(select(func.count()).select_from(ProjectSet)) == 1


def test_projects_are_stored_with_positions_costs_and_metadata(session, project_set):
    """Projects keep their order, exact costs (cents) and metadata."""
    rows = session.scalars(
        select(Project).where(Project.project_set_id == project_set.id).order_by(Project.position)
    ).all()
    assert [(p.position, p.name, p.cost, p.meta) for p in rows] == [
        (0, "p0", Decimal("10.00"), {"i": 0}),
        (1, "p1", Decimal("20.00"), {"i": 1}),
        (2, "p2", Decimal("30.50"), {"i": 2}),
        (3, "p3", Decimal("40.00"), {"i": 3}),
        (4, "p4", Decimal("55.00"), {"i": 4}),
    ]
    assert project_set.family == "uniform"
    assert project_set.generator_params == {"family": "uniform", "n": 5, "seed": 7}


def test_names_with_sql_metacharacters_are_stored_verbatim(session):
    """Quotes, semicolons, percent signs and backslashes survive unchanged."""
    ps, _ = create_project_set(
        session=session,
        name=NASTY,
        projects=[{"name": NASTY, "cost": 1, "metadata": {NASTY: NASTY}}],
    )
    session.commit()
    session.expunge_all()
    stored = session.get(ProjectSet, ps.id)
    assert stored.name == NASTY
    assert (stored.projects[0].name, stored.projects[0].meta) == (NASTY, {NASTY: NASTY})


def test_over_long_name_is_rejected_clearly(session):
    """A 201-character set name raises DataValidationError naming the field and the limit."""
    with pytest.raises(DataValidationError, match=r"name is 201 characters long, the limit is 200"):
        create_project_set(session=session, name="x" * 201, projects=[1])
    with pytest.raises(DataValidationError, match=r"projects\[1\]\.name is 300 characters"):
        create_project_set(session=session, name="ok", projects=[1, {"name": "y" * 300, "cost": 2}])


@pytest.mark.parametrize(
    ("projects", "message"),
    [
        ([], "projects must not be empty"),
        ([-5], r"projects\[0\]: must be non-negative \(got -5\)"),
        (["abc"], r"projects\[0\]: must be digits with at most two decimals.*'abc'"),
        ([1.005], r"projects\[0\]: has more decimal places than cents .*1\.005"),
        ([float("nan")], r"projects\[0\]: must be a finite amount"),
        # The one money rule (solvers.money), the same verdict as the solver and the API:
        (["1e3"], r"projects\[0\]: must be digits .*'1e3'"),
        (["1_000"], r"projects\[0\]: must be digits .*'1_000'"),
        ([0.1 + 0.2], r"projects\[0\]: has more decimal places .*0\.30000000000000004"),
        ([{"name": "a", "cost": 10**13 + 0.5}], r"projects\[0\]\.cost: is a binary float"),
        ([{"name": "a", "cost": 10**18}], r"projects\[0\]\.cost: is too large"),
        ([{"name": "a", "cost": 1, "metadata": {"x": object()}}], "not JSON-serialisable"),
    ],
)
def test_bad_projects_are_rejected_before_writing(session, projects, message):
    """Bad costs or metadata raise DataValidationError and write nothing."""
    with pytest.raises(DataValidationError, match=message):
        create_project_set(session=session, name="bad", projects=projects)
    assert session.scalar(select(func.count()).select_from(ProjectSet)) == 0


def test_content_hash_ignores_cost_spelling_but_not_order():
    """10, '10.00' and 10.0 hash alike; reordering projects changes the hash."""
    assert content_hash([10, 20]) == content_hash(["10.00", 20.0])
    assert content_hash([10, 20]) != content_hash([20, 10])


def test_history_is_paginated_newest_first(session, project_set, solver_result):
    """get_project_set returns the total run count and the requested page, newest first."""
    budget = project_set.budgets[0]
    record_runs(
        session=session,
        kind="remeasure",  # seven measurements of one pair, on purpose
        runs=[
            {
                **solver_result(execution_time=float(i)),
                "project_set_id": project_set.id,
                "budget_id": budget.id,
            }
            for i in range(7)
        ],
    )
    session.commit()
    first = get_project_set(session=session, set_id=project_set.id, limit=3)
    second = get_project_set(session=session, set_id=project_set.id, limit=3, offset=3)
    assert first.total_runs == 7
    ids = [r.id for r in first.runs] + [r.id for r in second.runs]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 6
    assert [p.position for p in first.project_set.projects] == [0, 1, 2, 3, 4]


def test_missing_set_is_not_found(session):
    """Fetching an unknown set id raises NotFoundError."""
    with pytest.raises(NotFoundError, match="project set 999 does not exist"):
        get_project_set(session=session, set_id=999)


def test_content_hash_rejects_lone_surrogates_with_a_clear_error() -> None:
    """content_hash raises DataValidationError naming the field, never UnicodeEncodeError."""
    with pytest.raises(DataValidationError, match=r"projects\[0\]\.metadata"):
        content_hash([{"name": "A", "cost": 1, "metadata": {"k": "\ud800"}}])
    with pytest.raises(DataValidationError, match=r"projects\[1\]\.name"):
        content_hash([{"name": "A", "cost": 1}, {"name": "\udc00", "cost": 1}])
