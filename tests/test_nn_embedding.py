"""nn/embedding.py: lookups, accumulated row gradients, padding_idx, index checks."""

import numpy as np
import pytest

import nn
from autograd import Tensor, gradcheck


def test_lookup_returns_the_rows_and_repeated_rows_accumulate_their_gradients():
    emb = nn.Embedding(6, 3, rng=np.random.default_rng(0))
    index = np.array([[1, 4, 1], [0, 1, 5]])
    out = emb(index)
    np.testing.assert_array_equal(out.data, emb.weight.data[index])
    g = np.random.default_rng(1).normal(size=out.shape)
    (out * g).sum().backward()
    expected = np.zeros((6, 3))
    for position, row in np.ndenumerate(index):
        expected[row] += g[position]
    np.testing.assert_allclose(emb.weight.grad, expected, rtol=1e-12)
    np.testing.assert_array_equal(emb.weight.grad[[2, 3]], 0.0)  # rows not looked up


def test_gradient_against_central_differences():
    emb = nn.Embedding(4, 2)  # (padding_idx's row has a value but, by design, no gradient)
    index = np.array([0, 2, 3, 3, 2])
    weights = np.random.default_rng(2).normal(size=(5, 2))
    assert gradcheck(lambda: (emb(index) * weights).sum(), params=[emb.weight], atol=1e-6) \
        is True


def test_padding_row_starts_at_zero_passes_its_value_but_takes_no_gradient():
    emb = nn.Embedding(5, 2, padding_idx=-2)
    assert emb.padding_idx == 3
    np.testing.assert_array_equal(emb.weight.data[3], 0.0)
    emb.weight.data[3] = [2.0, -1.0]
    out = emb([3, 1, 3])
    np.testing.assert_array_equal(out.data[[0, 2]], [[2.0, -1.0], [2.0, -1.0]])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[3], 0.0)
    np.testing.assert_array_equal(emb.weight.grad[1], 1.0)


def test_initialisation_is_standard_normal_from_the_generator():
    a = nn.Embedding(300, 40, rng=np.random.default_rng(7)).weight.data
    b = np.random.default_rng(7).standard_normal((300, 40))
    np.testing.assert_array_equal(a, b)
    nn.manual_seed(3)
    first = nn.Embedding(3, 2).weight.data
    nn.manual_seed(3)
    np.testing.assert_array_equal(nn.Embedding(3, 2).weight.data, first)


def test_shapes_lists_scalars_empty_and_float32():
    emb = nn.Embedding(4, 3, dtype=np.float32)
    assert emb([1, 2]).shape == (2, 3) and emb([1, 2]).dtype == np.float32
    assert emb(np.int32(2)).shape == (3,)
    assert emb(np.zeros((2, 0), np.int64)).shape == (2, 0, 3)
    assert emb([]).shape == (0, 3)


def test_inside_sequential_the_float_tensor_of_indices_is_read_back():
    # Sequential hands its input on as a Tensor in the model's dtype: whole numbers, exact.
    model = nn.Sequential(nn.Embedding(10, 2), nn.Flatten(), nn.Linear(6, 1))
    index = np.array([[1, 9, 0], [3, 3, 3]])
    expected = model.layers[0].weight.data[index].reshape(2, 6) @ model.layers[2].weight.data
    np.testing.assert_allclose(model(index).data, expected + model.layers[2].bias.data)


@pytest.mark.parametrize("index,error,match", [
    ([0, 5], IndexError,
     r"Embedding\(5, 2\): indices must lie in \[0, 5\), got values in \[0, 5\]"),
    ([-1, 2], IndexError, r"Embedding\(5, 2\).*\[-1, 2\]"),
    (np.array([0.0, 1.0]), TypeError, r"Embedding\(5, 2\): indices must be integers.*float64"),
    (Tensor([0.5, 1.0]), TypeError, "whole numbers"),
    (np.array([True, False]), TypeError, "integers, got dtype bool"),  # not a mask
    (Tensor([1.0], requires_grad=True), TypeError, "requires grad"),
    (Tensor([7.0]), IndexError, r"\[0, 5\).*\[7, 7\]"),
])
def test_bad_indices_name_the_layer_and_range(index, error, match):
    with pytest.raises(error, match=match):
        nn.Embedding(5, 2)(index)


@pytest.mark.parametrize("kwargs,match", [
    (dict(num_embeddings=0, embedding_dim=2), "num_embeddings"),
    (dict(num_embeddings=3, embedding_dim=2.0), "embedding_dim"),
    (dict(num_embeddings=3, embedding_dim=2, padding_idx=3), r"padding_idx must lie in \[-3, 3\)"),
    (dict(num_embeddings=3, embedding_dim=2, dtype=np.int64), "dtype"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.Embedding(**kwargs)


def test_functional_embedding_and_repr():
    weight = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    np.testing.assert_array_equal(nn.functional.embedding([2, 0], weight).data, [[4, 5], [0, 1]])
    assert repr(nn.Embedding(3, 2, padding_idx=0)).startswith("Embedding(3, 2, padding_idx=0)")
    with pytest.raises(ValueError, match=r"2-d.*\(6,\)"):
        nn.functional.embedding([0], Tensor(np.zeros(6)))


def test_fit_trains_an_embedding_model_from_integer_data():
    # fit hands batches on in the model's dtype: the indices arrive as whole-number floats.
    nn.manual_seed(0)
    X = np.random.default_rng(0).integers(0, 8, size=(64, 2))
    y = (X[:, 0] + X[:, 1]) % 2  # parity of the two tokens: needs the embeddings to learn
    model = nn.Sequential(nn.Embedding(8, 4), nn.Flatten(), nn.Linear(8, 16), nn.Tanh(),
                          nn.Linear(16, 2))
    before = model.layers[0].weight.data.copy()
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters(), lr=0.05),
                     X, y, epochs=60, batch_size=16, metrics="accuracy")
    assert history.accuracy[-1] == 1.0
    assert not np.array_equal(model.layers[0].weight.data, before)
