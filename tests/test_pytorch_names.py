"""PyTorch names npgrad does not use: each error says what to write instead, from one table.

Every entry of the table is raised and checked, and every name a hint tells the user to write
is checked to exist, so the table cannot drift from the Tensor it describes. The hints must
not touch the hot path: the methods a training step runs are not wrapped.
"""

import copy
import pickle
import pydoc
import re
import rlcompleter
from pathlib import Path

import numpy as np
import pytest

import autograd
from autograd import Tensor, concatenate, pytorch_names, split, stack, tensor
from autograd.pytorch_names import HINTED_FUNCTIONS, HINTED_METHODS, KEYWORDS, NAMES


@pytest.fixture
def t():
    return Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)


# ---------------------------------------------------------------- attributes: one table
@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_pytorch_name_raises_an_attribute_error_with_its_hint(t, name):
    assert name in pytorch_names.INSTALLED, f"{name} exists on Tensor: drop it from the table"
    with pytest.raises(AttributeError, match=re.escape(NAMES[name].removeprefix("drop it"))):
        getattr(t, name)
    with pytest.raises(AttributeError) as info:
        getattr(t, name)
    assert f"'Tensor' object has no attribute '{name}' (a PyTorch name): " in str(info.value)
    assert info.value.name == name and info.value.obj is t  # Python's own suggestions work
    assert getattr(t, name, None) is None and not hasattr(t, name)


def _mentioned(hint):
    """The Tensor attributes (t.x) and autograd names (autograd.x) a hint tells one to use."""
    return (set(re.findall(r"\bt\.(\w+)", hint)), set(re.findall(r"\bautograd\.(\w+)", hint)))


@pytest.mark.parametrize("name", sorted(NAMES) + sorted(KEYWORDS))
def test_every_hint_points_at_something_that_exists(name):
    hint = NAMES.get(name) or KEYWORDS[name]
    methods, functions = _mentioned(hint)
    t = Tensor(np.ones((2, 2)))
    for method in methods:
        assert method in ("data", "grad", "shape") or hasattr(t, method), (name, method)
    for function in functions:
        assert hasattr(autograd, function), (name, function)


@pytest.mark.parametrize("name, hint", [
    ("view", "write t.reshape(*shape)"),
    ("permute", "write t.transpose(*axes)"),
    ("float", "write t.astype(np.float32)"),
    ("double", "write t.astype(np.float64)"),
    ("numel", "write t.size"),
    ("clamp", "write t.clip(lo, hi)"),
    ("detach_", "write t = t.detach()"),
    ("cuda", "drop it: npgrad runs on numpy, on the CPU only"),
    ("masked_fill", "write autograd.where(mask, value, t)"),
])
def test_the_common_habits_get_the_answer_one_expects(t, name, hint):
    with pytest.raises(AttributeError, match=re.escape(hint)):
        getattr(t, name)


@pytest.mark.parametrize("name, new", [("unsqueeze_", "t.unsqueeze(...)"), ("add_", "t + other"),
                                       ("relu_", "t.relu(...)"), ("squeeze_", "t.squeeze(...)"),
                                       ("clamp_", "t.clip(lo, hi)"), ("erf_", "t.erf(...)")])
def test_any_in_place_method_says_to_rebind_or_use_the_in_place_operators(t, name, new):
    with pytest.raises(AttributeError, match=re.escape(f"write t = {new}, a new tensor: "
                                                       "npgrad has no in-place methods")):
        getattr(t, name)(0)


@pytest.mark.parametrize("base", pytorch_names.IN_PLACE)
def test_every_in_place_hint_is_a_pytorch_method_on_a_name_npgrad_knows(t, base):
    assert base in NAMES or hasattr(Tensor, base) and base not in pytorch_names.INSTALLED
    with pytest.raises(AttributeError, match=r"\(a PyTorch name\): write t = .*, a new tensor"):
        getattr(t, base + "_")
    torch = pytest.importorskip("torch")
    assert callable(getattr(torch.Tensor, base + "_"))


@pytest.mark.parametrize("name", ["backward_", "T_", "dtype_", "detach__", "zero__", "shape_",
                                  "requires_grad__", "sum_", "mean_", "zero_grad_", "item_"])
def test_npgrads_own_names_with_an_underscore_get_no_hint(t, name):
    # issue 17: these said "write t = t.backward(...), a new tensor", which means nothing
    assert name not in pytorch_names.INSTALLED
    with pytest.raises(AttributeError, match=rf"^'Tensor' object has no attribute '{name}'$"):
        getattr(t, name)


# ---------------------------------------------------------------- hints stay out of dir and help
def test_dir_of_a_tensor_and_of_the_class_has_no_hints(t):
    for names in (dir(t), dir(Tensor)):
        assert not set(names) & pytorch_names.INSTALLED
        assert {"reshape", "backward", "T", "mT", "requires_grad_", "__add__"} <= set(names)
        assert set(names) >= {n for n in vars(Tensor) if n not in pytorch_names.INSTALLED}
    assert len(dir(t)) < 180  # issue 17: 390 names, 267 of them hints (issue 18: +38 methods)


def test_help_lists_no_hints():
    text = pydoc.render_doc(Tensor, renderer=pydoc.plaintext)
    assert "Not in npgrad" not in text
    assert "norm(self, ord=None, axis=None" in text and "reshape(self, *shape)" in text
    for name in ("view", "cuda", "partition", "add_"):
        assert not re.search(rf"^ \|  {name}\b", text, re.MULTILINE), name


def test_tab_completion_offers_no_hints(t):
    completer = rlcompleter.Completer({"t": t})
    offered = {completer.complete("t.", i) for i in range(400)} - {None}
    assert "t.reshape(" in offered and "t.view(" not in offered and "t.partition(" not in offered
    assert not {c for c in offered if c.rstrip("(").removeprefix("t.") in
                pytorch_names.INSTALLED}


@pytest.mark.parametrize("name", sorted(pytorch_names.INSTALLED))
def test_every_hidden_hint_still_raises_its_message(t, name):
    with pytest.raises(AttributeError, match=rf"^'Tensor' object has no attribute '{name}'"
                                             r"(: | \(a PyTorch name\): )\S"):
        getattr(t, name)


def test_zero_on_a_tensor_says_how_to_forget_a_gradient(t):
    with pytest.raises(AttributeError, match=r"t\.zero_grad\(\) or t\.grad = None"):
        t.zero_()


def test_grad_is_a_plain_array_so_grad_zero_is_numpys_error(t):
    """The README says what to write: t.grad = None, t.zero_grad() or optimizer.zero_grad()."""
    (t * t).sum().backward()
    assert type(t.grad) is np.ndarray
    with pytest.raises(AttributeError, match="'numpy.ndarray' object has no attribute 'zero_'"):
        t.grad.zero_()
    t.zero_grad()
    assert t.grad is None


def test_ndarray_methods_without_a_rule_name_a_spelling_with_a_gradient_first(t):
    with pytest.raises(AttributeError, match=r"ndarray\.partition has no gradient rule in "
                                             r"npgrad .*; t\.data\.partition gives a plain array"):
        t.partition(0)
    # repeat: PyTorch's (numpy's tile) first, then numpy's
    with pytest.raises(AttributeError, match=r"PyTorch's repeat, numpy's tile; for numpy's "
                                             r"repeat, .* t\[np\.repeat\(np\.arange\(len\(t\)\), "
                                             r"n\)\]"):
        t.repeat(2)


def test_unknown_names_are_plain_attribute_errors(t):
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'wibble'$"):
        _ = t.wibble
    assert not hasattr(t, "__array_interface__")  # numpy asks; the answer is quick and plain
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute '_repr_html_'$"):
        _ = t._repr_html_  # IPython asks: not mistaken for an in-place method


def test_copies_and_pickles_still_work(t):
    for clone in (copy.copy(t), copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        np.testing.assert_array_equal(clone.data, t.data)
        assert clone.requires_grad


# ---------------------------------------------------------------- the package: autograd.cat
def test_torch_functions_under_the_package_name_get_hints():
    with pytest.raises(AttributeError, match=r"module 'autograd' has no attribute 'cat' \(a "
                                             r"PyTorch name\): write autograd\.concatenate"):
        _ = autograd.cat
    with pytest.raises(AttributeError, match=r"'exp': it is a Tensor method, t\.exp\(\.\.\.\) "
                                             r"\(or np\.exp\(t\)"):
        _ = autograd.exp
    with pytest.raises(AttributeError, match=r"^module 'autograd' has no attribute 'wibble'$"):
        _ = autograd.wibble
    with pytest.raises(ImportError, match="cannot import name 'cat'"):
        from autograd import cat  # noqa: F401
    assert tensor.Tensor is Tensor  # submodules are found as before


# ---------------------------------------------------------------- keywords: dim=, keepdim=, ...
KEYWORD_CALLS = [
    (lambda t: t.sum(dim=1), "Tensor.sum", "for dim= write axis="),
    (lambda t: t.mean(dim=0, keepdim=True), "Tensor.mean",
     "for dim= write axis=; for keepdim= write keepdims="),
    (lambda t: t.sum(axis=1, keepdim=True), "Tensor.sum", "for keepdim= write keepdims="),
    (lambda t: t.max(dim=1), "Tensor.max", r"axis=\. t\.max\(axis\) gives the values only; "
                                           r"t\.argmax\(axis\) gives PyTorch's indices"),
    (lambda t: t.min(dim=1), "Tensor.min", r"t\.argmin\(axis\) gives PyTorch's indices"),
    (lambda t: t.prod(dim=1), "Tensor.prod", "axis="),
    (lambda t: t.var(dim=1, unbiased=False), "Tensor.var",
     "for unbiased= write ddof=1 .*or ddof=0"),
    (lambda t: t.std(correction=1), "Tensor.std", "for correction= write ddof="),
    (lambda t: t.logsumexp(dim=1), "Tensor.logsumexp", "axis="),
    (lambda t: t.argmax(dim=1), "Tensor.argmax", "axis="),
    (lambda t: t.argmin(dim=1, keepdim=True), "Tensor.argmin", "keepdims="),
    (lambda t: t.softmax(dim=-1), "Tensor.softmax", "axis="),
    (lambda t: t.log_softmax(dim=-1), "Tensor.log_softmax", "axis="),
    (lambda t: t[None].squeeze(dim=0), "Tensor.squeeze", "axis="),
    (lambda t: t.unsqueeze(dim=0), "Tensor.unsqueeze", "axis="),
    (lambda t: t.expand_dims(dim=0), "Tensor.expand_dims", "axis="),
    (lambda t: t.flatten(start_dim=1), "Tensor.flatten", "for start_dim= write start_axis="),
    (lambda t: t.flatten(0, end_dim=1), "Tensor.flatten", r"for end_dim= write t\.reshape"),
    (lambda t: t.clip(min=0.0, max=1.0), "Tensor.clip", "for min= write lo=; for max= write hi="),
    (lambda t: t.leaky_relu(negative_slope=0.2), "Tensor.leaky_relu", "write slope="),
    (lambda t: t.swapaxes(0, 1, out=None), "Tensor.swapaxes", "for out= drop it"),
    (lambda t: t.cumsum(dim=1), "Tensor.cumsum", "for dim= write axis="),
    (lambda t: t.cumprod(dim=0), "Tensor.cumprod", "for dim= write axis="),
    (lambda t: t.take([0], dim=0), "Tensor.take", "for dim= write axis="),
    (lambda t: concatenate([t, t], dim=1), "concatenate", "for dim= write axis="),
    (lambda t: stack([t, t], dim=1), "stack", "for dim= write axis="),
    (lambda t: split(t, 3, dim=1), "split", "for dim= write axis="),
]


@pytest.mark.parametrize("call, where, message", KEYWORD_CALLS,
                         ids=[f"{w}-{i}" for i, (_, w, _) in enumerate(KEYWORD_CALLS)])
def test_a_pytorch_keyword_is_a_type_error_that_says_what_to_write(t, call, where, message):
    with pytest.raises(TypeError, match=rf"^{re.escape(where)}\(\) takes numpy's keywords, not "
                                        rf"PyTorch's: .*{message}"):
        call(t)


def test_every_hinted_method_and_function_is_covered_above():
    called = {where.removeprefix("Tensor.") for _, where, _ in KEYWORD_CALLS}
    assert set(HINTED_METHODS) <= called
    assert set(HINTED_FUNCTIONS) <= called


def test_the_hinted_methods_still_work_and_keep_their_names_and_docs(t):
    np.testing.assert_array_equal(t.sum(axis=1, keepdims=True).data, [[3.0], [12.0]])
    np.testing.assert_array_equal(t.max(1).data, [2.0, 5.0])
    assert Tensor.sum.__name__ == "sum" and "max" in Tensor.max.__doc__
    assert Tensor.var.__doc__.startswith("Variance along `axis`")
    assert concatenate.__name__ == "concatenate" and split.__doc__.startswith("Split like")


def test_other_type_errors_pass_through_unchanged(t):
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'wibble'$"):
        t.sum(wibble=1)  # not a PyTorch keyword: Python's own message
    with pytest.raises(TypeError, match="takes numpy's keywords"):
        t.sum(dim=1, wibble=1)
    with pytest.raises(ValueError, match="squeeze: axis 1 has length 3"):
        t.squeeze(1)  # errors from inside the method are untouched


def test_the_hot_path_is_not_wrapped():
    """Operators, linear, the activations and the fused losses run as defined in tensor.py."""
    for name in ("__add__", "__mul__", "__matmul__", "__sub__", "__neg__", "linear", "tanh",
                 "relu", "sigmoid", "cross_entropy", "bce_with_logits", "exp", "log",
                 "reshape", "__getitem__", "backward"):
        method = getattr(Tensor, name)
        assert not hasattr(method, "__wrapped__"), f"Tensor.{name} is wrapped"
        assert method.__module__ == "autograd.tensor"
    assert not hasattr(autograd.where, "__wrapped__")


# ---------------------------------------------------------------- t.size() and transpose(a, b)
def test_size_is_numpys_int_and_calling_it_says_shape(t):
    assert t.size == 6 and isinstance(t.size, int) and t.size + 1 == 7 and f"{t.size}" == "6"
    assert np.zeros(t.size).shape == (6,)
    with pytest.raises(TypeError, match=r"t\.size is numpy's size, the number of elements \(6\), "
                                        r"not a method: for PyTorch's t\.size\(\) write t\.shape$"):
        t.size()
    with pytest.raises(TypeError, match=r"for PyTorch's t\.size\(1\) write t\.shape\[1\]$"):
        t.size(1)


@pytest.mark.parametrize("shape", [(2, 3, 4), (3,), (), (2, 1, 3, 4)])
def test_transpose_of_two_axes_of_a_tensor_that_is_not_2d_says_swapaxes(shape):
    x = Tensor(np.zeros(shape))
    with pytest.raises(ValueError, match=rf"transpose\(0, 1\) of a {len(shape)}-D tensor: numpy's "
                                         r"transpose takes all the axes .* PyTorch's swaps two: "
                                         r"write t\.swapaxes\(0, 1\)"):
        x.transpose(0, 1)


@pytest.mark.parametrize("axes", [(0, 1), (-2, -1), (0, -1), (-2, 1)])
def test_transpose_that_numpy_reads_as_no_change_and_pytorch_as_a_swap_raises(axes):
    # numpy's m.transpose(0, 1) returns m unchanged; PyTorch's swaps: never silently pick one
    m = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(ValueError, match=rf"transpose\({axes[0]}, {axes[1]}\) of a 2-D tensor: "
                                         r".*leaves it unchanged.* write t\.T, t\.mT or "
                                         rf"t\.swapaxes\({axes[0]}, {axes[1]}\)"):
        m.transpose(*axes)


def test_transpose_keeps_numpys_meaning_where_the_libraries_agree_or_numpy_is_explicit():
    data = np.arange(24.0).reshape(2, 3, 4)
    x = Tensor(data, requires_grad=True)
    m = Tensor(data[0], requires_grad=True)
    for got, want in [(m.transpose(1, 0), data[0].T), (m.transpose(-1, -2), data[0].T),
                      (m.transpose(), data[0].T), (m.transpose((0, 1)), data[0]),
                      (m.transpose([1, 0]), data[0].T), (np.transpose(m, (0, 1)), data[0]),
                      (np.transpose(m), data[0].T), (x.transpose(2, 0, 1), data.transpose(2, 0, 1)),
                      (x.transpose((1, 0, 2)), data.transpose(1, 0, 2)),
                      (np.transpose(x, (2, 0, 1)), data.transpose(2, 0, 1)),
                      (m.T, data[0].T), (m.mT, data[0].T), (m.swapaxes(0, 1), data[0].T),
                      (x.swapaxes(0, 1), data.swapaxes(0, 1)), (x.mT, data.swapaxes(1, 2))]:
        np.testing.assert_array_equal(got.data, want)
    weights = np.arange(12.0).reshape(4, 3)
    (m.transpose(1, 0) * weights).sum().backward()
    np.testing.assert_array_equal(m.grad, weights.T)
    with pytest.raises(ValueError, match="repeated axis in transpose"):  # numpy's own error
        m.transpose(1, 1)


def test_the_table_is_one_module():
    assert pytorch_names.hint("view") == "write " + NAMES["view"]
    assert pytorch_names.hint("relu_") is not None and pytorch_names.hint("view2") is None
    assert pytorch_names.hint("anything_") is None


def test_the_readme_quotes_the_messages_as_they_are(t):
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    for call, error in ((lambda: t.view(2, 3), AttributeError),
                        (lambda: t.sum(dim=1, keepdim=True), TypeError)):
        with pytest.raises(error) as info:
            call()
        assert f"{error.__name__}: {info.value}" in readme
