#!/usr/bin/env bash
# Compiles every C file in $1 to a freestanding relocatable object in $2.
# These objects run inside target processes, loaded by the engine's own linker
# (io.qpatch.link): no libc, no stack protector, position independent.
set -euo pipefail
src=$1 out=$2
command -v gcc >/dev/null || { echo "error: gcc not found; install it (apt-get install gcc)" >&2; exit 1; }
mkdir -p "$out"
shopt -s nullglob
for c in "$src"/*.c; do
  gcc -c -O2 -fPIC -ffreestanding -fno-stack-protector -fno-asynchronous-unwind-tables \
      -fcf-protection=none -nostdlib -Wall -Werror -o "$out/$(basename "${c%.c}").o" "$c"
done
