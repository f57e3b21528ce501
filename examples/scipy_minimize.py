"""Train a network with scipy.optimize.minimize, fed npgrad's exact gradients (seed tutorial 003).

The tutorial fits a one-hidden-layer sigmoid network (6 weights, no biases, linear output, sum of
squared errors) to a four-row table by handing `minimize` the loss alone, so scipy estimates each
gradient by finite differences: 264 loss evaluations for 32 iterations. Here nn.utils'
flat-parameter bridge hands it the loss and its gradient together (`jac=True`). The table's y is
1 - x2, which a line separates; the real XOR is fitted second, with biases. Fit is Pearson's r.

Run: python examples/scipy_minimize.py [--quick] [--out DIR]    (pictures in out/scipy_minimize/)
"""

from pathlib import Path

import numpy as np
from _common import output_dir, parse_args, plot_curves
from scipy.optimize import check_grad, minimize
from scipy.stats import pearsonr

import nn
from nn.utils import parameters_to_vector, value_and_grad, vector_to_parameters

SEED = 0
X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
TABLE_Y = np.array([[1.0], [0.0], [0.0], [1.0]])  # the tutorial's data.csv
XOR_Y = np.array([[1.0], [1.0], [0.0], [0.0]])
TUTORIAL = {"r": 1.0, "nit": 32, "nfev": 264}  # its printed result (numerical gradients)


def fit(y, bias: bool, method: str) -> dict:
    """Sigmoid hidden layer of 2, linear output, SSE: minimised over the flat parameter vector."""
    model = nn.MLP([2, 2, 1], activation="sigmoid", bias=bias, rng=np.random.default_rng(SEED))
    f = value_and_grad(model, nn.MSELoss(reduction="sum"), X, y)
    theta0 = parameters_to_vector(model)
    # How far the bridge's gradient is from scipy's own finite-difference estimate.
    grad_error = check_grad(lambda t: f(t)[0], lambda t: f(t)[1], theta0)
    losses = []
    res = minimize(f, theta0, jac=True, method=method,
                   callback=lambda intermediate_result: losses.append(intermediate_result.fun))
    vector_to_parameters(res.x, model)  # the model holds the last theta tried, not the best
    predicted = model(X).data
    r = float(pearsonr(y.ravel(), predicted.ravel())[0])
    return {"r": r, "sse": float(res.fun), "nit": int(res.nit), "nfev": int(res.nfev),
            "parameters": res.x.size, "grad_error": float(grad_error), "success": res.success,
            "predicted": predicted, "losses": losses, "method": method}


def report(name: str, y, result: dict) -> None:
    print(f"{name}: {result['parameters']} parameters, {result['method']} with jac=True")
    print(f"  gradient vs scipy check_grad finite differences: norm of difference "
          f"{result['grad_error']:.1e}")
    print(f"  {result['nit']} iterations, {result['nfev']} loss+gradient evaluations, "
          f"SSE {result['sse']:.2e}, Pearson r {result['r']:.6f}")
    print(f"  targets {y.ravel().tolist()} -> predictions "
          f"{(np.round(result['predicted'].ravel(), 4) + 0.0).tolist()}")


def main(quick: bool = False, out: Path | None = None) -> dict:
    # `quick` is accepted like every example's, but there is nothing to shorten: it takes ~0.1 s.
    folder = output_dir("scipy_minimize", out)
    table = fit(TABLE_Y, bias=False, method="BFGS")  # the tutorial's network and minimize default
    report("tutorial's table (y = 1 - x2)", TABLE_Y, table)
    print(f"  tutorial: r {TUTORIAL['r']}, {TUTORIAL['nit']} iterations, {TUTORIAL['nfev']} "
          "loss evaluations (gradients by finite differences)")
    xor = fit(XOR_Y, bias=True, method="L-BFGS-B")
    report("XOR", XOR_Y, xor)
    plot_curves({"tutorial's table, BFGS": table["losses"], "XOR, L-BFGS-B": xor["losses"]},
                folder / "scipy_minimize_loss.png", "scipy.optimize.minimize with jac=True",
                xlabel="iteration", ylabel="sum of squared errors", logy=True)
    return {"table": table, "xor": xor}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
