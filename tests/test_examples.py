"""Run every seed example in its quick mode and check what it learnt, printed and drew.

Each `main(quick=True, out=tmp_path)` returns its metrics, asserted against thresholds that beat
the tutorials' published figures; warnings are errors (no overflow on raw inputs). The demo also
runs as `make demo` does, once with graphviz's `dot` hidden from PATH; graphs are read from the
SVG, or from the .gv source an example writes instead when `dot` is not installed.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from dot_source import graph_texts

import nn
from autograd.transforms import value_and_grad as autograd_value_and_grad

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SVG = "{http://www.w3.org/2000/svg}"
pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def load(monkeypatch):
    """Import examples/<name>.py as a fresh module (its siblings importable, as when run)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))

    def load(name):
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def assert_png(path):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"


def svg_width_px(path):
    """A picture's width in px at 96 dpi, and the scale graphviz shrank it by to fit (1: none)."""
    root = ET.parse(path).getroot()
    graph = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "graph")
    scale = float(re.search(r"scale\(([\d.]+)", graph.get("transform")).group(1))
    return float(root.get("width").removesuffix("pt")) * 96 / 72, scale


def drawn_graph(folder, stem):
    """The graph an example drew: stem.svg, or without `dot` the stem.gv source it wrote instead."""
    path = folder / f"{stem}{'.svg' if shutil.which('dot') else '.gv'}"
    assert path.exists(), f"{path.name} not written"
    return path


def test_breast_cancer_standardised_beats_raw(load, tmp_path, capsys):
    result = load("breast_cancer").main(quick=True, out=tmp_path)
    assert result["standardised_test"] >= 0.9
    assert result["standardised_train"] >= 0.95
    assert result["standardised_train"] > result["raw_train"]
    out = capsys.readouterr().out
    assert "online SGD, raw features" in out and "Why standardise:" in out
    assert_png(tmp_path / "breast_cancer_loss.png")


def test_network_2_3_2_starts_from_the_tutorials_weights_and_learns(load, tmp_path, capsys):
    result = load("network_2_3_2").main(quick=True, out=tmp_path)
    # The tutorial's printout of W1 after np.random.seed(1).
    np.testing.assert_allclose(result["first_weight"], [[1.14858562, -0.43257711, -0.37347383],
                                                        [-0.75870339, 0.6119356, -1.62743362]])
    assert result["accuracy"] == 1.0 and result["loss"] < 0.01
    assert "hidden relu activations" in capsys.readouterr().out
    names = [name for name, _ in nn.MLP([2, 3, 2]).named_parameters()]
    texts = graph_texts(drawn_graph(tmp_path, "network_2_3_2_graph"))
    assert set(names) <= set(texts) and "relu" in texts and "sigmoid" in texts
    assert_png(tmp_path / "network_2_3_2_loss.png")


def test_xor_solves_the_table(load, tmp_path, capsys):
    result = load("xor").main(quick=True, out=tmp_path)
    assert result["accuracy"] == 1.0
    np.testing.assert_allclose(result["outputs"].ravel(), [0, 1, 1, 0], atol=0.1)
    assert "[1, 1] ->" in capsys.readouterr().out
    assert_png(tmp_path / "xor_surface.png")


def test_digits_beats_the_tutorials_93_percent(load, tmp_path, capsys):
    result = load("digits").main(quick=True, out=tmp_path)
    assert result["accuracy"] > 0.93
    out = capsys.readouterr().out
    assert "confusion matrix" in out and "macro avg" in out  # scikit-learn's report
    assert f"npgrad {result['accuracy']:.1%}" in out and "tutorial 93%" in out
    assert_png(tmp_path / "digits_loss.png")


def test_digits_cnn_learns_in_its_quick_mode_and_draws_its_filters(load, tmp_path, capsys):
    # 3 epochs reach about 95% (the full 20 reach 98.9%, checked by hand: see the README).
    result = load("digits_cnn").main(quick=True, out=tmp_path)
    assert result["accuracy"] > 0.9 and result["train_accuracy"] > 0.85
    assert f"CNN {result['accuracy']:.1%}" in capsys.readouterr().out
    for name in ("loss", "accuracy", "filters"):
        assert_png(tmp_path / f"digits_cnn_{name}.png")


def test_scipy_minimize_fits_both_tables_with_exact_gradients(load, tmp_path):
    result = load("scipy_minimize").main(quick=True, out=tmp_path)
    for fit in result["table"], result["xor"]:
        assert fit["success"] and fit["r"] > 0.9999 and fit["sse"] < 1e-6
        assert fit["grad_error"] < 1e-5
        # Finite differences cost the tutorial 264 evaluations; exact gradients need ~1 a step.
        assert fit["nfev"] < 2 * fit["nit"] + 10 < 264
    assert result["table"]["parameters"] == 6 and result["xor"]["parameters"] == 9
    assert_png(tmp_path / "scipy_minimize_loss.png")


def test_moons_beats_the_tutorials_85_and_83_percent(load, tmp_path, capsys):
    result = load("moons").main(quick=True, out=tmp_path)
    assert result["train_accuracy"] > 0.9 and result["test_accuracy"] > 0.9
    assert "tutorial (published)" in capsys.readouterr().out
    assert_png(tmp_path / "moons_loss.png")
    assert_png(tmp_path / "moons_boundary.png")


def test_demo_prints_accuracy_and_confusion_matrix_and_draws_a_training_step(load, tmp_path,
                                                                              capsys):
    result = load("demo").main(quick=True, out=tmp_path)
    assert result["accuracy"] > 0.93
    out = capsys.readouterr().out
    assert f"test accuracy {result['accuracy']:.1%}" in out and "confusion matrix" in out
    assert_png(tmp_path / "demo_loss.png")
    assert result["graph"] == drawn_graph(tmp_path, "demo_step")
    texts = graph_texts(result["graph"])
    names = [name for name, _ in nn.MLP([64, 100, 10], activation="tanh").named_parameters()]
    assert set(names) <= set(texts) and "tanh" in texts
    assert any(text.startswith("grad ") for text in texts)  # the step's gradients are drawn


@pytest.mark.needs_dot
def test_demo_step_graph_fits_a_notebook_unscaled(load, tmp_path):
    """The demo's picture of a step, values and all, within 1,000 px at 96 dpi, text unshrunk."""
    digits, demo = load("digits"), load("demo")
    nn.manual_seed(digits.SEED)
    X_train, _, y_train, _ = digits.load()
    path = demo.draw_step(digits.make_model(), X_train[:demo.STEP_IMAGES],
                          y_train[:demo.STEP_IMAGES], tmp_path / "demo_step.svg")
    width, scale = svg_width_px(path)
    assert width <= 1000 and scale == 1


def test_demo_without_dot_still_finishes_and_says_how_to_get_the_svg(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # a PATH with no `dot` on it
    done = subprocess.run([sys.executable, "-W", "error", str(EXAMPLES / "demo.py"), "--quick",
                           "--out", "pictures"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout and "confusion matrix" in done.stdout
    assert "apt-get install graphviz" in done.stdout
    assert "dot -Tsvg pictures/demo_step.gv -o pictures/demo_step.svg" in done.stdout
    assert "fit: 100%" in done.stderr  # the tqdm progress bar
    assert_png(tmp_path / "pictures" / "demo_loss.png")
    assert "layers" in (tmp_path / "pictures" / "demo_step.gv").read_text()
    assert not (tmp_path / "pictures" / "demo_step.svg").exists()


def test_quick_mode_can_come_from_the_environment(load, monkeypatch):
    common = load("_common")
    assert not common.parse_args("doc", []).quick
    monkeypatch.setenv(common.QUICK_ENV, "1")
    args = common.parse_args("doc", ["--out", "somewhere"])
    assert args.quick and args.out == Path("somewhere")


# ---------------------------------------------------------------- examples/sklearn_pipeline.py
# (issue 14: npgrad's scikit-learn estimator beside sklearn's own MLP)
def test_sklearn_pipeline_cross_validates_both_mlps_and_prints_scores_and_times(load, tmp_path,
                                                                                capsys):
    result = load("sklearn_pipeline").main(quick=True, out=tmp_path)
    assert result["npgrad_accuracy"] >= 0.94  # the majority class alone is 62.7%
    assert result["scikit-learn_accuracy"] >= 0.94
    assert abs(result["npgrad_accuracy"] - result["scikit-learn_accuracy"]) < 0.03
    assert result["npgrad_epochs"] == result["scikit-learn_epochs"] == 40
    assert result["npgrad_fit_time"] > 0 and result["scikit-learn_fit_time"] > 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith(("npgrad ", "scikit-learn "))]
    assert len(rows) == 2 and all("%" in row and " s " in row for row in rows)
    folds = (tmp_path / "folds.csv").read_text().splitlines()
    assert folds[0] == "model,fold,accuracy,fit_time_s,epochs" and len(folds) == 1 + 2 * 5

# ---------------------------------------------------------------- higher order (issue 11)
def test_derivatives_of_tanh_by_nested_grad_match_the_closed_forms(load, tmp_path, capsys):
    example = load("derivatives")
    result = example.main(quick=True, out=tmp_path)
    assert len(result["curves"]) == 5  # tanh and four derivatives
    assert max(result["errors"]) < 1e-12
    # The closed forms themselves: each is the slope of the one before, on a fine grid.
    x = np.linspace(-3, 3, 6001)
    forms = example.closed_forms(x)
    for lower, higher in zip(forms, forms[1:]):
        np.testing.assert_allclose(np.gradient(lower, x)[1:-1], higher[1:-1], atol=1e-4)
    assert "derivative 4: max |nested grad - closed form|" in capsys.readouterr().out
    assert_png(tmp_path / "derivatives.png")


def test_scipy_minimize_second_order_methods_with_exact_hessian_vector_products(load, tmp_path,
                                                                               capsys):
    result = load("scipy_minimize").main(quick=True, out=tmp_path)
    races = result["second_order"]
    for race in races.values():
        assert race["hessp_error"] < 1e-7  # H p vs central differences of the gradient
        bfgs, trust = race["methods"]["BFGS"], race["methods"]["trust-ncg"]
        assert bfgs["reached"] and trust["reached"]
        assert trust["nit"] < bfgs["nit"]  # fewer iterations to the same SSE
        assert trust["nhev"] > 0 and bfgs["nhev"] == 0
    # On the tutorial's table Newton-CG reaches its SSE in fewer iterations than BFGS needs for it
    table = races["tutorial's table"]["methods"]
    newton = table["Newton-CG"]
    assert newton["sse"] < 1e-7
    bfgs_iterations = next(i + 1 for i, loss in enumerate(table["BFGS"]["losses"])
                           if loss <= newton["sse"])
    assert newton["nit"] < bfgs_iterations
    # On XOR the loss curves downward at the start: Newton-CG crawls, trust-ncg does not.
    xor = races["XOR"]
    assert xor["smallest_eigenvalue"] < 0
    assert xor["methods"]["Newton-CG"]["reached"]
    assert xor["methods"]["Newton-CG"]["nit"] > 3 * xor["methods"]["trust-ncg"]["nit"]
    out = capsys.readouterr().out
    assert "trust-ncg" in out and "H p" in out
    assert_png(tmp_path / "scipy_minimize_second_order.png")


# ---------------------------------------------------------------- custom network (issue 10)
# examples/custom_network.py: a skip connection that concatenates and a loss masked to the
# labelled rows, built from nn.Module, nn.Linear and Tensor ops.
def test_custom_network_learns_digits_from_a_third_of_the_labels(load, tmp_path, capsys):
    result = load("custom_network").main(quick=True, out=tmp_path)
    assert result["accuracy"] > 0.93
    assert 0.28 < result["labelled"] / result["train_images"] < 0.38
    assert result["loss"][-1] < 0.5 * result["loss"][0]
    out = capsys.readouterr().out
    assert f"test accuracy {result['accuracy']:.1%}" in out and "labelled of" in out
    assert_png(tmp_path / "custom_network_loss.png")


def test_custom_network_masked_loss_counts_only_labelled_rows(load):
    from autograd import Tensor, gradcheck

    example = load("custom_network")
    rng = np.random.default_rng(0)
    logits = Tensor(rng.normal(size=(5, 10)), requires_grad=True)
    labels = np.array([3, -1, 7, -1, 0])
    loss = example.masked_cross_entropy(logits, labels)
    z = logits.data - logits.data.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -np.mean([log_probs[0, 3], log_probs[2, 7], log_probs[4, 0]])
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    loss.backward()
    np.testing.assert_array_equal(logits.grad[[1, 3]], 0.0)  # unlabelled rows: no gradient
    assert np.abs(logits.grad[[0, 2, 4]]).min(axis=1).all()
    assert gradcheck(lambda t: example.masked_cross_entropy(t, labels), logits)
    nothing = example.masked_cross_entropy(logits, np.full(5, -1))  # a batch without labels
    assert nothing.item() == 0.0


def test_custom_network_output_layer_reads_the_pixels_beside_the_features(load):
    from autograd import Tensor, gradcheck

    example = load("custom_network")
    nn.manual_seed(1)
    model = example.SkipNet(inputs=4, hidden=3, classes=2)
    assert model.out.weight.shape == (4 + 3, 2)
    x = np.random.default_rng(0).normal(size=(5, 4))
    with_features = model(x).data
    model.hidden.weight.data[...] = 0.0  # features gelu(0) = 0: only the skip path is left
    np.testing.assert_allclose(model(x).data, x @ model.out.weight.data[:4] + model.out.bias.data,
                               rtol=1e-12)
    assert not np.allclose(with_features, model(x).data)
    model = example.SkipNet(inputs=4, hidden=3, classes=2)
    assert gradcheck(lambda t: model(t), Tensor(x, requires_grad=True))


def test_makemore_network_beats_the_bigram_counts_and_samples_new_names(load, tmp_path, capsys):
    example = load("makemore")
    result = example.main(quick=True, out=tmp_path)
    assert result["bigram_loss"] > 2.3  # the made-up names are not a bigram source
    assert result["test_loss"] < result["bigram_loss"] - 0.1
    assert result["train_loss"] < result["bigram_loss"] - 0.1
    assert all(set(w) <= set(example.CHARS[1:]) for w in result["samples"])
    assert result["novel"] >= len(result["samples"]) // 2
    assert "bigram counts" in capsys.readouterr().out
    assert_png(tmp_path / "makemore_loss.png")
    words = example.make_words(50, seed=1)
    X, y = example.dataset(words[:2])
    assert len(X) == len(words[0]) + len(words[1]) + 2 and (X[0] == 0).all() and y[-1] == 0


def test_lstm_adding_beats_answering_one(load, tmp_path, capsys):
    example = load("lstm_adding")
    result = example.main(quick=True, out=tmp_path)
    assert result["test_mse"] < 0.1 * result["baseline_mse"]
    assert "LSTM says" in capsys.readouterr().out
    assert_png(tmp_path / "lstm_adding_loss.png")
    x, y = example.adding_batch(64, 10, np.random.default_rng(0))
    assert (x[:, :, 1].sum(axis=1) == 2).all() and (x[:, :5, 1].sum(axis=1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(axis=1))


def test_gaussian_process_fits_hyperparameters_near_the_generating_ones(load, tmp_path, capsys):
    example = load("gaussian_process")
    result = example.main(quick=True, out=tmp_path)
    assert result["success"] and result["grad_error"] < 1e-6
    # L-BFGS reaches the maximum likelihood: below the generating hyperparameters' value.
    assert result["nlml"] < result["nlml_true"] < result["nlml_start"]
    np.testing.assert_array_less(np.abs(np.log(result["fitted"] / result["true"])), np.log(2))
    # The band is narrowest where the data are, and never wider than the prior's 2 sd.
    assert np.all(result["std"] <= np.sqrt(result["fitted"][1]) + 1e-9)
    assert "L-BFGS-B:" in capsys.readouterr().out
    assert_png(tmp_path / "gaussian_process.png")


def test_gaussian_process_likelihood_matches_scipy_and_its_gradient_central_differences(load):
    stats = pytest.importorskip("scipy.stats")
    example = load("gaussian_process")
    x, y = example.make_data(15, np.random.default_rng(1))
    params = np.array([0.3, -0.2, -1.5])
    cov = (example.kernel(x, x, *params[:2])
           + (np.exp(params[2]) + example.JITTER) * np.eye(len(x)))
    expected = -stats.multivariate_normal(np.zeros(len(x)), cov).logpdf(y)
    value = example.negative_log_marginal_likelihood(params, x, y)
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    f = autograd_value_and_grad(lambda p: example.negative_log_marginal_likelihood(p, x, y))
    assert example.central_difference_error(f, params) < 1e-6


def test_variational_inference_finds_the_exact_gaussian_posterior_and_a_close_logistic_one(
        load, tmp_path, capsys):
    result = load("variational_inference").main(quick=True, out=tmp_path)
    linear, logistic = result["linear"], result["logistic"]
    for fit in (linear, logistic):
        assert fit["grad_error"] < 1e-6
        assert np.mean(fit["history"][-100:]) > fit["history"][0] + 5
    # The conjugate posterior in closed form, which the grid summation also finds.
    np.testing.assert_allclose(linear["grid_mean"], linear["reference_mean"], atol=1e-3)
    # Posterior sd is about 0.08: the mean within an eighth of it, the covariance within 7%.
    np.testing.assert_allclose(linear["mean"], linear["reference_mean"], atol=0.01)
    np.testing.assert_allclose(linear["cov"], linear["reference_cov"], atol=5e-4)
    # Not Gaussian (sd about 0.5): q matches the grid's mean and standard deviations closely.
    np.testing.assert_allclose(logistic["mean"], logistic["reference_mean"], atol=0.05)
    np.testing.assert_allclose(np.sqrt(np.diag(logistic["cov"])),
                               np.sqrt(np.diag(logistic["reference_cov"])), rtol=0.1)
    assert "logistic regression: ELBO gradient" in capsys.readouterr().out
    assert_png(tmp_path / "variational_inference.png")
