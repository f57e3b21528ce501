"""nn/module.py, buffers: `register_buffer` Tensors are saved, loaded and cast, never trained."""

import copy

import numpy as np
import pytest

import nn
from autograd import Tensor


class Norm(nn.Module):
    """A layer with two parameters and two buffers (running statistics, as BatchNorm keeps)."""

    def __init__(self, n=3):
        self.weight = Tensor(np.ones(n), requires_grad=True)
        self.register_buffer("running_mean", np.zeros(n))
        self.bias = Tensor(np.zeros(n), requires_grad=True)
        self.register_buffer("running_var", np.ones(n))

    def forward(self, x):
        return (x - self.running_mean) / self.running_var.sqrt() * self.weight + self.bias


def _model():
    return nn.Sequential(nn.Linear(3, 3, rng=np.random.default_rng(0)), Norm(), nn.Linear(3, 1))


def test_a_buffer_is_a_tensor_without_grad_and_never_a_parameter():
    layer = Norm()
    assert isinstance(layer.running_mean, Tensor) and not layer.running_mean.requires_grad
    np.testing.assert_array_equal(layer.running_var.data, np.ones(3))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in layer.named_buffers()] == ["running_mean", "running_var"]
    assert layer.buffers()[0] is layer.running_mean
    assert layer.num_parameters() == 6


def test_state_dict_order_is_per_module_parameters_then_buffers():
    assert list(_model().state_dict()) == [
        "layers.0.weight", "layers.0.bias",
        "layers.1.weight", "layers.1.bias", "layers.1.running_mean", "layers.1.running_var",
        "layers.2.weight", "layers.2.bias"]
    assert [n for n, _ in _model().named_buffers()] == ["layers.1.running_mean",
                                                       "layers.1.running_var"]


def test_buffers_round_trip_through_files_and_strict_loading(tmp_path):
    source = _model()
    source[1].running_mean.data[...] = [1.0, 2.0, 3.0]
    source[1].running_var = np.array([4.0, 5.0, 6.0])  # assigning replaces the buffer
    assert isinstance(source[1].running_var, Tensor)
    source.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as archive:
        np.testing.assert_array_equal(archive["layers.1.running_var"], [4.0, 5.0, 6.0])
    target = _model().load(tmp_path / "m.npz")
    np.testing.assert_array_equal(target[1].running_mean.data, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(target[1].running_var.data, [4.0, 5.0, 6.0])
    state = source.state_dict()
    del state["layers.1.running_var"]
    with pytest.raises(ValueError, match=r"missing keys \['layers.1.running_var'\]"):
        _model().load_state_dict(state)
    state["layers.1.running_var"] = np.ones(4)
    with pytest.raises(ValueError, match=r"shape mismatch for 'layers.1.running_var'"):
        _model().load_state_dict(state)


def test_load_state_dict_writes_buffers_in_place():
    model = _model()
    before = model[1].running_mean
    model.load_state_dict({**model.state_dict(), "layers.1.running_mean": np.full(3, 7.0)})
    assert model[1].running_mean is before
    np.testing.assert_array_equal(before.data, np.full(3, 7.0))


def test_astype_casts_buffers():
    model = _model().astype(np.float32)
    assert all(b.dtype == np.float32 for b in model.buffers())
    assert model(np.ones((2, 3))).dtype == np.float32


def test_optimizers_never_see_buffers():
    model = _model()
    model(np.ones((4, 3))).sum().backward()
    assert model[1].running_mean.grad is None
    nn.optim.SGD(model.parameters(), lr=0.1).step()
    np.testing.assert_array_equal(model[1].running_mean.data, np.zeros(3))


def test_buffer_made_to_require_grad_stays_a_buffer():
    layer = Norm()
    layer.running_mean.requires_grad_(True)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert "running_mean" in dict(layer.named_buffers())


def test_register_buffer_refusals():
    layer = Norm()
    with pytest.raises(KeyError, match="'weight' already exists"):
        layer.register_buffer("weight", np.zeros(3))
    with pytest.raises(ValueError, match="must be an identifier"):
        layer.register_buffer("a.b", np.zeros(3))
    with pytest.raises(ValueError, match="must not require grad"):
        layer.register_buffer("w", Tensor([1.0], requires_grad=True))
    with pytest.raises(ValueError, match="must not require grad"):
        layer.running_mean = Tensor(np.zeros(3), requires_grad=True)


def test_a_none_buffer_is_skipped_until_set_and_deleting_forgets_it():
    layer = Norm()
    layer.register_buffer("count", None)
    assert "count" not in layer.state_dict()
    layer.count = 5.0
    assert layer.state_dict()["count"] == 5.0
    del layer.count
    layer.count = Tensor(1.0)  # a plain attribute now: neither parameter nor buffer
    assert "count" not in layer.state_dict()


def test_a_buffer_tensor_is_kept_as_it_is():
    t = Tensor(np.arange(3.0))
    layer = Norm()
    layer.register_buffer("index", t)
    assert layer.index is t


def test_deepcopy_keeps_buffers_apart():
    model = _model()
    twin = copy.deepcopy(model)
    assert [n for n, _ in twin.named_buffers()] == [n for n, _ in model.named_buffers()]
    twin[1].running_mean.data += 1
    np.testing.assert_array_equal(model[1].running_mean.data, np.zeros(3))
