"""autograd.scipy.stats against scipy.stats: norm.logpdf, pdf and cdf with broadcast loc and
scale, and multivariate_normal.logpdf with scipy's shapes: values, gradients (closed forms,
central differences, gradgradcheck), tails, float32, plain arrays in and out."""

import numpy as np
import pytest

from autograd import Tensor, gradcheck, gradgradcheck
from autograd.scipy.stats import multivariate_normal, norm
from autograd.transforms import grad

scipy_stats = pytest.importorskip("scipy.stats")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4))
LOC = RNG.normal(size=4)
SCALE = RNG.uniform(0.5, 2.0, size=(3, 1))


@pytest.mark.parametrize("name", ["logpdf", "pdf"])
def test_values_match_scipy_with_broadcasting_and_defaults(name):
    ours, theirs = getattr(norm, name), getattr(scipy_stats.norm, name)
    np.testing.assert_allclose(ours(X), theirs(X), rtol=1e-14)
    np.testing.assert_allclose(ours(X, LOC, SCALE), theirs(X, LOC, SCALE), rtol=1e-14)
    np.testing.assert_allclose(ours(X, scale=3.0), theirs(X, scale=3.0), rtol=1e-14)


def test_tails_stay_finite_in_log_space():
    x = np.array([-1e10, -40.0, 40.0, 1e150])
    np.testing.assert_allclose(norm.logpdf(x), scipy_stats.norm.logpdf(x), rtol=1e-14)
    np.testing.assert_array_equal(norm.pdf(x)[[0, 3]], [0.0, 0.0])


def test_gradients_are_the_closed_forms():
    gx, gloc, gscale = grad(lambda x, m, s: np.sum(norm.logpdf(x, m, s)), (0, 1, 2))(
        X, LOC, SCALE)
    z = (X - LOC) / SCALE
    np.testing.assert_allclose(gx, -z / SCALE, rtol=1e-13)
    np.testing.assert_allclose(gloc, np.sum(z / SCALE, axis=0), rtol=1e-13)
    np.testing.assert_allclose(gscale, np.sum((z * z - 1) / SCALE, axis=1, keepdims=True),
                               rtol=1e-13)
    args = [Tensor(a, requires_grad=True) for a in (X, LOC, SCALE)]
    for fn in (norm.logpdf, norm.pdf):
        assert gradcheck(fn, *args) and gradgradcheck(fn, *args)


def test_plain_in_plain_out_and_float32_kept():
    assert type(norm.logpdf(0.5)) is np.float64
    np.testing.assert_allclose(norm.pdf(0.0), 1 / np.sqrt(2 * np.pi), rtol=1e-15)
    out = norm.logpdf(Tensor(X.astype(np.float32)), 1.0, 2.0)
    assert isinstance(out, Tensor) and out.dtype == np.float32


def test_norm_cdf_matches_scipy_in_both_tails_and_its_gradient_is_the_pdf():
    x = np.array([-40.0, -30.0, -5.0, -0.3, 0.0, 1.0, 8.0, 40.0])
    # at -30 the rounding of x / sqrt 2 is amplified 2 z^2 = 900 times: 1e-13 relative
    np.testing.assert_allclose(norm.cdf(x), scipy_stats.norm.cdf(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(norm.cdf(X, LOC, SCALE), scipy_stats.norm.cdf(X, LOC, SCALE),
                               rtol=1e-13)
    gx, gloc, gscale = grad(lambda a, m, s: np.sum(norm.cdf(a, m, s)), (0, 1, 2))(X, LOC, SCALE)
    pdf = scipy_stats.norm.pdf(X, LOC, SCALE)
    np.testing.assert_allclose(gx, pdf, rtol=1e-13)
    np.testing.assert_allclose(gloc, -pdf.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(gscale, -(pdf * (X - LOC) / SCALE).sum(axis=1, keepdims=True),
                               rtol=1e-12)
    args = [Tensor(a, requires_grad=True) for a in (X, LOC, SCALE)]
    assert gradcheck(norm.cdf, *args) and gradgradcheck(norm.cdf, *args)


# ---------------------------------------------------------------- multivariate_normal
def _spd(d, seed=1):
    a = np.random.default_rng(seed).normal(size=(d, d))
    return a @ a.T + d * np.eye(d)


@pytest.mark.parametrize("args", [
    (RNG.normal(size=(5, 3)), RNG.normal(size=3), _spd(3)),  # points per row
    (RNG.normal(size=3), RNG.normal(size=3), _spd(3)),  # one point
    (RNG.normal(size=(2, 1, 3)), np.zeros(3), _spd(3)),  # batch axes, size-1 squeezed
    (RNG.normal(size=(4, 3)), np.ones(3), np.array([1.0, 2.0, 0.5])),  # diagonal cov
    (RNG.normal(size=4), None, 2.0),  # d = 1: four points
    (0.3, 1.0, 2.0), (np.zeros((0, 3)), np.zeros(3), _spd(3)),
], ids=["rows", "point", "batch", "diagonal", "d=1", "scalar", "empty"])
def test_multivariate_normal_logpdf_matches_scipy(args):
    ours = multivariate_normal.logpdf(*args)
    theirs = scipy_stats.multivariate_normal.logpdf(*args)
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(multivariate_normal.pdf(*args),
                               scipy_stats.multivariate_normal.pdf(*args), rtol=1e-12)


def test_multivariate_normal_gradients_closed_form_and_second_order():
    x, mean, cov = RNG.normal(size=(4, 3)), RNG.normal(size=3), _spd(3)
    gx, gmean, gcov = grad(lambda a, m, c: np.sum(multivariate_normal.logpdf(a, m, c)),
                           (0, 1, 2))(x, mean, cov)
    inv = np.linalg.inv(cov)
    diff = x - mean
    np.testing.assert_allclose(gx, -diff @ inv, rtol=1e-12)
    np.testing.assert_allclose(gmean, (diff @ inv).sum(axis=0), rtol=1e-12)
    # cov's gradient, as the Cholesky factor reads it: only the lower triangle, the
    # symmetric gradient S = (inv diff^T diff inv - n inv) / 2 folded onto it
    s = 0.5 * (inv @ diff.T @ diff @ inv - len(x) * inv)
    np.testing.assert_allclose(gcov, np.tril(s + s.T) - np.diag(np.diag(s)), rtol=1e-10,
                               atol=1e-12)
    args = [Tensor(a, requires_grad=True) for a in (x, mean, cov)]
    assert gradcheck(lambda a, m, c: multivariate_normal.logpdf(a, m, (c + c.T) / 2), *args)
    assert gradgradcheck(lambda a, m, c: multivariate_normal.logpdf(a, m, (c + c.T) / 2), *args)


def test_multivariate_normal_refuses_what_it_cannot_do():
    with pytest.raises(NotImplementedError, match="allow_singular"):
        multivariate_normal.logpdf(np.zeros(2), allow_singular=True)
    with pytest.raises(ValueError, match=r"x of shape \(4, 2\) has points of 2 elements, not 3"):
        multivariate_normal.logpdf(np.zeros((4, 2)), np.zeros(3), np.eye(3))
