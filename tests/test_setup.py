""".ci/install_graphviz.sh, `make setup`'s graphviz step, run against stub programs.

The PATH holds only stubs (apt-get, sudo, dot) written by each test, so nothing is installed:
what is checked is which command runs, what is printed, and that setup never fails.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "install_graphviz.sh"
BASH = shutil.which("bash")
PREFIX = "" if os.geteuid() == 0 else "sudo "  # as root nothing goes through sudo


def stub(folder, name, body):
    path = folder / name
    path.write_text(f"#!{BASH}\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path):
    """A PATH folder with only what the script needs besides bash builtins: env, id, sudo..."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("env", "true", "id", "chmod"):
        (folder / tool).symlink_to(shutil.which(tool))
    stub(folder, "sudo", '[ "$1" = -n ] && shift; exec "$@"')  # passwordless sudo
    return folder


def run(bin_dir, **env):
    done = subprocess.run([BASH, str(SCRIPT)], env={"PATH": str(bin_dir), **env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr  # setup never fails on graphviz's account
    return done.stdout


def apt_get(bin_dir, log, body=""):
    stub(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}\n{body}')


def test_nothing_happens_when_dot_is_there(bin_dir, tmp_path):
    stub(bin_dir, "dot", "exit 0")
    apt_get(bin_dir, tmp_path / "log")
    assert run(bin_dir) == ""
    assert not (tmp_path / "log").exists()


def test_a_user_with_passwordless_sudo_installs_through_it(bin_dir, tmp_path):
    (bin_dir / "id").unlink()
    stub(bin_dir, "id", "echo 1000")
    log_and_run = '[ "$1" = -n ] && shift; exec "$@"'
    stub(bin_dir, "sudo", f'echo "sudo $*" >> {tmp_path / "log"}; {log_and_run}')
    apt_get(bin_dir, tmp_path / "log")
    out = run(bin_dir)
    assert (tmp_path / "log").read_text().splitlines() == [
        "sudo -n true",
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq", "apt-get update -qq",
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz",
        "apt-get install -y -qq graphviz",
    ]
    assert "installing graphviz: sudo apt-get install -y -qq graphviz" in out
    assert "graphviz is installed, but no `dot` is on PATH" in out  # the stub made none


def test_installs_with_apt_get_when_allowed(bin_dir, tmp_path):
    log = tmp_path / "log"
    installs_dot = f'[ "$1" = install ] && printf "#!{BASH}\\necho dot 9.9" > {bin_dir}/dot' \
                   f' && chmod +x {bin_dir}/dot; exit 0'
    apt_get(bin_dir, log, installs_dot)
    out = run(bin_dir)
    assert log.read_text().splitlines() == ["apt-get update -qq",
                                            "apt-get install -y -qq graphviz"]
    assert f"installing graphviz: {PREFIX}apt-get install -y -qq graphviz" in out
    assert "graphviz installed (dot 9.9)" in out


def test_opting_out_prints_the_command_and_installs_nothing(bin_dir, tmp_path):
    apt_get(bin_dir, tmp_path / "log")
    out = run(bin_dir, NO_SYSTEM_PACKAGES="1")
    assert not (tmp_path / "log").exists()
    assert "graphviz's `dot` is not installed" in out
    assert f"NO_SYSTEM_PACKAGES is set, so it is not installed; to install it: {PREFIX}apt-get " \
           "install -y -qq graphviz" in out


def test_a_failed_install_is_reported_and_setup_carries_on(bin_dir, tmp_path):
    apt_get(bin_dir, tmp_path / "log", "exit 100")  # as apt-get does offline
    out = run(bin_dir)
    assert f"The install failed (offline?); to retry: {PREFIX}apt-get install" in out


def test_without_root_or_passwordless_sudo_it_prints_the_sudo_command(bin_dir, tmp_path):
    (bin_dir / "id").unlink()
    stub(bin_dir, "id", "echo 1000")  # not root
    stub(bin_dir, "sudo", "exit 1")  # sudo that would ask for a password
    apt_get(bin_dir, tmp_path / "log")
    assert "Installing it needs root; run: sudo apt-get install -y -qq graphviz" in run(bin_dir)
    assert not (tmp_path / "log").exists()


def test_dnf_is_used_where_there_is_no_apt_get(bin_dir, tmp_path):
    stub(bin_dir, "dnf", f'echo "dnf $*" >> {tmp_path / "log"}; exit 1')
    out = run(bin_dir)
    assert (tmp_path / "log").read_text() == "dnf install -y -q graphviz\n"
    assert "to retry" in out


def test_no_package_manager_says_to_use_the_systems_own(bin_dir):
    out = run(bin_dir)
    assert "Install the graphviz package with your system's package manager" in out
