"""`budget solve` and `budget profile`: the solver engine from the command line."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._errors import EXIT_BAD_INPUT, EXIT_NO_ANSWER, EXIT_OK, EXIT_OS_ERROR, CommandError, fail
from ._parser import defer

# NumPy (solvers), pydantic-settings (config) and the ML stack are imported inside the handlers
# and the deferred option definitions: `budget --help` does not pay for them.

MAX_ROWS = 200
"""Most chosen projects listed in the table (all of them are in --json)."""
MAX_META_COLUMNS = 6
"""Most metadata columns shown in the table (all of them are in --json)."""
CELL_WIDTH = 24
NAME_WIDTH = 40

SOLVE_EPILOG = """\
exit status: 0 an answer (exact or approximate); 1 the file could not be read (an OS error:
no such file, permission denied); 2 bad input (one 'error:' line naming the file, CSV line,
field and value); 3 no answer (status "failed", e.g. brute_force refusing more than 24
projects: one 'error:' line with the reason, and with --json the result object on stdout).
With --json, exits 1 and 2 print one object on stdout too: {{"error": {{"type", "message",
"field", "value", "exit_code"}}}}.

forecast: with a runtime model registered (budget train registers one in DATABASE_URL), a
'forecast:' line before solving: the predicted time, the algorithm expected to run and whether
the instance is expected to be proven within the time limit; without one, a last line saying
why there is none. --json carries it as 'forecast' (null, with 'forecast_note' saying why).

--json: one object in the API's vocabulary: each amount twice, as a JSON number (total_cost,
budget, upper_bound, each selected project's cost; an int when whole) and as the exact decimal
text beside it (total_cost_exact, budget_exact, upper_bound_exact, cost_exact: "1200.50", or
"1650" when all input is integer); read the *_exact text when every cent matters (a float
cannot hold every cent above 2**53). Each selected project carries its index, its name
(project-<index> when the file has none) and its metadata (the file's other columns).

limits: at most MAX_PROJECTS projects (setting; default {max_projects:,}{current}) and 512 MiB
per file. CSV is read row by row and refused as soon as it passes the limit; JSON is counted
element by element; Parquet is checked from its footer."""


def _solve_epilog() -> str:
    """The epilog with the project cap from its one definition (the settings' default), and
    this environment's value when MAX_PROJECTS changes it."""
    from config.settings import Settings

    default = Settings.model_fields["max_projects"].default
    try:
        from config import get_settings

        now = get_settings().max_projects
    except Exception:  # unreadable settings: the command itself will say why
        now = default
    current = "" if now == default else f"; here MAX_PROJECTS={now:,}"
    return SOLVE_EPILOG.format(max_projects=default, current=current)


def _solve_options(solve: argparse.ArgumentParser) -> None:
    import solvers

    solve.epilog = _solve_epilog()
    solve.add_argument("file", help="CSV/JSON/Parquet with a 'cost' column, or - for stdin")
    solve.add_argument("--budget", help="the budget (required unless the JSON file has one)")
    solve.add_argument("--algorithm", default="auto",
                       help=f"one of: {', '.join(sorted(solvers.ALGORITHMS))} (default: auto)")
    solve.add_argument("--time-limit", type=float, default=None, metavar="S",
                       help="seconds; time-limited methods then answer approximately")
    solve.add_argument("--json", action="store_true", help="print the result as one JSON object")
    solve.add_argument("--no-forecast", action="store_true",
                       help="skip the runtime model's forecast (no database look-up)")


def _profile_options(prof: argparse.ArgumentParser) -> None:
    from solvers.instances import FAMILIES

    prof.add_argument("--algorithm", default="auto")
    prof.add_argument("--n", type=int, default=200, help="number of projects (default 200)")
    prof.add_argument("--seed", type=int, default=0)
    prof.add_argument("--family", default="psix", choices=FAMILIES)
    prof.add_argument("--top", type=int, default=15, help="functions to print (default 15)")
    prof.add_argument("--repeat", type=int, default=5, help="timeit repetitions (default 5)")
    prof.add_argument("--out", default=None,
                      help="where to write the .prof file (default: DATA_DIR/profile-….prof)")
    prof.add_argument("--json", action="store_true", help="print a JSON summary")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `solve` and `profile`; their options (algorithm names, families, the project cap)
    are built when the command is used."""
    solve = subparsers.add_parser(
        "solve", help="choose the projects closest to a budget (CSV, JSON or Parquet)",
        description="Choose the projects whose total cost comes closest to the budget "
                    "without going over, and say whether that choice is proven optimal.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    defer(solve, _solve_options)
    solve.set_defaults(handler=handle_solve)

    prof = subparsers.add_parser(
        "profile", help="profile one algorithm on a generated instance (cProfile + timeit)")
    defer(prof, _profile_options)
    prof.set_defaults(handler=handle_profile)


def _scale(result: dict[str, Any]) -> int:
    """100 when the instance has cents (its exact amounts carry two decimals), else 1."""
    return 100 if "." in str(result.get("budget_exact") or "") else 1


def exact_amount(value: Any, scale: int) -> str:
    """A cost as the exact text the solver's amounts use: `solvers.money.money_text` ("1650",
    "1200.50"), with two decimals when the instance has cents ("5.00") like the totals."""
    from solvers.money import money_text, parse_money

    text = money_text(parse_money(value, "cost"))
    return f"{text}.00" if scale != 1 and "." not in text else text


def json_number(exact: str | None) -> int | float | None:
    """An exact amount as the API's JSON number (`api.schemas.money_out`): an int when whole,
    else a float (the `*_exact` text beside it keeps every cent)."""
    if exact is None:
        return None
    return float(exact) if "." in exact else int(exact)


def _selected_projects(projects: list[Any], result: dict[str, Any]) -> list[dict[str, Any]]:
    """The chosen projects in the API's vocabulary: index, name (project-<index> when the file
    has none), cost (a number) and cost_exact (its exact text), metadata."""
    scale = _scale(result)
    out = []
    for i in result["selected_indices"]:
        p = projects[i]
        name = p.get("name") if isinstance(p, dict) else None
        cost = p["cost"] if isinstance(p, dict) else p
        meta = p.get("metadata") if isinstance(p, dict) else None
        exact = exact_amount(cost, scale)
        out.append({"index": i, "name": name if name is not None else f"project-{i}",
                    "cost": json_number(exact), "cost_exact": exact,
                    "metadata": meta if isinstance(meta, dict) else {}})
    return out


def short_repr(value: Any, width: int = 80) -> str:
    """``repr(value)`` cut to ``width`` characters: a 100 KB bad cell stays a readable line."""
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 1]}…"


def _money(exact: str | None) -> str:
    """An exact amount with thousands separators, never through a float: 1,234,567.89."""
    return "-" if exact is None else f"{Decimal(exact):,}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def cell(value: Any, width: int = CELL_WIDTH) -> str:
    """A value safe for one table cell: control characters escaped, at most `width` long."""
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = "" if value is None else str(value)
    text = text[: width * 4]  # enough to fill the cell after escaping; huge values stay cheap
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _metadata_columns(chosen: list[dict[str, Any]], columns: list[str]) -> list[str]:
    if columns:
        return list(columns)
    seen: dict[str, None] = {}
    for c in chosen:
        for key in c["metadata"]:
            seen.setdefault(str(key), None)
    return list(seen)


def render(result: dict[str, Any], chosen: list[dict[str, Any]],
           columns: list[str] | None = None) -> str:
    """The human-readable report: chosen projects (with their metadata), totals, status, time."""
    shown = chosen[:MAX_ROWS]
    meta_all = _metadata_columns(shown, columns or [])
    meta = meta_all[:MAX_META_COLUMNS]
    table = [[str(c["index"]), cell(c["name"], NAME_WIDTH), _money(c["cost_exact"])]
             + [cell(c["metadata"].get(k, "")) for k in meta] for c in shown]
    heads = ["#", "project", "cost", *(cell(k) for k in meta)]
    widths = [max([len(h)] + [len(row[j]) for row in table]) for j, h in enumerate(heads)]
    widths[0], widths[2] = max(widths[0], 6), max(widths[2], 16)
    right = {0, 2}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if j in right else c.ljust(w)
                         for j, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    lines = [line(heads), line(["-" * w for w in widths])]
    lines.extend(line(row) for row in table)
    if len(chosen) > MAX_ROWS:
        lines.append(f"{'':>6}  … {len(chosen) - MAX_ROWS} more (use --json for all)")
    if len(meta_all) > len(meta):
        lines.append(f"{'':>6}  ({len(meta_all) - len(meta)} more metadata columns: "
                     f"{', '.join(cell(k) for k in meta_all[len(meta):])}; see --json)")
    budget, total = Decimal(result["budget_exact"]), Decimal(result["total_cost_exact"])
    share = f"{100 * total / budget:.2f}%" if budget else "-"
    lines.append("")
    lines.append(f"selected {len(chosen)} of {result['n']} projects")
    lines.append(f"total    {_money(result['total_cost_exact'])} of budget "
                 f"{_money(result['budget_exact'])} ({share}), left {_money(str(budget - total))}")
    if result["status"] == "exact":
        verdict = "exact: proven optimal"
    else:
        verdict = (f"approximate: {result['reason']}; the optimum is at most "
                   f"{_money(result['upper_bound_exact'])}")
    lines.append(f"status   {verdict}")
    via = result["algorithm"]
    if result.get("selector"):
        via += f" (chosen by {result['selector']})"
    memory = ("memory not measured" if result.get("memory_method", "none") == "none"
              or result.get("memory_used") is None
              else f"peak memory {result['memory_used']:.2f} MiB")
    lines.append(f"solver   {via} in {result['execution_time'] * 1000:.2f} ms, {memory}")
    return "\n".join(lines)


def json_result(result: dict[str, Any], chosen: list[dict[str, Any]], source: str
                ) -> dict[str, Any]:
    """The --json object, in the API's vocabulary: the solver's result with each amount as a
    JSON number (`total_cost`, `budget`, `upper_bound`) next to its exact text (`*_exact`), the
    file it came from and the chosen projects."""
    out = dict(result)
    for key in AMOUNT_KEYS:
        out[key] = json_number(result.get(f"{key}_exact"))
    out["source"] = source
    out["selected_projects"] = chosen
    return out


AMOUNT_KEYS = ("total_cost", "budget", "upper_bound")


def _jsonable(value: Any) -> Any:
    """Metadata as valid JSON: non-finite floats (Parquet NaN) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _forecast(args: argparse.Namespace, projects: Any, budget: Any,
              limits: Any) -> dict[str, Any] | None:
    """`{"forecast", "forecast_note"}` of the registered runtime model, or None with
    --no-forecast. The registry is asked first (a missing SQLite file is not even opened):
    without a runtime model nothing of the ML stack is imported."""
    if args.no_forecast:
        return None
    from config import get_settings

    try:
        from ml.serving import forecast_fields, runtime_model_with_note

        model, note = runtime_model_with_note(get_settings().database_url)
    except ImportError as exc:  # an install without the registry's extras: no forecast
        from config.extras import missing_extra

        missing = missing_extra(exc, "the forecast")
        if missing is None:
            raise
        return {"forecast": None, "forecast_note": str(missing)}
    return forecast_fields(model, note, projects, budget, args.algorithm, args.time_limit,
                           None, limits)


def describe(fields: dict[str, Any]) -> str:
    """The forecast line: "forecast: predicted 1.2 ms with dp (runtime model v3), expected
    proven within the 60 s limit: yes", or "forecast: none (why)"."""
    from ml.serving import describe_forecast

    if fields["forecast"] is None:
        return f"forecast: none ({fields['forecast_note']})"
    return f"forecast: {describe_forecast(fields['forecast'])}"


def _check_readable(source: str) -> None:
    """A file that is not there or cannot be opened is an OS error (exit 1), named, before
    any parsing; what the file holds is the reader's business (bad input, exit 2)."""
    if source == "-":
        return
    try:
        os.stat(source)
        if not os.path.isdir(source):
            with open(source, "rb"):
                pass
    except OSError as exc:
        why = "no such file" if isinstance(exc, FileNotFoundError) else (exc.strerror or exc)
        raise CommandError(f"{source}: {why}", code=EXIT_OS_ERROR, kind=type(exc).__name__,
                           field="file", value=source) from None


def handle_solve(args: argparse.Namespace) -> int:
    import solvers
    from config import get_settings
    from solvers import InvalidInputError
    from solvers.files import read_projects
    from solvers.money import parse_money

    limits = get_settings().solver_limits()
    _check_readable(args.file)
    loaded = read_projects(args.file, max_projects=limits.max_n)
    raw_budget = args.budget if args.budget is not None else loaded.budget
    if raw_budget is None:
        raise CommandError("--budget is required (the file does not carry a budget)",
                           field="budget", value=None)
    try:
        budget = parse_money(raw_budget, "budget")  # the one money rule, before any work
        forecast = _forecast(args, loaded.projects, budget, limits)
        if forecast is not None and forecast["forecast"] is not None and not args.json:
            print(describe(forecast), flush=True)  # before solving: a long solve is expected
        result = solvers.solve(loaded.projects, budget, algorithm=args.algorithm,
                               time_limit=args.time_limit, limits=limits)
    except InvalidInputError as exc:
        message = f"{exc.field}: {exc.problem} (got {short_repr(exc.value)})"
        from_file = exc.field.startswith("projects") or (exc.field == "budget"
                                                         and args.budget is None)
        return fail(args, loaded.locate(message) if from_file else message, EXIT_BAD_INPUT,
                    kind=type(exc).__name__, field=exc.field, value=exc.value)
    chosen = _selected_projects(loaded.projects, result)
    if args.json:
        out = json_result(result, chosen, loaded.source)
        if forecast is not None:
            out.update(forecast)
        print(json.dumps(_jsonable(out), default=str, allow_nan=False))
    if result["status"] == "failed":
        hint = "" if args.algorithm == "auto" else "; try --algorithm auto"
        print(f"error: no answer from {result['algorithm']}: {result['reason']}{hint}",
              file=sys.stderr)
        return EXIT_NO_ANSWER
    if not args.json:
        print(render(result, chosen, loaded.columns))
        if forecast is not None and forecast["forecast"] is None:
            print(describe(forecast))  # why there was no forecast line, after the answer
    return EXIT_OK


def handle_profile(args: argparse.Namespace) -> int:
    import cProfile
    import io
    import pstats
    import statistics
    import timeit

    import solvers
    from config import get_settings
    from solvers.instances import generate

    if args.n < 0 or args.repeat < 1 or args.top < 1:
        raise CommandError("--n must be ≥ 0, --repeat and --top ≥ 1")
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
    default = f"profile-{args.algorithm}-{args.family}-n{args.n}-s{args.seed}.prof"
    out = Path(args.out) if args.out else get_settings().data_dir / default
    out.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(out)
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(args.top)
    summary = {
        "algorithm": result["algorithm"], "family": args.family, "n": args.n, "seed": args.seed,
        "status": result["status"], "total_cost": result["total_cost_exact"],
        "budget": result["budget_exact"],
        "timeit_best_s": min(times), "timeit_median_s": statistics.median(times),
        "repeat": args.repeat, "prof_file": str(out),
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{args.algorithm} on {args.family} n={args.n} seed={args.seed}: {result['status']}, "
          f"total {_money(result['total_cost_exact'])} of {_money(result['budget_exact'])} "
          f"(ran {result['algorithm']})")
    best, median = min(times) * 1000, statistics.median(times) * 1000
    print(f"timeit: best {best:.3f} ms, median {median:.3f} ms over {args.repeat} runs")
    print(stream.getvalue().rstrip())
    print(f"\nprofile written to {out} (open with: python -m pstats {out}, or snakeviz)")
    return 0
