"""nn/conv.py and nn/functional_conv.py without PyTorch: shapes, initialisation, gradients
against central differences, pooling against loop-by-loop means, errors that name the layer
and the shapes, unbatched inputs, and saving and loading a CNN's weights."""

import numpy as np
import pytest

import nn
from autograd import Tensor, gradcheck
from nn import functional as F


def _x(*shape, seed=0, requires_grad=False):
    return Tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=requires_grad)


@pytest.mark.parametrize("layer, shape, out", [
    (lambda: nn.Conv1d(3, 5, 3), (2, 3, 10), (2, 5, 8)),
    (lambda: nn.Conv1d(4, 6, 2, stride=2, padding=1, groups=2), (1, 4, 7), (1, 6, 4)),
    (lambda: nn.Conv2d(3, 8, 3, padding="same"), (2, 3, 7, 5), (2, 8, 7, 5)),
    (lambda: nn.Conv2d(2, 4, (3, 1), stride=(2, 1), dilation=2), (1, 2, 9, 4), (1, 4, 3, 4)),
    (lambda: nn.MaxPool1d(2), (2, 3, 9), (2, 3, 4)),
    (lambda: nn.MaxPool2d(3, stride=2, padding=1), (1, 2, 7, 8), (1, 2, 4, 4)),
    (lambda: nn.AvgPool2d(2), (2, 3, 5, 4), (2, 3, 2, 2)),
    (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 4), (2, 3, 1, 1)),
    (lambda: nn.AdaptiveAvgPool2d((2, None)), (2, 3, 5, 4), (2, 3, 2, 4)),
])
def test_output_shapes_follow_pytorchs_formulas(layer, shape, out):
    assert layer()(_x(*shape)).shape == out


def test_weights_have_pytorchs_shapes_and_bounds_and_follow_the_seed():
    nn.manual_seed(3)
    a = nn.Conv2d(6, 3, (3, 2), groups=3)
    nn.manual_seed(3)
    b = nn.Conv2d(6, 3, (3, 2), groups=3)
    assert a.weight.shape == (3, 2, 3, 2) and a.bias.shape == (3,)
    bound = 1 / np.sqrt(2 * 3 * 2)  # fan_in = in/groups * kernel cells
    assert np.abs(a.weight.data).max() <= bound and np.abs(a.bias.data).max() <= bound
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert [name for name, _ in a.named_parameters()] == ["weight", "bias"]
    assert nn.Conv1d(2, 3, 1, bias=False).parameters()[0].shape == (3, 2, 1)
    assert nn.Conv1d(2, 3, 1, dtype=np.float32).weight.dtype == np.float32


def test_repr_shows_the_arguments_that_differ_from_the_defaults():
    assert repr(nn.Conv2d(1, 8, 3)) == "Conv2d(1, 8, kernel_size=(3, 3))  # 80 parameters"
    text = repr(nn.Conv1d(4, 4, 3, stride=2, padding=1, groups=2, bias=False))
    assert text.startswith("Conv1d(4, 4, kernel_size=(3,), stride=(2,), padding=(1,), groups=2, "
                           "bias=False)")
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1)"


@pytest.mark.parametrize("layer, shape", [
    (lambda: nn.Conv1d(2, 4, 3, stride=2, padding=2, dilation=2, groups=2), (2, 2, 6)),
    (lambda: nn.Conv2d(2, 3, (2, 3), stride=(3, 1), padding=(1, 2)), (1, 2, 5, 4)),
])
def test_layer_gradients_match_central_differences(layer, shape):
    nn.manual_seed(0)
    m = layer()
    x = _x(*shape, requires_grad=True)
    weights = np.random.default_rng(1).normal(size=m(x).shape)
    fn = lambda x, w, b: F.conv1d(x, w, b, m.stride, m.padding, m.dilation, m.groups) \
        if isinstance(m, nn.Conv1d) else F.conv2d(x, w, b, m.stride, m.padding, m.dilation,
                                                  m.groups)
    assert gradcheck(lambda x, w, b: fn(x, w, b) * weights, x, m.weight, m.bias)


def _ref_avg(x, kernel, stride, padding, include_pad=True, divisor=None):
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    real = np.pad(np.ones(x.shape[2:]), ((padding[0],) * 2, (padding[1],) * 2))
    oh = (xp.shape[2] - kernel[0]) // stride[0] + 1
    ow = (xp.shape[3] - kernel[1]) // stride[1] + 1
    out = np.empty(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * stride[0], i * stride[0] + kernel[0])
            cols = slice(j * stride[1], j * stride[1] + kernel[1])
            count = divisor or (kernel[0] * kernel[1] if include_pad else real[rows, cols].sum())
            out[:, :, i, j] = xp[:, :, rows, cols].sum(axis=(2, 3)) / count
    return out


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(1, 3), padding=(1, 1), count_include_pad=False),
    dict(kernel_size=2, divisor_override=3),
])
def test_avg_pool2d_is_the_mean_of_each_window(kwargs):
    x = _x(2, 3, 7, 6, requires_grad=True)
    y = F.avg_pool2d(x, **kwargs)
    k = kwargs["kernel_size"]
    k = (k, k) if isinstance(k, int) else k
    s = kwargs.get("stride", k)
    s = (s, s) if isinstance(s, int) else s
    p = kwargs.get("padding", 0)
    p = (p, p) if isinstance(p, int) else p
    expected = _ref_avg(x.data, k, s, p, kwargs.get("count_include_pad", True),
                        kwargs.get("divisor_override"))
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    weights = np.random.default_rng(2).normal(size=y.shape)
    assert gradcheck(lambda x: F.avg_pool2d(x, **kwargs) * weights, x)


def test_adaptive_avg_pool2d_averages_pytorchs_windows():
    x = _x(2, 3, 5, 7, requires_grad=True)
    y = F.adaptive_avg_pool2d(x, (3, 2))
    # rows: [0, 2), [1, 4), [3, 5); columns: [0, 4), [3, 7)
    rows, cols = [(0, 2), (1, 4), (3, 5)], [(0, 4), (3, 7)]
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            np.testing.assert_allclose(y.data[:, :, i, j],
                                       x.data[:, :, r0:r1, c0:c1].mean(axis=(2, 3)))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1).data,
                               x.data.mean(axis=(2, 3), keepdims=True))
    weights = np.random.default_rng(2).normal(size=y.shape)
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 2)) * weights, x)


def test_an_unbatched_input_gives_the_batched_result_without_its_batch_axis():
    nn.manual_seed(0)
    x = _x(3, 6, 5)
    for layer in (nn.Conv2d(3, 2, 3, padding=1), nn.MaxPool2d(2), nn.AvgPool2d(2),
                  nn.AdaptiveAvgPool2d((2, 2))):
        np.testing.assert_allclose(layer(x).data, layer(x.reshape(1, 3, 6, 5)).data[0])
    np.testing.assert_allclose(nn.Conv1d(3, 4, 2)(x[:, :, 0]).data.shape, (4, 5))


@pytest.mark.parametrize("make, shape, error, message", [
    (lambda: nn.Conv2d(3, 4, 3), (1, 2, 5, 5), ValueError,
     r"Conv2d\(3, 4, kernel_size=\(3, 3\)\): input shape \(1, 2, 5, 5\) has 2 channels, but "
     r"weight shape \(4, 3, 3, 3\) expects 3"),
    (lambda: nn.Conv2d(1, 1, 5), (1, 1, 3, 3), ValueError,
     r"Conv2d\(1, 1, kernel_size=\(5, 5\)\): kernel \(5, 5\).*larger than the padded input "
     r"\(3, 3\) \(input shape \(1, 1, 3, 3\)"),
    (lambda: nn.Conv2d(1, 1, 5, padding=1), (1, 1, 2, 2), ValueError,
     r"larger than the padded input \(4, 4\)"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), None, ValueError,
     r"Conv2d\(3, 4, kernel_size=3\): in_channels 3 and out_channels 4 must both divide into "
     r"groups=2"),
    (lambda: nn.Conv1d(2, 2, 3), (2, 2, 4, 4), ValueError,
     r"Conv1d\(2, 2, kernel_size=\(3,\)\): expected input of shape \(batch, channels, 1 "
     r"spatial axes\) or \(channels, 1 spatial axes\), got shape \(2, 2, 4, 4\)"),
    (lambda: nn.Conv2d(2, 2, 3, stride=2, padding="same"), None, ValueError,
     "padding='same' needs stride 1"),
    (lambda: nn.Conv2d(2, 2, 3, padding_mode="reflect"), None, NotImplementedError,
     "only padding_mode='zeros'"),
    (lambda: nn.Conv2d(2, 2, 0), None, ValueError, "kernel_size must be an int >= 1"),
    (lambda: nn.MaxPool2d(2, ceil_mode=True), None, NotImplementedError, "ceil_mode=True"),
    (lambda: nn.MaxPool2d(2, padding=2), (1, 1, 6, 6), ValueError,
     r"MaxPool2d\(kernel_size=2.*\): padding \(2, 2\) must be at most half the kernel"),
    (lambda: nn.MaxPool2d(4), (1, 1, 3, 3), ValueError,
     r"MaxPool2d\(kernel_size=4.*kernel \(4, 4\).*larger than the padded input \(3, 3\)"),
    (lambda: nn.AvgPool2d(3, padding=2), (1, 1, 6, 6), ValueError,
     r"AvgPool2d\(kernel_size=3.*padding \(2, 2\) must be at most half the kernel"),
    (lambda: nn.AdaptiveAvgPool2d(0), (1, 1, 3, 3), ValueError,
     r"AdaptiveAvgPool2d\(output_size=0\): output_size must hold positive ints"),
])
def test_bad_arguments_name_the_layer_and_the_shapes(make, shape, error, message):
    with pytest.raises(error, match=message):
        layer = make()
        layer(_x(*shape))


def test_a_cnn_saves_and_loads_its_weights(tmp_path):
    nn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16, 3))
    x = _x(2, 1, 4, 4)
    model.save(tmp_path / "cnn.npz")
    nn.manual_seed(1)
    again = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16, 3))
    assert not np.allclose(again(x).data, model(x).data)
    again.load(tmp_path / "cnn.npz")
    np.testing.assert_array_equal(again(x).data, model(x).data)
    assert set(again.state_dict()) == {"layers.0.weight", "layers.0.bias",
                                         "layers.4.weight", "layers.4.bias"}


def test_a_compiled_cnn_step_gives_the_eager_steps_bits():
    def model():
        nn.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.AvgPool2d(2, padding=1), nn.Flatten(), nn.Linear(36, 3))

    eager, compiled = model(), model()
    x = _x(8, 1, 10, 10).data
    y = np.arange(8) % 3
    opt_eager = nn.optim.SGD(eager.parameters(), lr=0.1, momentum=0.9)
    step = nn.compile_step(compiled, F.cross_entropy,
                           nn.optim.SGD(compiled.parameters(), lr=0.1, momentum=0.9))
    for _ in range(3):
        loss = F.cross_entropy(eager(x), y)
        opt_eager.zero_grad()
        loss.backward()
        opt_eager.step()
        assert step(x, y) == loss.item()
    for a, b in zip(eager.parameters(), compiled.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
