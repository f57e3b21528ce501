"""Test-wide settings: under CI, hypothesis draws the same examples every run.

Locally each run explores new random examples; in CI (CI=true) a failure must be reproducible
from the log, and a lucky or unlucky draw must not decide whether a submission lands.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
