"""tanh and its first four derivatives, each one the gradient of the one before (HIPS autograd's
best-known picture, drawn with npgrad's `grad(..., create_graph=True)`).

`grad(y.sum(), x, create_graph=True)` returns dy/dx as a Tensor that carries its own graph, so
it can be differentiated again, to any order. tanh acts elementwise, so the gradient of the sum
holds each point's own derivative. The curves are checked against the closed forms in t = tanh(x).

Run: python examples/derivatives.py [--quick] [--out DIR]    (picture in out/derivatives/)
"""

from pathlib import Path

import numpy as np
from _common import output_dir, parse_args, save_figure

from autograd import Tensor, grad

ORDER = 4  # derivatives after tanh itself
RANGE = (-7.0, 7.0)
POINTS, QUICK_POINTS = 400, 60


def closed_forms(x: np.ndarray) -> list[np.ndarray]:
    """tanh and its first four derivatives, written in t = tanh(x) (each is a polynomial in t)."""
    t = np.tanh(x)
    s = 1 - t * t  # tanh' = 1 - t^2, so d/dx of a polynomial p(t) is p'(t) * s
    return [t, s, -2 * t * s, (6 * t * t - 2) * s, 8 * t * (2 - 3 * t * t) * s]


def nested_derivatives(x: np.ndarray, order: int = ORDER) -> list[np.ndarray]:
    """tanh(x) and its derivatives up to `order`, each the gradient of the previous one."""
    xt = Tensor(x, requires_grad=True)
    curve = xt.tanh()
    curves = [curve.data]
    for _ in range(order):
        (curve,) = grad(curve.sum(), xt, create_graph=True)  # a Tensor with a graph of its own
        curves.append(curve.data)
    return curves


def main(quick: bool = False, out: Path | None = None) -> dict:
    import matplotlib.pyplot as plt  # _common has chosen the Agg backend

    folder = output_dir("derivatives", out)
    x = np.linspace(*RANGE, QUICK_POINTS if quick else POINTS)
    curves = nested_derivatives(x)
    errors = [float(np.abs(c - e).max()) for c, e in zip(curves, closed_forms(x))]
    for k, error in enumerate(errors):
        name = "tanh" if k == 0 else f"derivative {k}"
        print(f"{name:>13}: max |nested grad - closed form| = {error:.1e} over {x.size} points")

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for k, curve in enumerate(curves):
        ax.plot(x, curve, label="tanh(x)" if k == 0 else f"derivative {k}")
    ax.set(title="tanh and its derivatives, by nested grad", xlabel="x")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    path = save_figure(fig, folder / "derivatives.png")
    return {"x": x, "curves": curves, "errors": errors, "picture": path}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
