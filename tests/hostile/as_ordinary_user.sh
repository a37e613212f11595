#!/bin/bash
# Run a command as an ordinary user (uid 4242, no capabilities), from the repository root, for
# checking the non-root isolation path on a root-only CI machine:
#
#   sudo tests/hostile/as_ordinary_user.sh .venv/bin/pytest -q -p no:cacheprovider tests/test_sandbox.py
#
# It runs in a private mount namespace. If the venv's interpreter lives under /root (pyenv),
# /root is covered there by a world-traversable tmpfs holding only /root/.pyenv, so the user can
# reach the interpreter; nothing changes outside the namespace.
set -euo pipefail
U=4242
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HOME_DIR=$(mktemp -d /tmp/autograder-user-home.XXXXXX)
HOLD=$(mktemp -d /tmp/autograder-pyenv.XXXXXX)
chown "$U:$U" "$HOME_DIR"
trap 'rm -rf "$HOME_DIR"; rmdir "$HOLD"' EXIT
unshare --mount --propagation private bash -c '
  set -e
  if [ -d /root/.pyenv ]; then
    hold='"$HOLD"'
    mount --bind /root/.pyenv "$hold"
    mount -t tmpfs -o mode=0755 tmpfs /root
    mkdir -p /root/.pyenv
    mount --bind "$hold" /root/.pyenv
  fi
  cd "$1"; shift
  exec setpriv --reuid='"$U"' --regid='"$U"' --clear-groups --inh-caps=-all --bounding-set=-all \
    env -i HOME="$1" USER=tester PATH=/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1 "${@:2}"
' bash "$REPO" "$HOME_DIR" "$@"
