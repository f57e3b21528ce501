"""Gaussian-process regression whose kernel is fitted by L-BFGS on exact gradients of plain numpy.

The negative log marginal likelihood is written the way a textbook writes it (Rasmussen and
Williams, algorithm 2.1): a squared-exponential kernel matrix, its Cholesky factor from
`np.linalg.cholesky`, two triangular solves (`autograd.scipy.linalg.cho_solve`), the log
determinant from the factor's diagonal. No Tensor appears: `value_and_grad(nlml)` returns the
value and the gradient with respect to the three log hyperparameters (length scale, signal
variance, noise variance) for `scipy.optimize.minimize(jac=True)`. The data are drawn from a GP
with known hyperparameters, so the fit can be compared with the ones that made the data.
`value_and_grad(..., compile=True)` records the first call and replays the later ones as one
numpy function with the same bits; x and y, read from the closure, are watched for changes.

Run: python examples/gaussian_process.py [--quick] [--out DIR]  (picture in out/gaussian_process/)
"""

from pathlib import Path

import numpy as np
from _common import output_dir, parse_args, save_figure
from scipy.optimize import minimize

from autograd.scipy.linalg import cho_solve
from autograd.transforms import value_and_grad

SEED = 0
TRUE_LOG_PARAMS = np.log([0.7, 1.5, 0.05])  # length scale, signal variance, noise variance
POINTS, QUICK_POINTS = 120, 80
INTERVAL = (-5.0, 5.0)
JITTER = 1e-8  # keeps the factorisation defined while the optimizer tries a tiny noise
COMPILE = True  # replay the recorded likelihood and gradient (False: every call runs eagerly)


def kernel(a, b, log_length, log_signal):
    """Squared-exponential covariance between the points of a (n,) and b (m,): (n, m)."""
    scaled = (a[:, None] - b[None, :]) / np.exp(log_length)
    return np.exp(log_signal) * np.exp(-0.5 * scaled**2)


def make_data(points: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Points sampled from the GP prior with TRUE_LOG_PARAMS, plus its noise."""
    x = np.sort(rng.uniform(*INTERVAL, size=points))
    log_length, log_signal, log_noise = TRUE_LOG_PARAMS
    cov = kernel(x, x, log_length, log_signal) + (np.exp(log_noise) + JITTER) * np.eye(points)
    return x, np.linalg.cholesky(cov) @ rng.standard_normal(points)


def negative_log_marginal_likelihood(params, x, y):
    """-log p(y | x, params) for params = (log length, log signal variance, log noise variance)."""
    log_length, log_signal, log_noise = params[0], params[1], params[2]
    cov = kernel(x, x, log_length, log_signal) + (np.exp(log_noise) + JITTER) * np.eye(len(x))
    factor = np.linalg.cholesky(cov)
    alpha = cho_solve((factor, True), y)
    return (0.5 * y @ alpha + np.sum(np.log(np.diagonal(factor)))
            + 0.5 * len(x) * np.log(2 * np.pi))


def posterior(params, x, y, grid):
    """The posterior mean and standard deviation of the noise-free function at `grid`."""
    log_length, log_signal, log_noise = params
    cov = kernel(x, x, log_length, log_signal) + (np.exp(log_noise) + JITTER) * np.eye(len(x))
    factor = np.linalg.cholesky(cov)
    cross = kernel(grid, x, log_length, log_signal)
    mean = cross @ cho_solve((factor, True), y)
    v = np.linalg.solve(factor, cross.T)
    variance = np.exp(log_signal) - np.sum(v**2, axis=0)
    return mean, np.sqrt(np.maximum(variance, 0.0))


def central_difference_error(f, params, eps: float = 1e-6) -> float:
    """max |exact gradient - central difference| at `params`."""
    exact = f(params)[1]
    steps = np.eye(len(params)) * eps
    numeric = np.array([(f(params + s)[0] - f(params - s)[0]) / (2 * eps) for s in steps])
    return float(np.abs(exact - numeric).max())


def plot(x, y, grid, mean, std, path: Path) -> Path:
    import matplotlib.pyplot as plt  # _common has chosen the Agg backend

    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.fill_between(grid, mean - 2 * std, mean + 2 * std, alpha=0.25, label="mean ± 2 sd")
    ax.plot(grid, mean, label="posterior mean")
    ax.plot(x, y, "k.", markersize=4, label="data")
    ax.set(title="GP regression, hyperparameters fitted by L-BFGS", xlabel="x", ylabel="y")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def main(quick: bool = False, out: Path | None = None) -> dict:
    folder = output_dir("gaussian_process", out)
    rng = np.random.default_rng(SEED)
    x, y = make_data(QUICK_POINTS if quick else POINTS, rng)
    f = value_and_grad(lambda params: negative_log_marginal_likelihood(params, x, y),
                       compile=COMPILE)
    start = np.zeros(3)
    grad_error = central_difference_error(f, start)
    res = minimize(f, start, jac=True, method="L-BFGS-B")
    fitted = np.exp(res.x)
    print(f"gradient vs central differences at the start: max difference {grad_error:.1e}")
    print(f"L-BFGS-B: {res.nit} iterations, {res.nfev} value+gradient evaluations"
          f"{' (compiled)' if f.compiled else ''}, "
          f"-log marginal likelihood {f(start)[0]:.3f} -> {res.fun:.3f} "
          f"(at the generating hyperparameters {f(TRUE_LOG_PARAMS)[0]:.3f})")
    for name, true, got in zip(("length scale", "signal variance", "noise variance"),
                               np.exp(TRUE_LOG_PARAMS), fitted):
        print(f"  {name:<16} generating {true:.3f}  fitted {got:.3f}")
    grid = np.linspace(*INTERVAL, 300)
    mean, std = posterior(res.x, x, y, grid)
    plot(x, y, grid, mean, std, folder / "gaussian_process.png")
    return {"fitted": fitted, "true": np.exp(TRUE_LOG_PARAMS), "nlml": float(res.fun),
            "nlml_start": float(f(start)[0]), "nlml_true": float(f(TRUE_LOG_PARAMS)[0]),
            "grad_error": grad_error, "success": bool(res.success), "grid": grid, "mean": mean,
            "std": std, "compiled": f.compiled}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
