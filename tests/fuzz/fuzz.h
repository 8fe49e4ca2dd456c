/*
 * fuzz.h — the interface every harness in tests/fuzz implements: libFuzzer's
 * entry points.  The same objects link either with libFuzzer
 * (-fsanitize=fuzzer, `make fuzz`) or with replay.c (`make fuzz-replay`, run
 * by `make check`), which feeds each corpus file to the harness once.
 */
#ifndef DLMON_FUZZ_H
#define DLMON_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One input; must not keep data past the call.  Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Called once before any input; may be absent (weak in replay.c). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
