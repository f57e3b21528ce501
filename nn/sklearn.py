"""scikit-learn estimators on npgrad: MLPClassifier and MLPRegressor, built on nn.MLP and nn.fit.

They drop into Pipeline, cross_val_score and GridSearchCV, and take scikit-learn's parameter
names where its own MLPs have them, so a grid can swap one for the other. They pass every check
of `check_estimator` but check_array_api_input (numpy input only). The only module that imports
scikit-learn (>= 1.6, an optional extra: `pip install npgrad[examples]`).
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from autograd import no_grad

from . import optim
from .layers import ACTIVATIONS, MLP
from .losses import CrossEntropyLoss, MSELoss
from .train import fit

SOLVERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD}
# scikit-learn's names for the activations npgrad calls sigmoid and (no activation) identity.
ALIASES = {"logistic": "sigmoid"}


PARAMETERS = """
    Parameters (scikit-learn's names; those marked * are npgrad's own):
    hidden_layer_sizes: widths of the hidden layers. activation: "relu", "tanh", "sigmoid"
    (or "logistic"), or another name nn.MLP accepts. solver: "adam", "adamw" or "sgd".
    learning_rate_init: the optimizer's lr. momentum: for "sgd". weight_decay*: the
    optimizer's (L2 for adam and sgd, decoupled for adamw; scikit-learn's `alpha` is a penalty
    scaled by the batch size instead). batch_size: an int or "auto" (min(200, n_samples)).
    max_iter: epochs at most. shuffle: reshuffle every epoch. tol, n_iter_no_change: stop
    when the monitored loss has not improved by tol for n_iter_no_change epochs (the training
    loss, or with early_stopping=True the loss on a held-out validation_fraction of the data,
    where scikit-learn uses the validation score); the weights of the best epoch are kept.
    random_state: seeds initialisation, split and shuffling. dtype*: "float64" or "float32".
    verbose: print fit's progress.
    Fitted: model_ (the nn.MLP), history_ (nn.History), loss_curve_, n_iter_, best_loss_,
    n_outputs_, n_features_in_.
    """


class _BaseMLP(BaseEstimator):
    """What both estimators share: checking parameters, building the MLP, and the fit loop."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", solver="adam",
                 learning_rate_init=0.001, momentum=0.9, weight_decay=0.0, batch_size="auto",
                 max_iter=200, shuffle=True, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, random_state=None,
                 dtype="float64", verbose=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
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
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")
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
    def _fit(self, X: np.ndarray, targets: np.ndarray, n_outputs: int, loss_fn):
        """Build a fresh MLP with `n_outputs` outputs and train it on (X, targets)."""
        self._check_parameters()
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        rng = np.random.default_rng(seed)
        X = X.astype(self.dtype, copy=False)
        model = MLP([X.shape[1], *self._sizes, n_outputs], activation=self._activation,
                    rng=rng, dtype=self.dtype)
        validation, monitor = None, "loss"
        if self.early_stopping:
            if len(X) < 2:
                raise ValueError(f"{type(self).__name__}: early_stopping needs at least 2 "
                                 f"samples (one to hold out), got {len(X)}")
            order = rng.permutation(len(X))
            n_val = min(max(1, round(self.validation_fraction * len(X))), len(X) - 1)
            validation = X[order[:n_val]], targets[order[:n_val]]
            X, targets = X[order[n_val:]], targets[order[n_val:]]
            monitor = "val_loss"
        batch = min(200, len(X)) if self.batch_size == "auto" else self.batch_size
        history = fit(model, loss_fn, self._optimizer(model.parameters()), X, targets,
                      epochs=self.max_iter, batch_size=batch, validation_data=validation,
                      progress=bool(self.verbose), shuffle=self.shuffle, rng=rng,
                      patience=self.n_iter_no_change, monitor=monitor, mode="min",
                      min_delta=self.tol)
        self.model_ = model.eval()
        self.history_ = history
        self.loss_curve_ = list(history.loss)
        self.n_iter_ = len(history.epoch)
        self.best_loss_ = history.history[monitor][history.best_epoch]
        self.n_outputs_ = n_outputs
        return self

    def _forward(self, X) -> np.ndarray:
        """The network's outputs for X (after the usual checks), as float64."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        with no_grad():
            return self.model_(X.astype(self.dtype, copy=False)).data.astype(np.float64)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multilayer perceptron classifier trained with softmax cross-entropy (npgrad).

    One output per class (two for binary problems); labels may be any sortable values.
    `predict_proba` gives softmax probabilities in the order of `classes_`.
    """

    def fit(self, X, y):
        """Train a fresh network on (X, y); returns self."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"MLPClassifier: needs samples of at least 2 classes, got 1 class "
                             f"({self.classes_[0]!r})")
        return self._fit(X, labels, len(self.classes_), CrossEntropyLoss())

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Train a fresh network on (X, y); returns self."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True,
                             multi_output=True)
        targets = np.asarray(y, dtype=self.dtype).reshape(len(y), -1)
        return self._fit(X, targets, targets.shape[1], MSELoss())

    def predict(self, X) -> np.ndarray:
        """Predicted targets, (n_samples,) or (n_samples, n_outputs)."""
        out = self._forward(X)
        return out[:, 0] if self.n_outputs_ == 1 else out


MLPClassifier.__doc__ += PARAMETERS
MLPRegressor.__doc__ += PARAMETERS
