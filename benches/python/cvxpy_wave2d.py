#!/usr/bin/env python3
"""Python-stack baseline for cvxnn: the exact convex program of a two-layer ReLU network
(Pilanci & Ergen 2020) over *all* hyperplane-arrangement patterns, built with CVXPY and solved
by Clarabel at tolerance 1e-8.

    python benches/python/cvxpy_wave2d.py ../shared/bench/wave2d_n40.toml

Spec: a cvxnn TOML file with `[data] x` (n rows) and `y` (n numbers), `[model] activation = "relu"`,
`loss = "squared"`, `beta`, `bias`. After the optional ones column the data must have rank
d = 3 (2-D inputs with bias, as in ../shared/bench/wave2d_nN.toml).

Patterns: every full-dimensional cell of the central arrangement {g in R^3 : x_k^T g = 0}, found
exactly in integer arithmetic (the TOML decimals are read as exact decimals and scaled to
integers). Every cell of an essential central arrangement in R^3 is a pointed cone, so it has a
ray of the arrangement on its boundary: the rays are g0 = +-(x_k x x_l); around a ray where only
lines k and l meet, the four cells have the signs of X g0 off {k, l} and all four sign
combinations on {k, l}; where several lines meet (degenerate data) the cells around g0 are read
off the edges g0 + t (g0 x x_i). The all-zero pattern is dropped.

Program (n samples, P patterns D_i = diag(1[X g_i >= 0])):

    minimize   1/2 || sum_i D_i X (v_i - w_i) - y ||^2 + beta sum_i (||v_i||_2 + ||w_i||_2)
    subject to (2 D_i - I) X v_i >= 0,  (2 D_i - I) X w_i >= 0      (i = 1..P, all rows)

Printed: problem, patterns, optimum (9 significant digits), the time split (imports, pattern
enumeration, CVXPY model build, CVXPY compile = `Problem.compilation_time`, Clarabel solve =
`solver_stats.solve_time`, the rest of `Problem.solve`: data hand-off to the solver, solver
set-up outside its timer, unpacking) and the wall time from the first line of this script.
"""

import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import decimal  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import tomllib  # noqa: E402

import numpy as np  # noqa: E402
import cvxpy as cp  # noqa: E402

T_IMPORTED = time.perf_counter()

# Reference figures from ../shared/README.md (exact patterns, exact optimum).
REFERENCE = {
    "wave2d_n40": (1561, 0.191387496),
    "wave2d_n60": (3541, 0.227004683),
    "wave2d_n100": (9901, 0.307289574),
    "wave2d_n200": (39801, None),
}


def fail(msg, code=2):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(code)


# --------------------------------------------------------------------------------------------
# Spec


def read_spec(path):
    with open(path, "rb") as f:
        spec = tomllib.load(f, parse_float=decimal.Decimal)
    data = spec.get("data", {})
    model = spec.get("model", {})
    if "x" not in data or "y" not in data:
        fail(f"{path}: [data] x and y are required (csv specs are not supported here)")
    x = [[decimal.Decimal(v) for v in row] for row in data["x"]]
    y = [decimal.Decimal(v) for v in data["y"]]
    if len(x) != len(y) or not x:
        fail(f"{path}: [data] x has {len(x)} rows, y has {len(y)} values")
    if any(len(r) != len(x[0]) for r in x):
        fail(f"{path}: [data] x rows differ in length")
    for key, want in (("activation", "relu"), ("loss", "squared")):
        if model.get(key, want) != want:
            fail(f"{path}: [model] {key} = {model.get(key)!r}; only {want!r} is supported")
    if "beta" not in model:
        fail(f"{path}: [model] beta is required")
    bias = bool(model.get("bias", False))
    if bias:
        x = [r + [decimal.Decimal(1)] for r in x]
    method = spec.get("arrangements", {}).get("method", "exact")
    if method != "exact":
        print(f"note: spec asks for method = {method!r}; this script always uses exact patterns")
    return {
        "name": spec.get("name", path.rsplit("/", 1)[-1].removesuffix(".toml")),
        "x": x,
        "y": y,
        "beta": float(model["beta"]),
        "bias": bias,
    }


def integer_rows(x):
    """Scale the exact decimal rows to integer rows (a positive scale keeps every sign)."""
    exp = min(min(v.as_tuple().exponent for v in row) for row in x)
    scale = decimal.Decimal(10) ** (-min(exp, 0))
    return [[int(v * scale) for v in row] for row in x]


# --------------------------------------------------------------------------------------------
# Exact enumeration of the arrangement's cells (rank-3 data)


def cross(a, b):
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def degenerate_ray_cells(xi, g0, out):
    """Cells around the ray g0 where several lines meet: every such cell has an edge
    g0 + t r, r = +-(g0 x x_i), of some line i through g0 on its boundary."""
    s0 = [dot(r, g0) for r in xi]
    through = [j for j, s in enumerate(s0) if s == 0]
    base = [1 if s > 0 else 0 for s in s0]
    for i in through:
        r = cross(g0, xi[i])
        for sign in (1, -1):
            pat = list(base)
            for j in through:
                if j != i:
                    s = sign * dot(xi[j], r)
                    if s == 0:  # only for duplicate rows, removed before
                        raise AssertionError("duplicate rows reached the enumerator")
                    pat[j] = 1 if s > 0 else 0
            for side in (0, 1):
                pat[i] = side
                out.add(bytes(pat))


def enumerate_patterns(xi_list, chunk=2_000_000):
    """All sign patterns 1[X g > 0] of the full-dimensional cells, exact. Returns
    (patterns as an (m, P) uint8 array over the distinct rows, number of degenerate rays)."""
    m = len(xi_list)
    if m < 3:
        fail("fewer than 3 distinct rows: the arrangement is not essential in R^3")
    big = max(abs(v) for row in xi_list for v in row)
    # |x . (a x b)| <= 6 big^3: int64 is exact below 2^63.
    exact_int64 = 6 * big**3 < 2**62
    X = np.array(xi_list, dtype=np.int64 if exact_int64 else object)
    kk, ll = np.triu_indices(m, k=1)
    found = set()
    degenerate = []
    step = max(1, chunk // m)
    for lo in range(0, len(kk), step):
        k, l = kk[lo : lo + step], ll[lo : lo + step]
        G = np.cross(X[k], X[l])  # (p, 3) rays of the arrangement, exact
        S = G @ X.T  # (p, m) exact signs of x_j . g0
        zero = S == 0
        nz = zero.sum(axis=1)
        if np.any(nz < 2):
            fail("internal: x_k . (x_k x x_l) != 0")
        simple = nz == 2
        if not np.all(simple):
            degenerate.extend(G[~simple].tolist())
        pos = (S[simple] > 0).astype(np.uint8)
        k, l = k[simple], l[simple]
        rows = np.arange(len(k))
        for sk, sl in ((0, 0), (0, 1), (1, 0), (1, 1)):
            for flip in (False, True):  # the ray g0 and the ray -g0
                P = 1 - pos if flip else pos.copy()
                P[rows, k] = sk
                P[rows, l] = sl
                found.update(map(bytes, P))
    if degenerate:
        if np.linalg.matrix_rank(np.array(xi_list, dtype=float)) < 3:
            fail("the data have rank < 3: not supported")
        for g in degenerate:
            g = [int(v) for v in g]
            degenerate_ray_cells(xi_list, g, found)
            degenerate_ray_cells(xi_list, [-v for v in g], found)
    found.discard(bytes(m))  # the all-zero pattern
    pats = np.frombuffer(b"".join(sorted(found)), dtype=np.uint8).reshape(-1, m)
    return pats.T.copy(), len(degenerate)


def sampled_check(xf, D, samples, seed=0):
    """Every pattern of random Gaussian gates must be in the exact set (floating-point signs;
    gates within 1e-9 of a line are skipped)."""
    rng = np.random.default_rng(seed)
    known = set(map(bytes, D.T))
    missing = 0
    for lo in range(0, samples, 100_000):
        G = rng.standard_normal((xf.shape[1], min(100_000, samples - lo)))
        S = xf @ G
        ok = np.all(np.abs(S) > 1e-9 * np.linalg.norm(xf, axis=1)[:, None], axis=0)
        for p in map(bytes, (S[:, ok] > 0).astype(np.uint8).T):
            if p not in known and any(p):
                missing += 1
    return missing


# --------------------------------------------------------------------------------------------
# Program


def build_problem(X, y, D, beta):
    n, d = X.shape
    P = D.shape[1]
    V = cp.Variable((d, P), name="v")
    W = cp.Variable((d, P), name="w")
    Df = D.astype(float)
    S = 2.0 * Df - 1.0
    f = cp.sum(cp.multiply(Df, X @ (V - W)), axis=1)
    objective = 0.5 * cp.sum_squares(f - y) + beta * (
        cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(W, 2, axis=0))
    )
    constraints = [cp.multiply(S, X @ V) >= 0, cp.multiply(S, X @ W) >= 0]
    return cp.Problem(cp.Minimize(objective), constraints), V, W


def objective_from(X, y, D, beta, V, W):
    f = np.sum(D * (X @ (V - W)), axis=1)
    return 0.5 * float(np.sum((f - y) ** 2)) + beta * float(
        np.linalg.norm(V, axis=0).sum() + np.linalg.norm(W, axis=0).sum()
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("spec", help="cvxnn TOML spec, e.g. ../shared/bench/wave2d_n40.toml")
    ap.add_argument("--tol", type=float, default=1e-8, help="Clarabel tol_gap_abs/rel, tol_feas")
    ap.add_argument("--solver", default="CLARABEL", help="CVXPY solver name (default CLARABEL)")
    ap.add_argument("--check-samples", type=int, default=0, metavar="N",
                    help="also check that N random gates give no pattern outside the exact set")
    ap.add_argument("--enumerate-only", action="store_true", help="stop after the patterns")
    ap.add_argument("--json", action="store_true", help="also print one JSON line at the end")
    ap.add_argument("--verbose", action="store_true", help="solver output")
    args = ap.parse_args()

    t0 = time.perf_counter()
    spec = read_spec(args.spec)
    xi = integer_rows(spec["x"])
    X = np.array([[float(v) for v in r] for r in spec["x"]])
    y = np.array([float(v) for v in spec["y"]])
    n, d = X.shape
    if d != 3:
        fail(f"the data have d = {d} columns (with bias); this script enumerates d = 3 only")
    # Identical rows share every sign: enumerate over the distinct rows, then expand.
    distinct, index = {}, []
    for r in xi:
        index.append(distinct.setdefault(tuple(r), len(distinct)))
    t_read = time.perf_counter() - t0

    t0 = time.perf_counter()
    Dm, n_degenerate = enumerate_patterns([list(r) for r in distinct])
    D = Dm[np.array(index)]  # (n, P)
    t_enum = time.perf_counter() - t0
    P = D.shape[1]
    m = len(distinct)
    general = n_degenerate == 0 and m == n
    formula = 2 * sum(math.comb(m - 1, k) for k in range(3)) - 1

    print(f"problem        {spec['name']}  (n = {n}, d = {d}, beta = {spec['beta']}, "
          f"bias = {spec['bias']})")
    print(f"patterns       {P}  (exact, all-zero dropped; "
          + (f"general position: 2*sum_(k<3) C(n-1,k) - 1 = {formula}"
             if general else f"{n_degenerate} rays with 3+ lines, {n - m} duplicate rows")
          + ")")
    ref = REFERENCE.get(spec["name"])
    if general and P != formula:
        fail(f"pattern count {P} != {formula} for data in general position", 1)
    if ref and ref[0] != P:
        fail(f"pattern count {P} != reference {ref[0]}", 1)
    if args.check_samples:
        t1 = time.perf_counter()
        missing = sampled_check(X, D, args.check_samples)
        print(f"sampled check  {args.check_samples} random gates, {missing} patterns outside the "
              f"exact set ({time.perf_counter() - t1:.2f} s, not in the times below)")
        if missing:
            fail("sampled gates found patterns the enumeration missed", 1)
    if args.enumerate_only:
        return

    t0 = time.perf_counter()
    prob, V, W = build_problem(X, y, D, spec["beta"])
    t_build = time.perf_counter() - t0

    opts = {}
    if args.solver.upper() == "CLARABEL":
        opts = dict(tol_gap_abs=args.tol, tol_gap_rel=args.tol, tol_feas=args.tol)
    elif args.solver.upper() == "ECOS":
        opts = dict(abstol=args.tol, reltol=args.tol, feastol=args.tol)
    t0 = time.perf_counter()
    prob.solve(solver=args.solver.upper(), verbose=args.verbose, **opts)
    t_solve_call = time.perf_counter() - t0
    t_compile = prob.compilation_time
    t_solver = prob.solver_stats.solve_time
    if t_solver is None:
        t_solver = float("nan")
    t_rest = t_solve_call - t_compile - t_solver
    t_total = time.perf_counter() - T_START

    if prob.status not in ("optimal", "optimal_inaccurate"):
        print(f"status         {prob.status}")
        sys.exit(1)
    Vv, Wv = V.value, W.value
    recomputed = objective_from(X, y, D.astype(float), spec["beta"], Vv, Wv)
    Sg = 2.0 * D - 1.0
    viol = max(0.0, -float(np.min(Sg * (X @ Vv))), -float(np.min(Sg * (X @ Wv))))
    active = int(np.sum(np.linalg.norm(Vv, axis=0) > 1e-6) + np.sum(np.linalg.norm(Wv, axis=0) > 1e-6))

    print(f"status         {prob.status}  ({args.solver.upper()}, tol {args.tol:g}, "
          f"{prob.solver_stats.num_iters} iterations)")
    print(f"optimum        {prob.value:.9g}  (recomputed from v, w: {recomputed:.9g}; "
          f"max constraint violation {viol:.1e}; {active} of {2 * P} neurons > 1e-6)")
    if ref and ref[1] is not None:
        same = f"{prob.value:.9g}" == f"{ref[1]:.9g}"
        print(f"reference      {ref[1]:.9g}  (../shared/README.md): "
              + ("agrees to 9 digits" if same else
                 f"differs by {prob.value - ref[1]:+.2e} (relative "
                 f"{(prob.value - ref[1]) / ref[1]:+.1e}; both are tolerance-1e-8 figures)"))
    print("times s        imports {:.3f} | read {:.3f} | enumerate {:.3f} | build {:.3f} | "
          "compile {:.3f} | solve ({}) {:.3f} | rest of solve() {:.3f}".format(
              T_IMPORTED - T_START, t_read, t_enum, t_build, t_compile,
              args.solver.capitalize(), t_solver, t_rest))
    print(f"total s        {t_total:.3f}  (wall, from the script's first line; add the "
          "interpreter start-up for the whole process)")
    if args.json:
        print(json.dumps({
            "problem": spec["name"], "n": n, "d": d, "patterns": P, "status": prob.status,
            "solver": args.solver.upper(), "tol": args.tol, "iterations": prob.solver_stats.num_iters,
            "objective": prob.value, "objective_recomputed": recomputed,
            "max_violation": viol, "imports_s": T_IMPORTED - T_START, "read_s": t_read,
            "enumerate_s": t_enum, "build_s": t_build, "compile_s": t_compile,
            "solve_s": t_solver, "rest_s": t_rest, "total_s": t_total,
        }))


if __name__ == "__main__":
    main()
