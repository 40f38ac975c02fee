/* The two hash primitives of SPEC 1.3 / 2.2 for the native baseline.
 *
 *  - SHA3-256 (FIPS 202): OpenSSL 3 EVP, the digest fetched once, one EVP_MD_CTX per thread.
 *  - BLAKE2b-256 keyed with a one-byte key (the trie node tag): two backends,
 *      openssl: EVP_MAC "BLAKE2BMAC" (size 32), one pre-keyed EVP_MAC_CTX per tag and thread,
 *               re-initialised (EVP_MAC_init with a NULL key keeps the key) per hash;
 *      builtin: RFC 7693 reference compression, with the state after the key block
 *               precomputed per tag. Every trie node input is 8..66 bytes (one block), so a
 *               keyed node hash costs exactly one compression.
 *    Both give identical digests (checked at start-up against each other and the empty root).
 */
#ifndef NB_HASH_H
#define NB_HASH_H

#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

/* ---- builtin BLAKE2b (RFC 7693) ---- */

static const uint64_t B2_IV[8] = {
  0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
  0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t B2_SIGMA[12][16] = {
  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
  {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
  {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
  {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
  {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
  {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
  {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
  {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
  {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
  {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
  {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

static inline uint64_t b2_rotr(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

static inline uint64_t b2_load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8); /* little-endian hosts (x86-64, aarch64) */
  return v;
}

#define B2_G(a, b, c, d, x, y)        \
  do {                                \
    v[a] = v[a] + v[b] + (x);         \
    v[d] = b2_rotr(v[d] ^ v[a], 32);  \
    v[c] = v[c] + v[d];               \
    v[b] = b2_rotr(v[b] ^ v[c], 24);  \
    v[a] = v[a] + v[b] + (y);         \
    v[d] = b2_rotr(v[d] ^ v[a], 16);  \
    v[c] = v[c] + v[d];               \
    v[b] = b2_rotr(v[b] ^ v[c], 63);  \
  } while (0)

static void b2_compress(uint64_t h[8], const uint8_t block[128], uint64_t t, int last) {
  uint64_t v[16], m[16];
  for (int i = 0; i < 16; i++) m[i] = b2_load64(block + 8 * i);
  for (int i = 0; i < 8; i++) {
    v[i] = h[i];
    v[i + 8] = B2_IV[i];
  }
  v[12] ^= t;
  if (last) v[14] = ~v[14];
  for (int r = 0; r < 12; r++) {
    const uint8_t *s = B2_SIGMA[r];
    B2_G(0, 4, 8, 12, m[s[0]], m[s[1]]);
    B2_G(1, 5, 9, 13, m[s[2]], m[s[3]]);
    B2_G(2, 6, 10, 14, m[s[4]], m[s[5]]);
    B2_G(3, 7, 11, 15, m[s[6]], m[s[7]]);
    B2_G(0, 5, 10, 15, m[s[8]], m[s[9]]);
    B2_G(1, 6, 11, 12, m[s[10]], m[s[11]]);
    B2_G(2, 7, 8, 13, m[s[12]], m[s[13]]);
    B2_G(3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

/* State after the key block, per one-byte key 0, 1, 2 (digest 32 bytes, key length 1). */
static uint64_t B2_KEYED[3][8];

static void b2_builtin_init(void) {
  for (int tag = 0; tag < 3; tag++) {
    uint64_t *h = B2_KEYED[tag];
    for (int i = 0; i < 8; i++) h[i] = B2_IV[i];
    h[0] ^= 0x01010000ULL ^ (1ULL << 8) ^ 32ULL;
    uint8_t block[128] = {0};
    block[0] = (uint8_t)tag;
    b2_compress(h, block, 128, 0);
  }
}

/* Keyed BLAKE2b-256 of 1..128 bytes (the data block follows the key block: counter 128 + n). */
static inline void b2_keyed_builtin(int tag, const uint8_t *data, size_t n, uint8_t out[32]) {
  uint64_t h[8];
  memcpy(h, B2_KEYED[tag], sizeof h);
  uint8_t block[128];
  memcpy(block, data, n);
  memset(block + n, 0, 128 - n);
  b2_compress(h, block, 128 + (uint64_t)n, 1);
  memcpy(out, h, 32);
}

/* ---- per-thread hasher ---- */

static EVP_MD *g_sha3;
static EVP_MAC *g_b2mac;

typedef struct {
  EVP_MD_CTX *md;
  EVP_MAC_CTX *mac[3];
  int builtin_b2;
} hasher;

/* Process-wide set-up; returns 0 on success. */
static int hash_global_init(void) {
  g_sha3 = EVP_MD_fetch(NULL, "SHA3-256", NULL);
  g_b2mac = EVP_MAC_fetch(NULL, "BLAKE2BMAC", NULL);
  b2_builtin_init();
  return g_sha3 != NULL && g_b2mac != NULL ? 0 : -1;
}

static int hasher_init(hasher *h, int builtin_b2) {
  h->builtin_b2 = builtin_b2;
  h->md = EVP_MD_CTX_new();
  if (h->md == NULL) return -1;
  for (int tag = 0; tag < 3; tag++) {
    h->mac[tag] = EVP_MAC_CTX_new(g_b2mac);
    if (h->mac[tag] == NULL) return -1;
    size_t size = 32;
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size), OSSL_PARAM_construct_end()};
    uint8_t key = (uint8_t)tag;
    if (!EVP_MAC_init(h->mac[tag], &key, 1, params)) return -1;
  }
  return 0;
}

static void hasher_free(hasher *h) {
  EVP_MD_CTX_free(h->md);
  for (int tag = 0; tag < 3; tag++) EVP_MAC_CTX_free(h->mac[tag]);
}

static inline int sha3_256(hasher *h, const uint8_t *data, size_t n, uint8_t out[32]) {
  unsigned int len = 32;
  if (!EVP_DigestInit_ex2(h->md, g_sha3, NULL)) return -1;
  if (!EVP_DigestUpdate(h->md, data, n)) return -1;
  if (!EVP_DigestFinal_ex(h->md, out, &len)) return -1;
  return 0;
}

static inline int b2_keyed(hasher *h, int tag, const uint8_t *data, size_t n, uint8_t out[32]) {
  if (h->builtin_b2 && n >= 1 && n <= 128) {
    b2_keyed_builtin(tag, data, n, out);
    return 0;
  }
  size_t len = 0;
  EVP_MAC_CTX *c = h->mac[tag];
  if (!EVP_MAC_init(c, NULL, 0, NULL)) return -1;
  if (!EVP_MAC_update(c, data, n)) return -1;
  if (!EVP_MAC_final(c, out, &len, 32)) return -1;
  return len == 32 ? 0 : -1;
}

#endif
