# Shared by the scripts in this folder: paths and small helpers.
# Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/countersign"
# Debian's rustc-web builds the client: rustup here has no wasm32 target.
WEB_RUSTC=/usr/bin/rustc
WEB_CARGO=/usr/bin/cargo
SITE_DIR="$ROOT/target/site"
WASM_TARGET_DIR="$ROOT/target/wasm"
MOTO_VERSION=5.2.5
SCHEMATHESIS_VERSION=4.32.5

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The wasm-bindgen version the lockfile resolved; the CLI must match it.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# The std-for-wasm sysroot belongs to one exact compiler: key it on its
# version text so an upgraded rustc-web gets a fresh one.
wasm_sysroot() {
  local key
  key="$("$WEB_RUSTC" -vV | sha256sum | cut -c1-16)"
  printf '%s/wasm-sysroot/%s' "$CACHE_DIR" "$key"
}
