"""Test-wide settings: reproducible hypothesis draws under CI, and skipping renders without `dot`.

Locally each run explores new random examples; in CI (CI=true) a failure must be reproducible
from the log, and a lucky or unlucky draw must not decide whether a submission lands.
Tests marked `needs_dot` render pictures with graphviz's `dot` program; without it they are
skipped with the reason, except under CI, which installs `dot` and must skip nothing.
"""

import os
import shutil

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

NO_DOT = ("graphviz's `dot` is not installed, so nothing is rendered "
          "(make setup installs it; or apt-get install graphviz)")


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_dot: renders a picture with graphviz's `dot`")


def pytest_collection_modifyitems(config, items):
    if shutil.which("dot") or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=NO_DOT)
    for item in items:
        if item.get_closest_marker("needs_dot"):
            item.add_marker(skip)
