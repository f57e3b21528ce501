"""npgrad's MLPClassifier in a scikit-learn Pipeline, cross-validated beside sklearn's own MLP.

Seed tutorial 000's data (scikit-learn's breast-cancer set, 569 samples, 30 features):
StandardScaler then an MLP with hidden layers of 64 and 8 units, scored by 5-fold
cross-validation (the folds cross_val_score would use, shuffled with a fixed seed) for
nn.sklearn.MLPClassifier and sklearn.neural_network.MLPClassifier with the same sizes and
their shared defaults (relu, Adam, learning rate 0.001, batches of up to 200, tol 1e-4).
Prints both accuracies and both fit times, and writes the per-fold numbers to folds.csv.

Run: python examples/sklearn_pipeline.py [--quick] [--out DIR]    (files in out/sklearn_pipeline/)
"""

import warnings
from pathlib import Path

import numpy as np
from _common import output_dir, parse_args
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from nn.sklearn import MLPClassifier as NpgradMLP

SEED = 0
HIDDEN = (64, 8)  # the tutorial's hidden layers
FOLDS = 5
MAX_ITER, QUICK_MAX_ITER = 200, 40


def cross_validate_mlp(estimator, X, y, folds) -> dict:
    """Accuracy and fit time of StandardScaler + `estimator` on each fold."""
    result = cross_validate(make_pipeline(StandardScaler(), estimator), X, y, cv=folds,
                            scoring="accuracy", return_estimator=True)
    epochs = [pipeline[-1].n_iter_ for pipeline in result["estimator"]]
    return {"accuracy": result["test_score"], "fit_time": result["fit_time"], "epochs": epochs}


def main(quick: bool = False, out: Path | None = None) -> dict:
    folder = output_dir("sklearn_pipeline", out)
    X, y = load_breast_cancer(return_X_y=True)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    max_iter = QUICK_MAX_ITER if quick else MAX_ITER
    models = {
        "npgrad": NpgradMLP(HIDDEN, max_iter=max_iter, random_state=SEED),
        # alpha=0: no L2 penalty, as npgrad's default weight_decay=0.
        "scikit-learn": SklearnMLP(HIDDEN, alpha=0.0, max_iter=max_iter, random_state=SEED),
    }
    results = {}
    for name, estimator in models.items():
        with warnings.catch_warnings():
            # sklearn warns when max_iter ends training; the epochs column shows it instead.
            warnings.simplefilter("ignore", ConvergenceWarning)
            results[name] = cross_validate_mlp(estimator, X, y, folds)

    print(f"breast cancer: {len(X)} samples, {X.shape[1]} features; StandardScaler + MLP "
          f"{X.shape[1]}-{'-'.join(map(str, HIDDEN))}-out, {FOLDS}-fold cross-validation, "
          f"at most {max_iter} epochs")
    print(f"{'':14s} {'accuracy':>16s} {'fit time per fold':>18s} {'epochs':>8s}")
    for name, r in results.items():
        print(f"{name:14s} {r['accuracy'].mean():9.2%} +- {r['accuracy'].std():.2%} "
              f"{r['fit_time'].mean():16.3f} s {np.mean(r['epochs']):8.0f}")
    with open(folder / "folds.csv", "w") as f:
        f.write("model,fold,accuracy,fit_time_s,epochs\n")
        for name, r in results.items():
            for i, row in enumerate(zip(r["accuracy"], r["fit_time"], r["epochs"])):
                f.write(f"{name},{i},{row[0]:.6f},{row[1]:.4f},{row[2]}\n")
    print(f"wrote {folder / 'folds.csv'}")
    return {f"{name}_{key}": float(np.mean(r[key])) for name, r in results.items()
            for key in ("accuracy", "fit_time", "epochs")}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
