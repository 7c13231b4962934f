#!/usr/bin/env bash
# bundle.sh — merge the runtime's static archives into one, then check what it exports and needs.
#
#   bundle.sh OUTPUT ALLOWED_NAMES CC AR NM INPUT.a...
#
# 1. Writes OUTPUT with a GNU ar MRI script (addlib keeps members whose names repeat across
#    archives, e.g. two `internal.c.o`), and checks that it holds as many members as the inputs.
# 2. Every global symbol OUTPUT defines must be a documented ABI name (one per line in
#    ALLOWED_NAMES, `#` comments allowed) or carry a runtime prefix: beskid_ (ours), mi_/_mi_
#    (mimalloc). Hidden internal symbols are included: in a static link they could still collide
#    with a program's own names.
# 3. Every symbol OUTPUT leaves undefined must come from libc, libpthread or libm, or from
#    libgcc, which the compiler driver links into every C program (e.g. __popcountdi2), or, in a
#    sanitizer build, the sanitizer runtime; except beskid_program_main, which the compiled
#    program defines.
set -euo pipefail

out=$1 allowed=$2 cc=$3 ar=$4 nm=$5
shift 5
inputs=("$@")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

rm -f "$out"
{
  echo "create $out"
  for a in "${inputs[@]}"; do echo "addlib $a"; done
  echo "save"
  echo "end"
} > "$tmp/script.mri"
"$ar" -M < "$tmp/script.mri"

want=0
for a in "${inputs[@]}"; do want=$((want + $("$ar" t "$a" | wc -l))); done
got=$("$ar" t "$out" | wc -l)
if [ "$got" -ne "$want" ]; then
  echo "bundle: $out has $got members, the inputs have $want" >&2
  exit 1
fi

# Defined global symbols (any visibility).
"$nm" -g --defined-only "$out" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u > "$tmp/defined"
grep -v '^[[:space:]]*\(#\|$\)' "$allowed" | awk '{ print $1 }' | sort -u > "$tmp/allowed"
bad=$(grep -v -E '^(beskid_|mi_|_mi_)' "$tmp/defined" | comm -23 - "$tmp/allowed" || true)
if [ -n "$bad" ]; then
  echo "bundle: $out defines symbols outside the documented ABI and the runtime prefixes:" >&2
  echo "$bad" | sed 's/^/  /' >&2
  exit 1
fi

# Undefined symbols must resolve in the C library, libpthread or libm.
"$nm" -u "$out" 2>/dev/null | awk '$1 == "U" { print $2 }' | sed 's/@.*//' | sort -u | comm -23 - "$tmp/defined" > "$tmp/undefined"
: > "$tmp/system"
for lib in libc.so.6 libm.so.6 libpthread.so.0 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1; do
  path=$("$cc" -print-file-name="$lib")
  if [ -f "$path" ]; then
    "$nm" -D --defined-only "$path" | awk '{ print $NF }' | sed 's/@.*//' >> "$tmp/system"
  fi
done
# The static part of the C library (atexit and friends) and the linker's own symbols.
path=$("$cc" -print-file-name=libc_nonshared.a)
if [ -f "$path" ]; then
  "$nm" -g --defined-only "$path" 2>/dev/null | awk 'NF == 3 { print $3 }' >> "$tmp/system"
fi
for path in "$("$cc" -print-libgcc-file-name)" "$("$cc" -print-file-name=libgcc_s.so.1)"; do
  if [ -f "$path" ]; then
    { "$nm" -g --defined-only "$path" 2>/dev/null; "$nm" -D --defined-only "$path" 2>/dev/null; } |
      awk 'NF == 3 { print $3 }' | sed 's/@.*//' >> "$tmp/system"
  fi
done
echo _GLOBAL_OFFSET_TABLE_ >> "$tmp/system"
sort -u -o "$tmp/system" "$tmp/system"
missing=$(comm -23 "$tmp/undefined" "$tmp/system" | grep -v -E '^(beskid_program_main|__(a|t|ub|l)san_.*|__sanitizer_.*)$' || true)
if [ -n "$missing" ]; then
  echo "bundle: $out needs symbols that libc, libpthread and libm do not provide:" >&2
  echo "$missing" | sed 's/^/  /' >&2
  exit 1
fi
echo "bundle: $out: $got members, $(wc -l < "$tmp/defined") global symbols, all on the ABI list or prefixed"
