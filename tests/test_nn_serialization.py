"""Module.save / Module.load: plain .npz files, exact round trips, and refusal of bad files."""

import pickle

import numpy as np
import pytest

import nn


def _model(seed):
    return nn.MLP([4, 8, 3], activation="tanh", rng=np.random.default_rng(seed))


def test_save_then_load_into_a_fresh_model_gives_identical_predictions(tmp_path):
    trained, fresh = _model(0), _model(1)
    x = np.random.default_rng(2).normal(size=(10, 4))
    assert not np.array_equal(trained(x).data, fresh(x).data)
    path = tmp_path / "model.npz"
    trained.save(path)
    assert fresh.load(path) is fresh
    np.testing.assert_array_equal(fresh(x).data, trained(x).data)


def test_state_dict_round_trip_gives_identical_predictions():
    trained, fresh = _model(0), _model(1)
    fresh.load_state_dict(trained.state_dict())
    x = np.random.default_rng(2).normal(size=(10, 4))
    np.testing.assert_array_equal(fresh(x).data, trained(x).data)


def test_saved_file_is_a_plain_npz_at_exactly_the_given_path(tmp_path):
    model = nn.Linear(2, 3, dtype=np.float32)
    path = tmp_path / "weights"  # no extension: nothing is appended
    model.save(path)
    assert path.exists() and not (tmp_path / "weights.npz").exists()
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["bias", "weight"]
        assert archive["weight"].dtype == np.float32
        np.testing.assert_array_equal(archive["weight"], model.weight.data)


def test_load_reports_missing_unexpected_and_mismatched_entries(tmp_path):
    path = tmp_path / "small.npz"
    nn.MLP([4, 8, 3]).save(path)
    with pytest.raises(ValueError, match=r"shape mismatch for 'layers.0.weight'"):
        nn.MLP([4, 5, 3]).load(path)
    with pytest.raises(ValueError, match=r"missing keys \['layers.4.weight', 'layers.4.bias'\]"):
        nn.MLP([4, 8, 3, 2]).load(path)
    with pytest.raises(ValueError, match=r"unexpected keys \['layers.2.weight'"):
        nn.Sequential(nn.Linear(4, 8)).load(path)


def test_load_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.Linear(1, 1).load(tmp_path / "absent.npz")


@pytest.mark.parametrize("content", [b"", b"not an npz file at all", b"PK\x03\x04truncated"])
def test_load_rejects_files_that_are_not_npz(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="is not a valid .npz file of arrays"):
        nn.Linear(1, 1).load(path)


def test_load_rejects_a_single_npy_array(tmp_path):
    path = tmp_path / "one.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match="holds a single array, not an .npz archive"):
        nn.Linear(1, 1).load(path)


class _Payload:
    """Unpickling this object would create a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_load_refuses_object_arrays_and_runs_no_pickle(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(marker)
    np.savez(path, weight=payload, bias=np.zeros(1))
    with pytest.raises(ValueError, match="not a valid .npz file of numeric arrays"):
        nn.Linear(1, 1).load(path)
    assert not marker.exists()


def test_load_refuses_a_pickle_file_and_runs_nothing(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"weight": _Payload(marker)}))
    with pytest.raises(ValueError, match="is not a valid .npz file of arrays"):
        nn.Linear(1, 1).load(path)
    assert not marker.exists()


def test_failed_load_leaves_the_model_unchanged(tmp_path):
    path = tmp_path / "partial.npz"
    np.savez(path, weight=np.full((2, 3), 5.0))  # the bias is missing
    model = nn.Linear(2, 3)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"missing keys \['bias'\]"):
        model.load(path)
    np.testing.assert_array_equal(model.weight.data, before["weight"])


# ---------------------------------------------------------------- PyTorch's layout (issue 17)
def _square():
    return nn.Sequential(nn.Linear(3, 3, rng=np.random.default_rng(0)), nn.Tanh(),
                         nn.Linear(3, 3, rng=np.random.default_rng(1)))


def _as_pytorch(model):
    """The state dict PyTorch's nn.Sequential of the same layers would hold, as numpy arrays:
    keys without `layers.`, Linear weights (out, in)."""
    return {k.removeprefix("layers."): v.T if v.ndim == 2 else v
            for k, v in model.state_dict().items()}


@pytest.mark.parametrize("strict", [True, False])
def test_a_pytorch_sequential_state_dict_is_refused_with_the_conversion(strict):
    source = _square()
    target = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 3))
    before = target.state_dict()
    with pytest.raises(ValueError, match=r"looks like a PyTorch state dict \(keys that begin "
                                         r"with an index \(e.g. '0.weight'\)\)") as info:
        target.load_state_dict(_as_pytorch(source), strict=strict)
    conversion = str(info.value).split("first: ")[1]
    assert conversion == ('state = {"layers." + k: v.T if v.ndim == 2 else v '
                          'for k, v in state.items()}')
    for k, v in target.state_dict().items():  # nothing was loaded
        np.testing.assert_array_equal(v, before[k])
    namespace = {"state": _as_pytorch(source)}
    exec(conversion, namespace)  # the one-liner the message shows does the conversion
    target.load_state_dict(namespace["state"])
    x = np.random.default_rng(2).normal(size=(4, 3))
    np.testing.assert_array_equal(target(x).data, source(x).data)


def test_a_pytorch_file_is_refused(tmp_path):
    np.savez(tmp_path / "torch.npz", **_as_pytorch(_square()))
    with pytest.raises(ValueError, match="looks like a PyTorch state dict"):
        _square().load(tmp_path / "torch.npz")


def test_a_reversed_weight_shape_names_the_transposition():
    source = nn.MLP([4, 3, 3])  # the hidden weight is (4, 3), the output one square
    state = {k: v.T if v.ndim == 2 else v for k, v in source.state_dict().items()}
    with pytest.raises(ValueError, match=r"shape mismatch for 'layers.0.weight'.*has the "
                                         r"model's shape reversed.*square ones too.*"
                                         r"state = \{k: v.T if v.ndim == 2 else v"):
        nn.MLP([4, 3, 3]).load_state_dict(state)


def test_npgrad_state_dicts_with_digit_keys_inside_still_load(tmp_path):
    class Blocks(nn.Module):
        def __init__(self):
            self.blocks = {"0": nn.Linear(2, 2), "1": nn.Linear(2, 2)}

    source = Blocks()
    assert list(source.state_dict())[0] == "blocks.0.weight"
    target = Blocks().load_state_dict(source.state_dict())
    assert target == ([], [])
    source.save(tmp_path / "b.npz")
    Blocks().load(tmp_path / "b.npz")


def test_pytorch_state_dicts_are_refused_even_square_and_even_unnested():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Linear(3, 3).double()
    layer = nn.Linear(3, 3)
    with pytest.raises(ValueError, match=r"torch tensors as values \(e.g. 'weight'\).*square "
                                         r"one would load transposed"):
        layer.load_state_dict(theirs.state_dict())
    state = {k: v.detach().numpy().T if v.ndim == 2 else v.detach().numpy()
             for k, v in theirs.state_dict().items()}  # the message's one-liner
    layer.load_state_dict(state)
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(layer(x).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-15, atol=1e-15)


def test_a_converted_pytorch_sequential_predicts_as_pytorch_does():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU(),
                                 torch.nn.Linear(3, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    with pytest.raises(ValueError, match="looks like a PyTorch state dict") as info:
        ours.load_state_dict(theirs.state_dict())
    namespace = {"torch_state": theirs.state_dict()}
    exec(str(info.value).split("first: ")[1], namespace)
    ours.load_state_dict(namespace["state"])
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-14, atol=1e-15)
