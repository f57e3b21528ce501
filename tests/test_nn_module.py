"""nn/module.py: the attribute walk, names, modes, state dicts and the printed tree."""

import numpy as np
import pytest

import nn
from autograd import Tensor


class Pair(nn.Module):
    """Two layers in a tuple, a free parameter, a non-parameter tensor and a nested list."""

    def __init__(self):
        super().__init__()
        self.scale = Tensor(np.ones(3), requires_grad=True)
        self.constant = Tensor(np.zeros(3))  # no requires_grad: data, not a parameter
        self.blocks = (nn.Linear(3, 4), nn.Tanh())
        self.nested = [[nn.Linear(4, 2, bias=False)]]

    def forward(self, x):
        h = self.blocks[1](self.blocks[0](x * self.scale))
        return self.nested[0][0](h)


def test_named_parameters_walk_attributes_in_definition_order():
    names = [name for name, _ in Pair().named_parameters()]
    assert names == ["scale", "blocks.0.weight", "blocks.0.bias", "nested.0.0.weight"]


def test_parameters_match_named_parameters_and_are_the_attributes():
    model = Pair()
    params = model.parameters()
    assert [id(p) for p in params] == [id(p) for _, p in model.named_parameters()]
    assert params[1] is model.blocks[0].weight
    assert model.num_parameters() == 3 + 3 * 4 + 4 + 4 * 2


def test_shared_parameters_and_modules_count_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert [n for n, _ in model.named_parameters()] == ["layers.0.weight", "layers.0.bias"]
    tied = nn.Linear(2, 2)
    tied.bias = tied.weight  # the same Tensor under two names
    assert [n for n, _ in tied.named_parameters()] == ["weight"]
    assert len(model.modules()) == 3  # model, layer, tanh


def test_cached_activations_are_not_parameters():
    class Cache(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(2, 1)

        def forward(self, x):
            self.last = self.lin(x)  # an op's output: requires grad but is not a leaf
            return self.last

    model = Cache()
    model(np.ones((1, 2)))
    assert [n for n, _ in model.named_parameters()] == ["lin.weight", "lin.bias"]


def test_cyclic_references_terminate():
    model = nn.Sequential(nn.Linear(2, 2))
    model.layers[0].parent = model
    assert len(model.parameters()) == 2
    assert "shared" in repr(model)


def test_named_modules_names_and_order():
    names = [name for name, _ in Pair().named_modules()]
    assert names == ["", "blocks.0", "blocks.1", "nested.0.0"]


def test_call_wraps_numpy_arrays_and_runs_forward():
    model = nn.Linear(3, 2)
    x = np.arange(6.0).reshape(2, 3)
    out = model(x)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, x @ model.weight.data + model.bias.data)


def test_forward_must_be_defined():
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty does not define forward"):
        Empty()(np.ones(2))


def test_zero_grad_clears_every_parameter():
    model = Pair()
    model(np.ones((5, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_are_recursive_and_return_self():
    model = Pair()
    assert model.training and model.blocks[1].training  # the class default
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model
    assert all(m.training for m in model.modules())
    assert model.train(False) is model and not model.nested[0][0].training


def test_state_dict_is_a_copy_keyed_by_dotted_names():
    model = Pair()
    state = model.state_dict()
    assert list(state) == [n for n, _ in model.named_parameters()]
    state["scale"][:] = 7.0
    assert np.all(model.scale.data == 1.0)


def test_load_state_dict_round_trip_in_place():
    source, target = Pair(), Pair()
    weight = target.blocks[0].weight
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.blocks[0].weight is weight  # same Tensor, new values
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(target(x).data, source(x).data)


def test_load_state_dict_accepts_tensors_and_keeps_dtype():
    model = nn.Linear(2, 3, dtype=np.float32)
    model.load_state_dict({"weight": Tensor(np.ones((2, 3))), "bias": np.arange(3)})
    assert model.weight.dtype == np.float32 and model.bias.dtype == np.float32
    np.testing.assert_array_equal(model.bias.data, [0, 1, 2])


def test_load_state_dict_lists_missing_and_unexpected_keys():
    model = nn.Linear(2, 3)
    with pytest.raises(ValueError, match=r"missing keys \['bias'\]; unexpected keys \['b'\]"):
        model.load_state_dict({"weight": np.zeros((2, 3)), "b": np.zeros(3)})


def test_load_state_dict_lists_shape_mismatches():
    model = nn.MLP([2, 3, 1])
    state = model.state_dict()
    state["layers.0.weight"] = np.zeros((3, 2))
    pattern = r"shape mismatch for 'layers.0.weight': model has \(2, 3\), state has \(3, 2\)"
    with pytest.raises(ValueError, match=pattern):
        model.load_state_dict(state)


def test_load_state_dict_rejects_non_numeric_arrays():
    model = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="'bias' holds <U1 values, not numbers"):
        model.load_state_dict({"weight": np.ones((1, 1)), "bias": np.array(["a"])})


def test_load_state_dict_non_strict_reports_and_loads_the_rest():
    model = nn.Linear(2, 3)
    result = model.load_state_dict({"weight": np.ones((2, 3)), "extra": np.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert np.all(model.weight.data == 1.0)
    with pytest.raises(ValueError, match="shape mismatch"):  # shapes are checked regardless
        model.load_state_dict({"weight": np.ones((3, 2))}, strict=False)


def test_repr_shows_the_tree_and_parameter_counts():
    text = repr(Pair())
    assert text.splitlines() == [
        "Pair()  # 27 parameters",
        "  (blocks.0): Linear(3, 4)  # 16 parameters",
        "  (blocks.1): Tanh()",
        "  (nested.0.0): Linear(4, 2, bias=False)  # 8 parameters",
    ]


def test_repr_nests_and_says_parameter_in_the_singular():
    class Outer(nn.Module):
        def __init__(self):
            self.inner = nn.Sequential(nn.Linear(1, 1, bias=False), nn.Softmax())

    assert repr(Outer()).splitlines() == [
        "Outer()  # 1 parameter",
        "  (inner): Sequential()  # 1 parameter",
        "    (layers.0): Linear(1, 1, bias=False)  # 1 parameter",
        "    (layers.1): Softmax(axis=-1)",
    ]


# ---------------------------------------------------------------- inputs (issue 9, item 11)
def test_call_accepts_a_list_like_an_array():
    model = nn.Linear(2, 3)
    out = model([[1.0, 2.0]])
    assert isinstance(out, Tensor) and out.shape == (1, 3)
    np.testing.assert_array_equal(out.data, model(np.array([[1.0, 2.0]])).data)
    np.testing.assert_array_equal(model([[1, 2]]).data, out.data)  # integers become floats


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data", [np.ones((2, 3)), np.ones((2, 3), np.float32),
                                  np.ones((2, 3), np.int64), [[1.0] * 3] * 2])
def test_plain_data_takes_the_models_dtype(dtype, data):
    model = nn.MLP([3, 4, 2], dtype=dtype)
    out = model(data)
    assert out.dtype == dtype
    out.sum().backward()
    assert all(p.grad.dtype == dtype for p in model.parameters())


def test_tensor_inputs_keep_their_own_dtype():
    # A Tensor is already part of a computation: numpy's promotion applies, as between Tensors.
    model = nn.Linear(3, 2, dtype=np.float32)
    assert model(Tensor(np.ones((1, 3)))).dtype == np.float64


def test_plain_data_takes_the_first_parameters_dtype_or_keeps_its_own():
    assert nn.Tanh()(np.ones(2, np.float32)).dtype == np.float32
    mixed = nn.Sequential(nn.Linear(2, 2, dtype=np.float32), nn.Linear(2, 2))
    assert mixed.layers[0](np.ones((1, 2))).dtype == np.float32  # each layer: its own dtype
    assert mixed(np.ones((1, 2), np.float32)).dtype == np.float64  # promoted by the float64 layer


def test_lists_holding_tensors_and_other_arguments_reach_forward_unchanged():
    class Concat(nn.Module):
        def forward(self, parts, scale):
            assert isinstance(parts, list) and isinstance(scale, int)
            return sum(parts[1:], parts[0]) * scale

    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    out = Concat()([a, b], 3)
    out.backward()
    assert out.item() == 9.0 and a.grad[0] == 3.0


def test_call_rejects_non_numeric_lists_clearly():
    with pytest.raises(TypeError, match="Tensor: cannot make a float array"):
        nn.Linear(1, 1)([["a"]])


# ---------------------------------------------------------------- dicts (issue 9, item 12)
class Blocks(nn.Module):
    def __init__(self):
        self.blocks = {"encoder": nn.Linear(3, 4), "decoder": nn.Linear(4, 3)}
        self.extra = {"scale": Tensor(np.ones(3), requires_grad=True), "note": "not a member"}

    def forward(self, x):
        return self.blocks["decoder"](self.blocks["encoder"](x).tanh()) * self.extra["scale"]


def test_modules_and_parameters_in_dicts_are_found_and_named_by_key():
    model = Blocks()
    assert [n for n, _ in model.named_parameters()] == [
        "blocks.encoder.weight", "blocks.encoder.bias", "blocks.decoder.weight",
        "blocks.decoder.bias", "extra.scale"]
    assert [n for n, _ in model.named_modules()] == ["", "blocks.encoder", "blocks.decoder"]
    model(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    assert "(blocks.encoder): Linear(3, 4)" in repr(model)


def test_dict_members_round_trip_through_state_dict_and_files(tmp_path):
    source, target = Blocks(), Blocks()
    target.load_state_dict(source.state_dict())
    x = np.random.default_rng(1).normal(size=(2, 3))
    np.testing.assert_array_equal(target(x).data, source(x).data)
    source.save(tmp_path / "blocks.npz")
    third = Blocks().load(tmp_path / "blocks.npz")
    np.testing.assert_array_equal(third(x).data, source(x).data)
    with pytest.raises(ValueError, match=r"missing keys \['blocks.decoder.weight'"):
        Blocks().load_state_dict({k: v for k, v in source.state_dict().items()
                                  if not k.startswith("blocks.decoder")})


# ---------------------------------------------------------------- modified after use (issue 9)
def _loss_then(change):
    model = nn.MLP([3, 4, 1], rng=np.random.default_rng(0))
    loss = model(np.ones((2, 3))).sum()
    change(model)
    with pytest.raises(RuntimeError, match=r"modified in place"):
        loss.backward()


def test_backward_after_load_state_dict_raises():
    _loss_then(lambda model: model.load_state_dict(nn.MLP([3, 4, 1]).state_dict()))


def test_backward_after_load_raises(tmp_path):
    nn.MLP([3, 4, 1]).save(tmp_path / "m.npz")
    _loss_then(lambda model: model.load(tmp_path / "m.npz"))


def test_backward_after_astype_raises():
    _loss_then(lambda model: model.astype(np.float32))


# ---------------------------------------------------------------- astype
def test_astype_round_trip_keeps_values_and_objects():
    model = nn.MLP([3, 4, 2], rng=np.random.default_rng(0))
    params, before = model.parameters(), model.state_dict()
    model(np.ones((1, 3))).sum().backward()
    assert model.astype(np.float32) is model
    assert model.parameters() == params  # the same Tensors, new arrays
    for p in model.parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32
    x = np.random.default_rng(1).normal(size=(5, 3))
    out = model(x)
    assert out.dtype == np.float32
    model.astype("float64")
    for name, array in model.state_dict().items():
        assert array.dtype == np.float64
        np.testing.assert_allclose(array, before[name], rtol=1e-7)  # float32 rounding only
    np.testing.assert_allclose(model(x).data, out.data, rtol=1e-5)


def test_astype_then_an_optimizer_trains_in_the_new_dtype():
    model = nn.MLP([3, 4, 2], rng=np.random.default_rng(0)).astype(np.float32)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(model(np.ones((2, 3))), [0, 1]).backward()
        optimizer.step()
    assert all(m.dtype == np.float32 for m in optimizer.m)
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_astype_rejects_non_float_dtypes():
    with pytest.raises(ValueError, match="MLP.astype: dtype must be float32 or float64, got int64"):
        nn.MLP([2, 1]).astype(np.int64)


def test_the_first_parameter_is_the_first_of_named_parameters():
    from nn.module import _first_parameter

    class Nested(nn.Module):
        def __init__(self):
            self.sizes = [3, 4]  # data in a list comes before any module
            self.blocks = {"a": [nn.Identity()], "b": (nn.Linear(2, 3, dtype=np.float32),)}
            self.head = nn.Linear(3, 1)

    for model in (Nested(), nn.MLP([2, 3, 1]), nn.Sequential(nn.ReLU(), nn.Linear(2, 2))):
        assert _first_parameter(model) is model.parameters()[0]
    assert _first_parameter(nn.Sequential(nn.ReLU())) is None


# ---------------------------------------------------------------- PyTorch's names (issue 19)
class _Scaled(nn.Module):
    def __init__(self):
        self.inner = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
        self.again = self.inner  # shared: one child
        self.scale = nn.Parameter(np.full(3, 2.0))

    def forward(self, x):
        return self.inner(x) * self.scale


def test_parameter_is_a_registered_copy_that_requires_grad():
    data = np.ones(3)
    p = nn.Parameter(data)
    assert isinstance(p, Tensor) and isinstance(p, nn.Parameter) and p.requires_grad
    data[0] = 5.0
    assert p.data[0] == 1.0  # a copy, so the caller's array never moves with training
    assert type(p * 2) is Tensor and repr(p).startswith("Parameter containing:\n")
    frozen = nn.Parameter(np.zeros(2), requires_grad=False)
    model = nn.Module()
    model.w = frozen
    assert model.parameters() == [frozen] and not frozen.requires_grad
    assert nn.Parameter().shape == (0,)


def test_children_modules_and_apply():
    model = _Scaled()
    assert [n for n, _ in model.named_children()] == ["inner"]
    assert model.children() == [model.inner]
    assert [n for n, _ in model.named_modules()] == ["", "inner", "inner.layers.0",
                                                     "inner.layers.1"]
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "Tanh", "Sequential", "_Scaled"]  # children first, as PyTorch


def test_next_reads_listings_from_the_front_as_pytorchs_generators_do():
    model = _Scaled()
    params = model.parameters()
    assert next(params) is model.inner[0].weight and next(params) is model.inner[0].bias
    assert len(params) == 3 and params[2] is model.scale  # still a list
    assert next(model.named_parameters())[0] == "inner.layers.0.weight"
    assert next(model.children()) is model.inner and next(model.modules()) is model
    empty = nn.Module().parameters()
    with pytest.raises(StopIteration):
        next(empty)


@pytest.mark.parametrize("call, dtype", [
    (lambda m: m.to(np.float32), np.float32), (lambda m: m.to("float32"), np.float32),
    (lambda m: m.float(), np.float32), (lambda m: m.float().double(), np.float64),
    (lambda m: m.to("cpu"), np.float64),
])
def test_to_double_and_float(call, dtype):
    model = _Scaled()
    assert call(model) is model
    assert {p.dtype for p in model.parameters()} == {np.dtype(dtype)}
    assert model(np.ones((1, 2))).dtype == dtype


def test_to_a_device_other_than_the_cpu_raises():
    with pytest.raises(ValueError, match="npgrad runs on the CPU .* no device 'cuda:0'"):
        _Scaled().to("cuda:0")
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        _Scaled().to(np.int32)


def test_sequential_keeps_npgrads_names():
    # PyTorch names them "0.weight"; npgrad keeps "layers.0.weight", so index-first keys still
    # mark a PyTorch checkpoint, whose weights are transposed (see load_state_dict).
    assert list(nn.Sequential(nn.Linear(1, 1)).state_dict()) == ["layers.0.weight",
                                                                 "layers.0.bias"]
