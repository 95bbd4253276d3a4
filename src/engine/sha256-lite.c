/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SHA-256 as specified in FIPS 180-4. Two block functions: a portable one
 * (message schedule expanded up front, rounds unrolled eight at a time so the
 * working variables rotate by name instead of by copying), and on x86-64 one
 * built on the SHA extensions (sha256rnds2 does two rounds, sha256msg1/2 the
 * schedule), picked once by cpuid. Both take any number of whole blocks, so
 * bulk input is hashed where it lies, without a copy through the buffer.
 */

#include <pthread.h>
#include <string.h>

#include "sha256-lite.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n)    ((x) >> (n) | (x) << (32 - (n)))
#define BSIG0(x)     (ROR(x, 2) ^ ROR(x, 13) ^ ROR(x, 22))
#define BSIG1(x)     (ROR(x, 6) ^ ROR(x, 11) ^ ROR(x, 25))
#define SSIG0(x)     (ROR(x, 7) ^ ROR(x, 18) ^ (x) >> 3)
#define SSIG1(x)     (ROR(x, 17) ^ ROR(x, 19) ^ (x) >> 10)
#define CH(e, f, g)  ((g) ^ ((e) & ((f) ^ (g))))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))
#define ROUND(a, b, c, d, e, f, g, h, i)                                   \
        do {                                                               \
                uint32_t t1_ = (h) + BSIG1(e) + CH(e, f, g) + K[i] + w[i]; \
                (d) += t1_;                                                \
                (h) = t1_ + BSIG0(a) + MAJ(a, b, c);                       \
        } while (0)

static inline uint32_t load_be32(const uint8_t *p) {
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void blocks_portable(uint32_t state[8], const uint8_t *p, size_t n) {
        for (; n > 0; n--, p += 64) {
                uint32_t w[64];
                for (int i = 0; i < 16; i++)
                        w[i] = load_be32(p + 4 * i);
                for (int i = 16; i < 64; i++)
                        w[i] = w[i - 16] + SSIG0(w[i - 15]) + w[i - 7] + SSIG1(w[i - 2]);
                uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
                uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
                for (int i = 0; i < 64; i += 8) {
                        ROUND(a, b, c, d, e, f, g, h, i);
                        ROUND(h, a, b, c, d, e, f, g, i + 1);
                        ROUND(g, h, a, b, c, d, e, f, i + 2);
                        ROUND(f, g, h, a, b, c, d, e, i + 3);
                        ROUND(e, f, g, h, a, b, c, d, i + 4);
                        ROUND(d, e, f, g, h, a, b, c, i + 5);
                        ROUND(c, d, e, f, g, h, a, b, i + 6);
                        ROUND(b, c, d, e, f, g, h, a, i + 7);
                }
                state[0] += a, state[1] += b, state[2] += c, state[3] += d;
                state[4] += e, state[5] += f, state[6] += g, state[7] += h;
        }
}

#ifdef SHA256_X86
/* Four rounds on the message words in m (W[4g..4g+3]). sha256rnds2 takes the state as ABEF and CDGH
 * and the two round inputs W+K in the low 64 bits. */
#define SHANI_ROUNDS4(m, g)                                                                    \
        do {                                                                                   \
                __m128i wk_ = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *)&K[4 * (g)])); \
                cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                                 \
                abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0e));        \
        } while (0)

/* W[4g..4g+3] from the previous sixteen words, held in m0 (oldest) to m3 (newest); the result replaces
 * m0, which is no longer needed. */
#define SHANI_SCHEDULE(m0, m1, m2, m3)                                                        \
        do {                                                                                  \
                m0 = _mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4)); \
                m0 = _mm_sha256msg2_epu32(m0, m3);                                            \
        } while (0)

__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_shani(uint32_t state[8], const uint8_t *p,
                                                                     size_t n) {
        const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
        __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
        __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
        __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
        __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
        __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
        __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);

        for (; n > 0; n--, p += 64) {
                __m128i abef_in = abef, cdgh_in = cdgh;
                __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
                __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
                __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
                __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);

                SHANI_ROUNDS4(m0, 0);
                SHANI_ROUNDS4(m1, 1);
                SHANI_ROUNDS4(m2, 2);
                SHANI_ROUNDS4(m3, 3);
#pragma GCC unroll 4
                for (int g = 4; g < 16; g += 4) {
                        SHANI_SCHEDULE(m0, m1, m2, m3);
                        SHANI_ROUNDS4(m0, g);
                        SHANI_SCHEDULE(m1, m2, m3, m0);
                        SHANI_ROUNDS4(m1, g + 1);
                        SHANI_SCHEDULE(m2, m3, m0, m1);
                        SHANI_ROUNDS4(m2, g + 2);
                        SHANI_SCHEDULE(m3, m0, m1, m2);
                        SHANI_ROUNDS4(m3, g + 3);
                }
                abef = _mm_add_epi32(abef, abef_in);
                cdgh = _mm_add_epi32(cdgh, cdgh_in);
        }

        __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
        __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
        _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xf0));
        _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

static bool cpu_has_shani(void) {
        unsigned a, b, c, d;

        if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
                return false;
        if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
                return false;
        return b & (1u << 29); /* SHA */
}
#endif

typedef void (*BlocksFn)(uint32_t state[8], const uint8_t *p, size_t n);

static BlocksFn blocks_auto = blocks_portable;
static BlocksFn blocks_fn;
static pthread_once_t blocks_once = PTHREAD_ONCE_INIT;

static void blocks_choose(void) {
#ifdef SHA256_X86
        if (cpu_has_shani())
                blocks_auto = blocks_shani;
#endif
        if (!blocks_fn)
                blocks_fn = blocks_auto;
}

static BlocksFn blocks(void) {
        (void)pthread_once(&blocks_once, blocks_choose);
        return blocks_fn;
}

bool sha256_lite_accelerated(void) {
        return blocks() != blocks_portable;
}

void sha256_lite_force_portable(bool portable) {
        (void)blocks();
        blocks_fn = portable ? blocks_portable : blocks_auto;
}

void sha256_lite_init(Sha256Lite *s) {
        static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        memcpy(s->h, iv, sizeof iv);
        s->len = 0;
        s->n_buf = 0;
}

void sha256_lite_update(Sha256Lite *s, const void *data, size_t n) {
        const uint8_t *p = data;
        BlocksFn fn = blocks();

        s->len += n;
        if (s->n_buf > 0) {
                size_t k = 64 - s->n_buf < n ? 64 - s->n_buf : n;
                memcpy(s->buf + s->n_buf, p, k);
                s->n_buf += k;
                p += k;
                n -= k;
                if (s->n_buf < 64)
                        return;
                fn(s->h, s->buf, 1);
                s->n_buf = 0;
        }
        if (n >= 64) {
                fn(s->h, p, n / 64);
                p += n & ~(size_t)63;
                n &= 63;
        }
        memcpy(s->buf, p, n);
        s->n_buf = n;
}

void sha256_lite_final(Sha256Lite *s, uint8_t ret[32]) {
        uint64_t bits = s->len * 8;
        uint8_t pad[72] = {0x80};
        size_t n_pad = (s->n_buf < 56 ? 56 : 120) - s->n_buf;

        for (int i = 0; i < 8; i++)
                pad[n_pad + i] = (uint8_t)(bits >> (56 - 8 * i));
        sha256_lite_update(s, pad, n_pad + 8);
        for (int i = 0; i < 32; i++)
                ret[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

void sha256_lite_final_hex(Sha256Lite *s, char ret[65]) {
        static const char hex[] = "0123456789abcdef";
        uint8_t md[32];

        sha256_lite_final(s, md);
        for (int i = 0; i < 32; i++) {
                ret[2 * i] = hex[md[i] >> 4];
                ret[2 * i + 1] = hex[md[i] & 15];
        }
        ret[64] = 0;
}
