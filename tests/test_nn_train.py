"""nn/train.py: fit's records, modes and progress output; accuracy; evaluate; float32 training."""

import sys
import warnings

import numpy as np
import pytest

import nn
from autograd import Tensor, is_grad_enabled
from autograd.compile import CompileWarning

RNG = np.random.default_rng(0)
X = RNG.normal(size=(50, 3))
Y_REG = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
LABELS = (X[:, 0] + X[:, 1] > 0).astype(int)
X_VAL, LABELS_VAL = X[:20] + 0.1, LABELS[:20]


def _classifier(seed=0):
    return nn.MLP([3, 8, 2], activation="tanh", rng=np.random.default_rng(seed))


def _frozen(model):
    """An optimizer that changes nothing (lr 0): every epoch then sees the same model."""
    return nn.optim.SGD(model.parameters(), lr=0.0)


class Probe(nn.Module):
    """Wraps a model and records (training, grad enabled, batch size) at each forward."""

    def __init__(self, model):
        self.model = model
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, is_grad_enabled(), len(x)))
        return self.model(x)


# ---------------------------------------------------------------- History
def test_history_records_loss_metrics_and_validation_per_epoch():
    model = _classifier()
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters(), lr=0.05),
                     X, LABELS, epochs=4, batch_size=16, validation_data=(X_VAL, LABELS_VAL),
                     metrics=["accuracy"], progress=False)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(values) == 4 for values in history.history.values())
    assert history.epoch == [0, 1, 2, 3]
    assert history.val_accuracy is history.history["val_accuracy"]
    assert history.loss[-1] < history.loss[0]
    assert repr(history) == ("History(epochs=4, keys=['loss', 'accuracy', 'val_loss', "
                             "'val_accuracy'], stopped_by='epochs')")
    assert history.stop_reason == "completed 4 epochs" and history.best_epoch is None
    with pytest.raises(AttributeError, match=r"History has no record 'val_mse'; it has \['acc"):
        _ = history.val_mse


def test_epoch_records_equal_whole_set_values_when_the_model_is_fixed():
    # With lr 0 the batch losses' size-weighted mean is the loss on the whole set.
    model = _classifier()
    loss_fn = nn.CrossEntropyLoss()
    history = nn.fit(model, loss_fn, _frozen(model), X, LABELS, epochs=2, batch_size=7,
                     validation_data=(X_VAL, LABELS_VAL), metrics="accuracy", progress=False)
    outputs, val_outputs = model(X), model(X_VAL)
    assert history.loss == pytest.approx([loss_fn(outputs, LABELS).item()] * 2, rel=1e-12)
    assert history.val_loss == pytest.approx([loss_fn(val_outputs, LABELS_VAL).item()] * 2)
    assert history.accuracy == [nn.accuracy(LABELS, outputs.data)] * 2
    assert history.val_accuracy == [nn.accuracy(LABELS_VAL, val_outputs.data)] * 2


def test_callable_metrics_get_targets_and_prediction_arrays():
    def mean_prediction(y_true, y_pred):
        assert isinstance(y_pred, np.ndarray) and len(y_true) == len(y_pred)
        return y_pred.mean()

    model = nn.Linear(3, 1)
    history = nn.fit(model, nn.MSELoss(), _frozen(model), X, Y_REG, epochs=1, batch_size=10,
                     validation_data=(X_VAL, Y_REG[:20]), metrics=[mean_prediction],
                     progress=False)
    assert history.mean_prediction == [pytest.approx(model(X).data.mean())]
    assert history.val_mean_prediction == [pytest.approx(model(X_VAL).data.mean())]


def test_accuracy_with_logits_loss_thresholds_at_zero():
    model = nn.Linear(3, 1, rng=np.random.default_rng(3))
    model.bias.data[:] = -0.3  # some logits in (-0.5, 0): class 0 for logits, 1 for probabilities
    y = LABELS[:, None].astype(float)
    history = nn.fit(model, nn.BCEWithLogitsLoss(), _frozen(model), X, y, epochs=1,
                     batch_size=50, metrics=["accuracy"], progress=False)
    logits = model(X).data
    assert history.accuracy == [nn.accuracy(y, logits, threshold=0.0)]
    assert nn.accuracy(y, logits, threshold=0.0) != nn.accuracy(y, logits)


def test_unknown_metric_is_rejected():
    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match="fit: unknown metric 'f1'; valid: 'accuracy' or a "
                                         "callable"):
        nn.fit(model, nn.MSELoss(), _frozen(model), X, Y_REG, metrics=["f1"], progress=False)


# ---------------------------------------------------------------- the loop
def test_fit_learns_a_linear_regression():
    nn.manual_seed(0)
    model = nn.Linear(3, 1)
    history = nn.fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), 0.1, momentum=0.5),
                     X, Y_REG, epochs=20, batch_size=10, progress=False)
    assert history.loss[-1] < 1e-6
    np.testing.assert_allclose(model.weight.data[:, 0], [1.0, -2.0, 0.5], atol=1e-3)
    np.testing.assert_allclose(model.bias.data, [0.3], atol=1e-3)


def test_training_forwards_record_a_graph_and_validation_runs_in_eval_without_one():
    probe = Probe(_classifier())
    probe.eval()
    # compile=False: a compiled step calls forward only when it records a batch.
    nn.fit(probe, nn.CrossEntropyLoss(), nn.optim.SGD(probe.parameters(), 0.1), X, LABELS,
           epochs=2, batch_size=25, validation_data=(X_VAL, LABELS_VAL), progress=False,
           compile=False)
    assert probe.calls == [(True, True, 25), (True, True, 25), (False, False, 20)] * 2
    assert not probe.training and not probe.model[0].training  # the mode it had before


def test_batch_size_none_is_full_batch_and_shuffling_is_reproducible():
    probe = Probe(_classifier())
    nn.fit(probe, nn.CrossEntropyLoss(), _frozen(probe), X, LABELS, epochs=3, batch_size=None,
           progress=False, compile=False)
    assert [size for *_, size in probe.calls] == [50, 50, 50]
    assert probe.training

    def train_once():
        nn.manual_seed(7)
        model = _classifier()
        nn.fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), 0.1), X, LABELS,
               epochs=2, batch_size=8, progress=False)
        return model.state_dict()

    first, second = train_once(), train_once()
    assert all(np.array_equal(first[k], second[k]) for k in first)


def test_fit_stops_on_a_non_finite_loss_before_updating():
    model = nn.Linear(3, 1, rng=np.random.default_rng(0))
    huge = Y_REG * 1e200  # squared, this overflows to inf
    before = model.state_dict()
    with np.errstate(over="ignore"), pytest.raises(
            FloatingPointError, match=r"fit: the loss became inf at epoch 1, batch 1; try a "
                                      "smaller learning rate"):
        nn.fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), 0.1), X, huge, epochs=1,
               batch_size=10, progress=False)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": -1}, "fit: epochs must be an integer >= 0, got -1"),
    ({"validation_data": (X,)}, r"validation_data must be a pair \(X_val, y_val\)"),
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"y": Y_REG[:10]}, "X and y hold different numbers of samples"),
    ({"X": np.zeros((0, 3)), "y": np.zeros((0, 1))}, "fit: X must hold at least one sample"),
])
def test_fit_rejects_bad_arguments(kwargs, message):
    model = nn.Linear(3, 1)
    arguments = {"X": X, "y": Y_REG, "epochs": 1, "batch_size": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        nn.fit(model, nn.MSELoss(), _frozen(model), progress=False, **arguments)


# ---------------------------------------------------------------- progress output
def _fit_quietly_sized(progress):
    model = nn.Linear(3, 1)
    nn.fit(model, nn.MSELoss(), _frozen(model), X, Y_REG, epochs=2, batch_size=25,
           validation_data=(X_VAL, Y_REG[:20]), progress=progress)


def test_progress_false_prints_nothing(capsys):
    _fit_quietly_sized(False)
    assert capsys.readouterr() == ("", "")


def test_progress_uses_tqdm_when_installed(capsys):
    _fit_quietly_sized(True)
    out, err = capsys.readouterr()
    assert out == "" and "fit: 100%" in err and "2/2" in err and "val_loss" in err


def test_progress_without_tqdm_prints_one_line_per_epoch(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` fail
    _fit_quietly_sized(True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2  loss ") and "  val_loss " in lines[0]
    assert lines[1].startswith("epoch 2/2  loss ")


# ---------------------------------------------------------------- accuracy and evaluate
@pytest.mark.parametrize("y_true, y_pred, expected", [
    ([0, 1, 1, 0], [[0.2], [0.7], [0.4], [0.9]], 0.5),          # sigmoid outputs (n, 1)
    ([[0], [1], [1], [0]], [0.2, 0.7, 0.6, 0.1], 1.0),           # (n,) against (n, 1)
    ([2, 0, 1], [[0, 1, 5], [3, 1, 2], [0, 0, 1]], 2 / 3),       # logits (n, k), labels
    ([[0, 0, 1], [1, 0, 0]], [[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]], 0.5),  # one-hot targets
])
def test_accuracy_cases(y_true, y_pred, expected):
    assert nn.accuracy(y_true, y_pred) == pytest.approx(expected)


def test_accuracy_threshold_and_errors():
    assert nn.accuracy([1, 0], [[0.3], [-0.2]], threshold=0.0) == 1.0
    with pytest.raises(ValueError, match=r"accuracy: y_true and y_pred need the same positive "
                                         r"number of samples, got shapes \(3,\) and \(2, 1\)"):
        nn.accuracy([1, 0, 1], [[0.3], [0.2]])


def test_evaluate_returns_loss_and_metrics_in_eval_mode_without_a_graph():
    probe = Probe(_classifier())
    scores = nn.evaluate(probe, nn.CrossEntropyLoss(), X, LABELS, batch_size=20,
                         metrics=["accuracy"])
    assert probe.calls == [(False, False, 20), (False, False, 20), (False, False, 10)]
    outputs = probe.model(X)
    assert scores["loss"] == pytest.approx(nn.CrossEntropyLoss()(outputs, LABELS).item())
    assert scores["accuracy"] == nn.accuracy(LABELS, outputs.data)


# ---------------------------------------------------------------- float32 end to end
def test_float32_model_and_data_train_in_float32():
    nn.manual_seed(0)
    model = nn.MLP([3, 8, 2], activation="tanh", dtype=np.float32)
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.optim.Adam(model.parameters(), lr=0.05),
                     X.astype(np.float32), LABELS, epochs=10, batch_size=10, progress=False)
    assert history.loss[-1] < 0.5 * history.loss[0]
    for p in model.parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32
    assert model(X.astype(np.float32)).dtype == np.float32


def test_float64_data_is_cast_to_a_float32_model():
    model = nn.Linear(3, 1, dtype=np.float32)
    nn.fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), 0.01), X, Y_REG, epochs=1,
           batch_size=10, progress=False)
    assert model.weight.dtype == np.float32 and model.weight.grad.dtype == np.float32


# ---------------------------------------------------------------- schedulers
def test_scheduler_steps_once_per_epoch_and_the_history_records_each_epochs_rate():
    model = nn.Linear(3, 1)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    history = nn.fit(model, nn.MSELoss(), optimizer, X, Y_REG, epochs=5, batch_size=10,
                     scheduler=scheduler, progress=False)
    assert history.lr == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], rel=1e-15)
    assert optimizer.lr == pytest.approx(0.025) and scheduler.last_epoch == 5


def test_reduce_on_plateau_is_stepped_with_the_monitored_value():
    model = nn.Linear(3, 1, rng=np.random.default_rng(0))
    optimizer = nn.optim.SGD(model.parameters(), lr=1e-6)  # the loss stays flat (rel. 1e-4)
    scheduler = nn.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    history = nn.fit(model, nn.MSELoss(), optimizer, X, Y_REG, epochs=5, batch_size=10,
                     scheduler=scheduler, monitor="loss", progress=False)
    assert history.lr == [1e-6, 1e-6, 1e-6, 5e-7, 5e-7]  # cut after two bad epochs
    assert scheduler.best == history.loss[0]


def test_plateau_mode_must_agree_with_the_monitor():
    model = nn.Linear(3, 1)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    scheduler = nn.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max")
    with pytest.raises(ValueError, match=r"fit: ReduceLROnPlateau\(mode='max'\) watches "
                                         r"'val_loss', which should go down"):
        nn.fit(model, nn.MSELoss(), optimizer, X, Y_REG, validation_data=(X_VAL, Y_REG[:20]),
               scheduler=scheduler, progress=False)


# ---------------------------------------------------------------- gradient clipping
def test_clip_grad_norm_clips_every_step_like_the_hand_written_loop():
    def train(clip):
        model = nn.MLP([3, 8, 1], rng=np.random.default_rng(0))
        optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
        nn.fit(model, nn.MSELoss(), optimizer, X, Y_REG, epochs=2, batch_size=25, shuffle=False,
               clip_grad_norm=clip, progress=False)
        return model

    by_hand = nn.MLP([3, 8, 1], rng=np.random.default_rng(0))
    optimizer = nn.optim.SGD(by_hand.parameters(), lr=0.1)
    for _ in range(2):
        for xb, yb in nn.data.batches(X, Y_REG, 25, shuffle=False):
            optimizer.zero_grad()
            nn.MSELoss()(by_hand(xb), yb).backward()
            assert nn.utils.clip_grad_norm_(by_hand.parameters(), 0.05) > 0.05  # it clips
            optimizer.step()
    clipped, free = train(0.05).state_dict(), train(None).state_dict()
    for name, array in by_hand.state_dict().items():
        np.testing.assert_array_equal(clipped[name], array)
    assert not all(np.array_equal(free[k], clipped[k]) for k in free)


@pytest.mark.parametrize("value", [0, -1.0, "1"])
def test_clip_grad_norm_must_be_positive(value):
    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match="fit: clip_grad_norm must be a number > 0"):
        nn.fit(model, nn.MSELoss(), _frozen(model), X, Y_REG, clip_grad_norm=value,
               progress=False)


# ---------------------------------------------------------------- early stopping
def _overfitting_run(patience, epochs=40):
    """A regression whose validation targets are half the training targets: the validation
    loss falls while predictions grow towards 0.5 y, then rises. Weights are kept per epoch."""
    model = nn.Linear(3, 1)
    model.weight.data[:] = 0.0
    snapshots = []
    history = nn.fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.05), X, Y_REG,
                     epochs=epochs, batch_size=50, validation_data=(X, 0.5 * Y_REG),
                     patience=patience, callbacks=lambda record: snapshots.append(
                         model.state_dict()), progress=False)
    return model, history, snapshots


def test_early_stopping_stops_after_patience_and_restores_the_best_epochs_weights():
    model, history, snapshots = _overfitting_run(patience=3)
    best = int(np.argmin(history.val_loss))
    assert 3 < best < 20  # the validation loss really went down, then up
    assert history.best_epoch == best
    assert history.stopped_by == "early_stopping"
    assert len(history.epoch) == best + 3 + 1  # three epochs without improvement
    assert history.stop_reason.startswith(f"early stopping after epoch {best + 3}: val_loss did "
                                          f"not improve for 3 epochs; restored the weights of "
                                          f"epoch {best}")
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, snapshots[best][name])
        assert not np.array_equal(array, snapshots[-1][name])


def test_patience_restores_the_best_weights_even_without_stopping():
    model, history, snapshots = _overfitting_run(patience=100, epochs=25)
    assert history.stopped_by == "epochs" and len(history.epoch) == 25
    best = int(np.argmin(history.val_loss))
    assert history.best_epoch == best < 24
    np.testing.assert_array_equal(model.weight.data, snapshots[best]["weight"])


def test_patience_zero_stops_at_the_first_epoch_without_improvement():
    _, history, _ = _overfitting_run(patience=0)
    assert len(history.epoch) == history.best_epoch + 2


def test_early_stopping_on_accuracy_goes_up_and_on_loss_without_validation():
    model = _classifier()
    history = nn.fit(model, nn.CrossEntropyLoss(), _frozen(model), X, LABELS, epochs=10,
                     metrics="accuracy", patience=2, monitor="accuracy", progress=False)
    assert history.best_epoch == 0 and len(history.epoch) == 3  # flat: never better
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), 0.1), X,
                     LABELS, epochs=3, patience=1, monitor="loss", progress=False)
    assert history.best_epoch == 2  # the training loss kept falling


@pytest.mark.parametrize("kwargs, message", [
    ({"patience": 2}, r"fit: monitor 'val_loss' is not recorded \(give validation_data, or "
                      r"monitor='loss'\); recorded: \['loss'\]"),
    ({"patience": 2, "monitor": "val_acc", "validation_data": (X_VAL, Y_REG[:20])},
     r"monitor 'val_acc' is not recorded; recorded: \['loss', 'val_loss'\]"),
    ({"patience": -1}, "fit: patience must be an integer >= 0, got -1"),
    ({"patience": 1, "monitor": "loss", "mode": "down"}, "mode must be 'auto', 'min' or 'max'"),
    ({"patience": 1, "monitor": "mean_prediction", "metrics": [lambda t, p: 0.0]},
     r"monitor 'mean_prediction' is not recorded; recorded: \['loss', '<lambda>'\]"),
])
def test_early_stopping_arguments_are_checked_before_training(kwargs, message):
    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match=message):
        nn.fit(model, nn.MSELoss(), _frozen(model), X, Y_REG, progress=False, **kwargs)


def test_a_custom_metric_needs_a_mode():
    def r2(y_true, y_pred):
        return 1 - ((y_true - y_pred) ** 2).sum() / ((y_true - y_true.mean()) ** 2).sum()

    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match="fit: cannot tell whether 'r2' should go down or up: "
                                         "pass mode='min' or mode='max'"):
        nn.fit(model, nn.MSELoss(), _frozen(model), X, Y_REG, metrics=[r2], patience=1,
               monitor="r2", progress=False)
    history = nn.fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), 0.05), X, Y_REG,
                     epochs=4, metrics=[r2], patience=1, monitor="r2", mode="max",
                     progress=False)
    assert history.best_epoch == int(np.argmax(history.r2))


# ---------------------------------------------------------------- callbacks
def test_callbacks_get_each_record_and_false_stops():
    seen = []

    def watcher(record):
        seen.append(record)

    def stop_at_two(record):
        return record["epoch"] < 2

    model = nn.Linear(3, 1)
    history = nn.fit(model, nn.MSELoss(), _frozen(model), X, Y_REG, epochs=10,
                     validation_data=(X_VAL, Y_REG[:20]), callbacks=[watcher, stop_at_two],
                     progress=False)
    assert len(history.epoch) == 3 and [r["epoch"] for r in seen] == [0, 1, 2]
    assert seen[1] == {"epoch": 1, "loss": history.loss[1], "val_loss": history.val_loss[1]}
    assert history.stopped_by == "callback"
    assert history.stop_reason == "callback stop_at_two returned False after epoch 2"


def test_a_stop_is_printed_with_progress(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    model = nn.Linear(3, 1)
    nn.fit(model, nn.MSELoss(), _frozen(model), X, Y_REG, epochs=5, callbacks=lambda r: False)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "fit: callback <lambda> returned False after epoch 0")


def test_fit_refuses_an_unreduced_loss():
    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match="fit: loss_fn must reduce to a scalar"):
        nn.fit(model, nn.MSELoss(reduction="none"), _frozen(model), X, Y_REG, progress=False)


def test_min_delta_gains_do_not_reset_patience_but_the_best_epoch_is_still_the_best():
    model = nn.Linear(3, 1, rng=np.random.default_rng(0))
    history = nn.fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=1e-5), X, Y_REG,
                     epochs=10, batch_size=50, patience=2, monitor="loss", min_delta=1e-2,
                     progress=False)
    assert np.all(np.diff(history.loss) < 0)  # every epoch a little better...
    assert len(history.epoch) == 3  # ...but never by more than min_delta
    assert history.best_epoch == 2
    with pytest.raises(ValueError, match="fit: min_delta must be a finite number >= 0"):
        nn.fit(model, nn.MSELoss(), _frozen(model), X, Y_REG, patience=1, monitor="loss",
               min_delta=-1.0, progress=False)


# ---------------------------------------------------------------- fit(compile=True)
@pytest.mark.parametrize("make_opt, clip", [
    (lambda ps: nn.optim.SGD(ps, lr=0.2, momentum=0.9), None),
    (lambda ps: nn.optim.Adam(ps, lr=0.01), None),
    (lambda ps: nn.optim.SGD(ps, lr=0.5), 0.5),
])
def test_fit_compiled_gives_eagers_history_and_weights_bit_for_bit(make_opt, clip):
    runs = []
    for compile in (False, True):
        model = _classifier(seed=3)
        history = nn.fit(model, nn.CrossEntropyLoss(), make_opt(model.parameters()), X, LABELS,
                         epochs=4, batch_size=16, validation_data=(X_VAL, LABELS_VAL),
                         metrics=("accuracy",), progress=False, rng=np.random.default_rng(1),
                         clip_grad_norm=clip, compile=compile)
        runs.append((history.history, [p.data.copy() for p in model.parameters()]))
    (eager, eager_weights), (compiled, compiled_weights) = runs
    assert eager == compiled  # every record of every epoch, as floats compared exactly
    for a, b in zip(eager_weights, compiled_weights):
        assert a.tobytes() == b.tobytes()
    assert eager["loss"][-1] < eager["loss"][0]  # it learned something


@pytest.mark.filterwarnings("ignore:overflow|invalid value:RuntimeWarning")  # lr 1e6 blows up
def test_fit_compiled_stops_on_a_non_finite_loss_like_eager():
    model = nn.MLP([3, 4, 1], activation="tanh", rng=np.random.default_rng(0))
    with pytest.raises(FloatingPointError, match="the loss became"):
        nn.fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=1e6), X, Y_REG * 1e6,
               epochs=20, batch_size=10, progress=False, compile=True)


# Every option of fit, each run eagerly, compiled by default and with compile=True: the same
# History (every record as floats compared exactly, how it stopped) and the same weights' bits.
FIT_OPTIONS = {
    "batch_size=None": dict(batch_size=None),
    "batch_size=7 (a short last batch)": dict(batch_size=7),
    "shuffle=False": dict(shuffle=False),
    "validation_data+metrics": dict(validation_data=(X_VAL, LABELS_VAL),
                                    metrics=("accuracy", lambda t, p: float(p.max()))),
    "StepLR": dict(scheduler=lambda opt: nn.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)),
    "ReduceLROnPlateau": dict(scheduler=lambda opt: nn.optim.lr_scheduler.ReduceLROnPlateau(
        opt, patience=0, factor=0.5), validation_data=(X_VAL, LABELS_VAL)),
    "clip_grad_norm": dict(clip_grad_norm=0.05),
    "patience": dict(patience=1, monitor="val_loss", validation_data=(X_VAL, LABELS_VAL),
                     min_delta=1e-3),
    "patience on accuracy": dict(patience=0, monitor="accuracy", mode="max",
                                 metrics="accuracy"),
    "callbacks": dict(callbacks=lambda record: record["epoch"] < 2),
    "epochs=0": dict(epochs=0),
    "progress": dict(progress=True),
}


@pytest.mark.parametrize("options", FIT_OPTIONS.values(), ids=FIT_OPTIONS.keys())
@pytest.mark.parametrize("make_opt", [
    lambda ps: nn.optim.SGD(ps, lr=0.3, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: nn.optim.AdamW(ps, lr=0.02),
    lambda ps: nn.optim.RMSprop(ps, lr=0.01),  # its own step() inside the compiled step
], ids=["SGD", "AdamW", "RMSprop"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_with_every_option_is_bit_identical_eager_and_compiled(options, make_opt, dtype,
                                                                   capsys):
    runs = []
    for compile in (False, None, True):
        model = nn.MLP([3, 8, 2], activation="tanh", rng=np.random.default_rng(3), dtype=dtype)
        opt = make_opt(model.parameters())
        kw = dict(epochs=4, batch_size=16, progress=False, rng=np.random.default_rng(1))
        kw.update(options)
        if callable(kw.get("scheduler")):
            kw["scheduler"] = kw["scheduler"](opt)
        with warnings.catch_warnings():
            warnings.simplefilter("error", CompileWarning)
            history = nn.fit(model, nn.CrossEntropyLoss(), opt, X, LABELS, compile=compile, **kw)
        runs.append((history.history, history.epoch, history.stopped_by, history.best_epoch,
                     [p.data.tobytes() for p in model.parameters()]))
        assert history.compiled is (compile is not False)
        assert history.eager_reason == ("compile=False" if compile is False else None)
    assert runs[0] == runs[1] == runs[2]
    capsys.readouterr()


def test_fit_runs_eagerly_and_quietly_where_it_cannot_compile_and_says_why():
    def make():
        nn.manual_seed(5)
        return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 2))
    runs = []
    for compile in (False, None):
        model = make()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no CompileWarning: the reason is in the History
            history = nn.fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), 0.1),
                             X, LABELS, epochs=3, batch_size=10, progress=False,
                             rng=np.random.default_rng(0), compile=compile)
        runs.append((history.history, [p.data.tobytes() for p in model.parameters()]))
    assert runs[0] == runs[1]
    assert history.compiled is False and "Dropout(p=0.3)" in history.eager_reason
    # a loss made with numpy code from the data cannot be replayed either
    model = _classifier()

    def numpy_loss(out, y):
        return ((out - Tensor(np.eye(2)[y])) ** 2).mean()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = nn.fit(model, numpy_loss, nn.optim.SGD(model.parameters(), 0.1), X, LABELS,
                         epochs=2, batch_size=10, progress=False)
    assert history.compiled is False and "numpy code" in history.eager_reason


@pytest.mark.parametrize("compile", [None, True])
def test_fit_clips_the_models_gradients_compiled_as_eager_with_a_partial_optimizer(compile):
    # Regression: the compiled step clipped the optimizer's parameters only, eager fit the
    # model's: with an optimizer over the first layer, the norms and so the weights differed.
    runs = []
    for mode in (False, compile):
        model = _classifier(seed=4)
        opt = nn.optim.SGD(model[0].parameters(), lr=0.5)
        history = nn.fit(model, nn.CrossEntropyLoss(), opt, X, LABELS, epochs=3, batch_size=10,
                         clip_grad_norm=0.01, progress=False, rng=np.random.default_rng(2),
                         compile=mode)
        runs.append((history.history, [p.data.tobytes() for p in model.parameters()]))
    assert runs[0] == runs[1]


def test_fit_compiled_by_default_keeps_the_parameters_arrays():
    model = _classifier()
    arrays = [p.data for p in model.parameters()]
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.optim.SGD(model.parameters(), 0.1), X,
                     LABELS, epochs=2, batch_size=10, progress=False)
    assert history.compiled
    assert all(p.data is a for p, a in zip(model.parameters(), arrays))
