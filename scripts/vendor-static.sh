#!/usr/bin/env bash
# Reproduces api/static/vendor/: the investigator page's third-party files, taken
# from the npm registry at pinned versions (npm pack, then extract), with their
# licences. The result is committed, so `make run` needs no network; run this only
# to upgrade a version (then review the diff and commit it).
#
#   bash scripts/vendor-static.sh        # needs npm and the venv (fontTools) from `make install`
#
# The CJK font is Noto Sans SC (OFL-1.1, Google Fonts' static TTF as packaged by
# @expo-google-fonts/noto-sans-sc), subset by scripts/font_subset.py to the
# characters the page needs: GB 2312 (6,763 hanzi, both levels), ASCII, CJK and
# full-width punctuation, and every character in the app's own labels and pages.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/api/static/vendor"
py="${PY:-$here/.venv/bin/python}"

# package@version  — bump here, rerun, commit.
CYTOSCAPE=cytoscape@3.34.4
FCOSE=cytoscape-fcose@2.2.0
COSE_BASE=cose-base@2.2.0
LAYOUT_BASE=layout-base@2.0.1
SWAGGER=swagger-ui-dist@5.35.0
REDOC=redoc@2.5.4
FONT=@expo-google-fonts/noto-sans-sc@0.4.3

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

unpack() {  # unpack PACKAGE@VERSION -> prints the extracted package directory
  local spec="$1" dir="$work/$(echo "$1" | tr '/@' '__')"
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$spec" > pack.txt && tar xzf ./*.tgz)
  echo "$dir/package"
}

put() {  # put DEST_SUBDIR SRC_DIR FILE...
  local dest="$out/$1" src="$2"
  shift 2
  mkdir -p "$dest"
  for f in "$@"; do cp "$src/$f" "$dest/$(basename "$f")"; done
}

rm -rf "$out"
mkdir -p "$out"

p="$(unpack "$CYTOSCAPE")";   put cytoscape "$p" dist/cytoscape.min.js LICENSE
p="$(unpack "$LAYOUT_BASE")"; put layout-base "$p" layout-base.js LICENSE
p="$(unpack "$COSE_BASE")";   put cose-base "$p" cose-base.js LICENSE
p="$(unpack "$FCOSE")";       put cytoscape-fcose "$p" cytoscape-fcose.js LICENSE
p="$(unpack "$SWAGGER")"
put swagger-ui "$p" swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css \
  favicon-32x32.png LICENSE NOTICE
p="$(unpack "$REDOC")";       put redoc "$p" bundles/redoc.standalone.js \
  bundles/redoc.standalone.js.LICENSE.txt LICENSE

p="$(unpack "$FONT")"
mkdir -p "$out/noto-sans-sc"
cp "$p/LICENSE_FONT" "$out/noto-sans-sc/OFL.txt"
"$py" "$here/scripts/font_subset.py" "$p/400Regular/NotoSansSC_400Regular.ttf" \
  "$out/noto-sans-sc/NotoSansSC-Regular.subset.woff2"

{
  echo "# Vendored by scripts/vendor-static.sh from the npm registry (npm pack)."
  echo "# package@version  licence"
  for spec in "$CYTOSCAPE" "$LAYOUT_BASE" "$COSE_BASE" "$FCOSE" "$SWAGGER" "$REDOC" "$FONT"; do
    echo "$spec  $(npm view "$spec" license 2>/dev/null || echo '?')"
  done
} > "$out/VERSIONS.txt"
du -sh "$out"/*
