"""Draw the computation graph of a small network's loss, then of one whose loss blew up.

Writes out/graph.svg: every parameter by name, with its shape, value and gradient, each
operation, and the path to the loss. Then out/graph_nan.svg: the same network with a huge
output weight, whose loss is inf; the node where the first non-finite value appears is red.
Without graphviz's `dot` program it writes the .gv sources and says how to render them.

Run: python examples/draw_graph.py           (--docs also writes docs/graph.svg)
"""

import argparse
from pathlib import Path

import numpy as np

from autograd import Tensor, draw_graph, save_graph

SEED, SAMPLES, SIZES = 0, 4, (2, 3, 1)
OUT = Path("out")
DOCS = Path(__file__).resolve().parent.parent / "docs"


def make_params(rng):
    """Weights and biases of a 2-3-1 network, named as a model's named_parameters() would be."""
    params = {}
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        params[f"layer{i + 1}.weight"] = Tensor(rng.standard_normal((n_in, n_out)) / np.sqrt(n_in),
                                                requires_grad=True)
        params[f"layer{i + 1}.bias"] = Tensor(np.zeros(n_out), requires_grad=True)
    return params


def bce_loss(X, y, params):
    """Binary cross-entropy of relu hidden layer -> sigmoid output."""
    h = (X @ params["layer1.weight"] + params["layer1.bias"]).relu()
    p = (h @ params["layer2.weight"] + params["layer2.bias"]).sigmoid()
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def save(loss, path, params):
    """Write the graph as SVG, or as graphviz source when `dot` is not installed."""
    try:
        save_graph(loss, path, params=params, show_values=True)
        print(f"wrote {path}")
    except RuntimeError as err:
        source = save_graph(loss, path.with_suffix(".gv"), params=params, show_values=True)
        print(f"{err}\nwrote {source} instead; with graphviz installed, run:\n"
              f"  dot -Tsvg {source} -o {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", action="store_true", help="also write docs/graph.svg")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((SAMPLES, SIZES[0]))
    y = (X[:, :1] * X[:, 1:] > 0).astype(np.float64)  # XOR-like labels
    OUT.mkdir(exist_ok=True)

    params = make_params(rng)
    loss = bce_loss(X, y, params)
    loss.backward(retain_grads=True)  # keep intermediates' gradients to show them
    print(f"loss {loss.item():.4f}")
    save(loss, OUT / "graph.svg", params)
    if args.docs:
        save(loss, DOCS / "graph.svg", params)

    # A weight of 1e4 saturates the sigmoid to exactly 0 or 1, and log(0) = -inf.
    params["layer2.weight"].data[:] = 1e4
    for t in params.values():
        t.zero_grad()
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = bce_loss(X, y, params)
        loss.backward(retain_grads=True)
    print(f"loss with a huge weight {loss.item()}: look for the red node")
    save(loss, OUT / "graph_nan.svg", params)
    # The same picture is available in Jupyter as `draw_graph(loss, params=params)`.
    return draw_graph(loss, params=params)


if __name__ == "__main__":
    main()
