#!/usr/bin/env bash
# Makes sure Debian packages the tests need are installed: checks with CHECK (a shell
# command), and when it fails installs PACKAGE... with apt-get as root, or says the exact
# command to run otherwise.
#
# Usage: scripts/need-debs.sh WHAT CHECK PACKAGE...
set -euo pipefail
what=${1:?usage: need-debs.sh WHAT CHECK PACKAGE...}
check=${2:?usage: need-debs.sh WHAT CHECK PACKAGE...}
shift 2
if bash -c "$check" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "need-debs: $what is missing; install it with: sudo apt-get update && sudo apt-get install -y --no-install-recommends $*" >&2
  exit 2
fi
echo "need-debs: installing $what ($*) with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "$@" >/dev/null
bash -c "$check" || { echo "need-debs: $what still missing after installing $*" >&2; exit 1; }
