"""SciPy side of bench/stats.ts: times L-BFGS-B with an analytic gradient on the raw
comparisons (Bradley-Terry and Thurstone), and spearmanr / kendalltau, on the data the
Node side wrote to DIR. Prints one JSON object {task: seconds}; writes the scores to
DIR/scipy-<task>.f64. Usage: /usr/bin/python3 bench/_stats_scipy.py DIR"""
import json
import sys
import time

import numpy as np
from scipy import optimize, special, stats

folder = sys.argv[1]
meta = json.load(open(f"{folder}/meta.json"))
out = {}


def fit(name, n, a, b, y, link):
    def f(s):
        d = s[a] - s[b]
        if link == "logistic":
            ll = -np.sum(y * np.logaddexp(0, -d) + (1 - y) * np.logaddexp(0, d))
            gk = y - special.expit(d)
        else:
            lp, lq = special.log_ndtr(d), special.log_ndtr(-d)
            ll = np.sum(y * lp + (1 - y) * lq)
            logpdf = -0.5 * d * d - 0.5 * np.log(2 * np.pi)
            gk = y * np.exp(logpdf - lp) - (1 - y) * np.exp(logpdf - lq)
        g = np.bincount(a, gk, n) - np.bincount(b, gk, n)
        return -ll, -g

    t = time.perf_counter()
    res = optimize.minimize(f, np.zeros(n), jac=True, method="L-BFGS-B", options=meta["lbfgs"])
    out[name] = time.perf_counter() - t
    s = res.x - res.x.mean()
    s.astype(np.float64).tofile(f"{folder}/scipy-{name}.f64")


for task in meta["fits"]:
    a = np.fromfile(f"{folder}/{task['data']}.a.i32", dtype=np.int32)
    b = np.fromfile(f"{folder}/{task['data']}.b.i32", dtype=np.int32)
    y = np.fromfile(f"{folder}/{task['data']}.y.f64", dtype=np.float64)
    fit(task["name"], task["n"], a, b, y, task["link"])

x = np.fromfile(f"{folder}/corr.x.f64", dtype=np.float64)
y = np.fromfile(f"{folder}/corr.y.f64", dtype=np.float64)
t = time.perf_counter()
stats.spearmanr(x, y)
out["srcc"] = time.perf_counter() - t
t = time.perf_counter()
stats.kendalltau(x, y)
out["krcc"] = time.perf_counter() - t
print(json.dumps(out))
