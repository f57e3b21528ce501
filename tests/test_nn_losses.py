"""nn/losses.py: the loss modules agree with nn.functional, check their reduction, and print."""

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd import Tensor, gradcheck

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(5, 3))
LABELS = np.array([0, 2, 1, 2, 0])  # integer labels: must reach the loss unconverted
P = RNG.uniform(0.1, 0.9, size=(5, 1))
Y = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])

CASES = [
    (nn.MSELoss, F.mse_loss, P, Y),
    (nn.BCELoss, F.bce_loss, P, Y),
    (nn.BCEWithLogitsLoss, F.bce_with_logits_loss, LOGITS[:, :1], Y),
    (nn.CrossEntropyLoss, F.cross_entropy, LOGITS, LABELS),
]


@pytest.mark.parametrize("cls, fn, x, t", CASES, ids=[c[0].__name__ for c in CASES])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_equal_their_functions(cls, fn, x, t, reduction):
    loss = cls(reduction=reduction)
    expected = fn(Tensor(x), t, reduction=reduction).data
    np.testing.assert_array_equal(loss(Tensor(x), t).data, expected)
    np.testing.assert_array_equal(loss(x, t).data, expected)  # numpy input
    assert gradcheck(lambda x: loss(x, t).sum(), Tensor(x, requires_grad=True))


@pytest.mark.parametrize("cls", [c[0] for c in CASES])
def test_loss_modules_check_reduction_and_print_it(cls):
    assert repr(cls()) == f"{cls.__name__}(reduction='mean')"
    assert repr(cls("sum")) == f"{cls.__name__}(reduction='sum')"
    assert cls().parameters() == []
    assert repr(cls("none")) == f"{cls.__name__}(reduction='none')"
    with pytest.raises(ValueError, match=rf"{cls.__name__}: reduction must be 'mean', 'sum' or "):
        cls(reduction="avg")


def test_loss_module_shape_errors_come_from_the_function():
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(5, 1\) and target shape \(5,\)"):
        nn.MSELoss()(Tensor(P), Y[:, 0])
