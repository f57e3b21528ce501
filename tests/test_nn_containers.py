"""nn/containers.py: ModuleList and ModuleDict name their modules as PyTorch does ("0", key),
behave as a list and a dict, register parameters, save and load (also as the root model)."""

import copy

import numpy as np
import pytest

import nn


class Net(nn.Module):
    def __init__(self):
        self.blocks = nn.ModuleList([nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3)])
        self.heads = nn.ModuleDict({"a": nn.Linear(3, 1), "b": nn.Linear(3, 2)})

    def forward(self, x, head="a"):
        for block in self.blocks:
            x = block(x)
        return self.heads[head](x)


NAMES = ["blocks.0.weight", "blocks.0.bias", "blocks.2.weight", "blocks.2.bias",
         "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias"]


def test_names_are_indices_and_keys():
    model = Net()
    assert list(dict(model.named_parameters())) == NAMES
    assert list(model.state_dict()) == NAMES
    assert model.num_parameters() == 9 + 12 + 4 + 8
    assert "(0): Linear(2, 3)" in repr(model) and "(a): Linear(3, 1)" in repr(model)


def test_module_list_behaves_as_a_list():
    blocks = nn.ModuleList()
    blocks.append(nn.Linear(1, 1)).extend([nn.Tanh(), nn.Linear(1, 2)])
    blocks.insert(0, nn.Identity())
    assert [type(m).__name__ for m in blocks] == ["Identity", "Linear", "Tanh", "Linear"]
    assert len(blocks) == 4 and isinstance(blocks[1:3], nn.ModuleList) and len(blocks[1:3]) == 2
    blocks[0] = nn.Sigmoid()
    del blocks[2]
    blocks += [nn.ReLU()]
    assert [type(m).__name__ for m in blocks] == ["Sigmoid", "Linear", "Linear", "ReLU"]
    assert list(dict(blocks.named_parameters())) == ["1.weight", "1.bias", "2.weight", "2.bias"]
    with pytest.raises(TypeError, match="ModuleList.append: expected a Module, got int"):
        blocks.append(3)


def test_module_dict_behaves_as_a_dict():
    heads = nn.ModuleDict([("x", nn.Linear(1, 1))])
    heads["y"] = nn.Linear(1, 2)
    heads.update({"z": nn.Tanh()})
    assert list(heads) == ["x", "y", "z"] and "y" in heads and len(heads) == 3
    assert list(heads.keys()) == ["x", "y", "z"] and isinstance(heads.pop("z"), nn.Tanh)
    assert [type(m).__name__ for m in heads.values()] == ["Linear", "Linear"]
    del heads["x"]
    assert list(dict(heads.named_parameters())) == ["y.weight", "y.bias"]
    with pytest.raises(KeyError, match="keys must be non-empty strings without '.'"):
        heads["a.b"] = nn.Tanh()
    with pytest.raises(TypeError, match=r"ModuleDict\['q'\]: expected a Module, got str"):
        heads["q"] = "layer"


def test_save_load_and_optimize_through_containers(tmp_path):
    model, other = Net(), Net()
    model.save(tmp_path / "m.npz")
    other.load(tmp_path / "m.npz")
    x = np.ones((4, 2))
    np.testing.assert_array_equal(other(x, "b").data, model(x, "b").data)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    before = model.blocks[0].weight.data.copy()
    model(x).sum().backward()
    opt.step()
    assert not np.array_equal(before, model.blocks[0].weight.data)


def test_a_root_module_list_loads_its_own_index_keys(tmp_path):
    # Index-first keys mark a PyTorch Sequential checkpoint, unless they are the model's own.
    blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])
    blocks.save(tmp_path / "b.npz")
    again = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)]).load(tmp_path / "b.npz")
    np.testing.assert_array_equal(again[1].weight.data, blocks[1].weight.data)
    with pytest.raises(ValueError, match="looks like a PyTorch state dict"):
        nn.Sequential(nn.Linear(2, 2)).load_state_dict({"0.weight": np.zeros((2, 2)),
                                                        "0.bias": np.zeros(2)})


def test_frozen_parameters_in_containers_stay_parameters_and_copies_work():
    model = Net()
    model.blocks[0].weight.requires_grad_(False)
    assert "blocks.0.weight" in dict(model.named_parameters())
    twin = copy.deepcopy(model)
    assert list(dict(twin.named_parameters())) == NAMES
    assert not twin.blocks[0].weight.requires_grad
