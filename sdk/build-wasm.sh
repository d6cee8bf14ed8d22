#!/usr/bin/env bash
# Builds the guest workspace's plug-ins for wasm32 with Debian's Rust 1.63 and
# copies each module to where the repository keeps it. With --check it copies
# nothing and fails when a rebuilt module differs from the committed one.
#
# Paths are remapped, and members' crate metadata made path-independent
# (stable-rustc.sh), so the bytes do not depend on where the checkout, the
# cargo home or the target directory live: any clone builds the same module.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cargo_home=${CARGO_HOME:-$HOME/.cargo}
target=${CARGO_TARGET_DIR:-$root/sdk/target}
check=false
[[ ${1:-} == --check ]] && check=true

# package -> module path in the repository (bundled plug-ins go to plugins/dist/).
modules=(
  "hello-plugin examples/hello-plugin/hello_plugin.wasm"
  "coupons plugins/dist/coupons.wasm"
  "countdown plugins/dist/countdown.wasm"
  "flash-deals plugins/dist/flash-deals.wasm"
)

export PATH=/usr/bin:$PATH
export RUSTC_BOOTSTRAP=1 # cargo 1.65 needs it for -Z sparse-registry
# Bulk memory etc. as in a scaffolded plug-in's .cargo/config.toml (RUSTFLAGS replaces that file's flags).
export RUSTFLAGS="-C target-feature=+bulk-memory,+mutable-globals,+nontrapping-fptoint --remap-path-prefix=$root=/livemall --remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$target=/target"
export CARGO_TARGET_DIR=$target
export RUSTC_WORKSPACE_WRAPPER=$root/sdk/stable-rustc.sh

packages=()
for entry in "${modules[@]}"; do packages+=(-p "${entry%% *}"); done
(cd "$root/sdk" && nice cargo -Z sparse-registry build --locked --release \
  --target wasm32-unknown-unknown "${packages[@]}")

status=0
for entry in "${modules[@]}"; do
  package=${entry%% *}
  dest=$root/${entry#* }
  built=$target/wasm32-unknown-unknown/release/${package//-/_}.wasm
  size=$(stat -c %s "$built")
  if $check; then
    if cmp -s "$built" "$dest"; then
      echo "ok: ${entry#* } ($size bytes) matches the rebuilt module"
    else
      committed=$(stat -c %s "$dest" 2>/dev/null || echo missing)
      echo "DIFFERS: ${entry#* } is $committed bytes, the rebuilt module $size bytes;" \
        "rebuild with sdk/build-wasm.sh and commit it" >&2
      status=1
    fi
  else
    cp "$built" "$dest"
    echo "built ${entry#* } ($size bytes)"
  fi
done
exit $status
