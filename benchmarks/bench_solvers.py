"""Side-by-side benchmark: our solvers against OR-Tools' knapsack solvers and HiGHS.

Usage::

    python benchmarks/bench_solvers.py [--quick] [--out docs/benchmarks/solvers.md] [--timeout 10]

One run solves a suite of literature-hard subset-sum instances (Pisinger's P(3), P(6), EVEN/ODD,
Avis, Todd, SOMATOTH) and realistic money portfolios (see ``solvers.instances``) with

* ``solvers.solve(..., algorithm=NAME)`` for ``auto`` and every name in ``solvers.ALGORITHMS``;
* OR-Tools ``KnapsackSolver``: branch and bound (``ortools-bb``) and dynamic programming
  (``ortools-dp``), values = weights = costs, capacity = budget;
* HiGHS through ``scipy.optimize.milp`` (``highs``): max Σc·x s.t. Σc·x ≤ B, x binary,
  ``mip_rel_gap=0``.

Every call runs in a forked child process with the method's own time limit (``--timeout``) and a
hard kill a little later, so a hang cannot stall the run. Times are wall-clock around the call
only (input conversion, model building, solving, reading the answer), the minimum of three runs
when one run takes under 100 ms. Every answer is checked in exact integer arithmetic (indices
unique and in range, total within the budget); a method that claims optimality below the best
total any method found is a BUG and is printed loudly.

The peers are dev-only dependencies: this script imports them, nothing under ``solvers/`` does.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import ortools  # noqa: E402
import scipy  # noqa: E402
from ortools.algorithms.python import knapsack_solver as ks  # noqa: E402
from scipy.optimize import Bounds, LinearConstraint, milp  # noqa: E402

import solvers  # noqa: E402
from solvers._costmodel import cost_model  # noqa: E402
from solvers.instances import GeneratedInstance, generate  # noqa: E402

PEERS = ("ortools-bb", "ortools-dp", "highs")
MONEY_FAMILIES = {"portfolio"}
HARD_FAMILIES = ("pthree", "psix", "evenodd", "avis", "todd", "somatoth", "portfolio")
DETERMINISTIC = {"avis", "todd"}
FULL_SIZES = (20, 50, 100, 200, 500, 1000)
QUICK_SIZES = (20, 100)
TODD_SIZES = (20, 30, 40)
CHILD_MEMORY_BYTES = 8 << 30  # address-space cap per child: a runaway DP fails, not the box
DP_CELLS_PER_SECOND = 1.5e7  # measured OR-Tools DP throughput here (n * capacity cells)
REPEAT_BELOW_S = 0.100


# ------------------------------------------------------------------------------ suite


@dataclass(frozen=True)
class Case:
    """One benchmark instance with its costs and budget as exact integers."""

    label: str
    family: str
    inst: GeneratedInstance
    costs: tuple[int, ...]  # in cents for money families
    budget: int
    scale: int


def build_suite(quick: bool) -> list[Case]:
    """The instances of one run, smallest first within each family."""
    sizes = QUICK_SIZES if quick else FULL_SIZES
    cases: list[Case] = []
    for family in HARD_FAMILIES:
        fam_sizes = (TODD_SIZES[:1] if quick else TODD_SIZES) if family == "todd" else sizes
        for n in fam_sizes:
            if family in DETERMINISTIC:
                seeds: tuple[int, ...] = (0,)
            else:
                seeds = (0,) if quick or n > 100 else (0, 1)
            for seed in seeds:
                inst = generate(family, n, seed=seed)
                scale = 100 if family in MONEY_FAMILIES else 1
                costs = tuple(round(c * scale) for c in inst.costs)
                budget = round(inst.budget * scale)
                label = f"{family} n={n}" + ("" if family in DETERMINISTIC else f" s={seed}")
                cases.append(Case(label, family, inst, costs, budget, scale))
    return cases


# ------------------------------------------------------------------------------ methods
# Each runner takes (case, time_limit) and returns
# (indices, claims_optimal, failed, note, extra).

Result = tuple[list[int], bool, bool, str, dict[str, Any]]
Runner = Callable[[Case, float], Result]


def _ours(name: str) -> Runner:
    def run(case: Case, limit: float) -> Result:
        r = solvers.solve(
            case.inst.projects(),
            case.inst.budget,
            algorithm=name,
            time_limit=limit,
            measure_memory=False,
        )
        failed = r["status"] == "failed"
        extra = {"algorithm": str(r.get("algorithm", "?"))}
        return (
            list(r["selected_indices"]),
            r["status"] == "exact",
            failed,
            r.get("reason") or "",
            extra,
        )

    return run


def _ortools(solver_type: str) -> Runner:
    def run(case: Case, limit: float) -> Result:
        costs = list(case.costs)
        solver = ks.KnapsackSolver(getattr(ks.SolverType, solver_type), "bench")
        solver.init(costs, [costs], [case.budget])
        solver.set_time_limit(limit)
        solver.solve()
        chosen = [i for i in range(len(costs)) if solver.best_solution_contains(i)]
        return chosen, bool(solver.is_solution_optimal()), False, "", {}

    return run


def _highs(case: Case, limit: float) -> Result:
    c = np.asarray(case.costs, dtype=float)
    res = milp(
        -c,
        constraints=LinearConstraint(c[np.newaxis, :], -np.inf, case.budget),
        integrality=np.ones(len(c)),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0, "time_limit": limit, "disp": False},
    )
    if res.x is None:
        return [], False, True, f"status {res.status}: {res.message}", {}
    chosen = [i for i, v in enumerate(res.x) if v > 0.5]
    return chosen, res.status == 0, False, "" if res.status == 0 else str(res.message), {}


def methods() -> dict[str, Runner]:
    """``auto`` first, then our other algorithms in registry order, then the peers."""
    ours = ["auto", *[a for a in solvers.ALGORITHMS if a != "auto"]]
    table: dict[str, Runner] = {name: _ours(name) for name in ours}
    table["ortools-bb"] = _ortools("KNAPSACK_MULTIDIMENSION_BRANCH_AND_BOUND_SOLVER")
    table["ortools-dp"] = _ortools("KNAPSACK_DYNAMIC_PROGRAMMING_SOLVER")
    table["highs"] = _highs
    return table


# ------------------------------------------------------------------------------ running


@dataclass
class Outcome:
    """One (instance, method) result as recorded by the parent."""

    kind: str  # "ok" | "timeout" | "failed" | "skipped" | "crashed"
    ms: float
    indices: list[int] = field(default_factory=list)
    claims_optimal: bool = False
    note: str = ""
    total: int | None = None  # exact (scaled) total when the answer is feasible
    feasible: bool = True
    proven: bool = False  # claims optimal and is not contradicted
    wrong: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _child(conn: Any, runner: Runner, case: Case, limit: float) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)  # HiGHS writes stray lines to stdout
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    try:
        best = math.inf
        answer = None
        for _ in range(3):
            t0 = time.perf_counter()
            out = runner(case, limit)
            elapsed = time.perf_counter() - t0
            best = min(best, elapsed)
            answer = answer or out
            if elapsed >= REPEAT_BELOW_S:
                break
        conn.send(("ok", best, answer))
    except BaseException as exc:  # report, never hang the parent
        conn.send(("error", 0.0, f"{type(exc).__name__}: {exc}"[:200]))
    finally:
        conn.close()


def run_one(runner: Runner, case: Case, limit: float) -> Outcome:
    """Run one method on one case in a forked child with a hard timeout."""
    hard = limit + max(2.0, 0.25 * limit)
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, runner, case, limit), daemon=True)
    t0 = time.perf_counter()
    proc.start()
    child.close()
    ready = parent.poll(hard)
    if not ready:
        proc.kill()
        proc.join()
        return Outcome(
            "timeout", (time.perf_counter() - t0) * 1000, note=f"killed after {hard:g} s"
        )
    try:
        tag, seconds, payload = parent.recv()
    except EOFError:
        proc.join()
        return Outcome(
            "crashed", (time.perf_counter() - t0) * 1000, note=f"child exited {proc.exitcode}"
        )
    proc.join()
    if tag == "error":
        return Outcome("failed", seconds * 1000, note=payload)
    indices, claims, failed, note, extra = payload
    kind = "failed" if failed else "ok"
    return Outcome(kind, seconds * 1000, list(indices), claims, note, extra=extra)


def skip_reason(method: str, case: Case, limit: float, failed_before: set[tuple[str, str]]) -> str:
    """Why a combination is not worth running (empty string: run it)."""
    if method == "auto":
        return ""  # auto always runs: its figures are the point of the benchmark
    if (method, case.family) in failed_before:
        return "skipped or out of time on every instance of a smaller n of this family"
    if method == "ortools-dp":
        cells = len(case.costs) * case.budget
        if case.budget > 1e8 or cells / DP_CELLS_PER_SECOND > 2 * limit:
            return f"O(n·capacity) = {cells:.1e} cells, hopeless within {limit:g} s"
    return ""


def check(case: Case, out: Outcome) -> None:
    """Exact feasibility check of one answer (sets ``total`` and ``feasible``)."""
    if out.kind != "ok":
        return
    idx = out.indices
    if len(set(idx)) != len(idx) or any(not 0 <= i < len(case.costs) for i in idx):
        out.feasible = False
        out.note = "invalid or repeated indices; " + out.note
        return
    total = sum(case.costs[i] for i in idx)
    if total > case.budget:
        out.feasible = False
        out.note = f"total {total} exceeds budget {case.budget}; " + out.note
        return
    out.total = total


# ------------------------------------------------------------------------------ report


def fmt_total(total: int | None, case: Case) -> str:
    if total is None:
        return "—"
    if case.scale == 1:
        return f"{total:,}"
    return f"{total / case.scale:,.2f}"


def cell(out: Outcome) -> str:
    if out.kind == "skipped":
        return "S"
    if out.kind == "timeout":
        return "T"
    if out.kind == "crashed":
        return "C"
    if out.kind == "failed":
        return "R"
    text = f"{out.ms:.2f}" if out.ms < 1 else f"{out.ms:,.1f}" if out.ms < 100 else f"{out.ms:,.0f}"
    if not out.feasible:
        return f"**INFEASIBLE** {text}"
    if out.wrong:
        return f"**WRONG** {text}"
    return text if out.proven else f"{text}\\*"


def machine(load: float) -> str:
    model = cores = "?"
    try:
        info = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in info.splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Model name":
                model = value.strip()
            elif key.strip() == "CPU(s)":
                cores = value.strip()
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    commit = (
        subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or "?"
    )
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "solvers"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if dirty:
        commit += " + uncommitted changes in solvers/"
    return (
        f"{model}, {cores} CPUs, {mem} RAM; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; numpy {np.__version__}, scipy {scipy.__version__} "
        f"(HiGHS), ortools {ortools.__version__}; git {commit}; "
        f"1-min load average {load:.2f} at start, {os.getloadavg()[0]:.2f} at end "
        "(other jobs on the machine perturb the timings)"
    )


def _shape(reason: str) -> str:
    """A reason with its numbers blanked, so refusals differing only in n group together."""
    return re.sub(r"\d[\d.e+,]*", "#", reason)


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan


def report(
    cases: list[Case],
    names: list[str],
    results: dict[tuple[int, str], Outcome],
    limit: float,
    argv: list[str],
    wall: float,
    load: float,
) -> tuple[str, list[str]]:
    """The Markdown fragment and the list of BUG lines."""
    hard = limit + max(2.0, 0.25 * limit)
    lines = [
        "## Benchmark: our solvers against OR-Tools and HiGHS",
        "",
        f"Command: `{shlex.join(['python', 'benchmarks/bench_solvers.py', *argv])}` "
        f"(whole run {wall / 60:.1f} min).",
        "",
        f"Machine: {machine(load)}.",
        "",
        "Time in milliseconds per call (wall clock around the call: input conversion, model "
        "building, solving; minimum of 3 runs when a run takes < 100 ms), each call in a fresh "
        f"forked process with time limit {limit:g} s. A plain number is a proven optimum. "
        "`\\*` answered but did not prove optimality; "
        f"`T` killed at the hard limit ({hard:g} s; OR-Tools DP ignores its time limit, so "
        "an answer it proves between the limit and the kill still counts); "
        "`R` refused or failed (with a reason); "
        "`S` skipped (see notes); `C` crashed; **WRONG** claimed optimal below the best known "
        "total; **INFEASIBLE** answer over budget or bad indices. `best known` is the largest "
        "feasible total any method found. Instances come from `solvers.instances` "
        "(Pisinger's hard families; `portfolio` is money in cents).",
        "",
        "| instance | budget | best known | auto ran | " + " | ".join(names) + " |",
        "|---|---:|---:|---|" + "---:|" * len(names),
    ]
    bugs: list[str] = []
    for k, case in enumerate(cases):
        best = max((o.total for m in names if (o := results[k, m]).total is not None), default=None)
        ran = results[k, "auto"].extra.get("algorithm", "?")
        row = [case.label, fmt_total(case.budget, case), fmt_total(best, case), ran]
        row += [cell(results[k, m]) for m in names]
        lines.append("| " + " | ".join(row) + " |")
        for m in names:
            o = results[k, m]
            if not o.feasible:
                bugs.append(f"BUG: {m} on {case.label}: infeasible answer ({o.note.strip('; ')})")
            elif o.wrong:
                bugs.append(
                    f"BUG: {m} on {case.label}: claims optimal {fmt_total(o.total, case)} "
                    f"< best known {fmt_total(best, case)}"
                )

    lines += [
        "",
        "### Summary",
        "",
        "| method | proven optimal | not proven | timeout | refused/failed | skipped "
        "| wrong | infeasible |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in names:
        outs = [results[k, m] for k in range(len(cases))]
        counts = [
            sum(o.proven for o in outs),
            sum(o.kind == "ok" and o.feasible and not o.proven and not o.wrong for o in outs),
            sum(o.kind == "timeout" for o in outs),
            sum(o.kind in ("failed", "crashed") for o in outs),
            sum(o.kind == "skipped" for o in outs),
            sum(o.wrong for o in outs),
            sum(not o.feasible for o in outs),
        ]
        lines.append(
            f"| {m} | {counts[0]}/{len(cases)} | " + " | ".join(map(str, counts[1:])) + " |"
        )

    ratios, slower = [], []
    for k, case in enumerate(cases):
        auto = results[k, "auto"]
        auto_ms = auto.ms if auto.kind != "skipped" else limit * 1000
        proved = [(results[k, p].ms, p) for p in PEERS if p in names and results[k, p].proven]
        peer_ms, peer = min(proved) if proved else (limit * 1000, "none proved: the time limit")
        ratios.append(max(auto_ms, 1e-3) / max(peer_ms, 1e-3))
        if auto_ms > peer_ms:
            slower.append(
                f"- {case.label}: auto {auto_ms:,.2f} ms vs {peer} {peer_ms:,.2f} ms "
                f"({auto_ms / peer_ms:.1f}×)"
            )
    auto_outs = [(results[k, "auto"], case) for k, case in enumerate(cases)]
    worst, worst_case = max(auto_outs, key=lambda t: t[0].ms)
    unproven = [c.label for o, c in auto_outs if not (o.proven and o.ms <= 10_000)]
    lines += [
        "",
        f"`auto` vs the best peer (per instance: auto time / fastest peer that proved the optimum, "
        f"or the {limit:g} s limit when no peer did; geometric mean over {len(cases)} instances): "
        f"**{geomean(ratios):.3g}×** (below 1 means auto is faster).",
        "",
        f"`auto`'s worst instance: {worst_case.label}, {worst.ms:,.1f} ms "
        f"({'proven optimal' if worst.proven else worst.kind + ', not proven'}"
        f"{'; ' + worst.note if worst.note else ''}).",
        "",
        "`auto` proved the optimum of every instance within 10 s: "
        + ("**yes**." if not unproven else f"**no** ({', '.join(unproven)})."),
        "",
    ]
    if slower:
        lines += [
            f"Instances where `auto` is slower than the fastest proving peer ({len(slower)}):",
            "",
            *slower,
            "",
        ]
    lines += [
        "Bugs (wrong optimality claims or infeasible answers): "
        + ("none." if not bugs else f"**{len(bugs)}**"),
        "",
    ]
    if bugs:
        lines += [*[f"- {b}" for b in bugs], ""]
    notes: dict[tuple[str, str], list[str]] = {}
    for k in range(len(cases)):
        for m in names:
            o = results[k, m]
            if o.kind in ("skipped", "failed", "crashed"):
                notes.setdefault((m, o.kind), []).append(o.note or "no reason given")
    if notes:
        lines += ["Notes on `R`, `C` and `S` cells (count; reasons, numbers blanked):", ""]
        for (m, kind), reasons in notes.items():
            distinct = list(dict.fromkeys(_shape(r) for r in reasons))
            example = "; ".join(distinct[:3]) + (" …" if len(distinct) > 3 else "")
            lines.append(f"- {m}, {kind} ×{len(reasons)}: {example}")
        lines.append("")
    return "\n".join(lines), bugs


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and seeds (smoke test)")
    parser.add_argument("--out", default="docs/benchmarks/solvers.md", help="Markdown output")
    parser.add_argument("--timeout", type=float, default=10.0, help="time limit per call, s")
    parser.add_argument("--only", default="", help="comma-separated methods (default: all)")
    args = parser.parse_args(argv)
    if not args.timeout > 0:
        parser.error(f"--timeout must be > 0, got {args.timeout}")

    table = methods()
    wanted = [m for m in args.only.split(",") if m]
    unknown = sorted(set(wanted) - set(table))
    if unknown:
        parser.error(f"--only: unknown method(s) {', '.join(unknown)}; valid: {', '.join(table)}")
    names = [m for m in table if not wanted or m in wanted]
    if "auto" not in names:
        names.insert(0, "auto")
    cases = build_suite(args.quick)
    cost_model()  # the reference model (fixed constants since issue 19; no calibration)
    results: dict[tuple[int, str], Outcome] = {}
    # (method, family, n) -> every instance so far ran out of time without a proof
    hopeless: dict[tuple[str, str, int], bool] = {}
    failed_before: set[tuple[str, str]] = set()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    for k, case in enumerate(cases):
        n = case.inst.n
        # a size finished for a family: methods that proved nothing there are skipped above it
        for (m, fam, size), none in hopeless.items():
            if none and fam == case.family and size < n:
                failed_before.add((m, fam))
        for m in names:
            why = skip_reason(m, case, args.timeout, failed_before)
            out = (
                Outcome("skipped", 0.0, note=why) if why else run_one(table[m], case, args.timeout)
            )
            check(case, out)
            results[k, m] = out
            key = (m, case.family, n)
            out_of_time = out.kind in ("timeout", "skipped") or (
                not out.claims_optimal and out.ms >= 0.9 * args.timeout * 1000
            )
            hopeless[key] = hopeless.get(key, True) and out_of_time
        best = max((o.total for m in names if (o := results[k, m]).total is not None), default=None)
        for m in names:
            o = results[k, m]
            o.proven = o.kind == "ok" and o.feasible and o.claims_optimal and o.total == best
            o.wrong = o.kind == "ok" and o.feasible and o.claims_optimal and o.total != best
        print(
            f"[{time.perf_counter() - start:6.0f} s] {case.label}: "
            + ", ".join(f"{m}={cell(results[k, m])}" for m in names),
            file=sys.stderr,
            flush=True,
        )

    text, bugs = report(
        cases, names, results, args.timeout, argv, time.perf_counter() - start, load
    )
    out_path = Path(args.out)
    if not out_path.is_absolute():
        out_path = ROOT / out_path
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text)
    print(text)
    for bug in bugs:
        print("\n" + "!" * 72 + f"\n{bug}\n" + "!" * 72, file=sys.stderr)
    return 1 if bugs else 0


if __name__ == "__main__":
    raise SystemExit(main())
