"""The optional compiled kernels (solvers._native, Numba): same answers as the Python-integer
dp, balsub under the shared contract, never imported by small solves, and the Python path
when Numba is absent or disabled."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import numpy as np
import pytest

import solvers
from solvers import _balsub, _native, _residue, dp
from solvers._core import _certificate, parse_call, prepare

from .test_proofs import check, optimum

HAS_NUMBA = _native.available()


@pytest.fixture
def force_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every dp pass, however small, run in the kernels."""
    if not HAS_NUMBA:
        pytest.skip("numba not installed (pip install .[fast]) or SOLVERS_NATIVE=0")
    monkeypatch.setattr(dp, "NATIVE_MIN_WIDTH", 0)
    monkeypatch.setattr(dp, "NATIVE_LOADED_MIN", -1.0)
    monkeypatch.setattr(_native, "NATIVE_OVERHEAD", -1.0)
    monkeypatch.setattr(_native, "CHUNK_WORDS", 7)  # many returns to Python: clock checks


def _instances(seed: int, count: int) -> list[tuple[list[int], int]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        n = rng.randint(1, 40)
        high = rng.choice((5, 70, 300, 5000))
        costs = [rng.randint(1, high) for _ in range(n)]
        out.append((costs, rng.randint(1, sum(costs) + 3)))
    return out


def test_kernels_match_python_integers(force_kernels: None) -> None:
    """forward, backward and the first-reach walk agree bit for bit with the Python-integer
    shifts, at word boundaries and with early stops."""
    rng = random.Random(4)
    for _ in range(150):
        costs = sorted(rng.randint(1, 300) for _ in range(rng.randint(1, 30)))
        cap = rng.choice((0, 1, 63, 64, 65, 127, 128, rng.randint(0, 3000)))
        stop = rng.choice((-1, cap, rng.randint(0, cap)))
        mask, reach, used = (1 << (cap + 1)) - 1, 1, len(costs)
        for k, w in enumerate(costs):
            reach = (reach | reach << w) & mask
            if stop >= 0 and reach >> stop & 1:
                used = k + 1
                break
        assert _native.forward_words(costs, cap, stop, lambda: None) == (reach, used)
        back = 1 << cap
        for w in costs:
            back |= back >> w
        assert _native.backward_words(costs, cap, lambda: None) == back
        best, picked = _native.best_subset(costs, cap, lambda: None)
        assert best == optimum(costs, cap) == sum(costs[i] for i in picked)
        assert len(set(picked)) == len(picked)


def test_dp_through_the_kernels_keeps_the_contract(force_kernels: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """dp and hybrid on the kernels: exact answers are the reference optimum."""
    calls = []
    real = _native.best_subset

    def counted(*args):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(_native, "best_subset", counted)
    for costs, budget in _instances(19, 60):
        for name in ("dp", "hybrid"):
            check(name, costs, budget)
    assert len(calls) > 20, "the kernels were not used"


def test_disabled_kernels_give_the_same_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the kernels off (as without Numba) the Python-integer dp answers identically."""
    monkeypatch.setattr(dp, "NATIVE_MIN_WIDTH", 0)
    monkeypatch.setattr(dp, "NATIVE_LOADED_MIN", -1.0)
    monkeypatch.setattr(_native, "NATIVE_OVERHEAD", -1.0)
    cases = _instances(23, 30)
    on = [solvers.solve(c, b, algorithm="dp")["total_cost"] for c, b in cases]
    _native.set_enabled(False)
    try:
        assert not _native.available()
        off = [check("dp", c, b)["total_cost"] for c, b in cases]
    finally:
        _native.set_enabled(None)
    assert on == off


def test_kernels_stop_at_the_deadline(force_kernels: None) -> None:
    """A pass on the kernels returns to Python between chunks and honours the time limit."""
    rng = random.Random(8)
    costs = [rng.randint(10**5, 2 * 10**5) * 2 + 1 for _ in range(300)]
    budget = sum(costs) // 2  # ~3e7-bit rows: seconds of passes
    result = solvers.solve(costs, budget, algorithm="dp", time_limit=0.05)
    assert result["status"] == "approximate" and "time limit" in result["reason"]
    assert result["total_cost"] <= budget


def test_chunks_follow_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk sizes adapt to what a unit costs: about CHUNK_SECONDS a call whether a unit
    costs a microsecond (memory touched the first time in a fresh VM) or a nanosecond."""
    clock = [0.0]
    monkeypatch.setattr(_native.time, "perf_counter", lambda: clock[0])
    chunks = _native._Chunks()
    for per_unit in (1e-6, 1e-9, 3e-7):
        for _ in range(30):
            clock[0] += chunks.units * per_unit
            chunks.tick()
        units = chunks.units
        seconds = min(units * per_unit, _native.CHUNK_WORDS * per_unit)
        expected = min(_native.CHUNK_SECONDS, _native.CHUNK_WORDS * per_unit)
        assert expected / 1.5 <= seconds <= expected * 1.5, (per_unit, units)
        assert 1 <= units <= _native.CHUNK_WORDS


def test_slow_memory_does_not_outrun_the_limit(force_kernels: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Kernels whose units cost 20x the nominal (the first touch of a fresh VM's memory) still
    return to the clock in time: a dp with a 0.05 s limit ends within 10x of it (a fixed chunk
    of 2^25 units ran 0.65 s there)."""
    monkeypatch.setattr(_native, "CHUNK_WORDS", 1 << 25)
    kernels = dict(_native._compile())
    real = kernels["first_reach"]

    def slow(*args):  # type: ignore[no-untyped-def]
        import time
        out = real(*args)
        time.sleep(min(args[6], 1 << 25) * 2e-8)  # args[6]: the call's unit budget
        return out

    monkeypatch.setattr(_native, "_compile", lambda: {**kernels, "first_reach": slow})
    monkeypatch.setattr(dp, "group_split", lambda core: None)
    rng = random.Random(5)
    costs = [rng.randint(10**6, 10**7) for _ in range(30)]
    budget = sum(costs) // 2
    start = time.perf_counter()
    result = solvers.solve(costs, budget, algorithm="dp", time_limit=0.05, measure_memory=False)
    assert time.perf_counter() - start < 0.5
    assert result["status"] == "approximate" and "time limit" in result["reason"]
    assert result["total_cost"] <= budget


def test_small_solves_never_import_numba() -> None:
    """Importing solvers and solving small instances leaves Numba unimported (start-up and
    first-call latency unchanged)."""
    code = ("import sys, solvers; solvers.solve([3, 5, 9, 11, 2], 17); "
            "solvers.solve(list(range(1, 300)), 5000); print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_balsub_value_matches_the_reference(force_kernels: None) -> None:
    """Pisinger's balsub kernel (resumed every few steps) finds the reference optimum."""
    rng = random.Random(12)
    seen = 0
    for _ in range(300):
        costs = [rng.randint(1, rng.choice((5, 60, 500))) for _ in range(rng.randint(2, 30))]
        cap = rng.randint(max(costs), sum(costs) + 2)
        if sum(costs) <= cap:
            continue
        seen += 1
        assert _native.balsub_value(np.array(costs), cap, lambda: None) == optimum(costs, cap)
    assert seen > 100


def test_balsub_method_proves_or_bounds_honestly(force_kernels: None) -> None:
    """The balsub method's answer is a proof (the certificate agrees, total = optimum) or an
    approximation whose bound is the optimum; each witness path is reached."""
    rng = random.Random(31)
    paths = set()
    for _ in range(80):
        n = rng.randint(40, 120)
        g = rng.choice((1, 7, 50))
        costs = [g * rng.randint(1, 40) for _ in range(n)] + [1] * rng.randint(0, 2)
        budget = rng.randint(max(costs), sum(costs) - 1)
        problem, lim, _ = parse_call(costs, budget, None, None)
        core = prepare(problem, lim, None).core
        if core is None:
            continue
        core.incumbent = [] if rng.random() < 0.5 else [0]
        answer = _balsub.solve_core(core)
        total = sum(core.costs[i] for i in answer.indices)
        best = optimum(core.costs, core.budget)
        assert answer.upper_bound == best
        exact, _, broken = _certificate(answer, total, core)
        assert broken is None and exact == (total == best) == answer.exact
        paths.add(answer.extra.get("witness", "other") if answer.exact else "approximate")
    assert "dp" in paths and "other" in paths, paths


def test_hybrid_proves_residue_instances_by_balsub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Multiples of 7 and three ones, a budget 5 above a multiple of 7: sums reach residues
    0-3 only, so the optimum is 2 below the budget; the preprocessing bound is out of reach,
    the bitset wide and the multiplicity box loose — without the residue step (which proves it
    first: tests/solvers/test_residue.py) hybrid plans balsub and proves it."""
    if not HAS_NUMBA:
        pytest.skip("numba not installed (pip install .[fast]) or SOLVERS_NATIVE=0")
    monkeypatch.setattr(_residue, "MIN_N", 10**9)
    rng = random.Random(2)
    costs = [7 * rng.randint(1, 100) for _ in range(100_000)] + [1, 1, 1]
    budget = sum(costs) // 2 // 7 * 7 + 5
    result = solvers.solve(costs, budget, algorithm="hybrid", time_limit=30)
    assert result["status"] == "exact" and result["stage"] == "balsub"
    assert result["total_cost"] == budget - 2 == result["upper_bound"]
    sel = result["selected_indices"]
    assert sel == sorted(set(sel)) and sum(costs[i] for i in sel) == budget - 2


def test_without_numba_balsub_is_not_offered() -> None:
    """With the kernels off, balsub has no estimate: hybrid never plans it."""
    problem, lim, _ = parse_call(list(range(1, 3000)), 10**6 + 1, None, None)
    core = prepare(problem, lim, None).core
    _native.set_enabled(False)
    try:
        assert _balsub.estimated_seconds(core) is None
    finally:
        _native.set_enabled(None)
    if HAS_NUMBA:
        assert _balsub.estimated_seconds(core) is not None
