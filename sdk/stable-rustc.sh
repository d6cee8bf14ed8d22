#!/usr/bin/env bash
# rustc wrapper for the guest workspace's members (RUSTC_WORKSPACE_WRAPPER).
# cargo hashes the absolute path of a member that lives outside sdk/ (such as
# examples/hello-plugin) into `-C metadata`; that hash reaches symbol names and
# so the order of functions in the module. Derive it from the crate name
# instead, so every checkout builds the same bytes.
rustc=$1
shift
args=()
name=
prev=
for arg in "$@"; do
  [[ $prev == --crate-name ]] && name=$arg
  [[ $prev == -C && $arg == metadata=* ]] && arg="metadata=livemall-guest-$name"
  args+=("$arg")
  prev=$arg
done
exec "$rustc" "${args[@]}"
