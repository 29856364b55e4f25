"""How far an instance is from the instances a model learned from (its trust region).

A model trained on some families is wrong in ways nobody can see on a family it never saw. So
the served selector deviates from the rules, and the forecast says "yes" to "expected proven",
only for an instance close to its training data: the Euclidean distance, in standardised
signed-log feature space, to the nearest training row is at most ``radius``. The radius is
the ``RADIUS_QUANTILE`` quantile of every training row's distance to its nearest *other*
training row (leave-one-out), times ``RADIUS_FACTOR``: an instance as close to the data as
the data is to itself is "seen". The constants were chosen by measurement (benchmarks/
bench_selector_cycle.py data): with quantile 0.8 and factor 1.0, 100 % of a user's future
instances are inside and most held-out generated families are outside (0.95 × 1.5 let 5 of 9
held-out families in almost whole). Nearest-neighbour distances grow with the dimension and
shrink with the rows, so with few rows the radius is wide; a second test therefore needs every
feature inside the training range, widened by ``BOX_MARGIN`` standard deviations (no
extrapolation: 60 items when the model saw at most 30 is not "seen").

Pure NumPy; O(reference rows × features) per query (a few hundred microseconds for 2,000
rows). Saved as a ``.npz`` named by content hash, its sha256 recorded with the model.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["RADIUS_FACTOR", "RADIUS_QUANTILE", "TrustRegion", "fit_trust", "load_trust"]

RADIUS_QUANTILE = 0.8
RADIUS_FACTOR = 1.0
BOX_MARGIN = 0.25
MAX_REFERENCE = 3000


def _signed_log(x: np.ndarray) -> np.ndarray:
    x = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0, posinf=1e300, neginf=-1e300)
    return np.sign(x) * np.log1p(np.abs(x))


@dataclass
class TrustRegion:
    """Reference rows (standardised), the scaling, and the radius."""

    center: np.ndarray
    scale: np.ndarray
    reference: np.ndarray
    radius: float
    low: np.ndarray | None = None  # per-feature box (standardised), widened by BOX_MARGIN
    high: np.ndarray | None = None

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (_signed_log(np.atleast_2d(X)) - self.center) / self.scale

    def distance(self, X: np.ndarray) -> np.ndarray:
        """Distance of each row of ``X`` to its nearest reference row."""
        Z = self.transform(X)
        out = np.empty(len(Z))
        for start in range(0, len(Z), 256):
            block = Z[start:start + 256]
            d2 = ((block[:, None, :] - self.reference[None, :, :]) ** 2).sum(axis=2)
            out[start:start + 256] = np.sqrt(d2.min(axis=1))
        return out

    def inside(self, X: np.ndarray) -> np.ndarray:
        """True where every feature of a row lies in the (widened) training range."""
        if self.low is None or self.high is None:
            return np.ones(len(np.atleast_2d(X)), dtype=bool)
        Z = self.transform(X)
        return np.all((self.low <= Z) & (self.high >= Z), axis=1)

    def seen(self, X: np.ndarray) -> np.ndarray:
        """True where a row is inside the training range and within the radius of a row."""
        return self.inside(X) & (self.distance(X) <= self.radius)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        box = {} if self.low is None else {"low": self.low, "high": self.high}
        np.savez(buf, center=self.center, scale=self.scale, reference=self.reference,
                 radius=np.array([self.radius]), **box)
        return buf.getvalue()

    def save(self, directory: str | Path, prefix: str) -> tuple[Path, str]:
        """Write ``<prefix>-<sha12>.npz`` atomically; (path, sha256)."""
        data = self.to_bytes()
        sha = hashlib.sha256(data).hexdigest()
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{prefix}-{sha[:12]}.npz"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path, sha


def fit_trust(X: np.ndarray, seed: int = 0) -> TrustRegion:
    """The trust region of the training rows ``X`` (at most ``MAX_REFERENCE`` kept, drawn
    deterministically)."""
    S = _signed_log(X)
    if len(S) > MAX_REFERENCE:
        S = S[np.sort(np.random.default_rng(seed).choice(len(S), MAX_REFERENCE, False))]
    center = S.mean(axis=0) if len(S) else np.zeros(X.shape[1])
    scale = S.std(axis=0) if len(S) else np.ones(X.shape[1])
    scale = np.where(scale > 1e-9, scale, 1.0)
    Z = (S - center) / scale
    if len(Z) < 2:
        return TrustRegion(center, scale, Z, 0.0)
    nearest = np.empty(len(Z))
    for start in range(0, len(Z), 256):
        block = Z[start:start + 256]
        d2 = ((block[:, None, :] - Z[None, :, :]) ** 2).sum(axis=2)
        idx = np.arange(start, start + len(block))
        d2[np.arange(len(block)), idx] = np.inf
        nearest[start:start + 256] = np.sqrt(d2.min(axis=1))
    radius = float(np.quantile(nearest, RADIUS_QUANTILE) * RADIUS_FACTOR)
    return TrustRegion(center, scale, Z, radius, Z.min(axis=0) - BOX_MARGIN,
                       Z.max(axis=0) + BOX_MARGIN)


def load_trust(path: str | Path, sha256: str | None) -> TrustRegion | None:
    """The trust region saved at ``path`` if its sha256 matches (else None)."""
    file = Path(path)
    if not file.is_file():
        return None
    data = file.read_bytes()
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        return None
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        box = (z["low"], z["high"]) if "low" in z.files else (None, None)
        return TrustRegion(z["center"], z["scale"], z["reference"], float(z["radius"][0]),
                           *box)
