"""The MLP workloads, their initial weights, and the implementations bench_mlp.py times.

Each `*_mlp(work, weights, dtype)` builds a fresh model from the same initial weights and
returns `step(i) -> float`, one SGD step on batch i; each `*_chain(n_ops, x0)` returns a
deepchain step. count_instructions.py and bench_layers.py build from here too.
"""

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits, make_moons

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone, uninstalled

import nn  # noqa: E402
from autograd import Tensor  # noqa: E402

SEED = 0
# npgrad and compiled train on one-hot rows; the "-int" rows pass class labels (what fit and most
# users pass), on the cross-entropy workloads only.
LABEL_IMPLS = ("npgrad-int", "compiled-int")
CHAIN_SIZE = 32  # elements in the deepchain vector: small, so per-op overhead dominates
CHAIN_MUL, CHAIN_ADD = 1.00001, 0.001


# ---------------------------------------------------------------- workloads
@dataclass
class MLPWorkload:
    """An MLP trained by SGD on fixed batches: `batches` holds (x, labels, targets) per step.

    `targets` has the logits' shape (one-hot rows for cross-entropy, (n, 1) for BCE); `labels`
    holds class indices for cross-entropy (PyTorch's natural input) and is None for BCE.
    """

    name: str
    sizes: list
    activation: str
    loss: str  # "cross_entropy" or "bce"
    lr: float
    batches: list


def batch_indices(n: int, batch: int, steps: int, rng: np.random.Generator) -> list:
    """`steps` index arrays of `batch` rows, epoch after epoch, each epoch shuffled afresh.

    An epoch's incomplete last batch is dropped, so every step costs the same.
    """
    out = []
    while len(out) < steps:
        order = rng.permutation(n)
        out += [order[i:i + batch] for i in range(0, n - batch + 1, batch)]
    return out[:steps]


def classification_batches(X, labels, k, indices, dtype) -> list:
    X = X.astype(dtype)
    onehot = (labels[:, None] == np.arange(k)).astype(dtype)
    return [(X[i], labels[i], onehot[i]) for i in indices]


def make_workloads(names: list, dtype: str, max_steps: int | None) -> list:
    """The selected MLP workloads with their data in `dtype` (deepchain is handled apart)."""
    rng = np.random.default_rng(SEED)
    out = []
    digits = load_digits()
    X_digits, y_digits = digits.data / 16.0, digits.target.astype(np.int64)
    for batch in (32, 256):
        name = f"digits{batch}"
        if name in names:
            steps = len(X_digits) // batch  # one epoch
            idx = batch_indices(len(X_digits), batch, steps, np.random.default_rng(SEED))
            data = classification_batches(X_digits, y_digits, 10, idx, dtype)
            out.append(MLPWorkload(name, [64, 100, 10], "tanh", "cross_entropy", 0.1, data))
    if "moons" in names:
        X, y = make_moons(300, noise=0.2, random_state=0)
        full = (X.astype(dtype), None, y.reshape(-1, 1).astype(dtype))
        out.append(MLPWorkload("moons", [2, 5, 1], "relu", "bce", 0.5, [full] * 500))
    if "wide" in names:
        X = rng.standard_normal((2048, 784))
        labels = rng.integers(0, 10, len(X))
        idx = batch_indices(len(X), 128, 50, rng)
        data = classification_batches(X, labels, 10, idx, dtype)
        out.append(MLPWorkload("wide", [784, 512, 512, 10], "relu", "cross_entropy", 0.01, data))
    for w in out:
        w.batches = w.batches[:max_steps]
    return out


def initial_weights(sizes: list, activation: str) -> list:
    """(W (in, out), b (out,)) per layer in float64, seeded: every implementation copies them.

    He-uniform before a relu, Xavier-uniform otherwise; small random biases, so that the bias
    path is exercised from the first step.
    """
    rng = np.random.default_rng(SEED + 1)
    weights = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        relu_next = activation == "relu" and k < len(sizes) - 2
        bound = math.sqrt(6 / n_in) if relu_next else math.sqrt(6 / (n_in + n_out))
        weights.append((rng.uniform(-bound, bound, (n_in, n_out)), rng.uniform(-0.1, 0.1, n_out)))
    return weights


# ---------------------------------------------------------------- the MLP implementations
# Each `*_mlp(work, weights, dtype)` builds a fresh model from the initial weights and returns
# `step(i) -> float`: one SGD step on batch i, returning that step's loss as a Python float.

def npgrad_mlp(work: MLPWorkload, weights: list, dtype: str, labels: bool = False):
    """The loop our users write, through the public API only (`labels`: class labels)."""
    model, loss_fn, opt, batches = _npgrad_parts(work, weights, dtype)
    return npgrad_sgd_step(model, loss_fn, opt, batches, 1 if labels else 2)


def npgrad_sgd_step(model, loss_fn, opt, batches, target=1):
    """`step(i)`: the training step our users write on batch i, a tuple (x, ...) whose item
    `target` is the loss's target; returns the loss."""
    def step(i):
        batch = batches[i]
        loss = loss_fn(model(batch[0]), batch[target])
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _npgrad_parts(work: MLPWorkload, weights: list, dtype: str):
    """A fresh model with the initial weights, its loss function, SGD, and the batches."""
    model = nn.MLP(work.sizes, activation=work.activation, dtype=dtype)
    params = model.parameters()
    arrays = [a for layer in weights for a in layer]
    assert [p.shape for p in params] == [a.shape for a in arrays], "MLP parameter layout changed"
    for p, a in zip(params, arrays):
        p.data[...] = a
    loss_fn = (nn.functional.cross_entropy if work.loss == "cross_entropy"
               else nn.functional.bce_with_logits_loss)
    return model, loss_fn, nn.optim.SGD(params, lr=work.lr), work.batches


def compiled_mlp(work: MLPWorkload, weights: list, dtype: str, labels: bool = False):
    """The same loop as one call of `nn.compile_step` (recorded at the first batch)."""
    model, loss_fn, opt, batches = _npgrad_parts(work, weights, dtype)
    step_fn = nn.compile_step(model, loss_fn, opt)

    def step(i):
        x, y, target = batches[i]
        return step_fn(x, y if labels else target)

    return step


def numpy_mlp(work: MLPWorkload, weights: list, dtype: str):
    """Forward, backward and update by hand: the floor an eager numpy engine can reach."""
    params = [(W.astype(dtype), b.astype(dtype)) for W, b in weights]
    activate, derivative = NUMPY_ACTIVATIONS[work.activation]
    lr, last, batches = work.lr, len(params) - 1, work.batches

    def step(i):
        x, _, t = batches[i]
        n = len(x)
        inputs = [x]  # the input of every layer, kept for the backward pass
        for k, (W, b) in enumerate(params):
            z = inputs[-1] @ W
            z += b
            if k < last:
                inputs.append(activate(z))
        if work.loss == "cross_entropy":
            z -= z.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            # -sum(t * (z - log s)) / n, using that each one-hot row of t sums to 1.
            loss = (np.log(s).sum() - np.vdot(t, z)) / n
            dz = e / s
        else:
            loss = (np.logaddexp(0, z) - z * t).mean()  # log(1 + e^z) - z t, overflow-free
            dz = 0.5 + 0.5 * np.tanh(0.5 * z)  # sigmoid(z), overflow-free
        dz -= t
        dz /= n
        for k in range(last, -1, -1):
            W, b = params[k]
            dW = inputs[k].T @ dz
            db = dz.sum(axis=0)
            if k:
                dz = dz @ W.T
                derivative(dz, inputs[k])
            W -= lr * dW
            b -= lr * db
        return float(loss)

    return step


def _tanh_grad(g, out):
    g *= 1 - out * out


def _relu_grad(g, out):
    g *= out > 0


NUMPY_ACTIVATIONS = {  # name: (in-place forward, in-place gradient given the output)
    "tanh": (lambda z: np.tanh(z, out=z), _tanh_grad),
    "relu": (lambda z: np.maximum(z, 0, out=z), _relu_grad),
}


def torch_mlp(work: MLPWorkload, weights: list, dtype: str):
    """PyTorch eager as its users write it: nn.Linear layers, F losses, optim.SGD."""
    import torch
    import torch.nn.functional as F

    tdtype = getattr(torch, dtype)
    activations = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}
    layers = []
    for k, (W, b) in enumerate(weights):
        linear = torch.nn.Linear(*W.shape, dtype=tdtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))  # PyTorch stores (out, in)
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if k < len(weights) - 1:
            layers.append(activations[work.activation]())
    model = torch.nn.Sequential(*layers)
    if work.loss == "cross_entropy":
        loss_fn = F.cross_entropy
        batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y, _ in work.batches]
    else:
        loss_fn = F.binary_cross_entropy_with_logits
        batches = [(torch.from_numpy(x), torch.from_numpy(t)) for x, _, t in work.batches]
    return torch_sgd_step(model, loss_fn, torch.optim.SGD(model.parameters(), lr=work.lr),
                          batches)


def torch_sgd_step(model, loss_fn, opt, batches):
    """`step(i)`: PyTorch's training step on batch i (x, target), returning the loss."""
    def step(i):
        x, target = batches[i]
        loss = loss_fn(model(x), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


MLP_BUILDERS = {"numpy": numpy_mlp, "npgrad": npgrad_mlp, "compiled": compiled_mlp,
                "npgrad-int": lambda *a: npgrad_mlp(*a, labels=True),
                "compiled-int": lambda *a: compiled_mlp(*a, labels=True), "torch": torch_mlp}


# ---------------------------------------------------------------- deepchain
# `n_ops` elementwise operations (multiply and add alternating) on one small vector, then the
# gradient of the sum with respect to the input. One "step" is the forward and backward pass;
# it returns (sum of the output, sum of the input's gradient), both checked for agreement.

def _autograd_chain(n_ops: int, x0: np.ndarray, make_leaf):
    """The chain through an autograd library: npgrad and PyTorch differ only in the leaf."""
    def step(_):
        x = make_leaf(x0)
        y = x
        for _ in range(n_ops // 2):
            y = y * CHAIN_MUL
            y = y + CHAIN_ADD
        out = y.sum()
        out.backward()
        return out.item(), float(x.grad.sum())

    return step


def npgrad_chain(n_ops: int, x0: np.ndarray):
    return _autograd_chain(n_ops, x0, lambda a: Tensor(a, requires_grad=True))


def numpy_chain(n_ops: int, x0: np.ndarray):
    def step(_):
        y = x0
        for _ in range(n_ops // 2):
            y = y * CHAIN_MUL
            y = y + CHAIN_ADD
        g = np.ones_like(y)
        for _ in range(n_ops // 2):  # the reverse pass: add passes g through, multiply scales it
            g = g * CHAIN_MUL
        return float(y.sum()), float(g.sum())

    return step


def torch_chain(n_ops: int, x0: np.ndarray):
    import torch

    return _autograd_chain(n_ops, x0, lambda a: torch.tensor(a, requires_grad=True))


CHAIN_BUILDERS = {"numpy": numpy_chain, "npgrad": npgrad_chain, "torch": torch_chain}
