"""PyTorch's nn names against PyTorch itself (torch extra): nn.functional's activations and
losses (values and gradients, every option and reduction, at ties, kinks and ignored labels),
the loss modules, nn.init's gains and scales, Parameter, ModuleList/ModuleDict names and the
Module walk (children, modules, apply). Skipped without torch."""

import numpy as np
import pytest

import nn
from autograd import Tensor

torch = pytest.importorskip("torch")
F = nn.functional
TF = torch.nn.functional

RNG = np.random.default_rng(0)
X = np.array([[0.0, 1.0, -1.0, 0.5], [2.0, -0.5, 0.0, 3.0], [-3.0, 0.25, 1.5, -2.0]])
NORMAL = RNG.normal(size=(3, 4))
PROBS = RNG.uniform(0.05, 0.95, size=(3, 4))
BINARY = (RNG.uniform(size=(3, 4)) > 0.5).astype(float)
LABELS = np.array([2, 0, 3])
SOFT = RNG.dirichlet(np.ones(4), size=3)
CLASS_W = np.array([0.5, 2.0, 1.0, 0.0])


def _check(ours, theirs, inputs, rtol=1e-12, atol=1e-14):
    """Value and gradient (of a fixed random weighting of the output) of the first input."""
    x = Tensor(inputs[0], requires_grad=True)
    t = torch.tensor(inputs[0], requires_grad=True)
    out, expected = ours(x, *inputs[1:]), theirs(t, *[torch.tensor(a) for a in inputs[1:]])
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=rtol, atol=atol)
    weights = np.random.default_rng(1).normal(size=expected.shape)
    (out * weights).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=rtol, atol=atol)


ACTIVATIONS = {
    "relu": (F.relu, TF.relu),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "gelu-tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh")),
    "softmax-dim1": (lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1)),
    "softmax-dim0": (lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0)),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), lambda x: TF.log_softmax(x, dim=-1)),
    "LogSoftmax": (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
    "dropout-eval": (lambda x: F.dropout(x, 0.5, training=False),
                     lambda x: TF.dropout(x, 0.5, training=False)),
    "dropout-p0": (lambda x: F.dropout(x, 0.0), lambda x: TF.dropout(x, 0.0)),
    "dropout-p1": (lambda x: F.dropout(x, 1.0), lambda x: TF.dropout(x, 1.0)),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activations_match_pytorch_at_kinks(name):
    ours, theirs = ACTIVATIONS[name]
    _check(ours, theirs, (X,))


def test_linear_takes_pytorchs_weight_layout():
    w, b = RNG.normal(size=(5, 4)), RNG.normal(size=5)
    _check(lambda x, w, b: F.linear(x, Tensor(w), b), TF.linear, (X, w, b))
    _check(lambda w, x: F.linear(Tensor(x), w), lambda w, x: TF.linear(x, w),
           (RNG.normal(size=(4, 4)), X))  # square: the weight's own gradient too


LOSSES = {
    "mse": (F.mse_loss, TF.mse_loss, (NORMAL, X)),
    "l1-ties": (F.l1_loss, TF.l1_loss, (X, np.where(NORMAL > 0, X, NORMAL))),
    "smooth_l1": (lambda x, t, **k: F.smooth_l1_loss(x, t, beta=0.5, **k),
                  lambda x, t, **k: TF.smooth_l1_loss(x, t, beta=0.5, **k), (X, X * 0 + 0.5)),
    "smooth_l1-beta0": (lambda x, t, **k: F.smooth_l1_loss(x, t, beta=0.0, **k),
                        lambda x, t, **k: TF.smooth_l1_loss(x, t, beta=0.0, **k), (X, NORMAL)),
    "huber": (lambda x, t, **k: F.huber_loss(x, t, delta=0.5, **k),
              lambda x, t, **k: TF.huber_loss(x, t, delta=0.5, **k), (X, X * 0 - 0.5)),
    "huber-default": (F.huber_loss, TF.huber_loss, (3 * NORMAL, X)),
    "bce": (F.binary_cross_entropy, TF.binary_cross_entropy, (PROBS, BINARY)),
    "bce-weight": (lambda x, t, **k: F.binary_cross_entropy(x, t, CLASS_W, **k),
                   lambda x, t, **k: TF.binary_cross_entropy(x, t, torch.tensor(CLASS_W), **k),
                   (PROBS, SOFT)),
    "bce_logits": (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
                   (X, BINARY)),
    "bce_logits-weights": (
        lambda x, t, **k: F.binary_cross_entropy_with_logits(
            x, t, weight=CLASS_W, pos_weight=np.array([1.0, 3.0, 0.5, 2.0]), **k),
        lambda x, t, **k: TF.binary_cross_entropy_with_logits(
            x, t, weight=torch.tensor(CLASS_W), pos_weight=torch.tensor([1.0, 3.0, 0.5, 2.0]),
            **k), (100 * X, SOFT)),
    "nll": (F.nll_loss, TF.nll_loss, (NORMAL, LABELS)),
    "nll-weight-ignore": (
        lambda x, t, **k: F.nll_loss(x, t, CLASS_W, ignore_index=0, **k),
        lambda x, t, **k: TF.nll_loss(x, t, torch.tensor(CLASS_W), ignore_index=0, **k),
        (NORMAL, np.array([1, 0, 2]))),
    "ce": (F.cross_entropy, TF.cross_entropy, (X, LABELS)),
    "ce-weight": (lambda x, t, **k: F.cross_entropy(x, t, CLASS_W, **k),
                  lambda x, t, **k: TF.cross_entropy(x, t, torch.tensor(CLASS_W), **k),
                  (X, LABELS)),
    "ce-ignore": (lambda x, t, **k: F.cross_entropy(x, t, ignore_index=2, **k),
                  lambda x, t, **k: TF.cross_entropy(x, t, ignore_index=2, **k), (X, LABELS)),
    "ce-ignore-minus100": (F.cross_entropy, TF.cross_entropy, (X, np.array([-100, 1, -100]))),
    "ce-smoothing": (lambda x, t, **k: F.cross_entropy(x, t, label_smoothing=0.2, **k),
                     lambda x, t, **k: TF.cross_entropy(x, t, label_smoothing=0.2, **k),
                     (X, LABELS)),
    "ce-all-options": (
        lambda x, t, **k: F.cross_entropy(x, t, CLASS_W, 3, label_smoothing=0.3, **k),
        lambda x, t, **k: TF.cross_entropy(x, t, torch.tensor(CLASS_W), ignore_index=3,
                                           label_smoothing=0.3, **k), (X, LABELS)),
    "ce-probabilities": (lambda x, t, **k: F.cross_entropy(x, t, CLASS_W, label_smoothing=0.1,
                                                           **k),
                         lambda x, t, **k: TF.cross_entropy(x, t, torch.tensor(CLASS_W),
                                                            label_smoothing=0.1, **k),
                         (X, SOFT)),
    "L1Loss": (lambda x, t, **k: nn.L1Loss(**k)(x, t),
               lambda x, t, **k: torch.nn.L1Loss(**k)(x, t), (X, NORMAL)),
    "HuberLoss": (lambda x, t, **k: nn.HuberLoss(delta=2.0, **k)(x, t),
                  lambda x, t, **k: torch.nn.HuberLoss(delta=2.0, **k)(x, t), (3 * X, NORMAL)),
    "SmoothL1Loss": (lambda x, t, **k: nn.SmoothL1Loss(beta=2.0, **k)(x, t),
                     lambda x, t, **k: torch.nn.SmoothL1Loss(beta=2.0, **k)(x, t),
                     (3 * X, NORMAL)),
    "NLLLoss": (lambda x, t, **k: nn.NLLLoss(weight=CLASS_W, **k)(x, t),
                lambda x, t, **k: torch.nn.NLLLoss(weight=torch.tensor(CLASS_W), **k)(x, t),
                (NORMAL, LABELS)),
    "CrossEntropyLoss": (
        lambda x, t, **k: nn.CrossEntropyLoss(CLASS_W, ignore_index=0, label_smoothing=0.1,
                                              **k)(x, t),
        lambda x, t, **k: torch.nn.CrossEntropyLoss(torch.tensor(CLASS_W), ignore_index=0,
                                                    label_smoothing=0.1, **k)(x, t),
        (X, LABELS)),
    "BCEWithLogitsLoss": (
        lambda x, t, **k: nn.BCEWithLogitsLoss(pos_weight=np.full(4, 2.0), **k)(x, t),
        lambda x, t, **k: torch.nn.BCEWithLogitsLoss(pos_weight=torch.full((4,), 2.0),
                                                     **k)(x, t), (X, BINARY)),
    "BCELoss": (lambda x, t, **k: nn.BCELoss(CLASS_W, **k)(x, t),
                lambda x, t, **k: torch.nn.BCELoss(torch.tensor(CLASS_W), **k)(x, t),
                (PROBS, BINARY)),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_losses_match_pytorch(name, reduction):
    ours, theirs, inputs = LOSSES[name]
    _check(lambda x, *rest: ours(x, *[r.data if isinstance(r, Tensor) else r for r in rest],
                                 reduction=reduction),
           lambda x, *rest: theirs(x, *rest, reduction=reduction), inputs)


def test_every_label_ignored_is_nan_with_zero_gradient_as_in_pytorch():
    x, t = Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    ours, theirs = F.cross_entropy(x, [-100] * 3), TF.cross_entropy(t, torch.tensor([-100] * 3))
    ours.backward()
    theirs.backward()
    assert np.isnan(ours.item()) and np.isnan(theirs.item())
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


# ---------------------------------------------------------------- nn.init
@pytest.mark.parametrize("name, param", [
    ("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("selu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("conv2d", None)])
def test_calculate_gain_is_pytorchs(name, param):
    assert nn.init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-15)


@pytest.mark.parametrize("init, kwargs", [
    ("xavier_uniform_", {"gain": 2.0}), ("xavier_normal_", {}),
    ("kaiming_uniform_", {"a": 0.1}), ("kaiming_normal_", {"mode": "fan_out"}),
    ("kaiming_uniform_", {"nonlinearity": "relu"}), ("kaiming_normal_", {"nonlinearity": "tanh"}),
])
@pytest.mark.parametrize("layer", ["linear", "conv"])
def test_init_scales_match_pytorch_on_the_same_layer(init, kwargs, layer):
    """npgrad's Linear weight is PyTorch's transposed: the same layer gets the same scale."""
    nn.manual_seed(0)
    torch.manual_seed(0)
    if layer == "linear":
        ours, theirs = nn.Linear(300, 200).weight, torch.nn.Linear(300, 200).weight
    else:
        ours = Tensor(np.zeros((64, 32, 3, 3)), requires_grad=True)
        theirs = torch.nn.Conv2d(32, 64, 3).weight
    assert getattr(nn.init, init)(ours, **kwargs) is ours
    with torch.no_grad():
        getattr(torch.nn.init, init)(theirs, **kwargs)
    a, b = ours.data, theirs.detach().numpy()
    assert a.std() == pytest.approx(b.std(), rel=0.03)
    if "uniform" in init:
        assert np.abs(a).max() == pytest.approx(np.abs(b).max(), rel=0.01)


# ---------------------------------------------------------------- modules and names
class OurNet(nn.Module):
    def __init__(self):
        self.embed = nn.Linear(4, 6)
        self.blocks = nn.ModuleList([nn.Linear(6, 6), nn.Tanh(), nn.Linear(6, 6)])
        self.heads = nn.ModuleDict({"a": nn.Linear(6, 2), "b": nn.Linear(6, 3)})
        self.scale = nn.Parameter(np.ones(1))

    def forward(self, x):
        x = self.embed(x)
        for block in self.blocks:
            x = block(x)
        return self.heads["a"](x) * self.scale


class TheirNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Linear(4, 6)
        self.blocks = torch.nn.ModuleList([torch.nn.Linear(6, 6), torch.nn.Tanh(),
                                           torch.nn.Linear(6, 6)])
        self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(6, 2), "b": torch.nn.Linear(6, 3)})
        self.scale = torch.nn.Parameter(torch.ones(1))


def test_names_children_modules_and_apply_order_are_pytorchs():
    ours, theirs = OurNet(), TheirNet()
    # The same names; the order differs where a module holds parameters of its own: npgrad
    # lists attributes in definition order, PyTorch a module's own parameters first.
    assert sorted(dict(ours.named_parameters())) == sorted(dict(theirs.named_parameters()))
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    assert list(ours.state_dict())[-1] == "scale" and list(theirs.state_dict())[0] == "scale"
    assert list(dict(ours.blocks.named_parameters())) == \
        list(dict(theirs.blocks.named_parameters()))
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    kind = lambda m: type(m).__name__.replace("Our", "").replace("Their", "")
    assert [kind(m) for m in ours.modules()] == [kind(m) for m in theirs.modules()]
    seen_ours, seen_theirs = [], []
    ours.apply(lambda m: seen_ours.append(kind(m)))
    theirs.apply(lambda m: seen_theirs.append(kind(m)))
    assert seen_ours == seen_theirs
    first_ours, first_theirs = next(ours.heads.parameters()), next(theirs.heads.parameters())
    assert first_ours.shape == tuple(first_theirs.shape)[::-1]  # Linear's layouts differ


def test_a_pytorch_state_dict_loads_after_the_documented_conversion():
    theirs = TheirNet().double()
    state = {k: v.detach().numpy().T if v.ndim == 2 else v.detach().numpy()
             for k, v in theirs.state_dict().items()}
    ours = OurNet()
    ours.load_state_dict(state)
    x = RNG.normal(size=(5, 4))
    with torch.no_grad():
        h = theirs.embed(torch.tensor(x))
        for block in theirs.blocks:
            h = block(h)
        expected = (theirs.heads["a"](h) * theirs.scale).numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-12)


def test_to_accepts_torchs_dtypes():
    model = OurNet().to(torch.float32)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    assert model.to(torch.float64).double() is model
