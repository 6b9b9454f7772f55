"""Train scikit-learn's MLPRegressor on problems/bumps.csv and write its weights as a cvxnn
network JSON, so that `cvxnn certify` judges it on the objective scikit-learn minimizes.

scikit-learn minimizes (1/(2n)) sum (f - y)^2 + (alpha/(2n)) (|W1|^2 + |W2|^2), biases
unpenalized; times n that is cvxnn's objective with beta = alpha, output_bias = true,
penalize_bias = false. Usage (from the repository root):

    target/pyenv/bin/python benches/python/sklearn_certify.py OUT.json OUT.toml [seed]
    ./target/release/cvxnn certify OUT.toml --network OUT.json
"""
import json
import sys

import numpy as np
from sklearn.neural_network import MLPRegressor

out_net, out_spec = sys.argv[1], sys.argv[2]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
alpha = 0.05
data = np.genfromtxt("problems/bumps.csv", delimiter=",", names=True)
x = np.column_stack([data["x1"], data["x2"]])
y = data["y"]
mean, scale = x.mean(axis=0), x.std(axis=0)  # population standard deviation, as cvxnn
z = (x - mean) / scale
mlp = MLPRegressor(hidden_layer_sizes=(20,), activation="relu", alpha=alpha, solver="lbfgs",
                   max_iter=20000, tol=1e-12, random_state=seed).fit(z, y)
w1, w2 = mlp.coefs_
b1, b2 = mlp.intercepts_
network = {
    "activation": "relu",
    "bias": True,
    "hidden": [list(w1[:, j]) + [float(b1[j])] for j in range(w1.shape[1])],
    "output": [float(w2[j, 0]) for j in range(w2.shape[0])],
    "output_bias": float(b2[0]),
}
json.dump(network, open(out_net, "w"))
spec = f"""name = "bumps_sklearn"
[data]
csv = "{__import__('os').path.abspath('problems/bumps.csv')}"
target = "y"
features = ["x1", "x2"]
standardize = true
[model]
activation = "relu"
beta = {alpha}
output_bias = true
penalize_bias = false
"""
open(out_spec, "w").write(spec)
n = len(y)
# scikit-learn's own objective, times n (its loss_ is the last value L-BFGS evaluated).
f = mlp.predict(z)
own = 0.5 * np.sum((f - y) ** 2) + 0.5 * alpha * (np.sum(w1 ** 2) + np.sum(w2 ** 2))
print(f"scikit-learn: n * loss_ = {n * mlp.loss_:.10f}, recomputed = {own:.10f}, "
      f"iterations {mlp.n_iter_}")
