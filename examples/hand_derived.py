"""Check hand-derived backprop against the engine with compare_grads, and catch two classic bugs.

A one-hidden-layer network (relu hidden, sigmoid output, binary cross-entropy) on make_moons:
its gradients derived by hand with numpy agree with autograd's to ~1e-16. Then two mistakes from
tutorials are caught: the sigmoid derivative applied to the activation a2 instead of the
pre-activation z2, and the gradient dW2 used where the weights W2 belong.

Run: python examples/hand_derived.py    (prints the reports, writes out/hand_derived.txt)
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import make_moons

from autograd import Tensor, compare_grads

SEED, SAMPLES, NOISE, HIDDEN = 0, 300, 0.2, 5
RTOL, ATOL = 1e-12, 1e-15  # far tighter than compare_grads' defaults: both are exact math
OUT = Path("out")
MISTAKES = {
    "sigmoid' of the activation": "sigmoid_prime(a2) instead of sigmoid_prime(z2)",
    "gradient as weight": "dW2 instead of W2 when propagating to the hidden layer",
}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def hand_gradients(X, y, p, mistake=None):
    """dL/dparameter by the chain rule, written out in numpy. X: (n, 2), y: (n, 1)."""
    n = len(X)
    z1 = X @ p["W1"] + p["b1"]
    a1 = np.maximum(z1, 0)
    z2 = a1 @ p["W2"] + p["b2"]
    a2 = sigmoid(z2)
    # L = -mean(y log a2 + (1 - y) log(1 - a2))
    da2 = (-y / a2 + (1 - y) / (1 - a2)) / n
    if mistake == "sigmoid' of the activation":
        dz2 = da2 * sigmoid_prime(a2)
    else:
        dz2 = da2 * sigmoid_prime(z2)  # simplifies to (a2 - y) / n
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0)
    if mistake == "gradient as weight":
        da1 = dz2 @ dW2.T
    else:
        da1 = dz2 @ p["W2"].T
    dz1 = da1 * (z1 > 0)  # relu'(z1)
    return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": dW2, "b2": db2}


def engine_loss(X, y, params):
    """The same network with autograd Tensors."""
    a1 = (X @ params["W1"] + params["b1"]).relu()
    a2 = (a1 @ params["W2"] + params["b2"]).sigmoid()
    return -(y * a2.log() + (1 - y) * (1 - a2).log()).mean()


def main():
    X, labels = make_moons(SAMPLES, noise=NOISE, random_state=SEED)
    y = labels.reshape(-1, 1).astype(np.float64)
    rng = np.random.default_rng(SEED)
    params = {
        "W1": Tensor(rng.standard_normal((2, HIDDEN)) / np.sqrt(2), requires_grad=True),
        "b1": Tensor(np.full(HIDDEN, 0.1), requires_grad=True),
        "W2": Tensor(rng.standard_normal((HIDDEN, 1)) / np.sqrt(HIDDEN), requires_grad=True),
        "b2": Tensor(np.zeros(1), requires_grad=True),
    }
    engine_loss(X, y, params).backward()
    values = {name: t.data for name, t in params.items()}

    sections = []
    report = compare_grads(params, hand_gradients(X, y, values), rtol=RTOL, atol=ATOL)
    sections.append(f"correct derivation:\n{report}")
    for mistake, what in MISTAKES.items():
        wrong = compare_grads(params, hand_gradients(X, y, values, mistake), rtol=RTOL, atol=ATOL)
        sections.append(f"mistake, {what}:\n{wrong}")
    text = "\n\n".join(sections)
    print(text)
    OUT.mkdir(exist_ok=True)
    (OUT / "hand_derived.txt").write_text(text + "\n")
    print(f"\nwrote {OUT / 'hand_derived.txt'}")


if __name__ == "__main__":
    main()
