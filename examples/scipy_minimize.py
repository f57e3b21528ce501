"""Train a network with scipy.optimize.minimize, fed npgrad's exact gradients (seed tutorial 003).

The tutorial fits a one-hidden-layer sigmoid network (6 weights, no biases, linear output, sum of
squared errors) to a four-row table by handing `minimize` the loss alone, so scipy estimates each
gradient by finite differences: 264 loss evaluations for 32 iterations. Here nn.utils'
flat-parameter bridge hands it the loss and its gradient together (`jac=True`). The table's y is
1 - x2, which a line separates; the real XOR is fitted second, with biases. Fit is Pearson's r.

Second order: both are fitted again from the same start by Newton-CG and trust-ncg, which also
take exact Hessian-vector products (`hessp=nn.utils.hessian_vector_product(...)`, a second
backward pass through the recorded first one), next to BFGS. Each runs until the SSE is 1e-10
and reports what that cost: iterations, loss+gradient evaluations and Hessian-vector products.

`value_and_grad` and `hessian_vector_product` compile themselves (COMPILE below): the first
call records the forward and backward pass, later calls replay them as one numpy function with
the same bits, two to three times as fast per call (benchmarks/bench_functions.py).

Run: python examples/scipy_minimize.py [--quick] [--out DIR]    (pictures in out/scipy_minimize/)
"""

from pathlib import Path

import numpy as np
from _common import output_dir, parse_args, plot_curves, save_figure
from scipy.optimize import check_grad, minimize
from scipy.stats import pearsonr

import nn
from nn.utils import (
    hessian_vector_product,
    parameters_to_vector,
    value_and_grad,
    vector_to_parameters,
)

SEED = 0
X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
TABLE_Y = np.array([[1.0], [0.0], [0.0], [1.0]])  # the tutorial's data.csv
XOR_Y = np.array([[1.0], [1.0], [0.0], [0.0]])
TUTORIAL = {"r": 1.0, "nit": 32, "nfev": 264}  # its printed result (numerical gradients)
METHODS = ("BFGS", "Newton-CG", "trust-ncg")
TARGET_SSE = 1e-10  # the second-order race ends here (the callback stops each method)
# Tolerances tight enough that no method stops on its own before the target; a cap on steps.
TIGHT = {"BFGS": {"gtol": 1e-12}, "Newton-CG": {"xtol": 1e-12}, "trust-ncg": {"gtol": 1e-12}}
MAX_ITERATIONS = 1000
COMPILE = True  # replay the recorded loss and gradient (False: every call runs eagerly)


def fit(y, bias: bool, method: str) -> dict:
    """Sigmoid hidden layer of 2, linear output, SSE: minimised over the flat parameter vector."""
    model = nn.MLP([2, 2, 1], activation="sigmoid", bias=bias, rng=np.random.default_rng(SEED))
    f = value_and_grad(model, nn.MSELoss(reduction="sum"), X, y, compile=COMPILE)
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
            "predicted": predicted, "losses": losses, "method": method, "compiled": f.compiled}


def make_model(bias: bool):
    """The network of `fit`, from the same start (SEED)."""
    return nn.MLP([2, 2, 1], activation="sigmoid", bias=bias, rng=np.random.default_rng(SEED))


def race(y, bias: bool, method: str) -> dict:
    """Minimise the SSE with `method` from the same start until it reaches TARGET_SSE.

    Newton-CG and trust-ncg get the exact Hessian-vector product as `hessp`; `nhev` counts it.
    """
    model = make_model(bias)
    loss = nn.MSELoss(reduction="sum")
    second_order = method != "BFGS"
    hessp = ({"hessp": hessian_vector_product(model, loss, X, y, compile=COMPILE)}
             if second_order else {})
    losses = []

    def callback(intermediate_result):
        losses.append(intermediate_result.fun)
        if intermediate_result.fun <= TARGET_SSE:
            raise StopIteration  # scipy ends the run and reports what it has (scipy >= 1.11)

    f = value_and_grad(model, loss, X, y, compile=COMPILE)
    res = minimize(f, parameters_to_vector(model), jac=True, method=method, callback=callback,
                   **hessp,
                   options={**TIGHT[method], "maxiter": MAX_ITERATIONS})
    return {"method": method, "nit": int(res.nit), "nfev": int(res.nfev),
            "nhev": int(res.nhev) if second_order else 0, "sse": float(res.fun),
            "reached": bool(res.fun <= TARGET_SSE), "losses": losses, "message": res.message}


def hessp_error(y, bias: bool) -> float:
    """max |H p - (g(theta + eps p) - g(theta - eps p)) / 2 eps| at the start over random p: the
    exact Hessian-vector product against central differences of the exact gradient."""
    model, loss = make_model(bias), nn.MSELoss(reduction="sum")
    f, hessp = value_and_grad(model, loss, X, y), hessian_vector_product(model, loss, X, y)
    theta, eps = parameters_to_vector(model), 1e-6
    directions = np.random.default_rng(SEED).standard_normal((5, theta.size))
    return max(float(np.abs(hessp(theta, p) - (f(theta + eps * p)[1] - f(theta - eps * p)[1])
                            / (2 * eps)).max()) for p in directions)


def smallest_eigenvalue(y, bias: bool) -> float:
    """The Hessian's smallest eigenvalue at the start (one product per unit vector makes it)."""
    model = make_model(bias)
    hessp = hessian_vector_product(model, nn.MSELoss(reduction="sum"), X, y)
    theta = parameters_to_vector(model)
    hessian = np.stack([hessp(theta, e) for e in np.eye(theta.size)])
    return float(np.linalg.eigvalsh(hessian).min())


def second_order(name: str, y, bias: bool) -> dict:
    """BFGS, Newton-CG and trust-ncg from the same start to TARGET_SSE, printed as a table."""
    results = {method: race(y, bias, method) for method in METHODS}
    curvature, error = smallest_eigenvalue(y, bias), hessp_error(y, bias)
    print(f"{name}, to SSE {TARGET_SSE:.0e} from the same start: H p vs central differences of "
          f"the gradient {error:.1e}; smallest Hessian eigenvalue at the start {curvature:.3f}")
    print(f"  {'method':<10} {'iterations':>10} {'loss+gradient':>14} {'H p':>5}  result")
    for method, r in results.items():
        result = "reached" if r["reached"] else (f"stopped at SSE {r['sse']:.1e} "
                                                 f"(scipy: {r['message']})")
        print(f"  {method:<10} {r['nit']:>10} {r['nfev']:>14} {r['nhev']:>5}  {result}")
    return {"methods": results, "smallest_eigenvalue": curvature, "hessp_error": error}


def plot_races(races: dict, path: Path) -> Path:
    """The loss per iteration of each method, one panel per problem (log-log)."""
    import matplotlib.pyplot as plt  # _common has chosen the Agg backend

    fig, axes = plt.subplots(1, len(races), figsize=(9, 3.4))
    for ax, (title, race_results) in zip(axes, races.items()):
        for method, r in race_results["methods"].items():
            ax.plot(range(1, len(r["losses"]) + 1), r["losses"], label=method)
        ax.axhline(TARGET_SSE, color="grey", linestyle=":", linewidth=1)
        ax.set(title=title, xlabel="iteration", ylabel="sum of squared errors", xscale="log",
               yscale="log")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return save_figure(fig, path)


def report(name: str, y, result: dict) -> None:
    print(f"{name}: {result['parameters']} parameters, {result['method']} with jac=True")
    print(f"  gradient vs scipy check_grad finite differences: norm of difference "
          f"{result['grad_error']:.1e}")
    compiled = " (compiled)" if result["compiled"] else ""
    print(f"  {result['nit']} iterations, {result['nfev']} loss+gradient evaluations{compiled}, "
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
    races = {"tutorial's table": second_order("tutorial's table", TABLE_Y, bias=False),
             "XOR": second_order("XOR", XOR_Y, bias=True)}
    print("Where the loss curves downward (a negative eigenvalue), Newton-CG cuts its conjugate "
          "gradients short\nand creeps; trust-ncg follows that direction to the edge of its "
          "trust region.")
    plot_races(races, folder / "scipy_minimize_second_order.png")
    return {"table": table, "xor": xor, "second_order": races}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
