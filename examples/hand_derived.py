"""Check hand-derived backprop against the engine with compare_grads, and catch classic bugs.

nn.MLP([2, 5, 1]) with relu hidden, sigmoid output and binary cross-entropy on make_moons: the
gradients derived by hand with numpy agree with the engine's to ~1e-16. Then two mistakes from
tutorials are caught: the sigmoid derivative applied to the activation a2 instead of the
pre-activation z2, and the gradient dW2 used where the weights W2 belong. Last, seed 001's own
deltas (dJ/dz of each layer) are checked directly against the engine's intermediate gradients.

Run: python examples/hand_derived.py    (prints the reports, writes out/hand_derived.txt)
"""

from pathlib import Path

import numpy as np
from network_2_3_2 import SEED as SEED_001
from network_2_3_2 import SIZES as SIZES_001
from network_2_3_2 import X as X_001
from network_2_3_2 import Y as Y_001
from network_2_3_2 import tutorial_init
from sklearn.datasets import make_moons

import nn
from autograd import compare_grads

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


def hand_gradients(X, y, W1, b1, W2, b2, mistake=None):
    """dL/dparameter by the chain rule, written out in numpy. X: (n, 2), y: (n, 1)."""
    n = len(X)
    z1 = X @ W1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + b2
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
        da1 = dz2 @ W2.T
    dz1 = da1 * (z1 > 0)  # relu'(z1)
    return [X.T @ dz1, dz1.sum(axis=0), dW2, db2]  # in the order of model.named_parameters()


def seed_001_deltas(X, Y, W1, b1, W2, b2, prime_at_output=False):
    """Seed 001's deltas for J = 0.5 * sum((out - Y)^2), written out in numpy.

    The tutorial numbers layers from the input, so its delta L is dJ/dz2 here and its
    delta 2 is dJ/dz1. `prime_at_output`: sigmoid' taken at the output, as its code does.
    """
    z1 = X @ W1 + b1
    z2 = np.maximum(z1, 0) @ W2 + b2
    out = sigmoid(z2)
    delta_out = (out - Y) * (sigmoid_prime(out) if prime_at_output else sigmoid_prime(z2))
    delta_hidden = delta_out @ W2.T * (z1 > 0)  # back through W2, then relu'(z1)
    return {"dJ/dz2": delta_out, "dJ/dz1": delta_hidden}


def check_seed_001():
    """Seed 001's 2-3-2 network: compare its deltas with the engine's dJ/dz2 and dJ/dz1."""
    model = nn.MLP(SIZES_001, activation="relu", output_activation="sigmoid",
                   init=tutorial_init(SEED_001))
    values = [t.data for _, t in model.named_parameters()]  # W1, b1, W2, b2

    def engine_deltas(loss_fn):
        z1 = model[0](X_001).retain_grad()  # keep the intermediates' gradients: the deltas
        z2 = model[2](model[1](z1)).retain_grad()
        loss_fn(model[3](z2)).backward()
        return {"dJ/dz2": z2, "dJ/dz1": z1}

    half_sum = lambda out: 0.5 * ((out - Y_001) ** 2).sum()  # noqa: E731  the tutorial's J
    mean = lambda out: nn.MSELoss()(out, Y_001)  # noqa: E731  what its MSE.loss computes
    right = seed_001_deltas(X_001, Y_001, *values)
    sections = [
        ("seed 001's deltas, for J = 0.5 * sum((out - y)^2)",
         compare_grads(engine_deltas(half_sum), right, rtol=RTOL, atol=ATOL)),
        ("seed 001's code as written, sigmoid' at the output instead of at z2",
         compare_grads(engine_deltas(half_sum), seed_001_deltas(X_001, Y_001, *values, True),
                       rtol=RTOL, atol=ATOL)),
        ("seed 001's deltas against the loss its code computes, np.mean((out - y)**2)",
         compare_grads(engine_deltas(mean), right, rtol=RTOL, atol=ATOL)),
    ]
    return [f"{what}:\n{report}" for what, report in sections]


def main():
    X, labels = make_moons(SAMPLES, noise=NOISE, random_state=SEED)
    y = labels.reshape(-1, 1).astype(np.float64)
    model = nn.MLP([2, HIDDEN, 1], activation="relu", output_activation="sigmoid",
                   rng=np.random.default_rng(SEED))
    nn.functional.bce_loss(model(X), y).backward()
    values = [t.data for _, t in model.named_parameters()]  # W1, b1, W2, b2

    sections = []
    report = compare_grads(model, hand_gradients(X, y, *values), rtol=RTOL, atol=ATOL)
    sections.append(f"correct derivation:\n{report}")
    for mistake, what in MISTAKES.items():
        wrong = compare_grads(model, hand_gradients(X, y, *values, mistake), rtol=RTOL, atol=ATOL)
        sections.append(f"mistake, {what}:\n{wrong}")
    sections += check_seed_001()
    text = "\n\n".join(sections)
    print(text)
    OUT.mkdir(exist_ok=True)
    (OUT / "hand_derived.txt").write_text(text + "\n")
    print(f"\nwrote {OUT / 'hand_derived.txt'}")


if __name__ == "__main__":
    main()
