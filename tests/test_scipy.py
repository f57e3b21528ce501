"""autograd.scipy as a package: it imports and runs without scipy installed (npgrad's runtime
dependencies are numpy and graphviz only), in a subprocess where `import scipy` fails."""

import os
import subprocess
import sys

import numpy as np

PROGRAM = """
import sys
sys.modules["scipy"] = None  # any import of scipy now raises ImportError
import numpy as np
import autograd.scipy
from autograd.scipy import special, stats
from autograd.transforms import grad
print(special.logsumexp(np.array([0.0, np.log(3.0)])))
print(grad(lambda x: stats.norm.logpdf(x, 1.0, 2.0))(3.0))
from autograd.scipy import linalg
print(linalg.cho_solve((np.eye(2) * 2, True), np.ones(2))[0])
print(stats.multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.eye(2)))
"""


def test_imports_and_runs_without_scipy():
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(__file__)))
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    lse, slope, solved, density = (float(line) for line in done.stdout.split())
    assert abs(lse - np.log(4.0)) < 1e-15 and slope == -0.5 and solved == 0.25
    assert abs(density + np.log(2 * np.pi)) < 1e-15
