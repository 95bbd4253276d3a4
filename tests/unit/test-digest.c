/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-256: FIPS 180-4 example vectors through both block functions, and the hardware one against the
 * portable one on random inputs of every length class, fed in random pieces. */
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "sha256-lite.h"
#include "tests.h"

static const struct {
        const char *in;
        size_t repeat;
        const char *hex;
} vectors[] = {
        {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmn"
         "opqrs"
         "tnopqrstu",
         1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
        {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
        /* 55, 56 and 64 bytes: the padding edge cases */
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1,
         "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1,
         "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1,
         "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
};

static void hash_vector(size_t i, size_t piece, char hex[65]) {
        Sha256Lite h;
        size_t len = strlen(vectors[i].in);

        sha256_lite_init(&h);
        if (vectors[i].repeat > 1 && len == 1) {
                /* a million 'a's: in blocks of 1000, as a reader would feed them */
                char buf[1000];
                memset(buf, vectors[i].in[0], sizeof(buf));
                for (size_t k = 0; k < vectors[i].repeat / sizeof(buf); k++)
                        sha256_lite_update(&h, buf, sizeof(buf));
        } else
                for (size_t off = 0; off < len; off += piece)
                        sha256_lite_update(&h, vectors[i].in + off, len - off < piece ? len - off : piece);
        sha256_lite_final_hex(&h, hex);
}

TEST(vectors) {
        char hex[65];

        for (int portable = 0; portable <= 1; portable++) {
                sha256_lite_force_portable(portable);
                for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
                        hash_vector(i, 7, hex);
                        is_str(hex, vectors[i].hex, "%s: vector %zu in pieces of 7",
                               portable ? "portable" : "default", i);
                        hash_vector(i, 1000, hex);
                        is_str(hex, vectors[i].hex, "%s: vector %zu whole",
                               portable ? "portable" : "default", i);
                }
        }
        sha256_lite_force_portable(false);
        diag("hardware SHA-256: %s", sha256_lite_accelerated() ? "yes" : "no");
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void hash_pieces(const uint8_t *p, size_t n, bool portable, uint8_t md[32]) {
        Sha256Lite h;

        sha256_lite_force_portable(portable);
        sha256_lite_init(&h);
        while (n > 0) {
                size_t k = next_random() % 300;
                if (k > n)
                        k = n;
                sha256_lite_update(&h, p, k);
                p += k;
                n -= k;
        }
        sha256_lite_final(&h, md);
}

TEST(random_lengths) {
        size_t cap = 70000;
        uint8_t *buf = malloc(cap);
        unsigned bad = 0, runs = 0;

        for (size_t i = 0; i < cap; i++)
                buf[i] = (uint8_t)next_random();
        for (size_t len = 0; len < cap; len = len < 200 ? len + 1 : len * 5 / 4 + (next_random() % 64)) {
                uint8_t a[32], b[32];
                hash_pieces(buf, len, false, a);
                hash_pieces(buf, len, true, b);
                runs++;
                if (memcmp(a, b, 32) != 0) {
                        bad++;
                        diag("length %zu differs", len);
                }
        }
        sha256_lite_force_portable(false);
        is_int(bad, 0, "default and portable agree on %u random inputs of 0..%zu bytes", runs, cap);
        free(buf);
}

TEST(digest_api) {
        char one[DIGEST_MAX], two[DIGEST_MAX];
        Sha256 *h = NULL;

        sha256_digest("abc", 3, one);
        is_str(one, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               "one-shot digest");
        is_int(sha256_new(&h), 0, "streaming context");
        sha256_update(h, "a", 1);
        sha256_update(h, "", 0);
        sha256_update(h, "bc", 2);
        sha256_final(h, two);
        sha256_free(h);
        is_str(two, one, "streaming digest equals the one-shot one");
        ok(digest_valid(one), "a computed digest is valid");
        ok(!digest_valid("sha256:ABC"), "short or upper-case digest refused");
        is_str(digest_hex(one), one + 7, "hex part");
}

TESTS_MAIN
