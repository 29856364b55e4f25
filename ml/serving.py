"""Load the champion selector for ``solvers.solve(..., algorithm="auto", selector=...)``, and
the runtime model that forecasts a solve (``forecast``: predicted seconds, expected proven).

``champion_selector(database_url)`` looks up the ``champion`` alias in the model registry and
returns a callable (feature mapping → algorithm name) with ``.name`` (``"model:selector@v3"``)
and ``.version``, or ``None`` when there is no usable champion: no model yet, database
unreachable, file missing or tampered with (the sha256 is checked **before** LightGBM parses
the file), features or classes that do not match this code. Each refusal is logged (never a
secret) and the caller keeps the rule-based choice. Load it once (at start-up); a call costs one
``Booster.predict`` on one numpy row with ``num_threads=1``.

This is the one ``ml`` module that reads the database (through ``db.model_registry``).
Importing it is cheap: LightGBM (and scikit-learn) load only when a model file is loaded.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import solvers

from . import DEFAULT_MODEL_NAME
from .features import KNOWN_FEATURE_SETS, extend, is_trivial

if TYPE_CHECKING:  # LightGBM (and scikit-learn through ml.models) load only with a model
    import lightgbm as lgb

__all__ = [
    "ModelSelector",
    "RuntimeModel",
    "champion_selector",
    "champion_stamp",
    "describe_actual",
    "describe_forecast",
    "forecast",
    "forecast_fields",
    "load_runtime",
    "load_selector",
    "runtime_model",
    "runtime_model_with_note",
    "version_selector",
]

log = logging.getLogger(__name__)


class ModelSelector:
    """A loaded LightGBM selector; call it with the feature mapping ``solvers.auto`` computes."""

    def __init__(self, booster: lgb.Booster, kind: str, class_order: list[str],
                 feature_names: tuple[str, ...], name: str, version: int | None,
                 trained_until: Any = None, trust: Any = None,
                 min_gain: float = 2.0) -> None:
        self.booster = booster
        self.kind = kind
        self.class_order = list(class_order)
        self.feature_names = feature_names
        self.name = name
        self.version = version
        self.trained_until = trained_until  # end of its training window (datetime or None)
        self._k = len(class_order)
        self._lock = threading.Lock()  # one predict at a time per booster (API threads)
        self.trust = trust  # lgbm_gated: ml.trust.TrustRegion
        self.min_gain = min_gain
        self._index = {c: i for i, c in enumerate(self.class_order)}
        if kind in _REGRESSION_KINDS:
            self._row = np.zeros((self._k, len(feature_names) + 1), dtype=np.float64)
            self._row[:, -1] = np.arange(self._k)
        else:
            self._row = np.zeros((1, len(feature_names)), dtype=np.float64)

    def __repr__(self) -> str:
        return f"ModelSelector({self.name!r}, kind={self.kind!r})"

    def __call__(self, feats: Mapping[str, float]) -> str:
        """The algorithm this model picks for ``feats`` (raises on missing features); on a
        trivial instance (``ml.features.is_trivial``, O(1)) the rules' answer, no model call."""
        if is_trivial(feats):
            return solvers.rules(feats)
        full = feats if "fit_ratio" in feats else extend(feats)
        values = np.fromiter((full.get(f, np.nan) for f in self.feature_names),
                             dtype=np.float64, count=len(self.feature_names))
        row = self._row.copy()
        row[:, : len(values)] = values
        with self._lock:
            pred = self.booster.predict(row, num_threads=1)
        if self.kind == "lgbm_gated":
            from .models import gate

            ruled = self._index.get(solvers.rules(feats), -1)
            seen = self.trust.seen(values.reshape(1, -1))
            return self.class_order[int(gate(pred.reshape(1, -1), np.array([ruled]), seen,
                                             self.min_gain)[0])]
        if self.kind == "lgbm_regression":
            return self.class_order[int(np.argmin(pred))]
        return self.class_order[int(np.argmax(pred[0]))]

    def deviates(self, feats: Mapping[str, float]) -> bool:
        """Whether this model's pick differs from the rules' on ``feats``."""
        return self(feats) != solvers.rules(feats)


    def choose_many(self, X: np.ndarray) -> list[str]:
        """Choices for many feature rows at once (columns in ``feature_names`` order)."""
        with self._lock:
            if self.kind in _REGRESSION_KINDS:
                from .models import LightGBMCostRegressor, gate

                rows = LightGBMCostRegressor.expand(X, self._k)
                pred = self.booster.predict(rows, num_threads=1).reshape(-1, self._k)
                idx = np.argmin(pred, axis=1)
                if self.kind == "lgbm_gated":
                    ruled = np.array([self._index.get(solvers.rules(
                        dict(zip(self.feature_names, row, strict=True))), -1) for row in X])
                    idx = gate(pred, ruled, self.trust.seen(X), self.min_gain)
            else:
                idx = np.argmax(self.booster.predict(X, num_threads=1), axis=1)
        return [self.class_order[int(i)] for i in idx]


_REGRESSION_KINDS = ("lgbm_regression", "lgbm_gated")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def load_selector(info: Mapping[str, Any]) -> ModelSelector | None:
    """A selector from a registry record (plain dict), or None (logged) if it is not usable.

    ``info``: ``name``, ``version``, ``path``, ``sha256``, ``params`` (``kind``),
    ``feature_names``, ``class_order``.
    """
    label = f"model:{info.get('name', DEFAULT_MODEL_NAME)}@v{info.get('version')}"
    path = Path(str(info.get("path") or ""))
    if not path.is_file():
        log.warning("%s refused: model file %s is missing; rules used", label, path)
        return None
    actual = _sha256(path)
    if actual != info.get("sha256"):
        log.warning("%s refused: sha256 of %s is %s, registry says %s (tampered?); rules used",
                    label, path, actual[:12], str(info.get("sha256"))[:12])
        return None
    names = tuple(info.get("feature_names") or ())
    if names not in KNOWN_FEATURE_SETS:
        log.warning("%s refused: its %d features match none of this code's feature sets; "
                    "rules used", label, len(names))
        return None
    classes = list(info.get("class_order") or ())
    bad = [c for c in classes
           if (c not in solvers.ALGORITHMS and c not in solvers.CONFIGURATIONS) or c == "auto"]
    if not classes or bad:
        log.warning("%s refused: unknown algorithms in its classes %s; rules used", label, bad)
        return None
    kind = str((info.get("params") or {}).get("kind", "lgbm_classifier"))
    trust = None
    if kind == "lgbm_gated":
        from .trust import load_trust

        spec = (info.get("params") or {}).get("trust") or {}
        trust = load_trust(str(spec.get("path") or ""), spec.get("sha256"))
        if trust is None:
            log.warning("%s refused: its trust region file is missing or tampered with; "
                        "rules used", label)
            return None
    import lightgbm as lgb

    from .models import CANDIDATE_FEATURE

    try:
        booster = lgb.Booster(model_file=str(path))
    except lgb.basic.LightGBMError as exc:
        log.warning("%s refused: LightGBM cannot parse it (%s); rules used", label, exc)
        return None
    expected = [*names, CANDIDATE_FEATURE] if kind in _REGRESSION_KINDS else list(names)
    if booster.feature_name() != expected:
        log.warning("%s refused: the file's feature names differ from the registry's; "
                    "rules used", label)
        return None
    log.info("%s loaded (%s, %d classes)", label, kind, len(classes))
    min_gain = float(((info.get("params") or {}).get("trust") or {}).get("min_gain", 2.0))
    return ModelSelector(booster, kind, classes, names, label, info.get("version"),
                         info.get("training_window_end"), trust, min_gain)


def champion_selector(database_url: str | None = None, *, name: str = DEFAULT_MODEL_NAME
                      ) -> ModelSelector | None:
    """The champion selector from the registry at ``database_url`` (default: settings), or None.

    Never raises for an unusable model or an unreachable database: it logs why and returns None
    (callers then keep the rules).
    """
    from db.engine import mask_url, resolve_url, session_scope
    from db.model_registry import get_champion, version_info

    try:
        with session_scope(database_url) as session:
            record = get_champion(session=session, name=name)
            info = version_info(record) if record is not None else None
    except Exception as exc:  # unreachable, not migrated, ...: the rules decide
        where = mask_url(resolve_url(database_url))
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log.warning("model selector %r unavailable (%s: %s); rules used", name, where, first)
        return None
    if info is None:
        log.info("no champion for model %r yet; rules used", name)
        return None
    return load_selector(info)


def version_selector(database_url: str | None = None, version: int | None = None, *,
                     name: str = DEFAULT_MODEL_NAME) -> ModelSelector | None:
    """A given version (default: the newest), champion or not, e.g. to try a challenger;
    None (logged) when it does not exist or is not usable."""
    from db.engine import session_scope
    from db.model_registry import list_versions, version_info

    try:
        with session_scope(database_url) as session:
            rows = [r for r in list_versions(session=session, name=name)
                    if version is None or r.version == version]
            info = version_info(rows[0]) if rows else None
    except Exception as exc:  # same contract as champion_selector: log, never raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log.warning("model %r v%s unavailable (%s); rules used", name, version, first)
        return None
    if info is None:
        log.warning("model %r has no version %s; rules used", name, version or "yet")
        return None
    return load_selector(info)


def _registry_champion(database_url: str) -> str | None:
    """`model:<name>@v<n>` of the champion the registry names, or None when there is none."""
    from db.engine import session_scope
    from db.model_registry import get_champion

    name = DEFAULT_MODEL_NAME
    with session_scope(database_url) as session:
        record = get_champion(session=session, name=name)
        return None if record is None else f"model:{record.name}@v{record.version}"


def champion_stamp(database_url: str | None = None, *, name: str = DEFAULT_MODEL_NAME
                   ) -> tuple[int, str] | None:
    """(version, sha256) the ``champion`` alias points at, or None (no champion): one indexed
    query, no model file read, no LightGBM import. A consumer that keeps a loaded champion
    calls this (e.g. every few seconds, or per request) and reloads with
    ``champion_with_note`` only when the stamp changed. Raises what the database raises."""
    from db.engine import session_scope
    from db.model_registry import get_champion

    with session_scope(database_url) as session:
        record = get_champion(session=session, name=name)
        return None if record is None else (int(record.version), str(record.sha256))


def champion_with_note(database_url: str | None = None) -> tuple[ModelSelector | None, str | None]:
    """(selector, note): the loaded champion, or None and, when a champion exists in the
    registry but is not usable (or the registry cannot be read), why the rules are used."""
    chosen: ModelSelector | None = None
    try:
        chosen = champion_selector(database_url)
    except Exception as exc:  # a broken model must not stop a consumer: rules instead
        log.warning("champion selector failed to load (%s): auto uses the rules",
                    type(exc).__name__)
    if chosen is not None:
        return chosen, None
    try:
        champion = _registry_champion(database_url)
    except Exception as exc:  # unreachable or unmigrated database: say so, keep the rules
        log.warning("model registry unreadable (%s): auto uses the rules", type(exc).__name__)
        return None, "champion model unavailable: model registry unreadable (see log); rules used"
    if champion is None:
        return None, None  # no model yet: the rules are the plan, nothing to report
    return None, f"champion {champion} could not be loaded (see log); rules used"


# ------------------------------------------------------------------ the runtime model


def _base(name: str) -> str:
    """The algorithm a configuration name runs (``hybrid[core-large]`` → ``hybrid``)."""
    config = solvers.CONFIGURATIONS.get(name)
    return config.algorithm if config is not None else name


class RuntimeModel:
    """A loaded runtime model: ``predict_seconds(features, algorithm)`` → predicted CPU seconds.

    ``features``: the mapping ``solvers.features`` returns (extended here when needed).
    A configuration the model never saw (``hybrid[core-large]``) is predicted as its algorithm;
    an algorithm it never saw (e.g. a method added after it was trained, or ``auto``) as the
    slowest algorithm it knows on that instance: a safe over-estimate for planning.
    """

    def __init__(self, booster: lgb.Booster, algorithms: list[str], name: str,
                 version: int | None, envelope: Mapping[str, float] | None = None,
                 feature_names: tuple[str, ...] | None = None, trust: Any = None) -> None:
        from .runtime import RUNTIME_FEATURES

        self.booster = booster
        self.feature_names = tuple(feature_names or RUNTIME_FEATURES)
        self.trust = trust  # ml.trust.TrustRegion of its training instances, or None
        self.envelope = dict(envelope or {})  # seconds per unit of work (ml.runtime.work)
        self.algorithms = list(algorithms)
        self.name = name
        self.version = version
        self._index = {a: i for i, a in enumerate(self.algorithms)}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RuntimeModel({self.name!r}, {len(self.algorithms)} algorithms)"

    def _values(self, feats: Mapping[str, float]) -> np.ndarray:
        from .runtime import runtime_vector

        return runtime_vector(feats, self.feature_names)

    def seen(self, feats: Mapping[str, float]) -> bool | None:
        """Is the instance within the trust region of the training instances (None: this
        model has no trust region, e.g. trained before it existed)?"""
        if self.trust is None:
            return None
        return bool(self.trust.seen(self._values(feats).reshape(1, -1))[0])

    def features_of(self, projects: Any, budget: Any) -> dict[str, float]:
        """Everything the model uses: ``solvers.features`` plus the greedy probe (O(n log n)).
        Planners call this once per instance when they have it."""
        from .runtime import probe

        base = solvers.features(projects, budget)
        return {**base, **probe(projects, budget, base)}

    def predict_many(self, feats: Mapping[str, float], algorithms: list[str],
                     time_limits: list[float | None] | None = None) -> list[float]:
        """Predicted seconds of each of ``algorithms`` on one instance (one predict call).

        With the probe in ``feats`` showing greedy misses the budget, and the instance outside
        the model's trust region (``seen``), each prediction is raised to the algorithm's
        worst-case envelope (``ml.runtime``); ``time_limits`` (one per algorithm) cap the
        result and are the envelope of backtracking.
        """
        from .runtime import UNBOUNDED, work

        values = self._values(feats)
        rows = np.zeros((len(self.algorithms), len(values) + 1), dtype=np.float64)
        rows[:, : len(values)] = values
        rows[:, -1] = np.arange(len(self.algorithms))
        with self._lock:
            pred = 10.0 ** self.booster.predict(rows, num_threads=1)
        slowest = float(pred.max())
        limits = time_limits or [None] * len(algorithms)
        # probed, and no early proof by the budget: the worst-case envelope guards against
        # extrapolation, so not inside the trust region (the model has seen such instances)
        hard = feats.get("greedy_hit") == 0.0 and not self.seen(feats)
        out = []
        for a, limit in zip(algorithms, limits, strict=True):
            known = a if a in self._index else _base(a)  # a configuration: its algorithm's
            seconds = float(pred[self._index[known]]) if known in self._index else slowest
            if hard:
                units = work(a, feats)
                if units is not None and a in self.envelope:
                    seconds = max(seconds, self.envelope[a] * units)
                elif (a in UNBOUNDED or _base(a) == "hybrid") and limit is not None:
                    seconds = limit  # no bound but the limit (hybrid falls back to search)
            out.append(min(seconds, limit) if limit is not None else seconds)
        return out

    def predict_seconds(self, features: Mapping[str, float], algorithm: str,
                        time_limit: float | None = None) -> float:
        """Predicted CPU seconds of ``algorithm`` on the instance with ``features`` (capped at
        ``time_limit`` when given)."""
        return self.predict_many(features, [algorithm], [time_limit])[0]

    __call__ = predict_seconds


def load_runtime(info: Mapping[str, Any]) -> RuntimeModel | None:
    """A runtime model from a registry record (plain dict), or None (logged) if not usable."""
    label = f"model:{info.get('name', 'runtime')}@v{info.get('version')}"
    path = Path(str(info.get("path") or ""))
    if not path.is_file():
        log.warning("%s refused: model file %s is missing; planning uses the size proxy",
                    label, path)
        return None
    if _sha256(path) != info.get("sha256"):
        log.warning("%s refused: sha256 of %s differs from the registry's (tampered?); "
                    "planning uses the size proxy", label, path)
        return None
    from .runtime import KNOWN_RUNTIME_FEATURE_SETS

    names = tuple(info.get("feature_names") or ())
    if names not in KNOWN_RUNTIME_FEATURE_SETS:
        log.warning("%s refused: its features do not match this code's; planning uses the "
                    "size proxy", label)
        return None
    import lightgbm as lgb

    try:
        booster = lgb.Booster(model_file=str(path))
    except lgb.basic.LightGBMError as exc:
        log.warning("%s refused: LightGBM cannot parse it (%s)", label, exc)
        return None
    algorithms = list(info.get("class_order") or ())
    if not algorithms:
        log.warning("%s refused: no algorithms recorded", label)
        return None
    envelope = (info.get("params") or {}).get("envelope") or {}
    trust = None
    spec = (info.get("params") or {}).get("trust")
    if spec:
        from .trust import load_trust

        trust = load_trust(str(spec.get("path") or ""), spec.get("sha256"))
        if trust is None:
            log.warning("%s: trust region file missing or tampered with; every forecast says "
                        "unsure", label)
            trust = _NEVER_SEEN
    return RuntimeModel(booster, algorithms, label, info.get("version"), envelope, names,
                        trust)


class _NeverSeen:
    """A trust region that has seen nothing (its file could not be verified)."""

    def seen(self, X: np.ndarray) -> np.ndarray:
        return np.zeros(len(np.atleast_2d(X)), dtype=bool)


_NEVER_SEEN = _NeverSeen()


def runtime_model(database_url: str | None = None, *, name: str | None = None
                  ) -> RuntimeModel | None:
    """The registered runtime model (its ``champion`` alias: the newest trained), or None when
    there is none or it is unusable (logged; never raises): callers then use the size proxy."""
    from db.engine import mask_url, resolve_url, session_scope
    from db.model_registry import get_champion, version_info

    from .runtime import RUNTIME_MODEL_NAME

    name = name or RUNTIME_MODEL_NAME
    try:
        with session_scope(database_url) as session:
            record = get_champion(session=session, name=name)
            info = version_info(record) if record is not None else None
    except Exception as exc:  # unreachable, not migrated: the proxy plans
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log.warning("runtime model unavailable (%s: %s); planning uses the size proxy",
                    mask_url(resolve_url(database_url)), first)
        return None
    if info is None:
        log.info("no runtime model yet; planning uses the size proxy")
        return None
    return load_runtime(info)


# ------------------------------------------------------------------ the forecast

NO_RUNTIME_MODEL = "no runtime model registered; budget train registers one"
SURE_FACTOR = 3.0
""""Expected proven: yes" needs a prediction under 1/SURE_FACTOR of the limit (the model's
error is about 3× on held-out families); between that and the limit the answer is unsure."""
"""Why there is no forecast when the registry has no runtime model."""


def runtime_model_with_note(database_url: str | None = None
                            ) -> tuple[RuntimeModel | None, str | None]:
    """(model, None), or (None, why there is no forecast: one short phrase). Never raises.

    The registry is asked first (one query; a SQLite file that does not exist is not even
    opened, so nothing is created), and only a registered model is loaded: without one, neither
    LightGBM nor scikit-learn is imported (about 1.3 s)."""
    from db.engine import session_scope, sqlite_file_missing
    from db.model_registry import get_champion

    from . import RUNTIME_MODEL_NAME

    if sqlite_file_missing(database_url):
        return None, NO_RUNTIME_MODEL
    try:
        with session_scope(database_url) as session:
            record = get_champion(session=session, name=RUNTIME_MODEL_NAME)
            label = None if record is None else f"model:{record.name}@v{record.version}"
    except Exception as exc:  # unreachable or unmigrated database: no forecast, say why
        log.info("runtime model registry unreadable (%s): no forecast", type(exc).__name__)
        return None, f"model registry unreadable ({type(exc).__name__})"
    if label is None:
        return None, NO_RUNTIME_MODEL
    model: RuntimeModel | None = None
    try:
        model = runtime_model(database_url)
    except Exception as exc:  # a broken model file must not stop a solve
        log.warning("runtime %s failed to load (%s): no forecast", label, type(exc).__name__)
    if model is None:
        return None, f"runtime {label} could not be loaded (see log)"
    return model, None


def forecast(model: RuntimeModel, projects: Any, budget: Any, algorithm: str = "auto",
             time_limit: float | None = None, selector: Any = None,
             limits: solvers.Limits | None = None,
             probe_seconds: float | None = None) -> dict[str, Any]:
    """What ``solvers.solve(projects, budget, algorithm, time_limit, selector=selector,
    limits=limits)`` will do, before it runs: the learned runtime model and the solvers' own
    cost model (``ml.runtime.outlook``), and for an undecided instance a short probe.

    ``predicted_algorithm``: what will run (for ``auto``, what ``solvers.auto.choose`` picks
    with ``selector``, else the default selector or the rules). ``time_limit``: the limit the
    solve gets (the given one, else ``limits.default_time_limit``). ``proven_answer``
    ("yes", "no" or "unsure"; ``expected_proven`` is True only for "yes"), ``basis`` says which
    rule decided:

    - "yes": the instance is trivial (everything fits, or nothing does), or greedy runs and the
      probe features show it hits the budget; or the probe (the predicted algorithm run with
      the limit ``probe_seconds``, default ``ml.runtime.PROBE_SECONDS``, 0 disables; only when
      nothing else decided, never before a structural "no"; the solvers may overrun so small a
      limit, see docs/benchmarks/selector.md) proved it the way the full solve will; or the
      learned model, inside its trust region (``seen``, ``ml.trust``), predicts a proof in
      under 1/``SURE_FACTOR`` of the limit and the solvers' cost model does not rule it out.
    - "no": a heuristic without an exact hit, a size refusal (brute force, dp over the memory
      cap, meet in the middle past its size); a structural "no" (``ml.runtime.structural_no``:
      the solvers' own cost model puts every exact route and backtracking's exhaustive search
      over ``NO_MARGIN`` × the limit, and either no selection is expected to reach the bound
      or hybrid's difference core expects under one hit) where the learned model, if it has
      seen such instances, does not predict a proof; or the learned model inside its trust
      region predicts the limit.
    - "unsure": everything else (outside the trust region with neither the structure nor a
      probe deciding; a prediction within 3× of the limit; the two models disagreeing).

    ``predicted_seconds`` (capped at the limit): the limit for a structural "no"; after a probe's
    proof, its CPU time plus hybrid's heuristic allotments under the full limit; outside the
    trust region, hybrid's plan from the cost model (heuristic allotments plus the planned
    fallback's estimate); else the learned model. ``outlook``: the solvers' view (routes and
    their seconds, ``log10_hits``), ``probe``: the probe's CPU seconds when it ran.
    Raises ``solvers.InvalidInputError`` on bad input, like the solve would.
    """
    from solvers.auto import choose, get_default_selector

    from .runtime import (
        PROBE_SECONDS,
        UNBOUNDED,
        outlook,
        plan_seconds,
        probe_solve,
        structural_no,
        structural_route,
    )

    lim = limits or solvers.DEFAULT_LIMITS
    limit = time_limit if time_limit is not None else lim.default_time_limit
    feats = model.features_of(projects, budget)
    if algorithm == "auto":
        chosen = selector if selector is not None else get_default_selector()
        predicted = choose(feats, chosen, solvers.ALGORITHMS)[0]
    else:
        predicted = algorithm
    learned = model.predict_many(feats, [predicted], [limit])[0]
    seconds = learned
    seen = model.seen(feats)
    view = None
    probe_cpu = None
    budget_probe = PROBE_SECONDS if probe_seconds is None else probe_seconds
    if limit is not None:
        budget_probe = min(budget_probe, limit / 4)
    model_yes = bool(seen) and (limit is None or learned * SURE_FACTOR <= limit)

    def probed() -> tuple[float, str | None] | None:
        nonlocal probe_cpu
        if budget_probe < 1e-3:  # disabled, or a limit too small to learn anything from
            return None
        found = probe_solve(projects, budget, predicted, budget_probe, lim, view)
        probe_cpu = None if found is None else found[0]
        return found

    def after_probe(found: tuple[float, str | None]) -> float:
        cpu, stage = found
        if stage in (None, "heuristic") or view is None:
            return cpu
        return plan_seconds(view, predicted, limit, cpu) or cpu

    answer = None  # "yes" / "no" / "unsure"
    if bool(feats["all_fit"]) or feats["n_fit"] == 0:
        answer, why = "yes", "trivial instance: preprocessing proves it"
    elif predicted not in solvers.EXACT_ALGORITHMS and _base(predicted) != "hybrid":
        hit = feats.get("greedy_hit") == 1.0  # the probe: greedy's total is the budget
        ok = hit and predicted == "greedy"
        answer = "yes" if ok else "no"
        why = ("greedy hits the budget exactly (probe): proven" if ok else
               f"{predicted} is a heuristic and the probe shows no exact hit: not proven")
    elif predicted == "brute_force" and feats["n_fit"] > lim.brute_force_max_n:
        answer, why = "no", f"brute_force refuses more than {lim.brute_force_max_n} items"
    if answer is None:
        view = outlook(projects, budget, predicted, limit, lim)
        if view is not None and view["refused"]:
            answer, why = "no", f"{predicted} refuses this instance (its size or memory cap)"
    if answer is None:
        verdict = structural_no(view, limit)
        if verdict is not None and not model_yes:  # no probe: it could only run to its end
            answer, seconds, why = "no", limit, verdict
        elif verdict is not None:
            answer, why = "unsure", ("the learned model expects a proof, the solvers' cost "
                                     "model sees no route: they disagree")
        elif seen is False:
            found = probed()
            if found is not None:
                answer, seconds = "yes", after_probe(found)
                why = (f"unlike the runtime model's training instances, but a probe proved it "
                       f"in {found[0] * 1e3:.3g} ms")
            else:
                answer, why = "unsure", ("unlike the instances the runtime model was trained "
                                         "on (outside its trust region): no promise either way")
                seconds = _unseen_seconds(view, predicted, limit, learned)
        elif limit is not None and learned >= limit:
            answer = "no"
            why = (f"{predicted} has no bound but the time limit here (greedy misses the budget)"
                   if predicted in UNBOUNDED else "predicted to reach the time limit")
        elif not model_yes:
            found = probed()
            if found is not None:
                answer, seconds = "yes", after_probe(found)
                why = "predicted close to the limit, but a probe proved it"
            else:
                answer, why = "unsure", (f"predicted within {SURE_FACTOR:g}× of the limit: too "
                                         "close to promise")
        elif not structural_route(view, limit):
            answer, why = "unsure", (
                "the learned model expects a quick proof, but the solvers' cost model sees "
                "neither an exact route within the limit nor an expected hit of the bound")
            seconds = _unseen_seconds(view, predicted, limit, learned)
        else:
            answer, why = "yes", f"{predicted} is exact and predicted to finish" + (
                f" well within the limit (under 1/{SURE_FACTOR:g} of it)" if limit is not None
                else "")
    if limit is not None:
        seconds = min(seconds, limit)
    proven = answer == "yes"
    return {"predicted_seconds": seconds, "time_limit": limit, "expected_proven": proven,
            "proven_answer": answer, "seen": seen,
            "predicted_algorithm": predicted, "runtime_model": model.name,
            "runtime_model_version": model.version, "basis": why,
            "learned_seconds": learned, "probe_seconds": probe_cpu,
            "outlook": _outlook_fields(view)}


def _unseen_seconds(view: Mapping[str, Any] | None, predicted: str, limit: float | None,
                    learned: float) -> float:
    """Predicted seconds of an undecided solve outside the trust region, from the solvers' cost
    model rather than the tree model. hybrid's plan (``ml.runtime.plan_seconds``: its heuristic
    allotments plus the planned fallback's estimate) is when it ends if the plan holds; an
    undecided solve may instead run to the limit (no route fits, or the route's estimate is
    wrong: Schroeppel–Shamir's early-hit estimate on two_scale, docs/benchmarks/selector.md).
    Nothing tells which, so the forecast is the geometric mean of the two: within
    sqrt(limit / plan) of either outcome, the smallest worst case in log error. When the plan
    runs a priced exact route (meet in the middle, dp, ...: not backtracking without an
    estimate) the plan itself is the forecast: the route ends the solve. Other algorithms keep
    the learned model's (enveloped) prediction."""
    from .runtime import plan_seconds

    if view is None:
        return learned
    fallback = view["fallback"]
    first = view.get("birthday_seconds")  # the core step's birthday search ends it
    planned = plan_seconds(view, predicted, limit, view["routes"].get(fallback, 0.0)
                           if fallback and first is None else 0.0)
    if planned is None:
        return learned
    priced = (fallback in view["routes"] and fallback != "backtracking") or first is not None
    if limit is not None and 0 < planned < limit and not priced:
        return float(np.sqrt(planned * limit))
    return planned


def _outlook_fields(view: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The JSON-friendly part of the solvers' view (no infinities)."""
    if view is None:
        return None
    return {"routes": dict(view["routes"]), "fallback": view["fallback"],
            "log10_hits": round(float(view["log10_hits"]), 2),
            "log2_selections": round(float(view["log2_selections"]), 2),
            "core_hits": None if view["core_hits"] is None
            else round(max(float(view["core_hits"]), -300.0), 2),
            "birthday_seconds": None if view.get("birthday_seconds") is None
            else round(float(view["birthday_seconds"]), 4)}


def forecast_fields(model: RuntimeModel | None, note: str | None, projects: Any, budget: Any,
                    algorithm: str = "auto", time_limit: float | None = None,
                    selector: Any = None, limits: solvers.Limits | None = None
                    ) -> dict[str, Any]:
    """``{"forecast": forecast(...) or None, "forecast_note": None or why not}``: what the
    solve flow, the API and the CLI report. Never raises but for bad input
    (``solvers.InvalidInputError``, as the solve itself would)."""
    if model is None:
        return {"forecast": None, "forecast_note": note or NO_RUNTIME_MODEL}
    try:
        return {"forecast": forecast(model, projects, budget, algorithm, time_limit, selector,
                                     limits), "forecast_note": None}
    except solvers.InvalidInputError:
        raise
    except Exception as exc:  # a forecast never stops a solve
        log.warning("%s: forecast failed (%s)", model.name, type(exc).__name__)
        return {"forecast": None,
                "forecast_note": f"forecast failed ({type(exc).__name__}; see log)"}


def _seconds(value: float) -> str:
    return f"{value:.3g} s" if value >= 1.0 else f"{value * 1e3:.3g} ms"


def describe_forecast(fc: Mapping[str, Any] | None, note: str | None = None,
                      result: Mapping[str, Any] | None = None) -> str:
    """One line: "predicted 12.3 ms with dp (runtime model v3), expected proven within the 10 s
    limit: yes", then the actual time and status when ``result`` (the solve's) is given."""
    if fc is None:
        text = f"no forecast: {note or NO_RUNTIME_MODEL}"
    else:
        limit = fc.get("time_limit")
        within = f"within the {limit:g} s limit" if limit is not None else "(no time limit)"
        version = fc.get("runtime_model_version")
        text = (f"predicted {_seconds(fc['predicted_seconds'])} with "
                f"{fc['predicted_algorithm']} (runtime model v{version}), expected proven "
                f"{within}: {_answer(fc)}")
    if result is not None and result.get("execution_time") is not None:
        text += f"; actual {describe_actual(result)}"
    return text


def _answer(fc: Mapping[str, Any]) -> str:
    answer = fc.get("proven_answer")
    if answer is None:  # a forecast from before the three-way answer
        return "yes" if fc.get("expected_proven") else "no"
    return str(answer)


def describe_actual(result: Mapping[str, Any]) -> str:
    """What a solve did, in the forecast's terms: "4.1 ms with dp: exact"."""
    return (f"{_seconds(float(result.get('execution_time') or 0.0))} with "
            f"{result.get('algorithm')}: {result.get('status')}")
