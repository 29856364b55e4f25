"""`budget models ...` and `budget train`: the selector's registry and its training flow.

    budget models list [--url URL] [--json]    versions, newest first, with aliases and metrics
    budget models promote VERSION [--url URL]  point `champion` at VERSION
    budget models demote [--url URL]           no champion: `auto` uses the rules again
    budget models rollback [--url URL]         undo the last promote or demote
    budget models history [--url URL] [--json] every promote and demote, oldest first
    budget models show VERSION [--url URL]     the version's evaluation table (markdown)
    budget train [--json] [--url URL] [--min-instances N] [--time-limit S]

Errors (unknown version, nothing to roll back to, unreachable database) print one line and
exit non-zero; no traceback.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from ._errors import check_known_revision, fail, report, scrub, urls_in_play

MODEL_NAME = "selector"  # ml.DEFAULT_MODEL_NAME (not imported: keeps `budget --help` light)
DEFAULT_CANDIDATES = "portfolio"  # ml.DEFAULT_CANDIDATES (not imported, as above)
DEFAULT_CUTOFF = 2.0  # ml.DEFAULT_CUTOFF: seconds, so PAR10 is not mostly timeout penalty


def _fail(message: str, code: int = 1, args: argparse.Namespace | None = None,
          kind: str = "Error") -> int:
    return fail(args, message, code, kind=kind)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _list(args: argparse.Namespace) -> int:
    from db import model_registry as reg
    from db.engine import mask_url, resolve_url, session_scope

    with session_scope(args.url) as session:
        rows = reg.list_versions(session=session, name=MODEL_NAME)
        tags = reg.aliases(session=session, name=MODEL_NAME)
        out = [{"version": r.version, "aliases": tags.get(r.version, []),
                "created_at": r.created_at.isoformat() if r.created_at else None,
                "kind": (r.params or {}).get("kind"),
                "remaining_gap": (r.metrics or {}).get("remaining_gap"),
                "selector_par10": (r.metrics or {}).get("selector_par10"),
                "solved_pct": (r.metrics or {}).get("solved_pct"),
                "sha256": r.sha256, "path": r.path} for r in rows]
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    if not out:
        print(f"no versions of model {MODEL_NAME!r} in {mask_url(resolve_url(args.url))}")
        return 0
    print(f"{'version':>7}  {'aliases':<10} {'kind':<16} {'gap':>6} {'PAR10 s':>8} "
          f"{'solved%':>7}  created")
    for r in out:
        gap = "-" if r["remaining_gap"] is None else f"{r['remaining_gap']:.3f}"
        par = "-" if r["selector_par10"] is None else f"{r['selector_par10']:.4f}"
        sol = "-" if r["solved_pct"] is None else f"{r['solved_pct']:.1f}"
        print(f"{r['version']:>7}  {','.join(r['aliases']) or '-':<10} {r['kind'] or '-':<16} "
              f"{gap:>6} {par:>8} {sol:>7}  {r['created_at']}")
    return 0


def _promote(args: argparse.Namespace) -> int:
    from db import model_registry as reg
    from db.engine import session_scope

    with session_scope(args.url) as session:
        reg.promote(session=session, name=MODEL_NAME, version=args.version)
    print(f"champion of {MODEL_NAME!r} is now version {args.version}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from db import model_registry as reg
    from db.engine import session_scope

    with session_scope(args.url) as session:
        previous = reg.rollback(session=session, name=MODEL_NAME)
        version = None if previous is None else previous.version
    if version is None:
        print(f"champion of {MODEL_NAME!r} rolled back to none: auto uses the rules")
    else:
        print(f"champion of {MODEL_NAME!r} rolled back to version {version}")
    return 0


def _demote(args: argparse.Namespace) -> int:
    from db import model_registry as reg
    from db.engine import session_scope

    with session_scope(args.url) as session:
        demoted = reg.demote(session=session, name=MODEL_NAME)
        version = None if demoted is None else demoted.version
    if version is None:
        print(f"model {MODEL_NAME!r} has no champion: auto already uses the rules")
    else:
        print(f"version {version} of {MODEL_NAME!r} is no longer champion: auto uses the rules "
              "(`budget models rollback` undoes this)")
    return 0


def _alias_history(args: argparse.Namespace) -> int:
    from db import model_registry as reg
    from db.engine import session_scope

    with session_scope(args.url) as session:
        rows = reg.alias_history(session=session, name=MODEL_NAME)
    out = [{**r, "at": r["at"].isoformat() if r["at"] else None} for r in rows]
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    if not out:
        print(f"model {MODEL_NAME!r}: no promote or demote yet (auto uses the rules)")
    for r in out:
        print(f"{r['seq']:>4}  {r['action']:<8} v{r['version']}  {r['at']}")
    return 0


_ORDER = ("lgbm_classifier", "lgbm_regression", "lgbm_gated", "logistic_regression",
          "decision_tree", "rules", "hybrid", "sbs", "vbs")
_LABELS = {"lgbm_classifier": "LightGBM classifier", "lgbm_regression": "LightGBM cost regression",
           "lgbm_gated": "LightGBM cost regression, gated",
           "logistic_regression": "logistic regression", "decision_tree": "decision tree",
           "rules": "rule-based auto", "hybrid": "hybrid (own runs)", "sbs": "SBS (single best)",
           "vbs": "VBS (oracle)"}


def _fmt(value: Any, digits: int) -> str:
    if value is None:
        return "inf"
    return f"{value:.{digits}f}"


def _show(args: argparse.Namespace) -> int:
    from db import model_registry as reg
    from db.engine import session_scope

    with session_scope(args.url) as session:
        row = reg.get_version(session=session, name=MODEL_NAME, version=args.version)
        metrics, params = row.metrics or {}, row.params or {}
    print(f"selector v{args.version}: {params.get('kind')}, candidates "
          f"{params.get('candidates')}, {params.get('rows')} instances, cutoff "
          f"{params.get('time_limit')} s (PAR10 = 10 × cutoff); {metrics.get('decision')}\n")
    cv = metrics.get("cv") or {"methods": metrics.get("methods", {})}
    lofo = metrics.get("lofo") or {}
    for title, block in (("Stratified 5-fold × 3 (families seen in training)", cv),
                         ("Leave-one-family-out (held-out families)", lofo)):
        methods = block.get("methods") or {}
        if not methods:
            continue
        print(f"{title}\n\n| method | mean PAR10 (s) | solved % | remaining gap "
              "| worst fold gap | folds worse than SBS |\n|---|---:|---:|---:|---:|---:|")
        for name in [m for m in _ORDER if m in methods] + [m for m in methods
                                                           if m not in _ORDER]:
            m = methods[name]
            star = " **(served)**" if name == params.get("kind") else ""
            print(f"| {_LABELS.get(name, name)}{star} | {_fmt(m['par10'], 4)} | "
                  f"{_fmt(m['solved_pct'], 2)} | {_fmt(m['remaining_gap'], 3)} | "
                  f"{_fmt(m['max_fold_gap'], 3)} | {m['folds_worse_than_sbs']}/{m['folds']} |")
        print()
    noise = metrics.get("noise_floor") or {}
    if noise.get("instances"):
        print(f"Re-timing noise floor ({noise['instances']} instances timed twice): labels "
              f"agree {100 * noise['label_agreement']:.1f}%, oracle-vs-oracle remaining gap "
              f"{noise['oracle_gap']:.3f}, regret {noise['oracle_regret_s']:.4f} s = "
              f"{100 * noise['margin']:.1f}% of the rules' PAR10 (the promotion margin)")
    return 0


def _run_train_flow(**kwargs: Any) -> dict[str, Any]:
    """Run the train-selector flow with one ``flows.params.TrainParams`` built from
    ``kwargs``; a parameter ``TrainParams`` does not (yet) have is left out, never guessed."""
    from flows.params import TrainParams
    from flows.train_selector import train_selector

    fields = TrainParams.model_fields
    return train_selector(TrainParams(**{k: v for k, v in kwargs.items()
                                         if k in fields and v is not None}))


def _registered_metrics(url: str | None, version: int) -> dict[str, Any]:
    from db import model_registry as reg
    from db.engine import session_scope

    with session_scope(url) as session:
        return dict(reg.get_version(session=session, name=MODEL_NAME, version=version).metrics
                    or {})


def _train(args: argparse.Namespace) -> int:
    from .pipeline_commands import on_server

    return on_server(_train_on_server)(args)


def _train_on_server(args: argparse.Namespace) -> int:
    result = _run_train_flow(
        database_url=args.url, data_dir=args.data_dir, min_instances=args.min_instances,
        time_limit=args.time_limit, seed=args.seed, candidates=args.candidates,
        max_n=args.max_n, timing_repeats=args.repeats)
    # the registry holds every metric of the version (LOFO, CV, noise floor, runtime model)
    metrics = {**_registered_metrics(args.url, result["model_version"]), **result["metrics"]}
    summary = _clean({"model_version": result["model_version"],
                      "promoted": result["promoted"], "decision": result["decision"],
                      "instances": result["instances"], "generated": result["generated"],
                      "metrics": metrics, "plot": result["plot"],
                      "metrics_parquet": result["metrics_parquet"],
                      **{k: result[k] for k in ("runtime_model_version",) if k in result}})
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    m = summary["metrics"]
    print(f"selector v{summary['model_version']} ({m['kind']}) on {summary['instances']} "
          f"instances, cutoff {m.get('time_limit')} s CPU:")
    for name, label in (("cv", "stratified 5-fold"), ("lofo", "leave-one-family-out")):
        e = m.get(name)
        if not e:
            print(f"  {label:<21} not available (fewer than 2 families)")
            continue
        print(f"  {label:<21} remaining gap {_fmt(e['remaining_gap'], 3)}, PAR10 "
              f"{e['selector_par10']:.4f} s (SBS {e['sbs_par10']:.4f}, VBS "
              f"{e['vbs_par10']:.4f}, rules {e['rules_par10']:.4f}), solved "
              f"{e['solved_pct']:.1f}%")
    noise = m.get("noise_floor") or {}
    if noise.get("instances"):
        print(f"  re-timing noise floor on {noise['instances']} instances: labels agree "
              f"{100 * noise['label_agreement']:.1f}%, oracle-vs-oracle gap "
              f"{noise['oracle_gap']:.3f}, margin {100 * noise['margin']:.1f}% of the rules' "
              "PAR10")
    checks = m.get("promotion_checks") or {}
    fut, gen = checks.get("user_future"), checks.get("generated_lofo")
    if fut:
        print(f"  user's {fut['instances']} most recent instances (trained on the past): model "
              f"{fut['model_par10']:.4f} s, rules {fut['rules_par10']:.4f} s, oracle "
              f"{fut['vbs_par10']:.4f} s: {'passed' if fut['passed'] else 'failed'}")
    else:
        print("  user's instances held out by time: none replayed yet (`budget replay`)")
    if gen:
        print(f"  generated families held out one at a time: model {gen['model_par10']:.4f} s, "
              f"rules {gen['rules_par10']:.4f} s: {'passed' if gen['passed'] else 'failed'}")
    print(("promoted to champion: " if summary["promoted"] else "not promoted: ")
          + summary["decision"])
    if summary.get("runtime_model_version"):
        rt = (m.get("runtime_model") or {}).get("lofo") or {}
        pooled = rt.get("pooled") or {}
        extra = (f": held-out families {pooled['within_3x_pct']:.0f}% of runs within 3x"
                 if pooled else "")
        print(f"runtime model v{summary['runtime_model_version']} registered{extra}")
    return 0


def _guarded(fn: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        from sqlalchemy.exc import SQLAlchemyError

        from db.errors import DatabaseError, NotFoundError

        try:
            check_known_revision(args.url)  # a revision this code does not know: one line
            return fn(args)
        except NotFoundError as exc:
            return _fail(str(exc), 1, args, type(exc).__name__)
        except DatabaseError as exc:  # unreachable, unusable URL, unknown schema revision
            return report(args, exc)
        except SQLAlchemyError as exc:
            if getattr(exc, "statement", None) is None:  # failed before any SQL: the URL
                return report(args, exc)
            # a statement failed: typically a database that was never migrated
            first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
            return _fail(scrub(f"{first} (is the schema there? run `budget db upgrade`)",
                               urls_in_play(args)), 2, args, type(exc).__name__)
    return run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `models` (list, promote, demote, rollback, history, show) and `train`."""
    models = subparsers.add_parser("models", help="the selector's model registry")
    sub = models.add_subparsers(dest="models_command", metavar="COMMAND", required=True)
    ls = sub.add_parser("list", help="versions, newest first, with aliases and metrics")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_guarded(_list))
    promote = sub.add_parser("promote", help="point the champion alias at VERSION")
    promote.add_argument("version", type=int, metavar="VERSION")
    promote.set_defaults(handler=_guarded(_promote))
    rollback = sub.add_parser("rollback", help="undo the last promote or demote")
    rollback.set_defaults(handler=_guarded(_rollback))
    demote = sub.add_parser("demote", aliases=["clear"],
                            help="remove the champion: auto uses the rules again (recorded)")
    demote.set_defaults(handler=_guarded(_demote))
    hist = sub.add_parser("history", help="every promote and demote of the champion")
    hist.add_argument("--json", action="store_true", help="print JSON")
    hist.set_defaults(handler=_guarded(_alias_history))
    show = sub.add_parser("show", help="a version's evaluation table (markdown)")
    show.add_argument("version", type=int, metavar="VERSION")
    show.set_defaults(handler=_guarded(_show))
    for p in (ls, promote, rollback, demote, hist, show):
        p.add_argument("--url", default=None, help="database URL (default: DATABASE_URL)")

    train = subparsers.add_parser(
        "train", help="train the algorithm selector (runs the train-selector flow)",
        description="Run a covering benchmark if the run history is thin, evaluate every model "
                    "and baseline on repeated stratified folds, register the new version and "
                    "promote it only if it beats the champion.")
    train.add_argument("--json", action="store_true", help="print the summary as JSON")
    train.add_argument("--url", default=None, help="database URL (default: DATABASE_URL)")
    train.add_argument("--min-instances", type=int, default=2000,
                       help="benchmark first when fewer instances have runs (default 2000)")
    train.add_argument("--time-limit", type=float, default=DEFAULT_CUTOFF,
                       help="cutoff per run in CPU seconds; PAR10 = 10 × this "
                            f"(default {DEFAULT_CUTOFF:g})")
    train.add_argument("--repeats", type=int, default=3,
                       help="timings per run of the covering benchmark; the label uses their "
                            "median CPU time (default 3)")
    train.add_argument("--seed", type=int, default=0, help="seed of the covering benchmark")
    train.add_argument("--max-n", type=int, default=None,
                       help="cap the covering benchmark's sizes (quick trials; default none)")
    train.add_argument("--data-dir", default=None,
                       help="folder for model files, plots and metrics (default: DATA_DIR)")
    train.add_argument("--candidates", choices=["base", "base+hybrid", "portfolio"],
                       default=DEFAULT_CANDIDATES,
                       help="algorithms the model may pick: the base ones (hybrid is then "
                            "only a baseline), the base ones and hybrid, or the portfolio "
                            "(also hybrid's named configurations; the default)")
    train.set_defaults(handler=_guarded(_train))
