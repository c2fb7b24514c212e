#!/usr/bin/env bash
# Front-end assets: install the pinned npm packages (package-lock.json) and copy what the pages
# use into static/vendor/ (git-ignored), so that nothing is fetched from a CDN at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing Node.js and npm..."
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

# Reinstall only when the lock file changed since the last install.
stamp=node_modules/.dsr-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

ds=node_modules/@scottish-government/design-system/dist
out=static/vendor
rm -rf "$out"
mkdir -p "$out/design-system/css" "$out/design-system/scripts" "$out/htmx" "$out/axe-core"
cp "$ds/css/design-system.min.css" "$ds/css/design-system.min.css.map" "$out/design-system/css/"
cp "$ds/scripts/design-system.js" "$out/design-system/scripts/"
cp -r "$ds/images" "$out/design-system/images"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx/"
# axe-core is used only by the accessibility tests, which inject it into the page.
cp node_modules/axe-core/axe.min.js "$out/axe-core/"
echo "Front-end assets copied to $out/"
