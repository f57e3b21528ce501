"""nn/normalization.py: BatchNorm1d, BatchNorm2d and LayerNorm without PyTorch.

Gradients against float64 central differences, outputs and running statistics against numpy
formulas written out here, the training/eval switch, buffers in state_dict and saved files, and
the errors for bad arguments.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Tensor, gradcheck, gradgradcheck, no_grad

RNG = np.random.default_rng(0)


def projected(module, x, seed=1):
    """A scalar <P, module(x)> with fixed random P: a plain sum of a normalised output is
    constant, so its gradient would test nothing."""
    projection = np.random.default_rng(seed).normal(size=module(x).shape)
    return lambda x: (module(x) * projection).sum()


def numpy_batch_norm(x, weight, bias, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (-1,) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight.reshape(shape) + bias.reshape(shape)


def randomise(module, seed=3):
    for p in module.parameters():
        p.data[...] = np.random.default_rng(seed).normal(size=p.shape) + 1
    return module


# ---------------------------------------------------------------- batch norm: values
@pytest.mark.parametrize("layer,shape", [(nn.BatchNorm1d, (6, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                         (nn.BatchNorm2d, (3, 2, 4, 5))])
def test_batch_norm_training_output_and_running_stats_follow_the_formulas(layer, shape):
    bn = randomise(layer(shape[1], momentum=0.25))
    expected_mean, expected_var = np.zeros(shape[1]), np.ones(shape[1])
    axes = (0,) + tuple(range(2, len(shape)))
    for step in range(3):
        x = RNG.normal(size=shape) * (step + 2) + step
        np.testing.assert_allclose(bn(x).data, numpy_batch_norm(x, bn.weight.data, bn.bias.data),
                                   rtol=1e-10)
        expected_mean = 0.75 * expected_mean + 0.25 * x.mean(axis=axes)
        expected_var = 0.75 * expected_var + 0.25 * x.var(axis=axes, ddof=1)  # unbiased
        np.testing.assert_allclose(bn.running_mean.data, expected_mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.data, expected_var, rtol=1e-12)
    assert float(bn.num_batches_tracked.data) == 3
    bn.eval()
    x = RNG.normal(size=shape)
    shape1 = (-1,) + (1,) * (len(shape) - 2)
    expected = ((x - expected_mean.reshape(shape1)) / np.sqrt(expected_var.reshape(shape1) + 1e-5)
                * bn.weight.data.reshape(shape1) + bn.bias.data.reshape(shape1))
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-10)
    np.testing.assert_array_equal(bn.running_mean.data, expected_mean)  # eval leaves them be


def test_momentum_none_keeps_the_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [RNG.normal(size=(5, 2)) + i for i in range(4)]
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean.data, np.mean([x.mean(0) for x in batches], 0),
                               rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data,
                               np.mean([x.var(0, ddof=1) for x in batches], 0), rtol=1e-12)


def test_momentum_zero_and_one():
    x = RNG.normal(size=(4, 3))
    frozen, latest = nn.BatchNorm1d(3, momentum=0.0), nn.BatchNorm1d(3, momentum=1.0)
    frozen(x), latest(x)
    np.testing.assert_array_equal(frozen.running_mean.data, np.zeros(3))
    np.testing.assert_allclose(latest.running_var.data, x.var(0, ddof=1), rtol=1e-12)


def test_without_running_stats_eval_uses_the_batch():
    bn = nn.BatchNorm1d(3, track_running_stats=False, affine=False).eval()
    x = RNG.normal(size=(5, 3)) * 4 + 2
    np.testing.assert_allclose(bn(x).data, numpy_batch_norm(x, np.ones(3), np.zeros(3)),
                               rtol=1e-10)
    assert bn.running_mean is None and bn.parameters() == []


def test_running_stats_are_updated_without_a_graph_and_in_place():
    bn = nn.BatchNorm1d(3)
    mean, var = bn.running_mean, bn.running_var
    out = bn(Tensor(RNG.normal(size=(4, 3)), requires_grad=True))
    assert bn.running_mean is mean and bn.running_var is var
    assert mean.op is None and not mean.requires_grad and not var.requires_grad
    out.sum().backward()  # the update is not part of the graph: backward still works
    assert mean.grad is None


def test_float32_stays_float32():
    for layer in (nn.BatchNorm1d(3, dtype=np.float32), nn.LayerNorm(3, dtype=np.float32)):
        out = layer(RNG.normal(size=(4, 3)))  # float64 data becomes the model's dtype
        assert out.dtype == np.float32
        if isinstance(layer, nn.BatchNorm1d):
            assert layer.running_mean.dtype == layer.running_var.dtype == np.float32
            layer.eval()
            assert layer(RNG.normal(size=(4, 3))).dtype == np.float32


def test_huge_and_constant_inputs_stay_finite():
    bn = nn.BatchNorm1d(2)
    x = np.array([[1e150, 5.0], [-1e150, 5.0], [3e149, 5.0]])
    y = bn(Tensor(x, requires_grad=True))
    (y * np.arange(6.0).reshape(3, 2)).sum().backward()
    assert np.isfinite(y.data).all()
    np.testing.assert_array_equal(y.data[:, 1], 0.0)  # a constant channel normalises to 0


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("layer,shape", [
    (nn.BatchNorm1d(3), (5, 3)),
    (nn.BatchNorm1d(2, affine=False), (4, 2, 3)),
    (nn.BatchNorm2d(2), (3, 2, 2, 3)),
    (nn.BatchNorm2d(2), (2, 2, 1, 1)),
    (nn.LayerNorm(4), (3, 4)),
    (nn.LayerNorm((2, 3)), (2, 2, 3)),
    (nn.LayerNorm(5, bias=False), (1, 5)),
    (nn.LayerNorm(1), (3, 1)),  # one value per sample: normalised to 0, the output is the bias
])
def test_gradients_against_central_differences(layer, shape):
    randomise(layer)
    x = Tensor(RNG.normal(size=shape), requires_grad=True)
    assert gradcheck(projected(layer, x), x, params=layer.parameters())


def test_eval_gradients_against_central_differences():
    bn = randomise(nn.BatchNorm2d(3))
    for _ in range(2):
        bn(RNG.normal(size=(4, 3, 2, 2)))
    bn.eval()
    x = Tensor(RNG.normal(size=(1, 3, 2, 2)), requires_grad=True)
    assert gradcheck(projected(bn, x), x, params=bn.parameters())


def test_second_derivatives():
    ln, bn = randomise(nn.LayerNorm(4)), randomise(nn.BatchNorm1d(4))
    x = Tensor(RNG.normal(size=(3, 4)), requires_grad=True)
    assert gradgradcheck(lambda x: ln(x), x)
    assert gradgradcheck(lambda x: bn(x), x)


# ---------------------------------------------------------------- layer norm
def test_layer_norm_normalises_each_sample_over_the_last_axes():
    ln = randomise(nn.LayerNorm((3, 4)))
    x = RNG.normal(size=(2, 5, 3, 4)) * 10
    mean = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * ln.weight.data + ln.bias.data
    np.testing.assert_allclose(ln(x).data, expected, rtol=1e-10)
    np.testing.assert_allclose(ln.eval()(x).data, expected, rtol=1e-10)  # no mode difference


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(2, 6), st.floats(-1e3, 1e3), st.floats(1e-2, 1e3))
def test_normalised_output_ignores_shift_and_scale(rows, width, shift, scale):
    ln, bn = nn.LayerNorm(width, eps=1e-30), nn.BatchNorm1d(width, eps=1e-30)
    x = np.random.default_rng(rows).normal(size=(rows + 1, width))
    np.testing.assert_allclose(ln(x * scale + shift).data, ln(x).data, atol=1e-6)
    np.testing.assert_allclose(bn(x * scale + shift).data, bn(x).data, atol=1e-6)


# ---------------------------------------------------------------- buffers and files
def test_running_stats_are_in_state_dict_and_survive_save_and_load(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh())
    for _ in range(3):
        model(RNG.normal(size=(8, 3)) + 2)
    state = model.state_dict()
    assert {"layers.1.running_mean", "layers.1.running_var",
            "layers.1.num_batches_tracked"} <= set(state)
    model.save(tmp_path / "bn.npz")
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh()).load(tmp_path / "bn.npz")
    np.testing.assert_array_equal(other.layers[1].running_var.data,
                                  model.layers[1].running_var.data)
    x = RNG.normal(size=(2, 3))
    np.testing.assert_array_equal(other.eval()(x).data, model.eval()(x).data)


def test_astype_converts_the_running_stats():
    bn = nn.BatchNorm1d(3)
    bn(RNG.normal(size=(4, 3)))
    bn.astype(np.float32)
    assert bn.running_mean.dtype == bn.running_var.dtype == np.float32
    assert bn.eval()(RNG.normal(size=(2, 3))).dtype == np.float32


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("make,shape,match", [
    (lambda: nn.BatchNorm1d(3), (4, 2), r"BatchNorm1d\(3\).*3 channels.*\(4, 2\)"),
    (lambda: nn.BatchNorm1d(3), (2, 3, 4, 5), r"BatchNorm1d\(3\).*2-d or 3-d.*\(2, 3, 4, 5\)"),
    (lambda: nn.BatchNorm2d(3), (4, 3), r"BatchNorm2d\(3\).*4-d.*\(4, 3\)"),
    (lambda: nn.BatchNorm1d(3), (1, 3), r"BatchNorm1d\(3\).*more than 1 value.*\(1, 3\)"),
    (lambda: nn.BatchNorm2d(3), (1, 3, 1, 1), r"more than 1 value per channel.*\(1, 3, 1, 1\)"),
    (lambda: nn.LayerNorm((2, 3)), (3, 2), r"LayerNorm\(\(2, 3\)\).*\(3, 2\)"),
    (lambda: nn.LayerNorm((2, 3)), (3,), r"LayerNorm.*\(3,\).*does not end"),
])
def test_bad_inputs_name_the_layer_and_shapes(make, shape, match):
    with pytest.raises(ValueError, match=match):
        make()(np.ones(shape))


@pytest.mark.parametrize("make,match", [
    (lambda: nn.BatchNorm1d(0), "num_features"),
    (lambda: nn.BatchNorm1d(2.5), "num_features"),
    (lambda: nn.BatchNorm2d(3, eps=0), "eps"),
    (lambda: nn.BatchNorm2d(3, momentum=1.5), "momentum"),
    (lambda: nn.BatchNorm2d(3, momentum=-0.1), "momentum"),
    (lambda: nn.BatchNorm1d(3, dtype=np.int32), "dtype"),
    (lambda: nn.LayerNorm(()), "normalized_shape"),
    (lambda: nn.LayerNorm((3, 0)), "normalized_shape"),
    (lambda: nn.LayerNorm(3, eps=-1), "eps"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_functional_batch_norm_needs_a_count_for_the_cumulative_average():
    with pytest.raises(ValueError, match="num_batches_tracked"):
        nn.functional.batch_norm(Tensor(np.ones((3, 2))), Tensor(np.zeros(2)),
                                 Tensor(np.ones(2)), training=True, momentum=None)
    with pytest.raises(ValueError, match=r"channel axis.*\(3,\)"):
        nn.functional.batch_norm(Tensor(np.ones(3)), None, None, training=True)
    with pytest.raises(ValueError, match="running_mean"):
        nn.functional.batch_norm(Tensor(np.ones((3, 2))), None, None)


def test_repr():
    assert repr(nn.BatchNorm1d(3, affine=False)) == \
        "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=False)"
    assert repr(nn.LayerNorm(4)).startswith("LayerNorm((4,), eps=1e-05)")
    with no_grad():
        assert nn.BatchNorm2d(2)(np.ones((2, 2, 1, 1))).requires_grad is False


def test_compile_step_updates_running_stats_as_eager():
    # Training steps run eagerly, with a warning naming the layer; eval steps are compiled.
    def make():
        nn.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))

    rng = np.random.default_rng(0)
    data = [(rng.normal(size=(16, 4)) * 2 + 1, rng.integers(0, 3, 16)) for _ in range(5)]
    eager, compiled = make(), make()
    optimizer = nn.optim.SGD(eager.parameters(), lr=0.1)
    step = nn.compile_step(compiled, nn.CrossEntropyLoss(),
                           nn.optim.SGD(compiled.parameters(), lr=0.1))
    for phase, mode in enumerate(("train", "eval", "train")):
        for model in (eager, compiled):
            getattr(model, mode)()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for x, y in data:
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(eager(x), y)
                loss.backward()
                optimizer.step()
                assert step(x, y) == loss.item()
        named = [w for w in caught if "layers.1 (BatchNorm1d)" in str(w.message)]
        # once per reason: the first training phase says it, the eval phase is compiled
        assert len(named) == (phase == 0), [str(w.message) for w in caught]
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_array_equal(getattr(compiled.layers[1], name).data,
                                          getattr(eager.layers[1], name).data)
        for p, q in zip(compiled.parameters(), eager.parameters()):
            np.testing.assert_array_equal(p.data, q.data)
    assert eager.layers[1].num_batches_tracked.data == 10
