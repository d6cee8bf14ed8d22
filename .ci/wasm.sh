#!/usr/bin/env bash
# The guest side: SDK and plug-in tests under Rust 1.63, reproducible wasm
# modules, the WebAssembly-text example, and a freshly scaffolded plug-in.
#
# Uses Debian's Rust 1.63 (the only toolchain here with the wasm32 standard
# library) and installs it when missing. Environment:
#   LIVEMALL_BIN            a built `livemall` binary (default: cargo build it)
#   LIVEMALL_GUEST_TARGET   target dir for guest builds (default ~/.cache/livemall-guest-target)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
server_target=${CARGO_TARGET_DIR:-$root/target}
guest_target=${LIVEMALL_GUEST_TARGET:-$HOME/.cache/livemall-guest-target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "toolchain"
need=()
[[ -x /usr/bin/rustc && -x /usr/bin/cargo ]] || need+=(rustc cargo)
ls /usr/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib >/dev/null 2>&1 ||
  need+=(libstd-rust-dev-wasm32)
command -v wat2wasm >/dev/null || need+=(wabt)
if ((${#need[@]})); then
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
/usr/bin/rustc --version
/usr/bin/cargo --version
wat2wasm --version

# Debian's cargo first; RUSTC_BOOTSTRAP lets cargo 1.65 use -Z sparse-registry
# (the git index is not reachable here).
guest_cargo() { PATH=/usr/bin:$PATH RUSTC_BOOTSTRAP=1 nice /usr/bin/cargo -Z sparse-registry "$@"; }
export CARGO_TARGET_DIR=$guest_target

step "guest lockfile"
if ! grep -qx 'version = 3' "$root/sdk/Cargo.lock"; then
  echo "sdk/Cargo.lock must stay lockfile version 3 (cargo 1.65 reads no newer)" >&2
  exit 1
fi
echo "sdk/Cargo.lock is version 3"

step "SDK and plug-in tests (Rust 1.63, native)"
(cd "$root/sdk" && guest_cargo test --locked --workspace)

step "wasm modules are reproducible"
"$root/sdk/build-wasm.sh" --check

step "WebAssembly-text plug-in"
wat2wasm "$root/examples/wat-plugin/discount.wat" -o "$work/discount.wasm"
committed=$root/examples/wat-plugin/discount.wasm
if cmp -s "$work/discount.wasm" "$committed"; then
  echo "ok: examples/wat-plugin/discount.wasm ($(stat -c %s "$committed") bytes) matches discount.wat"
else
  echo "DIFFERS: examples/wat-plugin/discount.wasm is not wat2wasm of discount.wat;" \
    "run: wat2wasm examples/wat-plugin/discount.wat -o examples/wat-plugin/discount.wasm" >&2
  exit 1
fi

step "a scaffolded plug-in builds and passes its tests"
bin=${LIVEMALL_BIN:-}
if [[ -z $bin ]]; then
  (cd "$root" && CARGO_TARGET_DIR=$server_target nice cargo build --quiet --bin livemall)
  bin=$server_target/debug/livemall
fi
LIVEMALL_SDK_PATH=$root/sdk/guest "$bin" plugin new ci-scaffold-check --dir "$work"
plugin=$work/ci-scaffold-check
# Offline: the workspace build above fetched every crate the template uses.
(cd "$plugin" && guest_cargo test --offline)
(cd "$plugin" && guest_cargo build --offline --release --target wasm32-unknown-unknown)
echo "scaffolded module: $(stat -c %s "$guest_target/wasm32-unknown-unknown/release/ci_scaffold_check.wasm") bytes"

step "module sizes"
for module in examples/hello-plugin/hello_plugin.wasm examples/wat-plugin/discount.wasm \
  plugins/dist/coupons.wasm plugins/dist/countdown.wasm plugins/dist/flash-deals.wasm; do
  printf '%8d  %s\n' "$(stat -c %s "$root/$module")" "$module"
done
echo "wasm guests: ok"
