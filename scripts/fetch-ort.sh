#!/usr/bin/env bash
# Installs the ONNX Runtime shared library that charisbench loads through onnxruntime_go.
#
# The library comes from the onnxruntime-node npm package (the only registry reachable from
# the machines that build this project), pinned to the ORT release onnxruntime_go v1.27.0 was
# built against. Both the npm tarball and the extracted library are checked by sha256 before
# anything is installed; a mismatch aborts and leaves the destination untouched.
#
# Usage: scripts/fetch-ort.sh DEST_DIR      (installs DEST_DIR/libonnxruntime.so.1)
set -euo pipefail

readonly ORT_VERSION=1.24.1
readonly TARBALL_SHA256=57181cf6e6e711b155c5b942d591fd63ded0b5de5c4922d51fd994e7f6ac2772

dest=${1:?usage: fetch-ort.sh DEST_DIR}

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64)  arch=x64;   lib_sha256=53ef1ac028dd1b05554b8da28d9159eb3876f99868193d2aaa6e67f0243c23d4 ;;
  Linux/aarch64) arch=arm64; lib_sha256=7954e8bdedb497f830c6a679e818d98399b7f4d81ade1126c3e0be74d28111ab ;;
  *) echo "fetch-ort: no pinned ONNX Runtime build for $(uname -s)/$(uname -m);" \
          "set CHARISBENCH_ORT_LIB to your own libonnxruntime" >&2; exit 2 ;;
esac

if [ -f "$dest/libonnxruntime.so.1" ] &&
   echo "$lib_sha256  $dest/libonnxruntime.so.1" | sha256sum --check --status; then
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-ort: npm is needed to fetch onnxruntime-node" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "fetch-ort: downloading onnxruntime-node@$ORT_VERSION from the npm registry" >&2
(cd "$work" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
tarball="$work/onnxruntime-node-$ORT_VERSION.tgz"
echo "$TARBALL_SHA256  $tarball" | sha256sum --check --status ||
  { echo "fetch-ort: sha256 mismatch for $(basename "$tarball")" >&2; exit 1; }

member="package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
tar -xzf "$tarball" -C "$work" "$member"
echo "$lib_sha256  $work/$member" | sha256sum --check --status ||
  { echo "fetch-ort: sha256 mismatch for $member" >&2; exit 1; }

mkdir -p "$dest"
install -m 0644 "$work/$member" "$dest/libonnxruntime.so.1.tmp"
mv -f "$dest/libonnxruntime.so.1.tmp" "$dest/libonnxruntime.so.1"
echo "fetch-ort: installed $dest/libonnxruntime.so.1 (ONNX Runtime $ORT_VERSION, $arch)" >&2
