"""The forecast: a real (small) runtime model predicts a solve's time and whether it will be
proven within its limit; without a registered model there is no forecast, cheaply."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

import solvers
from ml.serving import (
    NO_RUNTIME_MODEL,
    describe_forecast,
    forecast,
    forecast_fields,
    load_runtime,
    runtime_model_with_note,
)
from solvers.instances import generate
from tests.conftest import register_runtime

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model(runtime_artifact):
    """The session's runtime model, loaded as the registry would (sha256 checked)."""
    loaded = load_runtime({**runtime_artifact, "name": "runtime", "version": 7})
    assert loaded is not None
    return loaded


def test_easy_instance_with_a_generous_limit_is_expected_proven(model) -> None:
    """auto on a small instance: the forecast names what auto runs, and expects a proof."""
    inst = generate("psix", 12, seed=3)
    fc = forecast(model, inst.projects(), inst.budget, "auto", 10.0)
    ran = solvers.solve(inst.projects(), inst.budget, "auto", 10.0)
    assert fc["predicted_algorithm"] == ran["algorithm"]
    assert fc["expected_proven"] is True and ran["status"] == "exact"
    assert 0 < fc["predicted_seconds"] < 10.0 and fc["time_limit"] == 10.0
    assert fc["runtime_model"] == "model:runtime@v7" and fc["runtime_model_version"] == 7
    line = describe_forecast(fc, result=ran)
    assert "(runtime model v7), expected proven within the 10 s limit: yes" in line
    assert "; actual " in line and line.endswith(f"with {ran['algorithm']}: exact")


def test_greedy_and_a_tiny_limit_are_not_expected_proven(model) -> None:
    """greedy on a non-trivial instance it does not hit, and dp under a 1 ns limit: no proof."""
    inst = generate("todd", 20, seed=1)
    projects = inst.projects()
    greedy = forecast(model, projects, inst.budget, "greedy", 10.0)
    assert solvers.solve(projects, inst.budget, "greedy")["status"] == "approximate"
    assert greedy["expected_proven"] is False and "heuristic" in greedy["basis"]
    tiny = forecast(model, projects, inst.budget, "dp", 1e-9)
    assert tiny["expected_proven"] is False and tiny["predicted_seconds"] <= 1e-9
    assert "limit: no" in describe_forecast(tiny)


def test_trivial_instances_are_proven_whatever_runs(model) -> None:
    """Everything fits, or nothing does: preprocessing proves it, even for greedy."""
    for projects, budget in (([1, 2, 3], 100), ([50, 60], 10)):
        fc = forecast(model, projects, budget, "greedy", 1.0)
        assert fc["expected_proven"] is True and "trivial" in fc["basis"]
        assert solvers.solve(projects, budget, "greedy")["status"] == "exact"


def test_no_time_limit_uses_the_limits_default_and_bad_input_raises(model) -> None:
    """No time limit: the solvers' default applies; bad input raises like the solve would."""
    limits = solvers.Limits(default_time_limit=42.0)
    fc = forecast(model, [3, 5, 4], 8, "dp", None, limits=limits)
    assert fc["time_limit"] == 42.0 and "42 s limit" in describe_forecast(fc)
    with pytest.raises(solvers.InvalidInputError):
        forecast_fields(model, None, [3, -5], 8, "dp")


def test_without_a_registered_model_there_is_no_forecast(sqlite_migrated_url, tmp_path,
                                                         runtime_artifact) -> None:
    """Missing SQLite file (not created), empty registry: no forecast and why; registered: one."""
    missing = tmp_path / "nothing-here.db"
    assert runtime_model_with_note(f"sqlite:///{missing}") == (None, NO_RUNTIME_MODEL)
    assert not missing.exists()
    model, note = runtime_model_with_note(sqlite_migrated_url)
    assert model is None and note == NO_RUNTIME_MODEL
    fields = forecast_fields(model, note, [3, 5, 4], 8)
    assert fields == {"forecast": None, "forecast_note": NO_RUNTIME_MODEL}
    assert describe_forecast(None, note) == f"no forecast: {NO_RUNTIME_MODEL}"
    version = register_runtime(sqlite_migrated_url, runtime_artifact)
    model, note = runtime_model_with_note(sqlite_migrated_url)
    assert note is None and model is not None and model.version == version


def test_no_model_means_no_ml_stack_import(sqlite_migrated_url) -> None:
    """Importing ml.serving and asking an empty registry loads neither LightGBM nor sklearn."""
    code = ("import sys; from ml.serving import runtime_model_with_note; "
            f"m, note = runtime_model_with_note({sqlite_migrated_url!r}); "
            "assert m is None, note; "
            "bad = [k for k in ('lightgbm', 'sklearn') if k in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_a_configuration_is_predicted_as_its_algorithm(model) -> None:
    """A runtime model trained without configurations predicts `hybrid[core-large]` as hybrid
    (not as the slowest algorithm, which is reserved for names it cannot place)."""
    inst = generate("portfolio", 60, seed=2)
    feats = model.features_of(inst.projects(), inst.budget)
    config, base, unknown = model.predict_many(feats, ["hybrid[core-large]", "hybrid", "zzz"])
    assert config == base
    assert unknown >= config  # the slowest raw prediction


def _huge_sparse(n: int, seed: int) -> tuple[list[int], int]:
    """n costs of 92 random bits (their total stays under the 10**30 money limit up to n = 90):
    2^n selections against sums spread over ~2^95, so none is expected to reach the budget."""
    rng = random.Random(seed)
    costs = [rng.getrandbits(92) | (1 << 91) for _ in range(n)]
    return costs, sum(costs) // 2


def _sparse_large(n: int, seed: int) -> tuple[list[int], int]:
    """Distinct costs 1e10..1e13: many selections reach the budget, none easy to find."""
    rng = random.Random(seed)
    costs = [rng.randint(10**10, 10**13) for _ in range(n)]
    return costs, sum(costs) // 2


def test_no_when_every_exact_route_is_structurally_out_of_reach(model) -> None:
    """n = 70..85 costs of 92 bits, 50 ms: dp refuses its table, meet in the middle the size,
    backtracking would enumerate 2^n selections with none expected to hit: "no" (the solvers'
    cost model), predicted at the limit, and the real solve indeed ends unproven."""
    for n, seed in ((70, 1), (78, 2), (85, 3)):
        costs, budget = _huge_sparse(n, seed)
        fc = forecast(model, costs, budget, "auto", 0.05)
        assert fc["predicted_algorithm"] == "hybrid" and fc["seen"] is False
        assert fc["proven_answer"] == "no" and fc["expected_proven"] is False, fc["basis"]
        assert "no exact route" in fc["basis"] and fc["predicted_seconds"] == 0.05
        assert fc["outlook"]["log10_hits"] < -1.5 and fc["outlook"]["fallback"] == "backtracking"
        assert solvers.solve(costs, budget, "auto", 0.05)["status"] != "exact"


def test_yes_is_never_said_where_the_real_solve_does_not_prove(model) -> None:
    """A seeded mix (generated families, dense and sparse large costs, 0.2 s): every "yes"
    is followed by a proof in the real solve; the mix has both yes answers and failed proofs,
    and the probe turns an unseen dense instance into a "yes" that holds."""
    cases = [(generate(f, n, seed=s).projects(), generate(f, n, seed=s).budget)
             for f, n, s in (("psix", 12, 3), ("todd", 20, 1), ("pe", 24, 2),
                             ("avis", 30, 4), ("uniform", 28, 5))]
    rng = random.Random(16)
    dense = [rng.randint(10**8, 10**9) for _ in range(20)] + [rng.randint(1, 1000)
                                                              for _ in range(60)]
    cases += [(dense, sum(dense) // 3)]
    cases += [_sparse_large(n, n) for n in (34, 48, 64, 80)]
    cases += [_huge_sparse(72, 4)]
    said_yes = failed = 0
    for projects, budget in cases:
        fc = forecast(model, projects, budget, "auto", 0.2)
        proven = solvers.solve(projects, budget, "auto", 0.2)["status"] == "exact"
        failed += not proven
        if fc["proven_answer"] == "yes":
            said_yes += 1
            assert proven, fc["basis"]
    fc = forecast(model, dense, sum(dense) // 3, "auto", 0.2)
    assert fc["seen"] is False and fc["proven_answer"] == "yes" and "probe" in fc["basis"]
    assert said_yes >= 3 and failed >= 2


def test_no_when_hybrids_difference_cores_expect_under_three_hundredths_of_a_hit(model) -> None:
    """Sparse large costs: many selections reach the budget and no exact route fits. Where
    hybrid's cores (its birthday search when its plan fits, its enumerated core when its
    builds fit, plus its greedy-and-moves core's own targets) expect under 10^-1.5 hits in
    their time (n = 48 and 52 at 0.3 s: too few items for the birthday search's lists in that
    time), the forecast says "no" and the real solve ends unproven; where they expect more
    (n = 60 and 66 at 0.3 s, 66..100 at 1 s: the birthday search expects a hit in 10-50 ms, and
    the solve is proven) it makes no such claim."""
    for n, limit in ((48, 0.3), (52, 0.3)):
        costs, budget = _sparse_large(n, n)
        fc = forecast(model, costs, budget, "auto", limit)
        assert fc["outlook"]["log10_hits"] > 0.5 and fc["outlook"]["core_hits"] < -1.5
        assert fc["proven_answer"] == "no" and "difference core" in fc["basis"], (n, limit)
        assert solvers.solve(costs, budget, "auto", limit)["status"] != "exact"
    for n, limit in ((60, 0.3), (66, 0.3), (66, 1.0), (80, 1.0), (100, 1.0), (100, 0.3)):
        costs, budget = _sparse_large(n, n)
        fc = forecast(model, costs, budget, "auto", limit)
        assert fc["outlook"]["core_hits"] >= -1.5, (n, limit)
        assert fc["proven_answer"] != "no" or "difference core" not in fc["basis"], (n, limit)
    for n in (60, 66):
        costs, budget = _sparse_large(n, n)
        assert solvers.solve(costs, budget, "auto", 0.3)["status"] == "exact"


def test_forecast_prices_the_birthday_search_when_it_goes_first(model) -> None:
    """Sparse large costs, n = 80 at 2 s: hybrid's core step runs its birthday search first
    (expected within a quarter of its time), and that search ends the solve. The forecast is
    the quick search plus the search's expected seconds (not the hedge between the heuristics'
    allotments and the limit, ~1 s), and the real solve is proven well inside it × 3."""
    costs, budget = _sparse_large(80, 80)
    fc = forecast(model, costs, budget, "auto", 2.0, probe_seconds=0.0)
    first = fc["outlook"]["birthday_seconds"]
    assert first is not None and 0 < first < 0.25
    assert fc["predicted_seconds"] <= first + 0.06
    assert fc["proven_answer"] != "no"
    start = time.process_time()
    result = solvers.solve(costs, budget, "auto", 2.0)
    assert result["status"] == "exact"
    assert time.process_time() - start < max(3 * fc["predicted_seconds"], 1.0)


def test_view_reports_hybrids_exact_first_choice() -> None:
    """The solvers' view says which exact method hybrid runs before its heuristics, and the
    plan then ends with it: Schroeppel–Shamir priced to hit at 50 items (10^12..10^13), none
    at 58 (the birthday search in the core step expects its hit sooner)."""
    from ml.runtime import outlook, plan_seconds

    for i, n, want in ((3, 50, "meet_in_the_middle"), (10, 58, None)):
        rng = random.Random(100 + i)
        costs = [rng.randint(10**12, 10**13) for _ in range(n)]
        view = outlook(costs, sum(costs) // 2, "hybrid", 2.0)
        assert view["exact_first"] == want
        if want is not None:
            after = view["routes"][want]
            assert plan_seconds(view, "hybrid", 2.0, after) == pytest.approx(after)


def test_unsure_is_kept_where_neither_model_knows(model) -> None:
    """Sparse large costs outside the trust region, no exact route within 0.3 s, many
    selections reaching the budget. n = 130: hybrid's cores expect hits (10^1.7), so the
    solvers' cost model cannot say "no" (it is in fact proven), and without a probe, or with
    one that does not prove it, the answer stays "unsure". n = 52: its cores expect 10^-2.7
    hits in their time (too few items for the birthday search's lists in it, its greedy-and-
    moves core has few targets in its window): "no", and it is indeed not proven."""
    for probe in (0.0,):
        costs, budget = _sparse_large(130, 130)
        fc = forecast(model, costs, budget, "auto", 0.3, probe_seconds=probe)
        assert fc["seen"] is False and fc["outlook"]["log10_hits"] > 3
        assert fc["outlook"]["core_hits"] > 0
        assert fc["proven_answer"] == "unsure" and fc["expected_proven"] is False
        assert fc["probe_seconds"] is None  # no probe, or one that did not prove it
    costs, budget = _sparse_large(52, 52)
    for probe in (0.0, None):
        fc = forecast(model, costs, budget, "auto", 0.3, probe_seconds=probe)
        assert fc["outlook"]["core_hits"] < -1.5 and fc["proven_answer"] == "no"
    assert solvers.solve(costs, budget, "auto", 0.3)["status"] != "exact"


def _view(**over):
    """A synthetic solvers' view (``ml.runtime.outlook``'s keys) for hybrid at n = 60."""
    view = {"n": 60, "routes": {"meet_in_the_middle": 0.5}, "refused": False,
            "cheapest": 0.5, "planned": float("inf"), "fallback": "backtracking",
            "log10_hits": -2.0, "log2_selections": 60.0, "core_hits": None,
            "bound_is_budget": True, "time_limit": 0.3}
    view.update(over)
    return view


def test_a_route_hybrid_does_not_plan_cannot_prove_it() -> None:
    """Meet in the middle at 0.5 s under a 0.3 s limit: within 2x the limit, but hybrid plans a
    route only within 0.75x of it, so it runs backtracking over 2^60 selections with no hit
    expected: "no". Planned (0.2 s), the same view leaves the claim unmade."""
    from ml.runtime import structural_no, structural_route

    assert structural_no(_view(), 0.3) is not None
    assert structural_no(_view(planned=0.2, fallback="meet_in_the_middle",
                               routes={"meet_in_the_middle": 0.2}, cheapest=0.2), 0.3) is None
    assert structural_route(_view(), 0.3) is False
    assert structural_route(_view(planned=0.2), 0.3) is True
    assert structural_route(_view(log10_hits=0.5), 0.3) is True  # a hit is expected
    assert structural_route(_view(log10_hits=0.5, core_hits=-3.0), 0.3) is False
    assert structural_route(_view(log2_selections=20.0), 0.3) is True  # exhaustive: 0.04 s
    assert structural_route(None, 0.3) is True and structural_route(_view(), None) is True


def test_an_undecided_solve_with_a_priced_plan_is_forecast_at_the_plan() -> None:
    """hybrid planning meet in the middle (0.1 s) under a 2 s limit ends with it: the forecast
    is its plan, not the hedge with the limit kept for plans without a priced route."""
    from ml.runtime import plan_seconds
    from ml.serving import _unseen_seconds

    priced = _view(routes={"meet_in_the_middle": 0.1}, cheapest=0.1, planned=0.1,
                   fallback="meet_in_the_middle", time_limit=2.0)
    plan = plan_seconds(priced, "hybrid", 2.0, 0.1)
    assert plan is not None and plan < 0.3
    assert _unseen_seconds(priced, "hybrid", 2.0, 1.0) == pytest.approx(plan)
    bare = _view(routes={}, cheapest=float("inf"), time_limit=2.0)
    hedge = _unseen_seconds(bare, "hybrid", 2.0, 1.0)
    bare_plan = plan_seconds(bare, "hybrid", 2.0, 0.0)
    assert hedge == pytest.approx((bare_plan * 2.0) ** 0.5) and bare_plan < hedge < 2.0


def test_outlook_sees_the_residue_step() -> None:
    """Costs ≡ 7 (mod 1000), a budget whose residue needs an out-of-reach count: the view says
    hybrid's residue step proves it first (bound below the budget, its plan milliseconds),
    and so the forecast never says "no" there; hybrid agrees."""
    from ml.runtime import outlook, plan_seconds, structural_no

    rng = random.Random(1)
    costs = [1000 * rng.randint(100, 200) + 7 for _ in range(1000)]
    budget = sum(costs) // 2 + 500
    view = outlook(costs, budget, "hybrid", 2.0)
    assert view is not None and view["exact_first"] == "residue"
    assert not view["bound_is_budget"] and structural_no(view, 2.0) is None
    assert plan_seconds(view, "hybrid", 2.0) < 0.01
    result = solvers.solve(costs, budget, algorithm="hybrid", time_limit=2.0)
    assert result["status"] == "exact" and result["stage"] == "residue"
