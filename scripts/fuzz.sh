#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make fuzz: builds every tests/fuzz/fuzz_*.c as a libFuzzer target (clang, ASan+UBSan)
# against the project's code and runs each for a bounded time. A crash fails.
# usage: fuzz.sh OUTDIR SECONDS FUZZ_SRC...
set -eu
out=$1; secs=$2; shift 2
CC=clang
FLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -std=c11 -D_GNU_SOURCE"
INC="-I$(dirname "$out") -I. -Ifirmware $(pkg-config --cflags libpcsclite libmicrohttpd json-c)"
LIBS="$(pkg-config --libs libpcsclite libmicrohttpd json-c) -lbearssl -lcrypt -lpthread"
mkdir -p "$out/obj"
objs=""
for src in firmware/*.c firmware/*/*.c drivers/*.c web/*.c web/*/*.c; do
	# the executable's own: main(), and process.c's GnuTLS deferral (fuzzers need GnuTLS
	# as it is)
	[ "$src" = firmware/main.c ] || [ "$src" = firmware/process.c ] && continue
	o="$out/obj/$(echo "$src" | tr / _).o"
	$CC $FLAGS $INC -c -o "$o" "$src"
	objs="$objs $o"
done
for gen in assets admin_assets; do
	[ -f "$(dirname "$out")/$gen.c" ] || make --no-print-directory "$(dirname "$out")/$gen.c" >/dev/null
	$CC $FLAGS $INC -c -o "$out/obj/$gen.o" "$(dirname "$out")/$gen.c"
	objs="$objs $out/obj/$gen.o"
done
rm -f "$out/libfuzz.a"
ar rcs "$out/libfuzz.a" $objs
fail=0
for src in "$@"; do
	name=$(basename "$src" .c)
	$CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c11 \
	    -D_GNU_SOURCE $INC -o "$out/$name" "$src" "$out/libfuzz.a" $LIBS
	corpus="$out/corpus-$name"
	mkdir -p "$corpus"
	seeds=""
	[ -d "tests/fuzz/seeds/$name" ] && seeds="tests/fuzz/seeds/$name"
	echo "== $name: ${secs}s"
	if "$out/$name" -max_total_time="$secs" -print_final_stats=1 "$corpus" $seeds \
	    > "$out/$name.log" 2>&1; then
		grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$name.log" |
		    sed 's/^/   /'
	else
		fail=1
		tail -40 "$out/$name.log"
		echo "== $name: FAILED (crash input in the log above)"
	fi
done
exit $fail
