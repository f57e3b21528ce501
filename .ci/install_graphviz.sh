#!/usr/bin/env bash
# `make setup`'s graphviz step: install the `dot` program, which renders graph pictures, when it
# is missing and this user may (root or passwordless sudo; apt-get, dnf or brew). It never fails:
# when the install is impossible, or opted out of with NO_SYSTEM_PACKAGES=1, it prints the
# command to run and setup carries on (graphs are then written as .gv sources, renders skipped).

command -v dot >/dev/null 2>&1 && exit 0

say() { echo "make setup: $*"; }
missing() {
    say "graphviz's \`dot\` is not installed: graph pictures are written as .gv sources" \
        "and the tests that render pictures are skipped."
    say "$1"
}

update=""
if command -v apt-get >/dev/null 2>&1; then
    update="apt-get update -qq"
    install="apt-get install -y -qq graphviz"
elif command -v dnf >/dev/null 2>&1; then
    install="dnf install -y -q graphviz"
elif command -v brew >/dev/null 2>&1; then
    install="brew install graphviz"
else
    missing "Install the graphviz package with your system's package manager" \
            "(or conda install graphviz)."
    exit 0
fi

# Homebrew runs as the user; the others need root, or sudo that asks no password.
sudo=""
if [[ $install != brew* && $(id -u) != 0 ]]; then
    sudo="sudo"
fi
if [[ -n $NO_SYSTEM_PACKAGES && $NO_SYSTEM_PACKAGES != 0 ]]; then
    missing "NO_SYSTEM_PACKAGES is set, so it is not installed; to install it: ${sudo:+sudo }$install"
    exit 0
fi
if [[ -n $sudo ]] && ! sudo -n true >/dev/null 2>&1; then
    missing "Installing it needs root; run: sudo $install"
    exit 0
fi

say "installing graphviz: ${sudo:+sudo }$install"
run() { $sudo env DEBIAN_FRONTEND=noninteractive "$@"; }  # sudo would drop an exported one
if ! { [[ -z $update ]] || run $update; } || ! run $install >/dev/null; then
    missing "The install failed (offline?); to retry: ${sudo:+sudo }$install"
elif ! command -v dot >/dev/null 2>&1; then
    missing "graphviz is installed, but no \`dot\` is on PATH ($PATH)."
else
    say "graphviz installed ($(dot -V 2>&1))"
fi
exit 0
