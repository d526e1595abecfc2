"""LightGBM's predictions on a small fixed data set: what clv-core's boosted trees are checked
against (crates/clv-core/src/learned/gbt.rs, test `equals_lightgbm_on_the_reference_data`).

Settings chosen so the two implementations grow the same trees: every distinct value its own bin
(max_bin 255 > distinct values, min_data_in_bin 1), depth-limited trees with all 2^depth leaves
allowed (leaf-wise growth then makes the same splits as level-wise), no bagging, no column
sampling, no L2 penalty, one thread. Leaves are limited by their Hessian sum (10.5: not a whole number, which for L2 is a row count and would meet LightGBM's 1e-15 head start on one side only), not by rows:
LightGBM checks min_data_in_leaf against a count estimated from Hessians (sum_hessian × rows /
node's sum_hessian), which for Poisson differs from the true count that clv-core checks. (With a
Hessian floor of 4.5, LightGBM also passed over a one-row Tweedie leaf of Hessian 4.86 whose gain
was the node's largest; clv-core took it. Not explained; leaves that small are not what CLV data
gives, and at 10.5 the two agree.) LightGBM keeps gradients in float32, so predictions agree to
~1e-6 relative, not to the last digit.

Run: python3 tests/data/gbt/make_reference.py  (numpy, lightgbm; versions written to reference.json)
"""
import json
import os

import lightgbm as lgb
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261206)
n = 400
x0 = rng.integers(1, 21, n).astype(float)          # purchases-like: 1..20
x1 = np.round(rng.uniform(0, 1, n), 2)             # a share: 0.00..1.00
x2 = rng.integers(0, 6, n).astype(float)           # a small count: 0..5
signal = 0.08 * x0 + 1.2 * (x1 > 0.6) - 0.15 * x2
y_l2 = np.round(signal + rng.normal(0, 0.5, n), 4)
y_poisson = rng.poisson(np.exp(signal - 0.5)).astype(float)
# Compound Poisson–gamma: many exact zeros and a long tail, like revenue.
counts = rng.poisson(np.exp(signal - 1.0))
y_tweedie = np.round(np.array([rng.gamma(2.0, 10.0, c).sum() for c in counts]), 2)

X = np.column_stack([x0, x1, x2])
ROUNDS = 30
common = dict(learning_rate=0.1, max_depth=3, num_leaves=8, min_data_in_leaf=0,
              min_sum_hessian_in_leaf=10.5, lambda_l2=0.0, lambda_l1=0.0, bagging_fraction=1.0,
              feature_fraction=1.0, max_bin=255, min_data_in_bin=1, num_threads=1, deterministic=True,
              force_row_wise=True, boost_from_average=True, verbose=-1)
preds = {}
for name, objective, y, extra in [("l2", "regression", y_l2, {}),
                                  ("poisson", "poisson", y_poisson, {}),
                                  ("tweedie", "tweedie", y_tweedie, {"tweedie_variance_power": 1.5})]:
    model = lgb.train(dict(objective=objective, **common, **extra), lgb.Dataset(X, y), num_boost_round=ROUNDS)
    preds[name] = model.predict(X)

with open(os.path.join(HERE, "reference.csv"), "w") as f:
    f.write("x0,x1,x2,y_l2,y_poisson,y_tweedie,lgb_l2,lgb_poisson,lgb_tweedie\n")
    for i in range(n):
        f.write(f"{x0[i]:g},{x1[i]:g},{x2[i]:g},{float(y_l2[i])!r},{y_poisson[i]:g},{float(y_tweedie[i])!r},"
                f"{float(preds['l2'][i])!r},{float(preds['poisson'][i])!r},{float(preds['tweedie'][i])!r}\n")
with open(os.path.join(HERE, "reference.json"), "w") as f:
    json.dump({"lightgbm": lgb.__version__, "numpy": np.__version__, "rows": n, "rounds": ROUNDS, "settings": common,
               "tweedie_variance_power": 1.5}, f, indent=1)
    f.write("\n")
print("wrote reference.csv, reference.json (lightgbm", lgb.__version__ + ")")
