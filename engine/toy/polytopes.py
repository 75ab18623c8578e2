"""Which features sit in a polytope, verified from the geometry of W (pure numpy).

A feature dimensionality near 2/3 does not make a triangle: near-dense models put many features at
values like that while overlapping everything. Elhage et al. 2022 read the sticky fractions as
uniform polytopes in mutually orthogonal subspaces (tegum products). So a feature counts as being in
a polytope only when its group says so:

* group: features linked by |cos| > ``link`` (connected components among represented features);
* the group spans d dimensions (singular values of its rows) and has k members;
* equal norms (max/min <= 1 + ``norm_tol``);
* isolated: no member's direction picks up more than ``cross_tol`` of any feature outside the group;
* a tight frame: every member's D_i is within ``dim_tol`` of d/k (the sticky value);
* uniform: every member sees the same sorted cosines to the others, within ``cos_tol``, and where the
  (k, d) shape has a name (triangle, pentagon, ...) those cosines are the named polytope's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from jaxtyping import Float

from engine.toy import measure


def _polygon(k: int) -> np.ndarray:
    a = 2 * np.pi * np.arange(k) / k
    return np.stack([np.cos(a), np.sin(a)], -1)


def _simplex(d: int) -> np.ndarray:
    """d + 1 unit vectors in d dimensions with pairwise cosine -1/d."""
    E = np.eye(d + 1) - 1.0 / (d + 1)
    U, s, _ = np.linalg.svd(E)
    V = U[:, :d] * s[:d]
    return V / np.linalg.norm(V, axis=1, keepdims=True)


def _square_antiprism() -> np.ndarray:
    """Two squares 45 degrees apart at heights +-sqrt(1/3): the tight frame of 8 unit vectors in 3 dimensions."""
    h, r = np.sqrt(1 / 3), np.sqrt(2 / 3)
    a = np.pi / 2 * np.arange(4)
    top = np.stack([r * np.cos(a), r * np.sin(a), np.full(4, h)], -1)
    bottom = np.stack([r * np.cos(a + np.pi / 4), r * np.sin(a + np.pi / 4), np.full(4, -h)], -1)
    return np.concatenate([top, bottom])


# (members, dimensions) -> (name, canonical unit vectors). D_i = dimensions / members for each.
NAMED_SHAPES: dict[tuple[int, int], tuple[str, np.ndarray]] = {
    (1, 1): ("own dimension", np.ones((1, 1))),
    (2, 1): ("antipodal pair", np.array([[1.0], [-1.0]])),
    (3, 2): ("triangle", _polygon(3)),
    (4, 3): ("tetrahedron", _simplex(3)),
    (5, 2): ("pentagon", _polygon(5)),
    (8, 3): ("square antiprism", _square_antiprism()),
}


@dataclass(frozen=True)
class PolytopeCriteria:
    """Tolerances of the verification; the defaults accept trained polytopes and reject near-dense tangles."""

    represented: float = 0.5   # ||W_i|| above this: a represented feature
    link: float = 0.1          # |cos| above this puts two features in one group
    rank_tol: float = 0.1      # a singular value above rank_tol * the largest counts as a spanned dimension
    norm_tol: float = 0.15
    cross_tol: float = 0.1
    dim_tol: float = 0.03
    cos_tol: float = 0.1


@dataclass(frozen=True)
class Group:
    """One connected group of represented features in one model, and what the checks found."""

    members: tuple[int, ...]
    dims: int
    verified: bool
    name: str          # the polytope's name, "k evenly in d dims" for a verified unnamed shape, "" if not verified
    reason: str        # the first failed check, "" when verified

    @property
    def value(self) -> float:
        return self.dims / len(self.members)


def _row_signatures(cos: np.ndarray) -> np.ndarray:
    """Each member's cosines to the others, sorted: [k, k - 1]."""
    k = len(cos)
    return np.sort(cos[~np.eye(k, dtype=bool)].reshape(k, k - 1), axis=1)


def _groups(cos: np.ndarray, kept: np.ndarray, link: float) -> list[np.ndarray]:
    idx = np.flatnonzero(kept)
    label = -np.ones(len(cos), dtype=int)
    out = []
    for start in idx:
        if label[start] >= 0:
            continue
        label[start], stack, members = len(out), [start], []
        while stack:
            i = stack.pop()
            members.append(i)
            for j in idx[(np.abs(cos[i, idx]) > link) & (label[idx] < 0)]:
                label[j] = len(out)
                stack.append(j)
        out.append(np.sort(members))
    return out


def classify_model(W: Float[np.ndarray, "features hidden"], criteria: PolytopeCriteria = PolytopeCriteria()
                   ) -> list[Group]:
    """Split one model's represented features into groups and verify each as a polytope."""
    W = np.asarray(W, dtype=float)
    norms = np.linalg.norm(W, axis=-1)
    cos = measure.cosine_similarity(W[None])[0]
    D = measure.feature_dimensionality(W[None])[0]
    unit = W / np.maximum(norms, 1e-12)[:, None]
    groups = []
    for members in _groups(cos, norms > criteria.represented, criteria.link):
        k = len(members)
        sv = np.linalg.svd(W[members], compute_uv=False)
        d = int((sv > criteria.rank_tol * sv[0]).sum())
        outside = np.setdiff1d(np.arange(len(W)), members)
        cross = float(np.abs(unit[members] @ W[outside].T).max()) if len(outside) else 0.0
        sig = _row_signatures(cos[np.ix_(members, members)]) if k > 1 else np.zeros((1, 0))
        named = NAMED_SHAPES.get((k, d))
        reason = ""
        if norms[members].max() > (1 + criteria.norm_tol) * norms[members].min():
            reason = "unequal norms"
        elif cross > criteria.cross_tol:
            reason = f"overlaps features outside the group ({cross:.2f})"
        elif np.abs(D[members] - d / k).max() > criteria.dim_tol:
            reason = "not a tight frame (D_i differ from d/k)"
        elif k > 1 and np.abs(sig - sig.mean(0)).max() > criteria.cos_tol:
            reason = "members see different angles (not uniform)"
        elif named is not None and k > 1:
            canonical = _row_signatures(named[1] @ named[1].T)
            if np.abs(sig - canonical).max() > criteria.cos_tol:
                reason = f"cosines are not a {named[0]}'s"
        name = "" if reason else (named[0] if named else f"{k} evenly in {d} dims")
        groups.append(Group(tuple(int(i) for i in members), d, not reason, name, reason))
    return groups


@dataclass(frozen=True)
class PolytopeMembership:
    """Per feature of every model: the verified polytope it sits in (value = d/k, name), or none."""

    verified: np.ndarray    # bool [instances, features]
    value: np.ndarray       # float [instances, features], d/k of the verified group, nan otherwise
    name: np.ndarray        # str [instances, features], "" when not in a verified polytope

    def counts(self) -> dict[tuple[float, str], int]:
        """Verified members per (value, name), largest value first."""
        keys = sorted({(round(float(v), 6), str(n)) for v, n in zip(self.value[self.verified], self.name[self.verified])},
                      reverse=True)
        return {key: int(((np.abs(self.value - key[0]) < 1e-6) & (self.name == key[1])).sum()) for key in keys}


def classify(W: Float[np.ndarray, "instances features hidden"], criteria: PolytopeCriteria = PolytopeCriteria()
             ) -> PolytopeMembership:
    """:func:`classify_model` on every instance, as per-feature arrays."""
    K, n = W.shape[:2]
    verified = np.zeros((K, n), dtype=bool)
    value = np.full((K, n), np.nan)
    name = np.full((K, n), "", dtype=object)
    for k in range(K):
        for g in classify_model(W[k], criteria):
            if g.verified:
                idx = list(g.members)
                verified[k, idx], value[k, idx], name[k, idx] = True, g.value, g.name
    return PolytopeMembership(verified, value, name.astype(str))


def window_fraction(values: np.ndarray, centres: np.ndarray, tolerance: float) -> tuple[float, float]:
    """(observed, chance): the share of ``values`` within ``tolerance`` of a centre, and the share a uniform spread
    over the values' own range [min, max] would put in those windows (their covered length / the range)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return float("nan"), float("nan")
    observed = float((np.abs(values[:, None] - np.asarray(centres)[None]) < tolerance).any(-1).mean())
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-12:
        return observed, float(observed)
    covered, reach = 0.0, lo
    for c in np.sort(np.asarray(centres, dtype=float)):
        a, b = max(c - tolerance, reach), min(c + tolerance, hi)
        if b > a:
            covered, reach = covered + b - a, b
    return observed, covered / (hi - lo)
