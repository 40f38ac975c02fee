/* root(ids): the compressed binary Patricia trie of SPEC 2.2, as src/model/trie.ts.
 * key = 32-byte id read MSB-first (bit 0 left), value = the id's list position as 8-byte
 * big-endian; a repeated id keeps its last position. Node hashes: BLAKE2b-256 keyed with the
 * one-byte tag 0 leaf, 1 full, 2 short. The empty list's root is unkeyed BLAKE2b-256("").
 */
#ifndef NB_TRIE_H
#define NB_TRIE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"

static const uint8_t EMPTY_ROOT[32] = {
  0x0e, 0x57, 0x51, 0xc0, 0x26, 0xe5, 0x43, 0xb2, 0xe8, 0xab, 0x2e, 0xb0, 0x60, 0x99, 0xda, 0xa1,
  0xd1, 0xe5, 0xdf, 0x47, 0x77, 0x8f, 0x77, 0x87, 0xfa, 0xab, 0x45, 0xcd, 0xf1, 0x2f, 0xe3, 0xa8,
};

typedef struct {
  const uint8_t *key; /* 32 bytes */
  uint32_t pos;
} trie_entry;

static inline int trie_bit(const uint8_t *key, int i) { return (key[i >> 3] >> (7 - (i & 7))) & 1; }

/* Leading bits, from `from`, that a and b share (up to 256). */
static int trie_shared(const uint8_t *a, const uint8_t *b, int from) {
  int i = from;
  while (i < 256 && (i & 7) != 0) {
    if (trie_bit(a, i) != trie_bit(b, i)) return i - from;
    i++;
  }
  while (i + 8 <= 256 && a[i >> 3] == b[i >> 3]) i += 8;
  while (i < 256 && trie_bit(a, i) == trie_bit(b, i)) i++;
  return i - from;
}

/* Bits [from, from+n) of key packed MSB-first, zero-padded, into out. */
static void trie_pack(const uint8_t *key, int from, int n, uint8_t *out) {
  int bytes = (n + 7) >> 3;
  int shift = from & 7;
  int base = from >> 3;
  for (int j = 0; j < bytes; j++) {
    unsigned v = (unsigned)key[base + j] << shift;
    if (shift && base + j + 1 < 32) v |= key[base + j + 1] >> (8 - shift);
    out[j] = (uint8_t)v;
  }
  if (n & 7) out[bytes - 1] &= (uint8_t)(0xff << (8 - (n & 7)));
}

static int trie_node(hasher *h, const trie_entry *e, int lo, int hi, int depth, uint8_t out[32]) {
  if (depth == 256) {
    uint8_t v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    uint32_t p = e[lo].pos;
    v[4] = (uint8_t)(p >> 24);
    v[5] = (uint8_t)(p >> 16);
    v[6] = (uint8_t)(p >> 8);
    v[7] = (uint8_t)p;
    return b2_keyed(h, 0, v, 8, out);
  }
  int shared = trie_shared(e[lo].key, e[hi - 1].key, depth);
  if (shared > 0) {
    uint8_t data[2 + 32 + 32];
    int pb = (shared + 7) >> 3;
    data[0] = (uint8_t)(shared >> 8);
    data[1] = (uint8_t)shared;
    trie_pack(e[lo].key, depth, shared, data + 2);
    if (trie_node(h, e, lo, hi, depth + shared, data + 2 + pb) < 0) return -1;
    return b2_keyed(h, 2, data, (size_t)(2 + pb + 32), out);
  }
  int mid = lo;
  while (trie_bit(e[mid].key, depth) == 0) mid++;
  uint8_t data[64];
  if (trie_node(h, e, lo, mid, depth + 1, data) < 0) return -1;
  if (trie_node(h, e, mid, hi, depth + 1, data + 32) < 0) return -1;
  return b2_keyed(h, 1, data, 64, out);
}

static int trie_cmp(const void *a, const void *b) {
  const trie_entry *x = (const trie_entry *)a, *y = (const trie_entry *)b;
  int c = memcmp(x->key, y->key, 32);
  if (c != 0) return c;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Root of the ids (n x 32 bytes, contiguous). `scratch` holds at least n entries. */
static int ids_root(hasher *h, const uint8_t *ids, int n, trie_entry *scratch, uint8_t out[32]) {
  if (n == 0) {
    memcpy(out, EMPTY_ROOT, 32);
    return 0;
  }
  for (int i = 0; i < n; i++) {
    scratch[i].key = ids + 32 * (size_t)i;
    scratch[i].pos = (uint32_t)i;
  }
  if (n > 1) {
    /* insertion sort for the usual handful of ids, qsort beyond */
    if (n <= 16) {
      for (int i = 1; i < n; i++) {
        trie_entry x = scratch[i];
        int j = i - 1;
        while (j >= 0 && trie_cmp(&scratch[j], &x) > 0) {
          scratch[j + 1] = scratch[j];
          j--;
        }
        scratch[j + 1] = x;
      }
    } else {
      qsort(scratch, (size_t)n, sizeof(trie_entry), trie_cmp);
    }
    /* a repeated id keeps its last position: sorted by (key, pos), keep the last of each run */
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (i + 1 < n && memcmp(scratch[i].key, scratch[i + 1].key, 32) == 0) continue;
      scratch[m++] = scratch[i];
    }
    n = m;
  }
  return trie_node(h, scratch, 0, n, 0, out);
}

#endif
