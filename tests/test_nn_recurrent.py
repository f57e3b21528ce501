"""nn/recurrent.py: RNN, GRU, LSTM and their cells without PyTorch.

Steps against the equations written in numpy, layers against their cells unrolled, stacking,
batch_first and unbatched inputs against the plain layout, gradients against float64 central
differences, initialisation, and errors for bad arguments.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Tensor, gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """The textbook equations, one step, with PyTorch's gate order."""
    xi, hh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    if mode == "RNN":
        return np.tanh(xi + hh), None
    if mode == "GRU":
        H = h.shape[-1]
        r = sigmoid(xi[:, :H] + hh[:, :H])
        z = sigmoid(xi[:, H:2 * H] + hh[:, H:2 * H])
        n = np.tanh(xi[:, 2 * H:] + r * hh[:, 2 * H:])
        return (1 - z) * n + z * h, None
    i, f, g, o = np.split(xi + hh, 4, axis=1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


@pytest.mark.parametrize("layer", [nn.RNN, nn.GRU, nn.LSTM])
def test_layers_follow_the_equations_step_by_step(layer):
    model = layer(3, 4, num_layers=2)
    x = RNG.normal(size=(5, 2, 3))
    h0 = RNG.normal(size=(2, 2, 4))
    c0 = RNG.normal(size=(2, 2, 4))
    state = (h0, c0) if layer is nn.LSTM else h0
    out, final = model(x, state)
    mode = layer.__name__
    inputs, finals = x, []
    for k in range(2):
        w = [getattr(model, f"{n}_l{k}").data for n in ("weight_ih", "weight_hh", "bias_ih",
                                                           "bias_hh")]
        h, c, outputs = h0[k], c0[k], []
        for t in range(5):
            h, c = numpy_step(mode, inputs[t], h, c, *w)
            outputs.append(h)
        inputs = np.stack(outputs)
        finals.append((h, c))
    np.testing.assert_allclose(out.data, inputs, rtol=1e-10)
    h_n = final[0] if layer is nn.LSTM else final
    np.testing.assert_allclose(h_n.data, np.stack([h for h, _ in finals]), rtol=1e-10)
    if layer is nn.LSTM:
        np.testing.assert_allclose(final[1].data, np.stack([c for _, c in finals]), rtol=1e-10)


@pytest.mark.parametrize("layer,cell", [(nn.RNN, nn.RNNCell), (nn.GRU, nn.GRUCell),
                                        (nn.LSTM, nn.LSTMCell)])
def test_a_layer_is_its_cell_unrolled(layer, cell):
    model, step = layer(2, 3, bias=False), cell(2, 3, bias=False)
    step.weight_ih, step.weight_hh = model.weight_ih_l0, model.weight_hh_l0
    x = RNG.normal(size=(4, 2, 2))
    out, _ = model(x)
    state = None
    for t in range(4):
        state = step(x[t], state)
        h = state[0] if cell is nn.LSTMCell else state
        np.testing.assert_allclose(out.data[t], h.data, rtol=1e-12)


@pytest.mark.parametrize("layer", [nn.RNN, nn.GRU, nn.LSTM])
def test_batch_first_and_unbatched_match_the_plain_layout(layer):
    plain = layer(3, 2, num_layers=2, rng=np.random.default_rng(1))
    first = layer(3, 2, num_layers=2, batch_first=True, rng=np.random.default_rng(1))
    x = RNG.normal(size=(4, 3, 3))  # (seq, batch, in)
    out, final = plain(x)
    out_bf, final_bf = first(x.transpose(1, 0, 2))
    np.testing.assert_array_equal(out_bf.data, out.data.transpose(1, 0, 2))
    h = final[0] if layer is nn.LSTM else final
    h_bf = final_bf[0] if layer is nn.LSTM else final_bf
    np.testing.assert_array_equal(h_bf.data, h.data)  # h_n is (layers, batch, H) either way
    single, single_final = plain(x[:, 1])  # unbatched: (seq, in)
    np.testing.assert_allclose(single.data, out.data[:, 1], rtol=1e-12)
    h1 = single_final[0] if layer is nn.LSTM else single_final
    assert h1.shape == (2, 2)
    np.testing.assert_allclose(h1.data, h.data[:, 1], rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["RNN", "GRU", "LSTM"]), st.integers(1, 4), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 2), st.booleans())
def test_every_sequence_in_a_batch_runs_on_its_own(name, seq, batch, hidden, layers, first):
    # Batch rows never mix: each row run alone (unbatched) gives its row of the batched run.
    model = getattr(nn, name)(2, hidden, num_layers=layers, batch_first=first,
                              rng=np.random.default_rng(seq))
    x = np.random.default_rng(batch).normal(size=(batch, seq, 2) if first else (seq, batch, 2))
    out, final = model(x)
    h_n = final[0] if name == "LSTM" else final
    assert out.shape == ((batch, seq, hidden) if first else (seq, batch, hidden))
    for b in range(batch):
        alone, alone_final = model(x[b] if first else x[:, b])
        np.testing.assert_allclose(alone.data, out.data[b] if first else out.data[:, b],
                                   rtol=1e-12, atol=1e-15)
        alone_h = alone_final[0] if name == "LSTM" else alone_final
        np.testing.assert_allclose(alone_h.data, h_n.data[:, b], rtol=1e-12, atol=1e-15)


def test_relu_nonlinearity_and_sequence_length_one():
    model = nn.RNN(2, 3, nonlinearity="relu")
    x, h0 = RNG.normal(size=(1, 4, 2)), RNG.normal(size=(1, 4, 3))
    out, h = model(x, h0)
    w = model.weight_ih_l0.data, model.weight_hh_l0.data, model.bias_ih_l0.data, \
        model.bias_hh_l0.data
    expected = np.maximum(x[0] @ w[0].T + w[2] + h0[0] @ w[1].T + w[3], 0)
    np.testing.assert_allclose(out.data[0], expected, rtol=1e-12)
    np.testing.assert_array_equal(h.data, out.data)


CASES = [
    (nn.RNN, dict(num_layers=2)),
    (nn.RNN, dict(nonlinearity="relu", bias=False)),
    (nn.GRU, dict(num_layers=2, batch_first=True)),
    (nn.LSTM, dict(num_layers=2)),
    (nn.LSTM, dict(bias=False, batch_first=True)),
]


@pytest.mark.parametrize("layer,kwargs", CASES, ids=lambda c: str(c))
def test_layer_gradients_against_central_differences(layer, kwargs):
    model = layer(2, 3, **kwargs)
    x = Tensor(RNG.normal(size=(2, 3, 2) if model.batch_first else (3, 2, 2)),
               requires_grad=True)  # sequence 3, batch 2
    h0 = Tensor(RNG.normal(size=(model.num_layers, 2, 3)), requires_grad=True)
    c0 = Tensor(RNG.normal(size=(model.num_layers, 2, 3)), requires_grad=True)
    weights = [np.random.default_rng(i).normal(size=x.shape[:2] + (3,)) for i in range(3)]

    def fn(x, h0, c0):
        out, final = model(x, (h0, c0)) if layer is nn.LSTM else model(x, h0)
        finals = final if layer is nn.LSTM else (final,)
        loss = (out * weights[0]).sum()
        for f, w in zip(finals, weights[1:]):
            loss = loss + (f * w[:model.num_layers, :2]).sum()
        return loss

    args = (x, h0, c0) if layer is nn.LSTM else (x, h0, Tensor(np.zeros(1)))
    assert gradcheck(fn, *args, params=model.parameters())


@pytest.mark.parametrize("cell", [nn.RNNCell, nn.GRUCell, nn.LSTMCell])
def test_cell_gradients_against_central_differences(cell):
    step = cell(3, 2)
    x = Tensor(RNG.normal(size=(4, 3)), requires_grad=True)
    h = Tensor(RNG.normal(size=(4, 2)), requires_grad=True)
    c = Tensor(RNG.normal(size=(4, 2)), requires_grad=True)
    w = RNG.normal(size=(4, 2))

    def fn(x, h, c):
        out = step(x, (h, c)) if cell is nn.LSTMCell else step(x, h)
        return sum(((o * w).sum() for o in out), Tensor(0.0)) if cell is nn.LSTMCell \
            else (out * w).sum()

    assert gradcheck(fn, x, h, c if cell is nn.LSTMCell else Tensor(0.0),
                     params=step.parameters())


@pytest.mark.parametrize("cell", [nn.RNNCell, nn.GRUCell, nn.LSTMCell])
def test_cell_second_derivatives(cell):
    step = cell(2, 2)
    x = Tensor(RNG.normal(size=(3, 2)), requires_grad=True)
    h = Tensor(RNG.normal(size=(3, 2)), requires_grad=True)
    if cell is nn.LSTMCell:
        assert gradgradcheck(lambda x, h: step(x, (h, h * 0.5))[0], x, h)
    else:
        assert gradgradcheck(lambda x, h: step(x, h), x, h)


def test_dropout_between_layers_only_in_training():
    model = nn.LSTM(2, 3, num_layers=2, dropout=1.0)
    x = RNG.normal(size=(3, 1, 2))
    out, _ = model(x)
    # Every output of layer 0 dropped: layer 1 sees zeros, so its output ignores x.
    np.testing.assert_allclose(out.data, model(x * 5)[0].data)
    evaluated = model.eval()(x)[0].data
    assert not np.allclose(evaluated, out.data)
    np.testing.assert_array_equal(nn.LSTM(2, 3, dropout=0.5, rng=np.random.default_rng(1))(x)[0]
                                  .data, nn.LSTM(2, 3, rng=np.random.default_rng(1))(x)[0].data)


def test_initialisation_is_uniform_within_one_over_sqrt_hidden():
    model = nn.GRU(5, 25, num_layers=2, rng=np.random.default_rng(0))
    for name, p in model.named_parameters():
        assert np.abs(p.data).max() <= 0.2, name
        assert np.abs(p.data).max() > 0.19, name
    assert [n for n, _ in model.named_parameters()] == [
        f"{w}_l{k}" for k in range(2) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert model.weight_ih_l0.shape == (75, 5) and model.weight_ih_l1.shape == (75, 25)
    assert nn.LSTMCell(3, 4).weight_hh.shape == (16, 4)


def test_float32_stays_float32():
    model = nn.LSTM(2, 3, dtype=np.float32)
    out, (h, c) = model(RNG.normal(size=(2, 2, 2)))
    assert out.dtype == h.dtype == c.dtype == np.float32


@pytest.mark.parametrize("call,error,match", [
    (lambda: nn.LSTM(3, 4)(np.ones((5, 2, 2))), ValueError,
     r"LSTM\(3, 4\): expected a non-empty input of shape \(seq, batch, 3\).*\(5, 2, 2\)"),
    (lambda: nn.GRU(3, 4, batch_first=True)(np.ones((2, 5, 3, 1))), ValueError,
     r"GRU\(3, 4, batch_first=True\).*\(batch, seq, 3\).*\(2, 5, 3, 1\)"),
    (lambda: nn.RNN(3, 4)(np.ones((0, 2, 3))), ValueError, r"non-empty.*\(0, 2, 3\)"),
    (lambda: nn.RNN(3, 4, num_layers=2)(np.ones((5, 2, 3)), np.zeros((1, 2, 4))), ValueError,
     r"RNN\(3, 4, num_layers=2\): hx must have shape \(2, 2, 4\), got \(1, 2, 4\)"),
    (lambda: nn.LSTM(3, 4)(np.ones((5, 2, 3)), np.zeros((1, 2, 4))), TypeError,
     r"LSTM\(3, 4\): hx must be a tuple \(h_0, c_0\)"),
    (lambda: nn.LSTM(3, 4)(np.ones((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 3, 4)))),
     ValueError, r"c_0 must have shape \(1, 2, 4\), got \(1, 3, 4\)"),
    (lambda: nn.LSTMCell(3, 4)(np.ones((2, 4))), ValueError,
     r"LSTMCell\(3, 4\).*\(batch, 3\).*\(2, 4\)"),
    (lambda: nn.GRUCell(3, 4)(np.ones((2, 3)), np.zeros((2, 5))), ValueError,
     r"GRUCell\(3, 4\): hx must have shape \(2, 4\), got \(2, 5\)"),
    (lambda: nn.RNN(3, 0), ValueError, "hidden_size must be a positive integer"),
    (lambda: nn.LSTM(3, 4, num_layers=0), ValueError, "num_layers"),
    (lambda: nn.LSTM(3, 4, bidirectional=True), ValueError, "bidirectional"),
    (lambda: nn.GRU(3, 4, dropout=2.0), ValueError, "dropout"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, "nonlinearity"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="gelu"), ValueError, "nonlinearity"),
    (lambda: nn.GRUCell(3, 4, nonlinearity="relu"), TypeError, "nonlinearity"),  # not ignored
    (lambda: nn.LSTM(3, 4, dtype=np.int16), ValueError, "dtype"),
])
def test_bad_arguments_name_the_layer_and_shapes(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_state_dict_round_trip_and_repr(tmp_path):
    model = nn.LSTM(3, 4, num_layers=2, batch_first=True)
    model.save(tmp_path / "lstm.npz")
    other = nn.LSTM(3, 4, num_layers=2, batch_first=True).load(tmp_path / "lstm.npz")
    x = RNG.normal(size=(2, 3, 3))
    np.testing.assert_array_equal(other(x)[0].data, model(x)[0].data)
    assert repr(model).startswith("LSTM(3, 4, num_layers=2, batch_first=True)")
    assert repr(nn.RNNCell(2, 3, nonlinearity="relu")).startswith(
        "RNNCell(2, 3, nonlinearity='relu')")
