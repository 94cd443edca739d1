/* fuzz_envelope.c — libFuzzer target for envelope decoding.
 *
 * Decodes the input with a 1 MiB limit. Whatever decodes must be a valid
 * envelope: it re-encodes (the encoder validates again), the bytes decode
 * once more, and packing that second envelope gives the same bytes
 * (decode . encode is a fixed point). Anything else traps. Crashes, leaks
 * and undefined behaviour are caught by the sanitizers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LIMIT (1u << 20)

static void check(int ok)
{
    if (!ok) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    gpsc_wire_msg_t *m = NULL;
    int rc = gpsc_wire_decode(&m, data, size, LIMIT, err, sizeof err);
    if (rc != 0) {
        /* a refusal is a known code with a reason, and nothing is returned */
        check(rc < 0 && rc > GPSC_ERR_LAST_);
        check(m == NULL);
        check(err[0] != '\0');
        return 0;
    }
    const Gpsc__Envelope *env = gpsc_wire_msg_env(m);
    check(env != NULL && env->version == GPSC_WIRE_VERSION);
    check(gpsc_wire_validate(env, err, sizeof err) == 0);

    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    check(gpsc_wire_encode(&b1, &n1, env, err, sizeof err) == 0);
    check(n1 == gpsc_wire_packed_size(env));
    gpsc_wire_msg_t *m2 = NULL;
    check(gpsc_wire_decode(&m2, b1, n1, 0, err, sizeof err) == 0);
    check(gpsc_wire_encode(&b2, &n2, gpsc_wire_msg_env(m2), err, sizeof err) == 0);
    check(n1 == n2 && memcmp(b1, b2, n1) == 0);
    free(b1);
    free(b2);
    gpsc_wire_msg_destroy(&m2);
    gpsc_wire_msg_destroy(&m);
    return 0;
}
