"""scikit-learn estimators on npgrad: MLPClassifier and MLPRegressor, built on nn.MLP and nn.fit.

They drop into Pipeline, cross_val_score and GridSearchCV, and take scikit-learn's parameter
names where its own MLPs have them, so a grid can swap one for the other. They pass every check
of `check_estimator` but check_array_api_input (numpy input only). The only module that imports
scikit-learn (>= 1.6, an optional extra: `pip install npgrad[examples]`).
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from autograd import no_grad

from . import optim
from .layers import ACTIVATIONS, MLP, Linear
from .losses import CrossEntropyLoss, MSELoss
from .train import fit

SOLVERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD}
# scikit-learn's names for the activations npgrad calls sigmoid and (no activation) identity.
ALIASES = {"logistic": "sigmoid"}


PARAMETERS = """
    Parameters (scikit-learn's names; those marked * are npgrad's own):
    hidden_layer_sizes: widths of the hidden layers. activation: "relu", "tanh", "sigmoid"
    (or "logistic"), or another name nn.MLP accepts. solver: "adam", "adamw" or "sgd".
    alpha: scikit-learn's L2 penalty, 0.5 * alpha * (sum of the squared weights, biases
    excluded) / batch size, added to each batch's loss (default 0, scikit-learn's 1e-4; the
    regressor's loss is the mean squared error, twice scikit-learn's half of it, so its penalty
    is doubled too: the same alpha gives scikit-learn's optimum). learning_rate_init: the
    optimizer's lr. momentum: for "sgd". weight_decay*: the optimizer's (L2 for adam and sgd,
    decoupled for adamw), on biases too. batch_size: an int or "auto" (min(200, n_samples)).
    max_iter: epochs at most. shuffle: reshuffle every epoch. tol, n_iter_no_change: stop
    when the monitored loss has not improved by tol for more than n_iter_no_change epochs (an
    int, or np.inf: never; the training loss, or with early_stopping=True the loss on a
    held-out validation_fraction of the data, stratified for the classifier, where
    scikit-learn uses the validation score); the weights of the best epoch are kept.
    warm_start: fit continues from the fitted network (a new optimizer, as in scikit-learn).
    partial_fit(X, y[, classes]): one epoch from the fitted network, the optimizer's state
    kept between calls (the classifier needs classes= on the first call).
    random_state: seeds initialisation, split and shuffling. dtype*: "float64" or "float32".
    verbose: print fit's progress.
    Fitted: model_ (the nn.MLP), history_ (nn.History of the last call), loss_curve_ and
    n_iter_ (over every call since the network was made), best_loss_, n_outputs_,
    n_features_in_.
    """


class _Penalized:
    """A loss plus scikit-learn's L2 penalty on the weights while the model trains.

    `scale` * 0.5 * alpha * sum(W ** 2) / len(batch); evaluation (validation) sees the plain
    loss. Built from Tensor operations, so the penalty's gradient comes from the engine.
    """

    def __init__(self, loss_fn, model: MLP, alpha: float, scale: float):
        self.loss_fn, self.model = loss_fn, model
        self.reduction = loss_fn.reduction  # what fit checks
        self.targets_like = loss_fn  # compile_step prepares the targets as loss_fn's
        self.weights = [m.weight for m in model.modules() if isinstance(m, Linear)]
        self.coefficient = scale * 0.5 * alpha

    def __call__(self, out, target):
        loss = self.loss_fn(out, target)
        if not (self.coefficient and self.model.training):
            return loss
        squares = sum((w * w).sum() for w in self.weights)
        return loss + squares * (self.coefficient / len(target))


class _BaseMLP(BaseEstimator):
    """What both estimators share: checking parameters, building the MLP, and the fit loop."""

    _penalty_scale = 1.0  # the loss against scikit-learn's: see PARAMETERS, alpha

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", solver="adam",
                 alpha=0.0, learning_rate_init=0.001, momentum=0.9, weight_decay=0.0,
                 batch_size="auto", max_iter=200, shuffle=True, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, warm_start=False,
                 random_state=None, dtype="float64", verbose=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    # ------------------------------------------------------------ parameters
    def _check_parameters(self) -> None:
        """Checked at fit, not in __init__ (scikit-learn's rule for set_params and clone)."""
        where = type(self).__name__
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        if not all(isinstance(n, numbers.Integral) and n >= 1 for n in sizes):
            raise ValueError(f"{where}: hidden_layer_sizes must be positive integers, got "
                             f"{self.hidden_layer_sizes!r}")
        activation = ALIASES.get(self.activation, self.activation)
        if activation not in ACTIVATIONS:
            raise ValueError(f"{where}: unknown activation {self.activation!r}; valid: "
                             f"{', '.join(map(repr, [*ACTIVATIONS, *ALIASES]))}")
        if self.solver not in SOLVERS:
            raise ValueError(f"{where}: unknown solver {self.solver!r}; valid: "
                             f"{', '.join(map(repr, SOLVERS))}")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise ValueError(f"{where}: max_iter must be a positive integer, got "
                             f"{self.max_iter!r}")
        wait = self.n_iter_no_change
        if not ((isinstance(wait, numbers.Integral) and wait >= 1) or wait == np.inf):
            raise ValueError(f"{where}: n_iter_no_change must be a positive integer or np.inf, "
                             f"got {wait!r}")
        alpha = self.alpha
        if not (isinstance(alpha, numbers.Real) and 0 <= alpha < np.inf):
            raise ValueError(f"{where}: alpha must be a finite number >= 0, got {alpha!r}")
        batch = self.batch_size
        if batch != "auto" and (not isinstance(batch, numbers.Integral) or batch < 1):
            raise ValueError(f"{where}: batch_size must be 'auto' or a positive integer, got "
                             f"{batch!r}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"{where}: validation_fraction must lie in (0, 1), got "
                             f"{self.validation_fraction!r}")
        if np.dtype(self.dtype) not in (np.float32, np.float64):
            raise ValueError(f"{where}: dtype must be 'float32' or 'float64', got {self.dtype!r}")
        self._sizes, self._activation = [int(n) for n in sizes], activation

    def _optimizer(self, params):
        if self.solver == "sgd":
            return optim.SGD(params, self.learning_rate_init, momentum=self.momentum,
                             weight_decay=self.weight_decay)
        return SOLVERS[self.solver](params, lr=self.learning_rate_init,
                                    weight_decay=self.weight_decay)

    # ------------------------------------------------------------ training
    def _continues(self, incremental: bool) -> bool:
        """True when this call trains the fitted network further instead of a fresh one."""
        return hasattr(self, "model_") and (incremental or self.warm_start)

    def _fit(self, X: np.ndarray, targets: np.ndarray, n_outputs: int, loss_fn,
             incremental: bool = False, stratify: np.ndarray | None = None):
        """Train on (X, targets): a fresh MLP with `n_outputs` outputs, or the fitted one when
        warm-starting or in partial_fit (`incremental`: one epoch, the optimizer kept)."""
        self._check_parameters()
        where = type(self).__name__
        if incremental and self.early_stopping:
            raise ValueError(f"{where}: partial_fit does not support early_stopping=True")
        if self._continues(incremental):
            if self.n_outputs_ != n_outputs:
                raise ValueError(f"{where}: the fitted network has {self.n_outputs_} outputs, "
                                 f"y needs {n_outputs}; fit with warm_start=False to start over")
            model, rng = self.model_, self._rng
        else:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            rng = self._rng = np.random.default_rng(seed)
            model = MLP([X.shape[1], *self._sizes, n_outputs], activation=self._activation,
                        rng=rng, dtype=self.dtype)
            self.loss_curve_, self.n_iter_ = [], 0
            self.__dict__.pop("_optimizer_", None)
        X = X.astype(model.parameters()[0].dtype, copy=False)
        validation, monitor = None, "loss"
        if self.early_stopping:
            X, X_val, targets, y_val = train_test_split(
                X, targets, test_size=self.validation_fraction, stratify=stratify,
                random_state=int(rng.integers(np.iinfo(np.int32).max)))
            if len(X_val) < 2:  # scikit-learn's check and words
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            validation, monitor = (X_val, y_val), "val_loss"
        if not incremental or not hasattr(self, "_optimizer_"):
            self._optimizer_ = self._optimizer(model.parameters())
        # scikit-learn stops after more than n_iter_no_change epochs without improvement.
        wait = self.max_iter if self.n_iter_no_change == np.inf else self.n_iter_no_change + 1
        batch = min(200, len(X)) if self.batch_size == "auto" else self.batch_size
        penalized = _Penalized(loss_fn, model, self.alpha, self._penalty_scale)
        history = fit(model, penalized, self._optimizer_, X, targets,
                      epochs=1 if incremental else self.max_iter, batch_size=batch,
                      validation_data=validation, progress=bool(self.verbose),
                      shuffle=self.shuffle, rng=rng, patience=None if incremental else wait,
                      monitor=monitor, mode="min", min_delta=self.tol)
        self.model_ = model.eval()
        self.history_ = history
        self.loss_curve_ += list(history.loss)
        self.n_iter_ += len(history.epoch)
        best = history.best_epoch if history.best_epoch is not None else -1
        self.best_loss_ = history.history[monitor][best]
        self.n_outputs_ = n_outputs
        return self

    def _forward(self, X) -> np.ndarray:
        """The network's outputs for X (after the usual checks), as float64."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        with no_grad():
            dtype = self.model_.parameters()[0].dtype
            return self.model_(X.astype(dtype, copy=False)).data.astype(np.float64)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multilayer perceptron classifier trained with softmax cross-entropy (npgrad).

    One output per class (two for binary problems); labels may be any sortable values.
    `predict_proba` gives softmax probabilities in the order of `classes_`.
    """

    def fit(self, X, y):
        """Train a fresh network on (X, y), or the fitted one with warm_start; returns self."""
        again = self._continues(False)
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=not again)
        check_classification_targets(y)
        classes = np.unique(y)
        if again and not np.array_equal(classes, self.classes_):
            raise ValueError(f"warm_start can only be used where `y` has the same classes as in "
                             f"the previous call to fit. Previously got {self.classes_}, `y` "
                             f"has {classes}")
        if len(classes) < 2:
            raise ValueError(f"MLPClassifier: needs samples of at least 2 classes, got 1 class "
                             f"({classes[0]!r})")
        self.classes_ = classes
        labels = np.searchsorted(classes, y)
        return self._fit(X, labels, len(classes), CrossEntropyLoss(), stratify=labels)

    def partial_fit(self, X, y, classes=None):
        """One epoch on (X, y) from the fitted network (a fresh one on the first call, which
        needs `classes`, every label that y may hold); returns self."""
        first = not hasattr(self, "model_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        check_classification_targets(y)
        if classes is not None:
            classes = np.unique(classes)
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                                 f"partial_fit, was: {self.classes_!r}")
        elif first:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if first:
            if len(classes) < 2:
                raise ValueError(f"MLPClassifier: needs at least 2 classes, got {classes!r}")
            self.classes_ = classes
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{self.classes_}. 'y' has {np.unique(y)}.")
        labels = np.searchsorted(self.classes_, y)
        return self._fit(X, labels, len(self.classes_), CrossEntropyLoss(), incremental=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """Log class probabilities, (n_samples, n_classes): the log-softmax, exact where
        log(predict_proba) would give -inf."""
        logits = self._forward(X)
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (n_samples, n_classes), columns in the order of classes_."""
        logits = self._forward(X)
        logits -= logits.max(axis=1, keepdims=True)  # exp cannot overflow
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sample."""
        logits = self._forward(X)  # first: it raises NotFittedError before fit
        return self.classes_[logits.argmax(axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multilayer perceptron regressor trained with squared error (npgrad).

    Targets (n,) or (n, k); predictions have the same number of columns ((n,) for one).
    """

    _penalty_scale = 2.0  # MSELoss is twice scikit-learn's squared loss (0.5 * mean)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Train a fresh network on (X, y), or the fitted one with warm_start; returns self."""
        return self._fit(*self._targets(X, y, reset=not self._continues(False)), MSELoss())

    def partial_fit(self, X, y):
        """One epoch on (X, y) from the fitted network (a fresh one on the first call);
        returns self."""
        X, targets, n_outputs = self._targets(X, y, reset=not hasattr(self, "model_"))
        return self._fit(X, targets, n_outputs, MSELoss(), incremental=True)

    def _targets(self, X, y, reset: bool):
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True,
                             multi_output=True, reset=reset)
        targets = np.asarray(y, dtype=self.dtype).reshape(len(y), -1)
        return X, targets, targets.shape[1]

    def predict(self, X) -> np.ndarray:
        """Predicted targets, (n_samples,) or (n_samples, n_outputs)."""
        out = self._forward(X)
        return out[:, 0] if self.n_outputs_ == 1 else out


MLPClassifier.__doc__ += PARAMETERS
MLPRegressor.__doc__ += PARAMETERS
