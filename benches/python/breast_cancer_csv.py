"""Write scikit-learn's copy of the Wisconsin diagnostic breast-cancer data (569 x 30) as a CSV
with labels +1 (malignant) / -1 (benign), features standardized, for the high-rank benchmark of
docs/benchmarks.md. Usage: python breast_cancer_csv.py OUT.csv"""
import sys

from sklearn.datasets import load_breast_cancer

d = load_breast_cancer()
x = (d.data - d.data.mean(axis=0)) / d.data.std(axis=0)
with open(sys.argv[1], "w") as f:
    f.write(",".join(f"x{i + 1}" for i in range(x.shape[1])) + ",y\n")
    for row, t in zip(x, d.target):
        f.write(",".join(f"{v:.4f}" for v in row) + ("," + ("1" if t == 0 else "-1")) + "\n")
