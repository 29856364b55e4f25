"""Frontier benchmark: ``auto`` against native subset-sum codes at large n and huge costs.

Usage::

    python benchmarks/bench_frontier.py [--quick] [--timeout 60] [--out docs/benchmarks/frontier.md]
    python benchmarks/bench_frontier.py --issue19 [--timeout 10] [--baseline DIR]

``--issue19`` loads the optional Numba kernels (``solvers._native``) in the parent, like every
other import, so the rows are a warm process; the first native solve in a fresh interpreter is
timed apart (the small-solve table). It runs the rows of issue 19 (duplicates, budgets near the
total or one cost, tiny budgets, sparse P(14)/P(15) n = 56-64, P(15) across the int64 cliff,
P(18), and two stand-ins for the held-out residue classes) with ``auto`` given a Python list of
int costs (the peers' input: since 2026-12-06, before that a list of project dicts built inside
the timer) against the C ``bitset-dp`` and a C ``balsub`` (Pisinger's balanced algorithm, O(n ·
max cost), written from the 1999 paper into the temporary folder and compiled with gcc at run
time; it returns the optimum's value only, no selection), and times a small solve cold (a fresh
interpreter: import plus first call) and warm.

Instances: Frobenius ("somatoth") n = 1,000 and 10,000; P(3) and EVEN/ODD n = 10,000; P(3),
P(6) and money portfolios n = 100,000; P(6) and portfolios n = 1,000,000; P(12) and P(15)
n = 1,000; P(12) n = 5,000 (random 10^12 costs); sparse P(12)/P(15) n = 48–100; Avis n = 1,000.

Peers, each built here in a temporary folder (nothing of theirs is committed):

* ``bitset-dp``: a word-RAM bitset dynamic programme in C (the source is written by this script,
  ~50 lines: 64-bit words, shift-or in place from the top word down, stop once the budget bit is
  set, a first-reach array for the answer), compiled with ``gcc -O3 -march=native`` and called
  through ctypes on an int64 array. It needs 4·B bytes: skipped above B = 2.5·10^8.
* ``mtsl``: Martello & Toth's exact subset-sum code MTSL (Fortran 77, *Knapsack Problems*,
  Wiley 1990) from the PyPI wheel ``mknapsack``, installed into a temporary venv with
  ``numpy<2`` (the wheel is built against NumPy 1.x). Fortran INTEGER weights: skipped when a
  cost or the budget is ≥ 2^31. Timed inside its worker around ``solve_subset_sum`` only.
* ``ortools-bb``: OR-Tools ``KnapsackSolver`` branch and bound; ``highs``: HiGHS through
  ``scipy.optimize.milp`` with ``mip_rel_gap=0`` (skipped when the budget exceeds 2^53).

Every call runs in its own forked process (``bench_solvers.run_one``) with the time limit and a
hard kill; times are wall-clock around the call from a Python list of costs (for ``auto`` the
list of project dicts), the minimum of three runs below 100 ms. Answers are checked in exact
integers. The imports run in the parent before the children fork (the solvers' cost model is
fixed constants since issue 19: nothing is calibrated). ``auto`` / best peer is the
ratio of ``auto``'s time to the fastest peer that proved the optimum (or the limit when none did).
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from bench_solvers import (  # noqa: E402
    ROOT,
    Case,
    Outcome,
    Result,
    Runner,
    _highs,
    _ortools,
    _ours,
    cell,
    check,
    geomean,
    machine,
    run_one,
)

import solvers  # noqa: E402
from solvers._costmodel import cost_model  # noqa: E402
from solvers.instances import generate  # noqa: E402

PEERS = ("bitset-dp", "mtsl", "ortools-bb", "highs")
PEER_DIR = Path(tempfile.gettempdir()) / "budget-bench-peers"

FULL = [
    ("somatoth", 1000, {}, (1, 2)), ("somatoth", 10_000, {}, (1, 2)),
    ("pthree", 10_000, {}, (1,)), ("evenodd", 10_000, {}, (1,)),
    ("pthree", 100_000, {}, (1,)), ("psix", 100_000, {}, (1,)),
    ("portfolio", 100_000, {}, (1,)),
    ("psix", 1_000_000, {}, (1,)), ("portfolio", 1_000_000, {}, (1,)),
    ("pe", 1000, {"e": 12}, (1, 2)), ("pe", 1000, {"e": 15}, (1, 2)),
    ("pe", 5000, {"e": 12}, (1,)),
    ("pe", 48, {"e": 12}, (1,)), ("pe", 50, {"e": 15}, (1,)), ("pe", 56, {"e": 12}, (1,)),
    ("pe", 64, {"e": 12}, (1,)), ("pe", 100, {"e": 15}, (1,)),
    ("avis", 1000, {}, (0,)),
]
QUICK = [
    ("somatoth", 10_000, {}, (1,)), ("pthree", 100_000, {}, (1,)),
    ("psix", 1_000_000, {}, (1,)), ("pe", 1000, {"e": 15}, (1,)),
]

C_SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
static const int64_t *W;
static int cmp(const void *a, const void *b) {
    int64_t x = W[*(const int32_t *)a], y = W[*(const int32_t *)b];
    return (x > y) - (x < y);
}
/* Largest subset sum <= B; take[i] = 1 for the chosen items. Returns -1 if out of memory. */
int64_t bitset_dp(const int64_t *w, int32_t n, int64_t B, uint8_t *take) {
    int64_t words = B / 64 + 1, hi = 0, best = 0;
    uint64_t *reach = calloc(words, 8);
    int32_t *first = malloc((size_t)(B + 1) * 4), *order = malloc((size_t)n * 4);
    if (!reach || !first || !order) return -1;
    for (int32_t i = 0; i < n; i++) order[i] = i;
    W = w; qsort(order, n, 4, cmp);
    reach[0] = 1; first[0] = -1;
    uint64_t lastmask = (B % 64 == 63) ? ~0ULL : ((1ULL << (B % 64 + 1)) - 1);
    for (int32_t k = 0; k < n; k++) {
        int64_t wt = w[order[k]];
        if (wt > B) break;
        int64_t ws = wt / 64, bs = wt % 64, top = (hi + wt) / 64;
        if (top >= words) top = words - 1;
        for (int64_t j = top; j >= ws; j--) {
            uint64_t v = reach[j - ws] << bs;
            if (bs && j - ws - 1 >= 0) v |= reach[j - ws - 1] >> (64 - bs);
            if (j == words - 1) v &= lastmask;
            uint64_t fresh = v & ~reach[j];
            if (fresh) {
                reach[j] |= fresh;
                while (fresh) {
                    int b = __builtin_ctzll(fresh);
                    first[j * 64 + b] = k;
                    fresh &= fresh - 1;
                }
            }
        }
        hi = hi + wt > B ? B : hi + wt;
        if (reach[B / 64] >> (B % 64) & 1) break;
    }
    for (int64_t s = B; s >= 0; s--)
        if (reach[s / 64] >> (s % 64) & 1) { best = s; break; }
    memset(take, 0, n);
    for (int64_t s = best; s > 0;) { int32_t k = first[s]; take[order[k]] = 1; s -= w[order[k]]; }
    free(reach); free(first); free(order);
    return best;
}
"""

MTSL_WORKER = r"""
import json, sys, time
import numpy as np
from mknapsack import solve_subset_sum
w = np.load(sys.argv[1]).tolist(); cap = int(sys.argv[2])
best = None
for _ in range(3):
    t = time.perf_counter()
    x = solve_subset_sum(w, cap, method_kwargs={"require_exact": 1, "check_inputs": 0})
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
    if dt >= 0.1:
        break
print(json.dumps({"seconds": best, "chosen": [i for i, v in enumerate(x) if v]}))
"""


def build_bitset_dp() -> ctypes.CDLL | None:
    """Compile the C peer once into PEER_DIR (None when no C compiler)."""
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    src, lib = PEER_DIR / "bitset_dp.c", PEER_DIR / "bitset_dp.so"
    stale = not src.exists() or src.read_text() != C_SOURCE
    if stale or not lib.exists():
        src.write_text(C_SOURCE)
        cmd = ["gcc", "-O3", "-march=native", "-shared", "-fPIC", str(src), "-o", str(lib)]
        if subprocess.run(cmd, capture_output=True, check=False).returncode:
            return None
    dll = ctypes.CDLL(str(lib))
    dll.bitset_dp.restype = ctypes.c_int64
    dll.bitset_dp.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_void_p]
    return dll


def build_mtsl() -> Path | None:
    """A venv with numpy<2 and mknapsack (MTSL) in PEER_DIR; its python, or None."""
    venv = PEER_DIR / "mtsl-venv"
    py = venv / "bin" / "python"
    if not py.exists():
        if subprocess.run([sys.executable, "-m", "venv", str(venv)], check=False).returncode:
            return None
        pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        if subprocess.run([*pip, "numpy<2", "mknapsack>=1.1"], check=False).returncode:
            return None
    (PEER_DIR / "mtsl_worker.py").write_text(MTSL_WORKER)
    return py


def _bitset_runner(dll: ctypes.CDLL) -> Runner:
    def run(case: Case, limit: float) -> Result:
        w = np.asarray(list(case.costs), dtype=np.int64)
        take = np.zeros(len(w), dtype=np.uint8)
        best = dll.bitset_dp(w.ctypes.data, len(w), case.budget, take.ctypes.data)
        if best < 0:
            return [], False, True, "out of memory", {}
        return np.flatnonzero(take).tolist(), True, False, "", {}

    return run


def _mtsl_runner(py: Path) -> Runner:
    def run(case: Case, limit: float) -> Result:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "w.npy"
            np.save(path, np.asarray(case.costs, dtype=np.int64))
            try:  # killed at the limit (before run_one's hard kill could orphan it)
                out = subprocess.run(
                    [str(py), str(PEER_DIR / "mtsl_worker.py"), str(path), str(case.budget)],
                    capture_output=True, text=True, timeout=limit + 1, check=False)
            except subprocess.TimeoutExpired:
                return [], False, True, f"no answer within {limit:g} s (killed)", {}
        if out.returncode:
            return [], False, True, out.stderr.strip().splitlines()[-1][:120], {}
        data = json.loads(out.stdout)
        return data["chosen"], True, False, "", {"inner_seconds": data["seconds"]}

    return run


BALSUB_SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
/* Pisinger (1999), balsub: the largest subset sum <= c in O(n * r), r = the largest weight.
   s[mu] (mu in c-r+1 .. c+r) is the largest item index (1-based) of a balanced filling with
   weight mu; 0 = none. Returns -1 when out of memory. */
int64_t balsub(const int64_t *w0, int32_t n0, int64_t c) {
    int64_t *w = malloc((size_t)(n0 > 0 ? n0 : 1) * 8), r = 0, tot = 0, wbar = 0;
    int32_t n = 0, b = 1;
    if (!w) return -1;
    for (int32_t i = 0; i < n0; i++)
        if (w0[i] > 0 && w0[i] <= c) { w[n++] = w0[i]; tot += w0[i]; if (w0[i] > r) r = w0[i]; }
    if (tot <= c) { free(w); return tot; }
    while (wbar + w[b - 1] <= c) { wbar += w[b - 1]; b++; }
    int64_t off = c - r + 1, size = 2 * r;
    int32_t *sp = malloc((size_t)size * 4), *sc = malloc((size_t)size * 4);
    if (!sp || !sc) return -1;
    for (int64_t mu = c - r + 1; mu <= c; mu++) sp[mu - off] = 0;
    for (int64_t mu = c + 1; mu <= c + r; mu++) sp[mu - off] = 1;
    sp[wbar - off] = b;
    for (int32_t t = b; t <= n; t++) {
        int64_t wt = w[t - 1];
        memcpy(sc, sp, (size_t)size * 4);
        for (int64_t mu = c - r + 1; mu <= c; mu++) {
            int64_t m2 = mu + wt - off;
            if (sc[m2] < sp[mu - off]) sc[m2] = sp[mu - off];
        }
        for (int64_t mu = c + wt; mu >= c + 1; mu--)
            for (int32_t j = sp[mu - off]; j < sc[mu - off]; j++) {
                int64_t m2 = mu - w[j - 1] - off;
                if (sc[m2] < j) sc[m2] = j;
            }
        int32_t *tmp = sp; sp = sc; sc = tmp;
    }
    int64_t best = 0;
    for (int64_t mu = c; mu >= c - r + 1; mu--) if (sp[mu - off] > 0) { best = mu; break; }
    free(sp); free(sc); free(w);
    return best;
}
"""


def build_balsub() -> ctypes.CDLL | None:
    """Compile the balsub peer once into PEER_DIR (None when no C compiler)."""
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    src, lib = PEER_DIR / "balsub.c", PEER_DIR / "balsub.so"
    if not src.exists() or src.read_text() != BALSUB_SOURCE or not lib.exists():
        src.write_text(BALSUB_SOURCE)
        cmd = ["gcc", "-O3", "-march=native", "-shared", "-fPIC", str(src), "-o", str(lib)]
        if subprocess.run(cmd, capture_output=True, check=False).returncode:
            return None
    dll = ctypes.CDLL(str(lib))
    dll.balsub.restype = ctypes.c_int64
    dll.balsub.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64]
    return dll


def _balsub_runner(dll: ctypes.CDLL) -> Runner:
    def run(case: Case, limit: float) -> Result:
        w = np.asarray(list(case.costs), dtype=np.int64)
        best = dll.balsub(w.ctypes.data, len(w), case.budget)
        if best < 0:
            return [], False, True, "out of memory", {}
        return [], True, False, "value only", {"value": int(best)}

    return run


def skip(method: str, case: Case) -> str:
    biggest = max(case.costs)
    if method == "bitset-dp" and case.budget > 2.5e8:
        return "needs 4·B bytes"
    if method == "balsub" and (biggest > 5 * 10**7 or case.budget >= 2**62):
        return "needs 8·max cost bytes (max cost > 5e7)"
    if method == "mtsl" and max(biggest, case.budget) >= 2**31:
        return "Fortran INTEGER weights (< 2^31)"
    if method == "highs" and case.budget > 2**53:
        return "float64 cannot hold the budget"
    if method in {"mtsl", "ortools-bb", "highs"} and len(case.costs) > 200_000:
        return "n > 200,000 (input conversion alone exceeds the comparison)"
    return ""


def build_cases(spec: list[tuple[str, int, dict[str, Any], tuple[int, ...]]]) -> list[Case]:
    cases = []
    for family, n, params, seeds in spec:
        for seed in seeds:
            inst = generate(family, n, seed=seed, **params)
            scale = 100 if family == "portfolio" else 1
            costs = tuple(round(c * scale) for c in inst.costs)
            budget = round(inst.budget * scale)
            name = f"P({params['e']})" if family == "pe" else family
            cases.append(Case(f"{name} n={n:,} s={seed}", family if family != "pe" else name,
                              inst, costs, budget, scale))
    return cases


class _Plain:
    """An instance built here (a budget of our choosing, or costs past the generator's 10^15)."""

    def __init__(self, costs: list[int], budget: int) -> None:
        self.costs, self.budget = costs, budget

    def projects(self) -> list[dict[str, int]]:
        return [{"cost": c} for c in self.costs]


def _pe(n: int, e: int, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, 10**e) for _ in range(n)]


def issue19_cases() -> list[Case]:
    """The rows of issue 19 that can be rebuilt (the held-out residue classes cannot)."""
    rows: list[tuple[str, str, list[int], int]] = []
    for high in (100, 10**4):
        inst = generate("uniform", 10**6, seed=1, low=1, high=high)
        rows.append((f"n=1e6 costs 1..{high:g}", "duplicates", list(inst.costs), inst.budget))
    p3 = _pe(10**5, 3)
    rows.append(("P(3) n=1e5 budget near total", "P(3)", p3, sum(p3) - 501))
    rows.append(("P(3) n=1e5", "P(3)", p3, 10**5 * 10**3 // 4))
    eo = generate("evenodd", 1000, seed=1)
    rows.append(("even/odd n=1,000", "evenodd", list(eo.costs), eo.budget))
    p6 = _pe(10**5, 6)
    rows.append(("P(6) n=1e5 budget = one cost", "P(6)", p6, p6[17]))
    rows.append(("P(6) n=1e5 tiny budget", "P(6)", p6, 1000))
    for n, e in ((64, 14), (56, 14), (56, 15)):
        rows.append((f"sparse P({e}) n={n}", "sparse", _pe(n, e), n * 10**e // 4))
    for n in (1000, 9000, 9300, 10_000):
        rows.append((f"P(15) n={n:,}", "P(15)", _pe(n, 15), n * 10**15 // 4))
    for n in (100, 1000, 10_000):
        rows.append((f"P(18) n={n:,}", "P(18)", _pe(n, 18), n * 10**18 // 4))
    # Stand-ins for the held-out residue classes (not rebuildable): sums miss some residues,
    # so the preprocessing bound is out of reach and a method must prove the gap.
    rng = random.Random(2)
    mod7 = [7 * rng.randint(1, 100) for _ in range(10**5)] + [1, 1, 1]
    rows.append(("residue mod 7 n=1e5", "residue", mod7, sum(mod7) // 2 // 7 * 7 + 5))
    rng = random.Random(1)
    mod1000 = [1000 * rng.randint(100, 200) + 7 for _ in range(1000)]
    rows.append(("residue 7 mod 1000 n=1,000", "residue", mod1000, sum(mod1000) // 2 + 500))
    return [Case(label, fam, _Plain(costs, budget), tuple(costs), budget, 1)  # type: ignore[arg-type]
            for label, fam, costs, budget in rows]


SMALL_SOLVE = ("import time; t = time.perf_counter(); import solvers; "
               "r = solvers.solve([3, 5, 9, 11, 2], 17); "
               "print(time.perf_counter() - t, r['status'])")


def small_solve_timings(python: str, cwd: str, repeats: int = 7) -> dict[str, float]:
    """Cold (fresh interpreter: import plus the first call, the median of ``repeats``) and warm
    (best per-call time of 2,000 calls) small solves, n = 5, 50 and 200, in ms."""
    colds = []
    for _ in range(repeats):
        out = subprocess.run([python, "-c", SMALL_SOLVE], capture_output=True, text=True,
                             cwd=cwd, check=True).stdout.split()
        colds.append(float(out[0]) * 1000)
    warm_code = (
        "import random, time, solvers\n"
        "for n in (5, 50, 200):\n"
        "    rng = random.Random(n); c = [rng.randint(1, 10**6) for _ in range(n)]\n"
        "    b = sum(c) // 2; solvers.solve(c, b)\n"
        "    k = 2000 if n == 5 else 200; best = 1e9\n"
        "    for _ in range(3):\n"
        "        t = time.perf_counter()\n"
        "        for _ in range(k): solvers.solve(c, b)\n"
        "        best = min(best, (time.perf_counter() - t) / k)\n"
        "    print(n, best * 1000)\n")
    out = subprocess.run([python, "-c", warm_code], capture_output=True, text=True, cwd=cwd,
                         check=True).stdout.splitlines()
    timings = {"cold n=5": statistics.median(colds)}
    for line in out:
        n, ms = line.split()
        timings[f"warm n={n}"] = float(ms)
    return timings


def _auto_ints() -> Runner:
    """``auto`` on the same input the C peers get: a Python list of int costs (the peers
    convert it to an int64 array inside their timed call)."""
    def run(case: Case, limit: float) -> Result:
        r = solvers.solve(list(case.costs), case.budget, time_limit=limit)
        return (list(r["selected_indices"]), r["status"] == "exact", r["status"] == "failed",
                r.get("reason") or "", {"algorithm": str(r.get("algorithm", "?"))})

    return run


NATIVE_SOLVE = (
    "import random, sys, time\n"
    "import solvers\n"
    "rng = random.Random(2)\n"
    "c = [7 * rng.randint(1, 100) for _ in range(10**5)] + [1, 1, 1]\n"
    "b = sum(c) // 2 // 7 * 7 + 5\n"
    "for _ in range(2):\n"
    "    t = time.perf_counter(); r = solvers.solve(c, b, time_limit=30)\n"
    "    print(time.perf_counter() - t, r['status'], r.get('stage'), 'numba' in sys.modules)\n")


def native_timings(python: str, cwd: str) -> dict[str, float]:
    """The first solve in a fresh interpreter that uses the Numba kernels (residue mod 7,
    n = 1e5: import of Numba and load of the cached kernels included) and the second one."""
    out = subprocess.run([python, "-c", NATIVE_SOLVE], capture_output=True, text=True, cwd=cwd,
                         check=True).stdout.splitlines()
    first, second = (line.split() for line in out)
    if first[3] != "True":
        return {}
    return {"native solve, first in a process (residue mod 7 n=1e5)": float(first[0]) * 1000,
            "native solve, second": float(second[0]) * 1000}


def _mark_proven(results: dict[tuple[str, str], Outcome], case: Case, names: list[str]) -> None:
    """An optimality claim is proven when its total is the best any method found for the
    case, wrong when it is below."""
    best = max((o.total for (lab, _), o in results.items()
                if lab == case.label and o.total is not None), default=None)
    for name in names:
        out = results[case.label, name]
        out.proven = out.claims_optimal and out.total is not None and out.total == best
        out.wrong = out.claims_optimal and out.total is not None and out.total != best


def residue_cases() -> list[Case]:
    """Residue classes beyond the two stand-ins (other moduli, sizes, seeds, outliers, two
    classes): costs ``g·U(low, high) + r`` plus a few outliers, or with r one of two residues,
    and the first budget from half the total that
    no count of class items reaches in its residue (found by brute force over the counts'
    ranges, independently of the solvers)."""
    rows = []
    # (g, r, n, low, high, outliers, seed): class items near half the total come in a window
    # of counts narrower than g, so some residues are out of reach
    specs = [(1000, 7, 1000, 100, 200, 0, 11), (1000, 7, 2000, 100, 200, 0, 12),
             (1000, 993, 1000, 150, 250, 0, 13), (5000, 3, 400, 10, 12, 0, 14),
             (64, 1, 200, 30, 33, 0, 15), (997, 5, 3000, 500, 600, 2, 16),
             (7, 0, 100_000, 1, 100, 3, 17), (13, 0, 20_000, 1, 5000, 1, 18),
             (1000, 7, 10_000, 100, 120, 0, 19)]
    for g, r, n, low, high, outliers, seed in specs:
        rng = random.Random(seed)
        costs = [g * rng.randint(low, high) + r for _ in range(n)]
        extra = [rng.randint(1, 3) for _ in range(outliers)]  # small: residues 1..3 only
        costs += extra
        rng.shuffle(costs)
        budget = _unreached_budget([sorted(c for c in costs if c % g == r % g)], g, [r],
                                   sorted(extra), sum(costs) // 2)
        label = f"{r} mod {g} n={n:,}" + (f" +{outliers}" if outliers else "")
        rows.append((label, "residue", costs, budget))
    # two classes: (g, (r1, r2), n, low, high, seed)
    for g, (r1, r2), n, low, high, seed in [(10_000, (1, 2), 1000, 100, 200, 21),
                                            (997, (5, 900), 600, 300, 330, 22),
                                            (5000, (7, 2500), 2000, 50, 60, 23)]:
        rng = random.Random(seed)
        costs = [g * rng.randint(low, high) + rng.choice((r1, r2)) for _ in range(n)]
        budget = _unreached_budget([sorted(c for c in costs if c % g == r) for r in (r1, r2)],
                                   g, [r1, r2], [], sum(costs) // 2)
        rows.append((f"{r1},{r2} mod {g} n={n:,}", "residue", costs, budget))
    return [Case(label, fam, _Plain(costs, budget), tuple(costs), budget, 1)  # type: ignore[arg-type]
            for label, fam, costs, budget in rows]


def _unreached_budget(classes: list[list[int]], g: int, rs: list[int], extra: list[int],
                      start: int) -> int:
    """The first budget ≥ ``start`` that no selection reaches: k_j items of class j (ascending
    ``classes[j]``, residue ``rs[j]``) sum to ≡ Σ r_j·k_j (mod g), between the k_j smallest and
    the k_j largest of each, plus any outlier subset (one or two classes)."""
    grids = []
    for vals in classes:
        v = np.array(vals, dtype=np.int64)
        grids.append((np.concatenate(([0], np.cumsum(v))),
                      np.concatenate(([0], np.cumsum(v[::-1])))))
    if len(grids) == 1:
        grids.append((np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)))
        rs = [*rs, 0]
    (lo1, hi1), (lo2, hi2) = grids
    lo, hi = lo1[:, None] + lo2[None, :], hi1[:, None] + hi2[None, :]
    rk = (rs[0] * np.arange(lo1.size, dtype=np.int64))[:, None] + (
        rs[1] * np.arange(lo2.size, dtype=np.int64))[None, :]
    outs = {sum(s) for m in range(len(extra) + 1) for s in itertools.combinations(extra, m)}
    for budget in range(start, start + g + 1):
        if not any(bool(((lo <= budget - o) & (budget - o <= hi)
                         & ((budget - o - rk) % g == 0)).any()) for o in outs):
            return budget
    raise ValueError(f"every residue mod {g} is reached near {start}")


def issue19(args: argparse.Namespace) -> int:
    return _versus_native(args, residue_cases() if args.residues else issue19_cases(),
                          "--residues" if args.residues else "--issue19")


def _versus_native(args: argparse.Namespace, cases: list[Case], flag: str) -> int:
    load0 = os.getloadavg()[0]
    from solvers import _native
    _native.warm()  # like the other imports: loaded once in the parent, not per fork
    table: dict[str, Runner] = {"auto": _auto_ints()}
    dll = build_bitset_dp()
    if dll is not None:
        table["bitset-dp"] = _bitset_runner(dll)
    bal = build_balsub()
    if bal is not None:
        table["balsub"] = _balsub_runner(bal)
    results: dict[tuple[str, str], Outcome] = {}
    for case in cases:
        for name, runner in table.items():
            reason = skip(name, case)
            if reason:
                out = Outcome("skipped", 0.0, note=reason)
            else:
                out = run_one(runner, case, args.timeout)
                check(case, out)
                if "value" in out.extra and out.kind == "ok":
                    out.total = out.extra["value"]  # value-only peer: trusted, cross-checked
            results[case.label, name] = out
            print(f"{case.label:30s} {name:10s} {cell(out):>14s} {out.note[:50]}", flush=True)
        _mark_proven(results, case, list(table))
    text = report(cases, list(table), results, args.timeout, load0).replace(
        "bench_frontier.py --timeout", f"bench_frontier.py {flag} --timeout")
    if args.residues:
        Path(args.out).write_text(text)
        print(text)
        return 1 if any(o.wrong for o in results.values()) else 0
    small = small_solve_timings(sys.executable, str(ROOT))
    small.update(native_timings(sys.executable, str(ROOT)))
    baseline = {}
    if args.baseline:  # a checkout of the solvers before (e.g. git archive <rev> solvers)
        baseline = small_solve_timings(sys.executable, args.baseline)
    text += "\n## Small solves (ms)\n\n| timing | now |" + (" baseline |" if baseline else "")
    text += "\n|---|---:|" + ("---:|" if baseline else "") + "\n"
    for key, ms in small.items():
        old = f" {baseline[key]:.3f} |" if key in baseline else " |" if baseline else ""
        text += f"| {key} | {ms:.3f} |" + old + "\n"
    Path(args.out).write_text(text)
    print(text)
    return 1 if any(o.wrong for o in results.values()) else 0


def ss_pricing_cases() -> list[Case]:
    """Stand-ins for issue 19's 11 held-out instances (47-58 items, costs near 10^13; the
    originals cannot be rebuilt): distinct costs 10^12..10^13, budget half the total."""
    rows = []
    for i, n in enumerate((47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 58)):
        rng = random.Random(100 + i)
        costs = [rng.randint(10**12, 10**13) for _ in range(n)]
        rows.append((f"10^12..10^13 n={n}", "ss-pricing", costs, sum(costs) // 2))
    return [Case(label, fam, _Plain(costs, budget), tuple(costs), budget, 1)  # type: ignore[arg-type]
            for label, fam, costs, budget in rows]


def _ints(method: str) -> Runner:
    """``method`` on a Python list of int costs (``_auto_ints`` for any algorithm)."""
    def run(case: Case, limit: float) -> Result:
        r = solvers.solve(list(case.costs), case.budget, algorithm=method, time_limit=limit)
        return (list(r["selected_indices"]), r["status"] == "exact", r["status"] == "failed",
                r.get("reason") or "", {"algorithm": str(r.get("stage") or r["algorithm"])})

    return run


def ss_pricing(args: argparse.Namespace) -> int:
    """``auto`` against ``meet_in_the_middle`` alone (Schroeppel–Shamir at these sizes) on
    the held-out stand-ins, under the issue's 2 s limit (``--timeout``)."""
    load0 = os.getloadavg()[0]
    table: dict[str, Runner] = {"auto": _ints("auto"),
                                "meet_in_the_middle": _ints("meet_in_the_middle")}
    results: dict[tuple[str, str], Outcome] = {}
    cases = ss_pricing_cases()
    for case in cases:
        for name, runner in table.items():
            out = run_one(runner, case, args.timeout)
            check(case, out)
            results[case.label, name] = out
            print(f"{case.label:24s} {name:20s} {cell(out):>10s} "
                  f"{out.extra.get('algorithm', '')}", flush=True)
        _mark_proven(results, case, list(table))
    text = report(cases, list(table), results, args.timeout, load0).replace(
        "bench_frontier.py --timeout", "bench_frontier.py --ss-pricing --timeout")
    Path(args.out).write_text(text)
    print(text)
    return 1 if any(o.wrong for o in results.values()) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="four instances (smoke test)")
    parser.add_argument("--timeout", type=float, default=60.0, help="time limit per call, s")
    parser.add_argument("--out", default=str(ROOT / "docs/benchmarks/frontier.md"))
    parser.add_argument("--only", default="", help="comma-separated methods (default: all)")
    parser.add_argument("--issue19", action="store_true", help="issue 19's rows, balsub peer")
    parser.add_argument("--residues", action="store_true", help="residue-class instances "
                        "of other moduli, sizes and seeds, against the same native peers")
    parser.add_argument("--baseline", default="", help="--issue19: a folder holding an older "
                        "solvers/ package, for side-by-side small-solve timings")
    parser.add_argument("--ss-pricing", action="store_true", help="issue 19's held-out "
                        "Schroeppel-Shamir stand-ins: auto vs meet_in_the_middle (use "
                        "--timeout 2)")
    args = parser.parse_args(argv)
    if args.ss_pricing:
        if args.out == str(ROOT / "docs/benchmarks/frontier.md"):
            args.out = "/tmp/frontier_ss_pricing.md"
        return ss_pricing(args)
    if args.issue19 or args.residues:
        if args.out == str(ROOT / "docs/benchmarks/frontier.md"):
            args.out = ("/tmp/frontier_residues.md" if args.residues
                        else str(ROOT / "docs/benchmarks/frontier3.md"))
        return issue19(args)
    load0 = os.getloadavg()[0]
    table: dict[str, Runner] = {"auto": _ours("auto")}
    dll = build_bitset_dp()
    if dll is not None:
        table["bitset-dp"] = _bitset_runner(dll)
    mtsl = build_mtsl()
    if mtsl is not None:
        table["mtsl"] = _mtsl_runner(mtsl)
    table["ortools-bb"] = _ortools("KNAPSACK_MULTIDIMENSION_BRANCH_AND_BOUND_SOLVER")
    table["highs"] = _highs
    if args.only:
        keep = set(args.only.split(","))
        table = {k: v for k, v in table.items() if k in keep}
    cases = build_cases(QUICK if args.quick else FULL)
    cost_model()  # the reference model (fixed constants since issue 19; no calibration)
    results: dict[tuple[str, str], Outcome] = {}
    for case in cases:
        for name, runner in table.items():
            reason = skip(name, case)
            if reason:
                out = Outcome("skipped", 0.0, note=reason)
            else:
                out = run_one(runner, case, args.timeout)
                if "inner_seconds" in out.extra:
                    out.ms = out.extra["inner_seconds"] * 1000
                check(case, out)
            results[case.label, name] = out
            print(f"{case.label:28s} {name:11s} {cell(out):>14s} {out.note[:60]}", flush=True)
        _mark_proven(results, case, list(table))
        for name in table:
            if results[case.label, name].wrong:
                print(f"!!! {name} claims optimality below the best total on {case.label}")
    text = report(cases, list(table), results, args.timeout, load0)
    Path(args.out).write_text(text)
    print(f"\nwrote {args.out}")
    return 1 if any(o.wrong for o in results.values()) else 0


def report(cases: list[Case], names: list[str], results: dict[tuple[str, str], Outcome],
           limit: float, load0: float) -> str:
    lines = [
        "# Frontier: `auto` against native subset-sum codes",
        "",
        "Generated by `python benchmarks/bench_frontier.py"
        + (f" --timeout {limit:g}" if limit != 60 else "") + "` (see its docstring for the peers "
        "and how each is built). Milliseconds, wall-clock per call in a fresh forked process "
        "(mtsl: inside its worker, around the call only); a plain number is a proven optimum, "
        "`*` a feasible answer not proven optimal, `T` the limit, `R` refused/failed, `S` "
        "skipped (reason below the table).",
        "",
        f"Machine: {machine(load0)}.",
        "",
        "| instance | " + " | ".join(names) + " | auto / best peer |",
        "|---|" + "---:|" * (len(names) + 1),
    ]
    ratios: dict[str, list[tuple[float, str]]] = {}
    skipped: dict[str, set[str]] = {}
    for case in cases:
        row = []
        for name in names:
            out = results[case.label, name]
            row.append(cell(out))
            if out.kind == "skipped":
                skipped.setdefault(name, set()).add(out.note)
        auto = results[case.label, "auto"]
        peers = [(results[case.label, p].ms, p) for p in names
                 if p != "auto" and results[case.label, p].proven]
        peer_ms, peer = min(peers) if peers else (limit * 1000, "none")
        auto_ms = auto.ms if auto.proven else limit * 1000
        ratio = auto_ms / peer_ms if peer_ms > 0 else math.nan
        ratios.setdefault(case.family, []).append((ratio, case.label))
        lines.append(f"| {case.label} | " + " | ".join(row)
                     + f" | {ratio:.3g}× (vs {peer}) |")
    lines += ["", "Skipped: " + "; ".join(
        f"`{k}`: {', '.join(sorted(v))}" for k, v in sorted(skipped.items())) + ".", "",
        "## Per family", "",
        "| family | instances | geometric mean auto / best peer | worst instance (ratio) |",
        "|---|---:|---:|---|"]
    for family, vals in ratios.items():
        worst = max(vals)
        lines.append(f"| {family} | {len(vals)} | {geomean([v for v, _ in vals]):.3g}× | "
                     f"{worst[1]} ({worst[0]:.3g}×) |")
    proven = sum(results[c.label, "auto"].proven for c in cases)
    wrong = sum(o.wrong for o in results.values())
    lines += ["", f"`auto` proved {proven} of {len(cases)} optima; false optimality claims by "
              f"any method: {wrong}. Ratio < 1: `auto` is faster. When no peer proves an "
              f"instance the ratio is taken against the {limit:g} s limit.",
              f"Run finished {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
