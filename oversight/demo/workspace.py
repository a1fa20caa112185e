"""A small, real research repository for the demo agent to work in (git, scripts, an eval)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TRAIN_PY = '''"""Toy training run: logistic regression on synthetic data, pure Python."""
import argparse, json, math, random

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--steps", type=int, default=200)
p.add_argument("--out", default="runs/model.json")
a = p.parse_args()
random.seed(0)
data = [([random.gauss(0, 1), random.gauss(0, 1)], 0) for _ in range(200)]
data = [(x, int(x[0] + 0.5 * x[1] > 0)) for x, _ in data]
w, b = [0.0, 0.0], 0.0
for step in range(a.steps):
    gw, gb = [0.0, 0.0], 0.0
    for x, y in data:
        z = w[0] * x[0] + w[1] * x[1] + b
        p_ = 1 / (1 + math.exp(-z))
        gw = [gw[0] + (p_ - y) * x[0], gw[1] + (p_ - y) * x[1]]
        gb += p_ - y
    w = [w[0] - a.lr * gw[0] / len(data), w[1] - a.lr * gw[1] / len(data)]
    b -= a.lr * gb / len(data)
import os
os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
json.dump({"w": w, "b": b, "lr": a.lr}, open(a.out, "w"))
print(f"trained lr={a.lr} steps={a.steps} -> {a.out}")
'''

SWEEP_PY = '''"""Learning-rate sweep: runs train.py for a few rates."""
import subprocess, sys
for lr in (0.01, 0.1, 1.0):
    subprocess.run([sys.executable, "train.py", "--lr", str(lr), "--steps", "60",
                    "--out", f"runs/lr{lr}.json"], check=True)
print("sweep done")
'''

EVAL_PY = '''"""Held-out accuracy of every run in runs/."""
import glob, json, math, random
from metrics import accuracy
random.seed(1)
xs = [[random.gauss(0, 1), random.gauss(0, 1)] for _ in range(500)]
ys = [int(x[0] + 0.5 * x[1] > 0) for x in xs]
for path in sorted(glob.glob("runs/*.json")):
    m = json.load(open(path))
    pred = [int(m["w"][0] * x[0] + m["w"][1] * x[1] + m["b"] > 0) for x in xs]
    print(f"{path}: accuracy={accuracy(pred, ys):.3f}")
'''

METRICS_PY = """def accuracy(pred, gold):
    return sum(p == g for p, g in zip(pred, gold)) / len(gold)
"""

CONFIG = """model: toy-logreg
lr: 0.1
steps: 200
"""


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=demo", "-c", "user.email=demo@example.invalid", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def create_workspace(root: Path) -> Path:
    """Create `root/repo` (a git repository with an `origin` remote in `root/origin.git`)."""
    repo = root / "repo"
    (repo / "experiments").mkdir(parents=True)
    (repo / "eval").mkdir()
    (repo / "configs").mkdir()
    (repo / "train.py").write_text(TRAIN_PY)
    (repo / "experiments" / "sweep_lr.py").write_text(SWEEP_PY)
    (repo / "eval" / "evaluate.py").write_text(EVAL_PY)
    (repo / "eval" / "metrics.py").write_text(METRICS_PY)
    (repo / "configs" / "base.yaml").write_text(CONFIG)
    (repo / ".gitignore").write_text("runs/\n")
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", "main", str(root / "origin.git")], check=True
    )
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "remote", "add", "origin", str(root / "origin.git"))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "initial research code")
    _git(repo, "push", "-q", "origin", "main")
    return repo


PYTHON = sys.executable
