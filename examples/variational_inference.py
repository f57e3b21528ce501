"""Black-box variational inference of 2-D posteriors, the ELBO written in plain numpy.

q(w) = N(mean, L L^T), L lower triangular with a positive diagonal, is fitted by maximising the
evidence lower bound E_q[log p(w, data)] + H(q), estimated with the reparameterisation trick
(w = mean + L eps, eps ~ N(0, I)). The estimate is one numpy expression of the parameters, a dict
{"mean", "raw_chol"}; `grad` of it is a dict of the same shape, which a short Adam loop follows.

Two posteriors of two weights: Bayesian linear regression, whose posterior is Gaussian and known
in closed form (so the fit must find it), and Bayesian logistic regression, whose posterior is
not Gaussian; there q is compared with the posterior's mean and covariance computed on a grid.

Run: python examples/variational_inference.py [--quick] [--out DIR]
     (picture in out/variational_inference/)
"""

from pathlib import Path

import numpy as np
from _common import output_dir, parse_args, save_figure

from autograd.transforms import flatten, grad

SEED = 0
POINTS = 40
NOISE = 0.5  # the linear model's known noise standard deviation
TRUE_W = np.array([1.0, -0.7])
SAMPLES = 64  # Monte Carlo draws per ELBO estimate
STEPS, QUICK_STEPS = 3000, 1500
LEARNING_RATE = 0.03
GRID = np.linspace(-4, 4, 401)


def make_data(rng):
    x = rng.standard_normal((POINTS, 2))
    linear_y = x @ TRUE_W + NOISE * rng.standard_normal(POINTS)
    labels = (rng.uniform(size=POINTS) < 1 / (1 + np.exp(-x @ (2 * TRUE_W)))).astype(float)
    return x, linear_y, labels


def linear_log_joint(w, x, y):
    """log N(w; 0, I) + sum log N(y; x w, NOISE^2), up to constants, for w of shape (S, 2)."""
    residual = y - w @ x.T
    return -0.5 * np.sum(w**2, axis=1) - 0.5 * np.sum(residual**2, axis=1) / NOISE**2


def logistic_log_joint(w, x, labels):
    """log N(w; 0, I) + sum log Bernoulli(labels; sigmoid(x w)), up to constants."""
    logits = w @ x.T
    return -0.5 * np.sum(w**2, axis=1) + np.sum(labels * logits - np.logaddexp(0, logits), axis=1)


def cholesky_factor(raw):
    """The lower triangle of raw, its diagonal made positive by exp."""
    return np.tril(raw, -1) + np.diag(np.exp(np.diagonal(raw)))


def elbo(params, log_joint, eps):
    """The reparameterised estimate of E_q[log p] + H(q) (H up to its constant) at draws eps."""
    factor = cholesky_factor(params["raw_chol"])
    w = params["mean"] + eps @ factor.T
    return np.mean(log_joint(w)) + np.sum(np.diagonal(params["raw_chol"]))


def fit(log_joint, steps: int, rng) -> tuple[dict, list[float]]:
    """Adam on -ELBO, fresh draws every step, the step size decayed to 0 over the second half
    (the gradient is noisy: a constant step leaves q jittering around the optimum); returns
    q's parameters and the ELBO per step."""
    params = {"mean": np.zeros(2), "raw_chol": np.zeros((2, 2))}
    gradient = grad(lambda p, eps: -elbo(p, log_joint, eps))
    moment = {k: np.zeros_like(v) for k, v in params.items()}
    second = {k: np.zeros_like(v) for k, v in params.items()}
    history = []
    for step in range(1, steps + 1):
        eps = rng.standard_normal((SAMPLES, 2))
        g = gradient(params, eps)
        for k in params:
            moment[k] = 0.9 * moment[k] + 0.1 * g[k]
            second[k] = 0.999 * second[k] + 0.001 * g[k] ** 2
            decay = min(1.0, 2.0 * (1 - step / (steps + 1)))
            step_size = decay * LEARNING_RATE * np.sqrt(1 - 0.999**step) / (1 - 0.9**step)
            params[k] = params[k] - step_size * moment[k] / (np.sqrt(second[k]) + 1e-8)
        history.append(float(elbo(params, log_joint, eps)))
    return params, history


def gaussian(params) -> tuple[np.ndarray, np.ndarray]:
    """q's mean and covariance."""
    factor = cholesky_factor(params["raw_chol"])
    return params["mean"], factor @ factor.T


def exact_linear_posterior(x, y) -> tuple[np.ndarray, np.ndarray]:
    """The conjugate posterior: cov = (I + x^T x / s^2)^-1, mean = cov x^T y / s^2."""
    cov = np.linalg.inv(np.eye(2) + x.T @ x / NOISE**2)
    return cov @ x.T @ y / NOISE**2, cov


def grid_posterior(log_joint) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The normalised posterior density on GRID x GRID, its mean and covariance by summation."""
    w1, w2 = np.meshgrid(GRID, GRID, indexing="ij")
    points = np.stack([w1.ravel(), w2.ravel()], axis=1)
    log_density = log_joint(points)
    weights = np.exp(log_density - log_density.max())
    weights /= weights.sum()
    mean = weights @ points
    centred = points - mean
    return weights.reshape(w1.shape), mean, (centred * weights[:, None]).T @ centred


def gradient_error(log_joint, rng, eps_size: float = 1e-6) -> float:
    """max |grad ELBO - central differences| at a random q, for fixed draws."""
    params = {"mean": rng.standard_normal(2), "raw_chol": 0.3 * rng.standard_normal((2, 2))}
    eps = rng.standard_normal((SAMPLES, 2))
    exact, unflatten = flatten(grad(lambda p: elbo(p, log_joint, eps))(params))
    theta, _ = flatten(params)
    value = lambda t: elbo(unflatten(t), log_joint, eps)  # noqa: E731
    numeric = np.array([(value(theta + e) - value(theta - e)) / (2 * eps_size)
                        for e in np.eye(theta.size) * eps_size])
    return float(np.abs(exact - numeric).max())


def plot(panels: list[tuple[str, np.ndarray, dict]], path: Path) -> Path:
    import matplotlib.pyplot as plt  # _common has chosen the Agg backend

    fig, axes = plt.subplots(1, len(panels), figsize=(9, 4))
    w1, w2 = np.meshgrid(GRID, GRID, indexing="ij")
    for ax, (title, density, params) in zip(axes, panels):
        mean, cov = gaussian(params)
        points = np.stack([w1 - mean[0], w2 - mean[1]], axis=-1)
        mahalanobis = np.einsum("...i,ij,...j->...", points, np.linalg.inv(cov), points)
        ax.contour(w1, w2, density, levels=6, colors="k", linewidths=0.8)
        ax.contour(w1, w2, mahalanobis, levels=[1, 4], colors="tab:red", linewidths=1.2)
        ax.plot(*TRUE_W if "linear" in title else 2 * TRUE_W, "b+", markersize=10)
        span = 4 * np.sqrt(np.diag(cov)).max()
        ax.set(title=title, xlabel="w1", ylabel="w2", xlim=(mean[0] - span, mean[0] + span),
               ylim=(mean[1] - span, mean[1] + span))
    fig.suptitle("posterior (black) and q's 1 and 2 sd ellipses (red)", fontsize=9)
    return save_figure(fig, path)


def main(quick: bool = False, out: Path | None = None) -> dict:
    folder = output_dir("variational_inference", out)
    rng = np.random.default_rng(SEED)
    x, y, labels = make_data(rng)
    targets = {"linear": lambda w: linear_log_joint(w, x, y),
               "logistic": lambda w: logistic_log_joint(w, x, labels)}
    steps = QUICK_STEPS if quick else STEPS
    result, panels = {}, []
    for name, log_joint in targets.items():
        error = gradient_error(log_joint, rng)
        params, history = fit(log_joint, steps, rng)
        mean, cov = gaussian(params)
        density, grid_mean, grid_cov = grid_posterior(log_joint)
        if name == "linear":
            reference_mean, reference_cov = exact_linear_posterior(x, y)
        else:
            reference_mean, reference_cov = grid_mean, grid_cov
        print(f"{name} regression: ELBO gradient vs central differences {error:.1e}; "
              f"{steps} Adam steps, ELBO {history[0]:.2f} -> {np.mean(history[-100:]):.2f}")
        print(f"  q mean {np.round(mean, 3)}  posterior mean {np.round(reference_mean, 3)}")
        print(f"  q sd   {np.round(np.sqrt(np.diag(cov)), 3)}  posterior sd "
              f"{np.round(np.sqrt(np.diag(reference_cov)), 3)}")
        result[name] = {"mean": mean, "cov": cov, "reference_mean": reference_mean,
                        "reference_cov": reference_cov, "grid_mean": grid_mean,
                        "grid_cov": grid_cov, "history": history, "grad_error": error}
        panels.append((f"{name} regression", density, params))
    plot(panels, folder / "variational_inference.png")
    return result


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
