"""Randomised compiled-vs-eager steps: every case gives eager's bits, or runs eagerly and says so.

A seeded generator draws a case: a model (Sequential MLPs of random depth, width and
activations, with Dropout; or a module whose forward makes masks, `where`s and indices from the
data), a loss (every loss of `nn` and `nn.functional`, every reduction), an optimizer (SGD,
Adam, AdamW with their options, gradient clipping, a learning rate changed mid-run, a weight
frozen mid-run), a dtype, batch sizes including 1, and new data at every step. The eager loop
and `nn.compile_step` run it from the same seed; losses, outputs and parameters must have the
same bits after every step, and a CompileWarning must appear exactly when the case holds
something a replay cannot reproduce (random masks, arrays made by numpy code, data-dependent
indices, Python numbers read from tensors, a loss that builds its targets with numpy).
A few hundred cases run in `make test`; thousands run with the torch extra (gated like
tests/test_torch_differential.py, though they do not use torch).
"""

import warnings

import numpy as np
import pytest

import nn
from autograd import Tensor, where
from autograd.compile import CompileWarning

F = nn.functional
ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.Softplus, nn.GELU, nn.Identity]
# Custom forwards: (what it does to the MLP's output h, whether a replay can reproduce it).
CUSTOM = {
    "where_mask": (lambda x, h, m: where(Tensor(x)[:, :1] > 0, h, h * 0.5), True),
    "lifted_mask": (lambda x, h, m: h * (Tensor(x).sum(axis=1, keepdims=True) > 0), True),
    "param_mask": (lambda x, h, m: where(h > m.first.weight[:1, :1], h, 0.0), True),
    "list_index": (lambda x, h, m: h[:, list(range(h.shape[1]))[::-1]], True),
    "detached": (lambda x, h, m: h + h.detach() * 0.25, True),
    "numpy_mask": (lambda x, h, m: h * (x[:, :1] > 0), False),
    "data_index": (lambda x, h, m: h[Tensor(x)[:, 0] > -1e9], False),
    "item": (lambda x, h, m: h * float(Tensor(x).abs().max() + 1), False),
}


class Custom(nn.Module):
    """An MLP whose output goes through one of CUSTOM's data-dependent operations."""

    def __init__(self, body, kind, squash):
        self.body, self.kind, self.squash = body, kind, squash
        self.first = body.layers[0]

    def forward(self, x):
        h = CUSTOM[self.kind][0](x.data, self.body(x), self)
        return h.sigmoid() if self.squash else h  # probabilities for BCELoss


def draw_case(seed):
    """Everything one case needs, drawn from `seed` (a dict, printed when the case fails)."""
    rng = np.random.default_rng(seed)
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    c = {"seed": seed, "dtype": pick(["float32", "float64"]),
         "features": int(rng.integers(1, 6)), "out": int(rng.integers(1, 5)),
         "hidden": [int(rng.integers(1, 9)) for _ in range(int(rng.integers(0, 4)))],
         "activations": [int(rng.integers(len(ACTIVATIONS))) for _ in range(4)],
         "dropout": pick([None, None, None, None, 0.0, 0.5, 1.0]),
         "train": bool(rng.random() < 0.8), "custom": pick([None] * 12 + list(CUSTOM)),
         "loss": pick(["mse", "mse", "bce", "bce_logits", "bce_logits", "ce_labels", "ce_probs"]),
         "reduction": pick(["mean", "sum", "none"]), "functional": bool(rng.random() < 0.5),
         "optimizer": pick(["SGD", "SGD", "Adam", "AdamW"]),
         "clip": pick([None, None, None, 0.5, 10.0]),
         # A batch size twice (a signature seen again is recorded, then replayed), then others.
         "batches": [pick([1, 1, 2, 3, 5, 8]) for _ in range(int(rng.integers(1, 4)))],
         "data_dtype": None, "freeze_at": pick([None, None, None, 1, 2]),
         "lr_change_at": pick([None, None, 1, 2])}
    if rng.random() < 0.15:  # data in the other float dtype: converted inside the step
        c["data_dtype"] = "float64" if c["dtype"] == "float32" else "float32"
    if c["optimizer"] == "SGD":
        momentum = pick([0.0, 0.0, 0.5, 0.9])
        c["options"] = {"lr": pick([0.01, 0.1]), "momentum": momentum,
                        "nesterov": bool(momentum and rng.random() < 0.5),
                        "weight_decay": pick([0.0, 0.0, 1e-2])}
    else:
        c["options"] = {"lr": pick([1e-3, 1e-2]), "betas": pick([(0.9, 0.999), (0.5, 0.9)]),
                        "eps": pick([1e-8, 1e-3]), "weight_decay": pick([0.0, 0.05])}
        if c["optimizer"] == "Adam":
            c["options"]["decoupled_weight_decay"] = bool(rng.random() < 0.5)
    c["batches"].insert(1, c["batches"][0])
    c["data_seed"] = int(rng.integers(2**31))
    return c


def make_model(c):
    nn.manual_seed(c["seed"])
    sizes = [c["features"], *c["hidden"], c["out"]]
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, dtype=c["dtype"]))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[c["activations"][i]]())
            if c["dropout"] is not None and i == 0:
                layers.append(nn.Dropout(c["dropout"]))
    squash = c["loss"] == "bce"  # probabilities for BCELoss
    if squash and c["custom"] is None:
        layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers)
    if c["custom"] is not None:
        model = Custom(model, c["custom"], squash)
    model.train(c["train"])
    opt = getattr(nn.optim, c["optimizer"])(model.parameters(), **c["options"])
    return model, opt


def make_loss(c):
    kind, reduction = c["loss"], c["reduction"]
    name = {"mse": "MSELoss", "bce": "BCELoss", "bce_logits": "BCEWithLogitsLoss",
            "ce_labels": "CrossEntropyLoss", "ce_probs": "CrossEntropyLoss"}[kind]
    function = {"MSELoss": F.mse_loss, "BCELoss": F.bce_loss,
                "BCEWithLogitsLoss": F.bce_with_logits_loss,
                "CrossEntropyLoss": F.cross_entropy}[name]
    if reduction == "none":  # one loss per element: a scalar takes a Tensor operation more
        return lambda out, y: function(out, y, reduction="none").mean()
    if c["functional"]:
        return function if reduction == "mean" else (
            lambda out, y: function(out, y, reduction=reduction))
    return getattr(nn, name)(reduction=reduction)


def make_data(c):
    rng = np.random.default_rng(c["data_seed"])
    dtype = c["data_dtype"] or c["dtype"]
    data = []
    for rows in c["batches"]:
        x = rng.normal(size=(rows, c["features"])).astype(dtype)
        if c["loss"] == "ce_labels":
            y = rng.integers(0, c["out"], rows)
        elif c["loss"] == "ce_probs":
            y = rng.random((rows, c["out"])).astype(c["dtype"])
            y /= y.sum(axis=1, keepdims=True)
        elif c["loss"] in ("bce", "bce_logits"):
            y = (rng.random((rows, c["out"])) < 0.5).astype(c["dtype"])
        else:
            y = rng.normal(size=(rows, c["out"])).astype(c["dtype"])
        data.append((x, y))
    return data


def expects_eager(c):
    """Whether the case holds something a replay cannot reproduce (so it must warn)."""
    dropout = c["train"] and c["dropout"] is not None and 0 < c["dropout"] < 1 and c["hidden"]
    custom = c["custom"] is not None and not CUSTOM[c["custom"]][1]
    # BCELoss builds -y and y - 1 with numpy; class labels of any cross-entropy are gathered at.
    numpy_targets = c["loss"] == "bce"
    return bool(dropout or custom or numpy_targets)


def run(c, compiled):
    """Each step's (loss, output, parameters) as bits, and the CompileWarnings' messages."""
    model, opt = make_model(c)
    loss_fn = make_loss(c)
    step = nn.compile_step(model, loss_fn, opt, clip_grad_norm=c["clip"]) if compiled else None
    params = opt.params
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i, (x, y) in enumerate(make_data(c)):
            if i == c["freeze_at"]:
                params[0].requires_grad_(False)
            if i == c["lr_change_at"]:
                opt.lr *= 0.5
            if compiled:
                loss, out = step(x, y), step.output
            else:
                opt.zero_grad()
                output = model(x)
                value = loss_fn(output, y)
                value.backward()
                if c["clip"] is not None:
                    nn.utils.clip_grad_norm_(params, c["clip"])
                opt.step()
                loss, out = value.item(), output.data
            results.append((np.float64(loss).tobytes(), _bits(out),
                            [_bits(p.data) for p in params]))
    return results, [str(w.message) for w in caught if issubclass(w.category, CompileWarning)]


def _bits(a):
    a = np.asarray(a)
    return a.shape, a.dtype.str, a.tobytes()


def check_case(seed):
    c = draw_case(seed)
    eager, _ = run(c, compiled=False)
    compiled, warned = run(c, compiled=True)
    for i, (e, k) in enumerate(zip(eager, compiled)):
        assert e[0] == k[0], (f"loss differs at step {i}", c)
        assert e[1] == k[1], (f"output differs at step {i}", c)
        assert e[2] == k[2], (f"parameters differ after step {i}", c)
    assert bool(warned) == expects_eager(c), (warned, c)
    return bool(warned)


FAST_CASES = 400  # `make test`: a few hundred cases, some seconds on one core
EXTRA_CASES = 2000  # the torch extra


@pytest.mark.parametrize("chunk", range(8))
def test_random_cases_match_eager_or_run_eagerly_with_a_warning(chunk):
    per_chunk = FAST_CASES // 8
    eager = [check_case(seed) for seed in range(chunk * per_chunk, (chunk + 1) * per_chunk)]
    assert sum(eager) < 0.6 * len(eager)  # most replay: not only eager against eager


def test_thousands_of_random_cases_with_the_torch_extra():
    pytest.importorskip("torch")  # no torch used: gated so that the extra's CI run holds it
    eager = [check_case(seed) for seed in range(10_000, 10_000 + EXTRA_CASES)]
    assert sum(eager) < 0.45 * len(eager)


def test_the_cases_cover_every_option():
    cases = [draw_case(seed) for seed in range(FAST_CASES)]
    seen = {(c["loss"], c["reduction"], c["functional"]) for c in cases}
    assert len(seen) == 5 * 3 * 2
    assert {c["custom"] for c in cases} == {None, *CUSTOM}
    assert {(c["optimizer"], tuple(sorted(k for k, v in c["options"].items() if v)))
            for c in cases} >= {("SGD", ("lr", "momentum", "nesterov", "weight_decay")),
                                ("Adam", ("betas", "decoupled_weight_decay", "eps", "lr",
                                          "weight_decay")),
                                ("AdamW", ("betas", "eps", "lr", "weight_decay"))}
    assert {1, 8} <= {b for c in cases for b in c["batches"]}
    assert {c["dtype"] for c in cases} == {"float32", "float64"}
    assert any(c["clip"] for c in cases) and any(c["freeze_at"] for c in cases)
