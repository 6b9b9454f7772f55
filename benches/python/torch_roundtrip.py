"""The PyTorch round trips of docs/certificate.md, run for real.

1. PyTorch -> JSON -> certify: the example of "Exporting a PyTorch network" (Adam on cvxnn's
   exact objective), its network written as JSON; cvxnn's objective of those weights must equal
   PyTorch's.
2. PyTorch -> safetensors -> certify: the same model saved with safetensors.torch.save_file.
3. cvxnn -> safetensors -> PyTorch: `cvxnn train --format safetensors` loaded into an
   nn.Sequential with load_state_dict, as in "cvxnn -> safetensors -> PyTorch"; its predictions
   must equal `cvxnn predict`'s.

Usage (from the repository root, a venv with torch, numpy and safetensors):
    python benches/python/torch_roundtrip.py WORKDIR [path/to/cvxnn]
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
from torch import nn
from safetensors import safe_open
from safetensors.torch import load_file, save_file

work = sys.argv[1]
cvxnn = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "target/release/cvxnn")
os.makedirs(work, exist_ok=True)
os.chdir(work)


def run(*args):
    out = subprocess.run([cvxnn, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"cvxnn {' '.join(args)} failed: {out.stderr}")
    return out.stdout


# 1. PyTorch -> JSON -> certify (the documented example, verbatim apart from the step count).
rng = np.random.default_rng(0)
n, d0, m, beta = 40, 2, 50, 0.02
X = rng.standard_normal((n, d0))
y = np.sin(1.5 * X[:, 0]) * np.cos(X[:, 1])
np.savetxt("data.csv", np.column_stack([X, y]), delimiter=",",
           header="x1,x2,y", comments="", fmt="%.17g")
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(d0, m), nn.ReLU(), nn.Linear(m, 1, bias=False)).double()
Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(20000):
    opt.zero_grad()
    f = model(Xt).squeeze(1)
    objective = 0.5 * ((f - yt) ** 2).sum() \
        + 0.5 * beta * sum((p ** 2).sum() for p in model.parameters())
    objective.backward()
    opt.step()
with torch.no_grad():
    f = model(Xt).squeeze(1)
    torch_objective = float(0.5 * ((f - yt) ** 2).sum()
                            + 0.5 * beta * sum((p ** 2).sum() for p in model.parameters()))
W1 = model[0].weight.detach().numpy()
b1 = model[0].bias.detach().numpy()
W2 = model[2].weight.detach().numpy()
net = {"activation": "relu", "bias": True,
       "hidden": [[float(v) for v in W1[j]] + [float(b1[j])] for j in range(m)],
       "output": [float(v) for v in W2[0]]}
json.dump(net, open("net.json", "w"))
open("spec.toml", "w").write('name = "torch-example"\n[data]\ncsv = "data.csv"\n'
                             '[model]\nbeta = 0.02\n[arrangements]\nmethod = "exact"\n')
a = json.loads(run("certify", "spec.toml", "--network", "net.json", "--json"))
print(f"1. PyTorch objective {torch_objective:.12f}; cvxnn's objective of the JSON weights "
      f"{a['nonconvex_objective']:.12f}; optimum in [{a['optimum']['lower']:.10f}, "
      f"{a['optimum']['upper']:.10f}]; excess in [{a['relative_suboptimality']['lower']:.3e}, "
      f"{a['relative_suboptimality']['upper']:.3e}]")
assert abs(a["nonconvex_objective"] - torch_objective) <= 1e-12 * torch_objective

# 2. PyTorch -> safetensors -> certify.
state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
save_file(state, "net.safetensors", metadata={"activation": "relu"})
b = json.loads(run("certify", "spec.toml", "--network", "net.safetensors", "--json"))
print(f"2. the same model as safetensors: objective {b['nonconvex_objective']:.12f}, "
      f"verdict certified = {b['certified']}, excess upper {b['relative_suboptimality']['upper']:.3e}")
assert b["nonconvex_objective"] == a["nonconvex_objective"]

# 3. cvxnn -> safetensors -> PyTorch, with an output bias and standardized inputs.
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec3 = open(os.path.join(root, "problems", "bumps_split.toml")).read()
spec3 = spec3.replace('"bumps.csv"', json.dumps(os.path.join(root, "problems", "bumps.csv")))
spec3 = spec3.replace('"bumps_test.csv"', json.dumps(os.path.join(root, "problems", "bumps_test.csv")))
spec3 = spec3.replace('loss = "squared"', 'loss = "squared"\noutput_bias = true')
open("bumps.toml", "w").write(spec3)
run("train", "bumps.toml", "--steps", "3000", "--out", "trained.safetensors", "--format", "safetensors")
run("train", "bumps.toml", "--steps", "3000", "--out", "trained.json")
path = "trained.safetensors"
state = load_file(path)
with safe_open(path, "pt") as fh:
    meta = fh.metadata()
act = {"relu": nn.ReLU()}[meta["activation"]]
bias = "0.bias" in state
output_bias = "2.bias" in state
c, m = state["2.weight"].shape
d0 = state["0.weight"].shape[1]
model = nn.Sequential(nn.Linear(d0, m, bias=bias), act, nn.Linear(m, c, bias=output_bias)).double()
model.load_state_dict(state)
test = np.genfromtxt(os.path.join(root, "problems", "bumps_test.csv"), delimiter=",", names=True)
features = json.loads(meta["features"])
Xn = np.column_stack([test[name] for name in features])
X3 = torch.as_tensor(Xn, dtype=torch.float64)
if "input_mean" in meta:
    X3 = (X3 - torch.tensor(json.loads(meta["input_mean"]), dtype=torch.float64)) \
        / torch.tensor(json.loads(meta["input_scale"]), dtype=torch.float64)
with torch.no_grad():
    f_torch = model(X3)[:, 0].numpy()
pred = run("predict", "--network", "trained.json", "--data",
           os.path.join(root, "problems", "bumps_test.csv"))
f_cvxnn = np.array([float(line.split(",")[-1]) for line in pred.strip().split("\n")[1:]])
worst = float(np.max(np.abs(f_torch - f_cvxnn)))
print(f"3. cvxnn train -> safetensors -> torch.nn.Sequential: {len(f_torch)} test predictions, "
      f"largest difference from cvxnn predict {worst:.2e}")
assert worst <= 1e-12 * max(1.0, float(np.max(np.abs(f_cvxnn))))
print("all three round trips agree")
