"""Draw the computation graph of a small network's loss, explain its backward pass, then draw
one whose loss blew up.

Writes out/graph.svg: nn.MLP([2, 3, 1])'s parameters by name with their shapes, values and
gradients, each operation, and the path to the loss. Then out/graph_rules.svg: the network on
logits with fused binary cross-entropy, each op's gradient rule beside it (show_rules), and its
backward pass printed as a table (explain_backward). Then out/graph_nan.svg: the first network
with a huge output weight and binary cross-entropy written as tutorials write it, whose loss is
inf; the node where the first non-finite value appears is red.
Without graphviz's `dot` program it writes the .gv sources and says how to render them.

Run: python examples/draw_graph.py    (--docs also writes docs/graph.svg, docs/graph_rules.svg)
"""

import argparse
from pathlib import Path

import numpy as np

import nn
from autograd import draw_graph, explain_backward, save_graph

SEED, SAMPLES, SIZES = 0, 4, [2, 3, 1]
OUT = Path("out")
DOCS = Path(__file__).resolve().parent.parent / "docs"


def naive_bce(p, y):
    """Binary cross-entropy without clipping: log(0) = -inf once the sigmoid saturates."""
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def save(loss, path, params, **options):
    """Write the graph as SVG, or as graphviz source when `dot` is not installed."""
    try:
        save_graph(loss, path, params=params, show_values=True, **options)
        print(f"wrote {path}")
    except RuntimeError as err:
        source = save_graph(loss, path.with_suffix(".gv"), params=params, show_values=True,
                            **options)
        print(f"{err}\nwrote {source} instead; with graphviz installed, run:\n"
              f"  dot -Tsvg {source} -o {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", action="store_true", help="also write the docs/ pictures")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((SAMPLES, SIZES[0]))
    y = (X[:, :1] * X[:, 1:] > 0).astype(np.float64)  # XOR-like labels
    OUT.mkdir(exist_ok=True)

    model = nn.MLP(SIZES, activation="relu", output_activation="sigmoid", rng=rng)
    params = dict(model.named_parameters())
    loss = nn.functional.bce_loss(model(X), y)
    loss.backward(retain_grads=True)  # keep intermediates' gradients to show them
    print(f"loss {loss.item():.4f}")
    save(loss, OUT / "graph.svg", params)
    if args.docs:
        save(loss, DOCS / "graph.svg", params)

    # The same layers on logits, with the loss fused into one op: four ops, each with its rules.
    logits_model = nn.MLP(SIZES, activation="relu", rng=np.random.default_rng(SEED + 1))
    named = dict(logits_model.named_parameters())
    fused = nn.functional.bce_with_logits_loss(logits_model(X), y)
    fused.backward(retain_grads=True)
    save(fused, OUT / "graph_rules.svg", named, show_rules=True)
    if args.docs:
        save(fused, DOCS / "graph_rules.svg", named, show_rules=True)
    print(explain_backward(fused, params=named))  # the same backward pass, as a table

    # A weight of 1e4 saturates the sigmoid to exactly 0 or 1, and log(0) = -inf.
    model.zero_grad()
    params["layers.2.weight"].data[:] = 1e4
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = naive_bce(model(X), y)
        loss.backward(retain_grads=True)
    print(f"loss with a huge weight {loss.item()}: look for the red node")
    save(loss, OUT / "graph_nan.svg", params)
    # In Jupyter, this object draws itself: `draw_graph(loss, params=params)` as a cell's value.
    return draw_graph(loss, params=params)


if __name__ == "__main__":
    main()
