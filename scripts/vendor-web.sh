#!/usr/bin/env bash
# Vendors the page's JavaScript packages into web/vendor/ from the npm registry, each pinned to one version
# and one tarball digest, so the page never loads code from a CDN and the binary embeds exactly these bytes:
#   - maplibre-gl: the map;
#   - pmtiles: MapLibre's `pmtiles://` protocol and archive reader, for the static site of `export`.
#
#   scripts/vendor-web.sh          fetch the pinned tarballs, verify them, copy the files, write SHA256SUMS
#   scripts/vendor-web.sh --check  verify the committed files against their SHA256SUMS (no network)
#
# To upgrade: change the version and integrity (`npm view PACKAGE@X.Y.Z dist.integrity`), run, test, commit.
set -euo pipefail
cd "$(dirname "$0")/.."

MAPLIBRE_VERSION=6.17.0
# npm's dist.integrity of maplibre-gl-$VERSION.tgz: the tarball must match it byte for byte.
MAPLIBRE_INTEGRITY=sha512-2chIZwpLGenoUQOcnm9Pk4SLbA8ppNFq8jlpXiq9vcYm3Y1wJ3fc82FL0GLwBaPYJCLzPv/mC46KEupVov75rQ==
# ES-module build (v6 ships no UMD file): the main module starts its workers from the worker module next
# to it, same origin, so the CSP needs no blob: for scripts.
MAPLIBRE_FILES=(dist/maplibre-gl.mjs dist/maplibre-gl-worker.mjs dist/maplibre-gl.css LICENSE.txt)

PMTILES_VERSION=4.5.0
PMTILES_INTEGRITY=sha512-CBeD4SoUluFziGdy/8k7FOjQxQy486n+929W/tWophauvMICpkZ26vGBWhDt/6b1FZQWNaf4jFdT/5+q0Wii5w==
# The self-contained browser build (fflate inlined; it defines the global `pmtiles`): the ES module build
# imports the bare specifier "fflate", which a browser cannot resolve without an import map. The package
# ships no LICENSE file; its package.json names the licence (BSD-3-Clause).
PMTILES_FILES=(dist/pmtiles.js package.json)

# vendor NAME VERSION INTEGRITY FILE...: copies package/FILE (flattened) into web/vendor/NAME.
vendor() {
  local name=$1 version=$2 integrity=$3
  shift 3
  local dest=web/vendor/$name work
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  local tgz="$work/$name-$version.tgz"
  local actual
  actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "$name-$version.tgz: integrity $actual, expected $integrity" >&2
    rm -rf "$work"
    exit 1
  fi
  tar -xzf "$tgz" -C "$work"
  rm -rf "$dest"
  mkdir -p "$dest"
  local names=()
  for f in "$@"; do
    cp "$work/package/$f" "$dest/$(basename "$f")"
    names+=("$(basename "$f")")
  done
  echo "$name@$version" > "$dest/VERSION"
  (cd "$dest" && sha256sum "${names[@]}" > SHA256SUMS)
  rm -rf "$work"
  echo "vendored $name@$version into $dest:"
  cat "$dest/SHA256SUMS"
}

check() {
  local name=$1 version=$2 dest=web/vendor/$1
  (cd "$dest" && sha256sum --check --quiet SHA256SUMS)
  grep -qx "$name@$version" "$dest/VERSION"
  echo "web/vendor: $name@$version matches SHA256SUMS"
}

if [ "${1:-}" = "--check" ]; then
  check maplibre-gl "$MAPLIBRE_VERSION"
  check pmtiles "$PMTILES_VERSION"
  exit 0
fi

vendor maplibre-gl "$MAPLIBRE_VERSION" "$MAPLIBRE_INTEGRITY" "${MAPLIBRE_FILES[@]}"
vendor pmtiles "$PMTILES_VERSION" "$PMTILES_INTEGRITY" "${PMTILES_FILES[@]}"
