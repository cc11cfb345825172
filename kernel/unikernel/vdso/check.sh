#!/usr/bin/env bash
# Fails the build when the vDSO is not what user/vdso.cc maps and the libcs parse:
#   check.sh READELF VDSO        (GNU readelf or llvm-readelf)
# - no relocations at all (the kernel copies it in and applies none; its pages are not writable)
# - one PT_LOAD, at offset 0 and address 0, its file size its memory size (the mapping is
#   the file, byte for byte), read+execute; a PT_DYNAMIC
# - DT_HASH (musl's __vdsosym reads only that) and the exports at version LINUX_2.6
# Each readelf output is read into a variable first: grep -q on a pipe would stop reading
# early and, under pipefail, fail the pipeline with readelf's SIGPIPE.
set -euo pipefail
readelf="$1" vdso="$2"
fail() { echo "check.sh: $vdso: $*" >&2; exit 1; }

relocs="$("$readelf" -rW "$vdso")"
[[ "$relocs" != *R_X86_64_* ]] || fail "has relocations: $relocs"

phdrs="$("$readelf" -lW "$vdso")"
loads="$(awk '$1 == "LOAD"' <<<"$phdrs")"
[[ -n "$loads" && "$(wc -l <<<"$loads")" == 1 ]] || fail "wants exactly one PT_LOAD: $loads"
read -r _ offset vaddr _ filesz memsz flags <<<"$loads"
((offset == 0 && vaddr == 0)) || fail "its PT_LOAD is not at offset 0, address 0"
((filesz == memsz)) || fail "its PT_LOAD has zero-filled bytes (file $filesz, memory $memsz)"
[[ "$flags" == "R E "* ]] || fail "its PT_LOAD is not read+execute only ($flags)"
grep -Eq "^ *DYNAMIC " <<<"$phdrs" || fail "no PT_DYNAMIC"
dynamic="$("$readelf" -dW "$vdso")"
grep -q "(HASH)" <<<"$dynamic" || fail "no DT_HASH"

syms="$("$readelf" --dyn-syms -W "$vdso")"
for s in __vdso_clock_gettime __vdso_gettimeofday __vdso_time __vdso_getcpu __vdso_clock_getres \
         clock_gettime gettimeofday time getcpu clock_getres; do
    grep -Eq " FUNC +(GLOBAL|WEAK) +DEFAULT +[0-9]+ $s@@LINUX_2\.6$" <<<"$syms" || fail "does not export $s@@LINUX_2.6"
done
