"""`budget solve` and `budget profile`: the solver engine from the command line."""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import timeit
from pathlib import Path
from typing import Any

import solvers
from config import get_settings
from solvers.files import load_projects
from solvers.instances import FAMILIES, generate

MAX_ROWS = 200


def register(subparsers: argparse._SubParsersAction) -> None:
    solve = subparsers.add_parser(
        "solve", help="choose the projects closest to a budget (CSV, JSON or Parquet)",
        description="Choose the projects whose total cost comes closest to the budget "
                    "without going over, and say whether that choice is proven optimal.")
    solve.add_argument("file", help="CSV/JSON/Parquet with a 'cost' column, or - for stdin")
    solve.add_argument("--budget", help="the budget (required unless the JSON file has one)")
    solve.add_argument("--algorithm", default="auto",
                       help=f"one of: {', '.join(sorted(solvers.ALGORITHMS))} (default: auto)")
    solve.add_argument("--time-limit", type=float, default=None, metavar="S",
                       help="seconds; time-limited methods then answer approximately")
    solve.add_argument("--json", action="store_true", help="print the result as one JSON object")
    solve.set_defaults(handler=handle_solve)

    prof = subparsers.add_parser(
        "profile", help="profile one algorithm on a generated instance (cProfile + timeit)")
    prof.add_argument("--algorithm", default="auto")
    prof.add_argument("--n", type=int, default=200, help="number of projects (default 200)")
    prof.add_argument("--seed", type=int, default=0)
    prof.add_argument("--family", default="psix", choices=FAMILIES)
    prof.add_argument("--top", type=int, default=15, help="functions to print (default 15)")
    prof.add_argument("--repeat", type=int, default=5, help="timeit repetitions (default 5)")
    prof.add_argument("--out", default=None, help="where to write the .prof file")
    prof.add_argument("--json", action="store_true", help="print a JSON summary")
    prof.set_defaults(handler=handle_profile)


def _selected_projects(projects: list[Any], result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i in result["selected_indices"]:
        p = projects[i]
        name = p.get("name") if isinstance(p, dict) else None
        cost = p["cost"] if isinstance(p, dict) else p
        out.append({"index": i, "name": name if name is not None else f"#{i}", "cost": cost})
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(result: dict[str, Any], chosen: list[dict[str, Any]]) -> str:
    """The human-readable report: chosen projects, totals, status and time."""
    lines = []
    width = max([len(str(c["name"])) for c in chosen] + [7])
    lines.append(f"{'#':>6}  {'project':<{width}}  {'cost':>16}")
    lines.append(f"{'-' * 6}  {'-' * width}  {'-' * 16}")
    for c in chosen[:MAX_ROWS]:
        cost = _fmt(solvers_amount(c["cost"]))
        lines.append(f"{c['index']:>6}  {c['name']!s:<{width}}  {cost:>16}")
    if len(chosen) > MAX_ROWS:
        lines.append(f"{'':>6}  … {len(chosen) - MAX_ROWS} more (use --json for all)")
    budget, total = result["budget"], result["total_cost"]
    share = f"{100 * total / budget:.2f}%" if budget else "-"
    left = round(budget - total, 2) if isinstance(budget, float) else budget - total
    lines.append("")
    lines.append(f"selected {len(chosen)} of {result['n']} projects")
    lines.append(f"total    {_fmt(total)} of budget {_fmt(budget)} ({share}), left {_fmt(left)}")
    if result["status"] == "exact":
        verdict = "exact: proven optimal"
    elif result["status"] == "approximate":
        verdict = (f"approximate: {result['reason']}; the optimum is at most "
                   f"{_fmt(result['upper_bound'])}")
    else:
        verdict = f"failed: {result['reason']}"
    lines.append(f"status   {verdict}")
    via = result["algorithm"]
    if result.get("selector"):
        via += f" (chosen by {result['selector']})"
    lines.append(f"solver   {via} in {result['execution_time'] * 1000:.2f} ms, "
                 f"peak memory {result['memory_used']:.2f} MiB")
    return "\n".join(lines)


def solvers_amount(cost: Any) -> Any:
    """A cost as read from the file, shown as a number where it is one."""
    if isinstance(cost, str):
        try:
            return int(cost) if cost.strip().lstrip("-").isdigit() else float(cost)
        except ValueError:
            return cost
    return cost


def handle_solve(args: argparse.Namespace) -> int:
    projects, file_budget = load_projects(args.file)
    budget = args.budget if args.budget is not None else file_budget
    if budget is None:
        print("error: --budget is required (the file does not carry a budget)", file=sys.stderr)
        return 2
    limits = get_settings().solver_limits()
    result = solvers.solve(projects, budget, algorithm=args.algorithm, time_limit=args.time_limit,
                           limits=limits)
    chosen = _selected_projects(projects, result)
    if args.json:
        print(json.dumps({**result, "selected_projects": chosen}, default=str))
    else:
        print(render(result, chosen))
    return 0 if result["status"] != "failed" else 1


def handle_profile(args: argparse.Namespace) -> int:
    if args.n < 0 or args.repeat < 1 or args.top < 1:
        print("error: --n must be ≥ 0, --repeat and --top ≥ 1", file=sys.stderr)
        return 2
    inst = generate(args.family, args.n, seed=args.seed)
    solve = solvers.get(args.algorithm)
    projects = inst.projects()

    limits = get_settings().solver_limits()

    def run() -> dict[str, Any]:
        return solve(projects, inst.budget, measure_memory=False, limits=limits)

    times = timeit.repeat(run, number=1, repeat=args.repeat)
    profiler = cProfile.Profile()
    profiler.enable()
    result = run()
    profiler.disable()
    default = f"data/profile-{args.algorithm}-{args.family}-n{args.n}-s{args.seed}.prof"
    out = Path(args.out or default)
    out.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(out)
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(args.top)
    summary = {
        "algorithm": result["algorithm"], "family": args.family, "n": args.n, "seed": args.seed,
        "status": result["status"], "total_cost": result["total_cost"],
        "timeit_best_s": min(times), "timeit_median_s": statistics.median(times),
        "repeat": args.repeat, "prof_file": str(out),
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{args.algorithm} on {args.family} n={args.n} seed={args.seed}: {result['status']}, "
          f"total {result['total_cost']} of {inst.budget} (ran {result['algorithm']})")
    best, median = min(times) * 1000, statistics.median(times) * 1000
    print(f"timeit: best {best:.3f} ms, median {median:.3f} ms over {args.repeat} runs")
    print(stream.getvalue().rstrip())
    print(f"\nprofile written to {out} (open with: python -m pstats {out}, or snakeviz)")
    return 0
