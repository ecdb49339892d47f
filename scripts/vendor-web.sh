#!/usr/bin/env bash
# Vendors MapLibre GL JS into web/vendor/ from the npm registry, pinned to one version and one tarball
# digest, so the page never loads code from a CDN and the binary embeds exactly these bytes.
#
#   scripts/vendor-web.sh          fetch the pinned tarball, verify it, copy the files, write SHA256SUMS
#   scripts/vendor-web.sh --check  verify the committed files against web/vendor/SHA256SUMS (no network)
#
# To upgrade: change VERSION and INTEGRITY (`npm view maplibre-gl@X.Y.Z dist.integrity`), run, test, commit.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=6.17.0
# npm's dist.integrity of maplibre-gl-$VERSION.tgz: the tarball must match it byte for byte.
INTEGRITY=sha512-2chIZwpLGenoUQOcnm9Pk4SLbA8ppNFq8jlpXiq9vcYm3Y1wJ3fc82FL0GLwBaPYJCLzPv/mC46KEupVov75rQ==
# ES-module build (v6 ships no UMD file): the main module starts its workers from the worker module next
# to it, same origin, so the CSP needs no blob: for scripts.
FILES=(maplibre-gl.mjs maplibre-gl-worker.mjs maplibre-gl.css)
DEST=web/vendor/maplibre-gl

if [ "${1:-}" = "--check" ]; then
  (cd "$DEST" && sha256sum --check --quiet SHA256SUMS)
  grep -qx "maplibre-gl@$VERSION" "$DEST/VERSION"
  echo "web/vendor: maplibre-gl@$VERSION matches SHA256SUMS"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "maplibre-gl@$VERSION" >/dev/null)
tgz="$work/maplibre-gl-$VERSION.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$actual" != "$INTEGRITY" ]; then
  echo "maplibre-gl-$VERSION.tgz: integrity $actual, expected $INTEGRITY" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$work"

rm -rf "$DEST"
mkdir -p "$DEST"
for f in "${FILES[@]}"; do cp "$work/package/dist/$f" "$DEST/$f"; done
cp "$work/package/LICENSE.txt" "$DEST/LICENSE.txt"
echo "maplibre-gl@$VERSION" > "$DEST/VERSION"
(cd "$DEST" && sha256sum "${FILES[@]}" LICENSE.txt > SHA256SUMS)
echo "vendored maplibre-gl@$VERSION into $DEST:"
cat "$DEST/SHA256SUMS"
