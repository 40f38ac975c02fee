/* Native baseline of the integrity stage (SPEC 6, first table): for every stored block record,
 * decode the canonical MessagePack record [blockId, header, payload, finalized], compute the
 * header id (SHA3-256 of the header RLP, tcId = ID(lastViewTC) or ZERO), the element ids of
 * guarantees, seals, receipt stubs and results (chunks and service events inline), the four
 * Patricia trie roots and the payload hash, and compare with the claimed id and
 * header.payloadHash. The same per-block work as src/replay/facts.ts + decode.ts.
 *
 * Reads the LMDB environment lmdb-js wrote (read-only, its own read transaction per thread).
 *
 *   integrity STORE_DIR [--threads N] [--walk order|blocks] [--blake2 openssl|builtin]
 *                       [--nolock] [--sample K] [--limit M] [--dump FILE]
 *
 * --walk order  (default) walks the `order` db (report order, like the TS stage) and looks each
 *               record up in `blocks` (or `orphans`); threads split the height range.
 * --walk blocks walks the `blocks` db in key (claimed id) order; threads split the id range.
 * Prints one JSON object (see README.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lmdb.h"
#include "msgpack.h"
#include "rlp.h"
#include "hash.h"
#include "trie.h"

/* ------------------------------------------------------------------ per-thread context */

typedef struct {
  uint8_t *v;
  size_t n, cap; /* in 32-byte ids */
} idvec;

static int idvec_push(idvec *x, const uint8_t id[32]) {
  if (x->n == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 64;
    uint8_t *v = (uint8_t *)realloc(x->v, cap * 32);
    if (v == NULL) return -1;
    x->v = v;
    x->cap = cap;
  }
  memcpy(x->v + 32 * x->n++, id, 32);
  return 0;
}

typedef struct {
  const uint8_t *id; /* node id (32) */
  uint64_t key;      /* dkg index or weight key */
  uint64_t val;      /* weight */
} kv_item;

typedef struct {
  mp_doc doc;
  rlp_w w;
  hasher h;
  idvec ids[4];
  trie_entry *scratch;
  size_t scratch_cap;
  kv_item *items;
  size_t items_cap;
} work;

/* outcome of one record */
typedef struct {
  int decode_error;
  int id_mismatch;
  int payload_mismatch;
  uint8_t claimed[32];
  int has_claimed;
  uint8_t computed_id[32];
  uint8_t payload_hash[32];
} outcome;

#define V(i) (c->doc.v[(i)])
#define FAIL (-1)
#define CHECK(x) do { if ((x) < 0) return FAIL; } while (0)

static inline uint32_t child0(uint32_t i) { return i + 1; }
#define NEXT(k) (c->doc.v[(k)].end)

static inline int is_arr(work *c, uint32_t i, uint32_t n) { return V(i).t == MP_ARRAY && V(i).n == n; }
static inline int is_list(work *c, uint32_t i) { return V(i).t == MP_ARRAY; }
static inline int is_id(work *c, uint32_t i) { return V(i).t == MP_BIN && V(i).n == 32; }
static inline int is_bin(work *c, uint32_t i) { return V(i).t == MP_BIN; }
static inline int is_str(work *c, uint32_t i) { return V(i).t == MP_STR; }
static inline int is_u64(work *c, uint32_t i) { return V(i).t == MP_UINT; }

/* emit helpers that validate the type */
static inline int e_id(work *c, uint32_t i) {
  if (!is_id(c, i)) return FAIL;
  rlp_bytes(&c->w, V(i).p, 32);
  return 0;
}
static inline int e_bin(work *c, uint32_t i) {
  if (!is_bin(c, i)) return FAIL;
  rlp_bytes(&c->w, V(i).p, V(i).n);
  return 0;
}
static inline int e_str(work *c, uint32_t i) {
  if (!is_str(c, i)) return FAIL;
  rlp_bytes(&c->w, V(i).p, V(i).n);
  return 0;
}
static inline int e_u64(work *c, uint32_t i) {
  if (!is_u64(c, i)) return FAIL;
  rlp_u64(&c->w, V(i).u);
  return 0;
}
static inline int e_uint(work *c, uint32_t i, uint64_t max) {
  if (!is_u64(c, i) || V(i).u > max) return FAIL;
  rlp_u64(&c->w, V(i).u);
  return 0;
}

/* list(T): [T...] */
typedef int (*emit_fn)(work *c, uint32_t i);
static int e_list(work *c, uint32_t i, emit_fn f) {
  if (!is_list(c, i)) return FAIL;
  rlp_begin(&c->w);
  uint32_t k = child0(i);
  for (uint32_t j = 0; j < V(i).n; j++, k = NEXT(k)) CHECK(f(c, k));
  rlp_end(&c->w);
  return 0;
}

static int hash_out(work *c, uint8_t out[32]) {
  if (c->w.overflow || c->w.depth != 0) return FAIL;
  return sha3_256(&c->h, c->w.buf, c->w.pos, out);
}

static int items_reserve(work *c, size_t n) {
  if (n <= c->items_cap) return 0;
  kv_item *x = (kv_item *)realloc(c->items, n * sizeof(kv_item));
  if (x == NULL) return FAIL;
  c->items = x;
  c->items_cap = n;
  return 0;
}

/* ------------------------------------------------------------------ SPEC 2.1 header */

static int e_qc(work *c, uint32_t i) {
  if (!is_arr(c, i, 4)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_u64(c, k)); k = NEXT(k);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_bin(c, k)); k = NEXT(k);
  CHECK(e_bin(c, k));
  rlp_end(&c->w);
  return 0;
}

static int e_tc(work *c, uint32_t i) {
  if (!is_arr(c, i, 5)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_u64(c, k)); k = NEXT(k);
  CHECK(e_list(c, k, e_u64)); k = NEXT(k);
  CHECK(e_qc(c, k)); k = NEXT(k);
  CHECK(e_bin(c, k)); k = NEXT(k);
  CHECK(e_bin(c, k));
  rlp_end(&c->w);
  return 0;
}

/* Header archive order: chainId, parentId, height, timestamp, view, parentView,
 * parentVoterIndices, parentVoterSigData, proposerId, lastViewTC, payloadHash, proposerSigData.
 * Preimage: [chainId, parentId, height, payloadHash, timestamp, view, parentView, pvi, pvsd,
 * proposerId, tcId]. */
static int header_id(work *c, uint32_t i, uint8_t out[32], const uint8_t **payload_hash) {
  if (!is_arr(c, i, 12)) return FAIL;
  uint32_t f[12];
  uint32_t k = child0(i);
  for (int j = 0; j < 12; j++, k = NEXT(k)) f[j] = k;
  if (!is_str(c, f[0]) || !is_id(c, f[1]) || !is_u64(c, f[2]) || !is_u64(c, f[3]) || !is_u64(c, f[4]) ||
      !is_u64(c, f[5]) || !is_bin(c, f[6]) || !is_bin(c, f[7]) || !is_id(c, f[8]) || !is_id(c, f[10]) ||
      !is_bin(c, f[11]))
    return FAIL;
  uint8_t tc[32];
  if (V(f[9]).t == MP_NIL) {
    memset(tc, 0, 32);
  } else {
    rlp_reset(&c->w);
    CHECK(e_tc(c, f[9]));
    CHECK(hash_out(c, tc));
  }
  rlp_reset(&c->w);
  rlp_begin(&c->w);
  e_str(c, f[0]);
  e_id(c, f[1]);
  e_u64(c, f[2]);
  e_id(c, f[10]);
  e_u64(c, f[3]);
  e_u64(c, f[4]);
  e_u64(c, f[5]);
  e_bin(c, f[6]);
  e_bin(c, f[7]);
  e_id(c, f[8]);
  rlp_bytes(&c->w, tc, 32);
  rlp_end(&c->w);
  *payload_hash = V(f[10]).p;
  return hash_out(c, out);
}

/* ------------------------------------------------------------------ SPEC 2.2 payload elements */

static int e_guarantee(work *c, uint32_t i) {
  if (!is_arr(c, i, 5)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_str(c, k)); k = NEXT(k);
  CHECK(e_bin(c, k)); k = NEXT(k);
  CHECK(e_bin(c, k));
  rlp_end(&c->w);
  return 0;
}

static int e_approval(work *c, uint32_t i) {
  if (!is_arr(c, i, 2)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_list(c, k, e_bin)); k = NEXT(k);
  CHECK(e_list(c, k, e_id));
  rlp_end(&c->w);
  return 0;
}

static int e_seal(work *c, uint32_t i) {
  if (!is_arr(c, i, 4)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_list(c, k, e_approval));
  rlp_end(&c->w);
  return 0;
}

/* [[executorId, resultId, [spocks...]], executorSignature] */
static int e_receipt(work *c, uint32_t i) {
  if (!is_arr(c, i, 4)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  rlp_begin(&c->w);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_list(c, k, e_bin)); k = NEXT(k);
  rlp_end(&c->w);
  CHECK(e_bin(c, k));
  rlp_end(&c->w);
  return 0;
}

/* [[collectionIndex, startState, eventCollection, serviceEventCount, blockId,
 *   totalComputationUsed, numberOfTransactions], index, endState] */
static int e_chunk(work *c, uint32_t i) {
  if (!is_arr(c, i, 9)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  rlp_begin(&c->w);
  CHECK(e_u64(c, k)); k = NEXT(k);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_uint(c, k, 0xffff)); k = NEXT(k);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_u64(c, k)); k = NEXT(k);
  CHECK(e_u64(c, k)); k = NEXT(k);
  rlp_end(&c->w);
  CHECK(e_u64(c, k)); k = NEXT(k);
  CHECK(e_id(c, k));
  rlp_end(&c->w);
  return 0;
}

/* ------------------------------------------------------------------ SPEC 2.3 service events */

static int e_participant(work *c, uint32_t i) {
  if (!is_arr(c, i, 6)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_str(c, k)); k = NEXT(k);
  CHECK(e_uint(c, k, 0xff)); k = NEXT(k);
  CHECK(e_u64(c, k)); k = NEXT(k);
  CHECK(e_bin(c, k)); k = NEXT(k);
  CHECK(e_bin(c, k));
  rlp_end(&c->w);
  return 0;
}

static int e_id_list(work *c, uint32_t i) { return e_list(c, i, e_id); }

static int e_setup(work *c, uint32_t i) {
  if (!is_arr(c, i, 11)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  for (int j = 0; j < 6; j++, k = NEXT(k)) CHECK(e_u64(c, k));
  CHECK(e_list(c, k, e_participant)); k = NEXT(k);
  CHECK(e_list(c, k, e_id_list)); k = NEXT(k);
  CHECK(e_bin(c, k)); k = NEXT(k);
  CHECK(e_u64(c, k)); k = NEXT(k);
  CHECK(e_u64(c, k));
  rlp_end(&c->w);
  return 0;
}

static int e_cluster_qc(work *c, uint32_t i) {
  if (!is_arr(c, i, 2)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_bin(c, k)); k = NEXT(k);
  CHECK(e_list(c, k, e_id));
  rlp_end(&c->w);
  return 0;
}

static int cmp_id_ptr(const void *a, const void *b) {
  return memcmp(((const kv_item *)a)->id, ((const kv_item *)b)->id, 32);
}

/* [counter, [[sigData, [voterIds...]]...], dkgGroupKey, [dkgParticipantKeys...], [nodeIds by index]]
 * dkgIndexMap must be a permutation of 0..n-1 (n = number of participant keys) with distinct ids. */
static int e_commit(work *c, uint32_t i) {
  if (!is_arr(c, i, 5)) return FAIL;
  uint32_t f[5];
  uint32_t k = child0(i);
  for (int j = 0; j < 5; j++, k = NEXT(k)) f[j] = k;
  if (!is_list(c, f[3]) || !is_list(c, f[4])) return FAIL;
  uint32_t n = V(f[3]).n, m = V(f[4]).n;
  /* shapes of the map first (the model decodes every field before the permutation check) */
  if (items_reserve(c, m ? m : 1) < 0) return FAIL;
  kv_item *by = c->items;
  k = child0(f[4]);
  for (uint32_t j = 0; j < m; j++, k = NEXT(k)) {
    if (!is_arr(c, k, 2)) return FAIL;
    uint32_t a = child0(k), b = NEXT(a);
    if (!is_id(c, a) || !is_u64(c, b)) return FAIL;
  }
  rlp_begin(&c->w);
  CHECK(e_u64(c, f[0]));
  CHECK(e_list(c, f[1], e_cluster_qc));
  CHECK(e_bin(c, f[2]));
  CHECK(e_list(c, f[3], e_bin));
  if (m != n) return FAIL;
  for (uint32_t j = 0; j < n; j++) by[j].id = NULL;
  k = child0(f[4]);
  for (uint32_t j = 0; j < m; j++, k = NEXT(k)) {
    uint32_t a = child0(k), b = NEXT(a);
    uint64_t idx = V(b).u;
    if (idx >= n || by[idx].id != NULL) return FAIL;
    by[idx].id = V(a).p;
  }
  rlp_begin(&c->w);
  for (uint32_t j = 0; j < n; j++) rlp_bytes(&c->w, by[j].id, 32);
  rlp_end(&c->w);
  rlp_end(&c->w);
  if (n > 1) {
    /* distinct node ids: sort a copy (the emitted order is already written) */
    qsort(by, n, sizeof(kv_item), cmp_id_ptr);
    for (uint32_t j = 1; j < n; j++)
      if (memcmp(by[j - 1].id, by[j].id, 32) == 0) return FAIL;
  }
  return 0;
}

static int e_recover(work *c, uint32_t i) {
  if (!is_arr(c, i, 2)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_setup(c, k)); k = NEXT(k);
  CHECK(e_commit(c, k));
  rlp_end(&c->w);
  return 0;
}

static int e_boundary(work *c, uint32_t i) {
  if (!is_arr(c, i, 2)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_u64(c, k)); k = NEXT(k);
  CHECK(e_str(c, k));
  rlp_end(&c->w);
  return 0;
}

static int e_magnitude(work *c, uint32_t i) {
  if (!is_arr(c, i, 2)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_u64(c, k)); k = NEXT(k);
  CHECK(e_u64(c, k));
  rlp_end(&c->w);
  return 0;
}

static int cmp_key(const void *a, const void *b) {
  uint64_t x = ((const kv_item *)a)->key, y = ((const kv_item *)b)->key;
  return x < y ? -1 : x > y;
}

/* list(pair(u32, u64)) sorted by key; a repeated key is invalid. */
static int e_weights(work *c, uint32_t i) {
  if (!is_list(c, i)) return FAIL;
  uint32_t n = V(i).n;
  if (items_reserve(c, n ? n : 1) < 0) return FAIL;
  kv_item *it = c->items;
  uint32_t k = child0(i);
  for (uint32_t j = 0; j < n; j++, k = NEXT(k)) {
    if (!is_arr(c, k, 2)) return FAIL;
    uint32_t a = child0(k), b = NEXT(a);
    if (!is_u64(c, a) || V(a).u > 0xffffffffULL || !is_u64(c, b)) return FAIL;
    it[j].key = V(a).u;
    it[j].val = V(b).u;
  }
  if (n > 1) {
    qsort(it, n, sizeof(kv_item), cmp_key);
    for (uint32_t j = 1; j < n; j++)
      if (it[j - 1].key == it[j].key) return FAIL;
  }
  rlp_begin(&c->w);
  for (uint32_t j = 0; j < n; j++) {
    rlp_begin(&c->w);
    rlp_u64(&c->w, it[j].key);
    rlp_u64(&c->w, it[j].val);
    rlp_end(&c->w);
  }
  rlp_end(&c->w);
  return 0;
}

static int e_metering(work *c, uint32_t i) {
  if (!is_arr(c, i, 3)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_weights(c, k)); k = NEXT(k);
  CHECK(e_weights(c, k)); k = NEXT(k);
  CHECK(e_u64(c, k));
  rlp_end(&c->w);
  return 0;
}

/* SPEC 9.6: bodies of unknown types; uint -> u, str/bin -> string, bool -> 1/0, nil -> c0, array -> list. */
static int e_generic(work *c, uint32_t i) {
  switch (V(i).t) {
    case MP_NIL: rlp_empty_list(&c->w); return 0;
    case MP_BOOL: rlp_byte(&c->w, V(i).u ? 0x01 : 0x80); return 0;
    case MP_UINT: rlp_u64(&c->w, V(i).u); return 0;
    case MP_STR:
    case MP_BIN: rlp_bytes(&c->w, V(i).p, V(i).n); return 0;
    case MP_ARRAY: return e_list(c, i, e_generic);
    default: return FAIL;
  }
}

static int type_is(work *c, uint32_t i, const char *s) {
  size_t n = strlen(s);
  return V(i).n == n && memcmp(V(i).p, s, n) == 0;
}

/* [type, body] -> [s(type), preimage(body)] */
static int e_event(work *c, uint32_t i) {
  if (!is_arr(c, i, 2)) return FAIL;
  uint32_t t = child0(i), b = NEXT(t);
  if (!is_str(c, t)) return FAIL;
  rlp_begin(&c->w);
  rlp_bytes(&c->w, V(t).p, V(t).n);
  uint32_t k = child0(b);
  if (type_is(c, t, "setup")) {
    CHECK(e_setup(c, b));
  } else if (type_is(c, t, "commit")) {
    CHECK(e_commit(c, b));
  } else if (type_is(c, t, "recover")) {
    CHECK(e_recover(c, b));
  } else if (type_is(c, t, "eject-node")) {
    if (!is_arr(c, b, 1)) return FAIL;
    rlp_begin(&c->w);
    CHECK(e_id(c, k));
    rlp_end(&c->w);
  } else if (type_is(c, t, "version-beacon")) {
    if (!is_arr(c, b, 2)) return FAIL;
    rlp_begin(&c->w);
    CHECK(e_list(c, k, e_boundary)); k = NEXT(k);
    CHECK(e_u64(c, k));
    rlp_end(&c->w);
  } else if (type_is(c, t, "protocol-state-version-upgrade")) {
    if (!is_arr(c, b, 2)) return FAIL;
    rlp_begin(&c->w);
    CHECK(e_u64(c, k)); k = NEXT(k);
    CHECK(e_u64(c, k));
    rlp_end(&c->w);
  } else if (type_is(c, t, "set-epoch-extension-view-count")) {
    if (!is_arr(c, b, 1)) return FAIL;
    rlp_begin(&c->w);
    CHECK(e_u64(c, k));
    rlp_end(&c->w);
  } else if (type_is(c, t, "set-execution-component-version") || type_is(c, t, "set-cadence-component-version")) {
    if (!is_arr(c, b, 2)) return FAIL;
    rlp_begin(&c->w);
    CHECK(e_magnitude(c, k)); k = NEXT(k);
    CHECK(e_u64(c, k));
    rlp_end(&c->w);
  } else if (type_is(c, t, "set-execution-metering-parameters")) {
    if (!is_arr(c, b, 2)) return FAIL;
    rlp_begin(&c->w);
    CHECK(e_metering(c, k)); k = NEXT(k);
    CHECK(e_u64(c, k));
    rlp_end(&c->w);
  } else {
    CHECK(e_generic(c, b));
  }
  rlp_end(&c->w);
  return 0;
}

/* [previousResultId, blockId, [chunks...], [serviceEvents...], executionDataId] */
static int e_result(work *c, uint32_t i) {
  if (!is_arr(c, i, 5)) return FAIL;
  uint32_t k = child0(i);
  rlp_begin(&c->w);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_id(c, k)); k = NEXT(k);
  CHECK(e_list(c, k, e_chunk)); k = NEXT(k);
  CHECK(e_list(c, k, e_event)); k = NEXT(k);
  CHECK(e_id(c, k));
  rlp_end(&c->w);
  return 0;
}

/* ids of every element of list i into ids */
static int element_ids(work *c, uint32_t i, emit_fn f, idvec *ids) {
  if (!is_list(c, i)) return FAIL;
  ids->n = 0;
  uint32_t k = child0(i);
  for (uint32_t j = 0; j < V(i).n; j++, k = NEXT(k)) {
    uint8_t id[32];
    rlp_reset(&c->w);
    CHECK(f(c, k));
    CHECK(hash_out(c, id));
    if (idvec_push(ids, id) < 0) return FAIL;
  }
  return 0;
}

static int payload_hash(work *c, uint32_t i, uint8_t out[32]) {
  if (!is_arr(c, i, 5)) return FAIL;
  uint32_t f[5];
  uint32_t k = child0(i);
  for (int j = 0; j < 5; j++, k = NEXT(k)) f[j] = k;
  static const emit_fn fns[4] = {e_guarantee, e_seal, e_receipt, e_result};
  for (int j = 0; j < 4; j++) CHECK(element_ids(c, f[j], fns[j], &c->ids[j]));
  if (!is_id(c, f[4])) return FAIL;
  static const uint8_t zero[32] = {0};
  if (memcmp(V(f[4]).p, zero, 32) == 0) return FAIL; /* protocolStateId must not be ZERO */
  uint8_t data[160];
  for (int j = 0; j < 4; j++) {
    size_t n = c->ids[j].n;
    if (n > c->scratch_cap) {
      trie_entry *s = (trie_entry *)realloc(c->scratch, n * sizeof(trie_entry));
      if (s == NULL) return FAIL;
      c->scratch = s;
      c->scratch_cap = n;
    }
    CHECK(ids_root(&c->h, c->ids[j].v, (int)n, c->scratch, data + 32 * j));
  }
  memcpy(data + 128, V(f[4]).p, 32);
  return sha3_256(&c->h, data, 160, out);
}

/* The whole record: [blockId, header, payload, finalized]. */
static void process_record(work *c, const uint8_t *buf, size_t len, outcome *o) {
  memset(o, 0, sizeof *o);
  o->decode_error = 1;
  if (mp_parse(&c->doc, buf, len) != 0 || c->doc.bad_utf8) goto claimed;
  if (!is_arr(c, 0, 4)) goto claimed;
  uint32_t fid = child0(0), fh = NEXT(fid), fp = NEXT(fh), ff = NEXT(fp);
  if (!is_id(c, fid)) return;
  memcpy(o->claimed, V(fid).p, 32);
  o->has_claimed = 1;
  if (V(ff).t != MP_BOOL) return;
  const uint8_t *claimed_ph = NULL;
  if (header_id(c, fh, o->computed_id, &claimed_ph) < 0) return;
  if (payload_hash(c, fp, o->payload_hash) < 0) return;
  o->decode_error = 0;
  o->id_mismatch = memcmp(o->computed_id, o->claimed, 32) != 0;
  o->payload_mismatch = memcmp(o->payload_hash, claimed_ph, 32) != 0;
  return;
claimed:
  /* SPEC 9.4: the claimed id is the first element when it is a 32-byte bin */
  if (len >= 35 && (buf[0] & 0xf0) == 0x90 && (buf[0] & 15) >= 1 && buf[1] == 0xc4 && buf[2] == 32) {
    memcpy(o->claimed, buf + 3, 32);
    o->has_claimed = 1;
  }
}

/* ------------------------------------------------------------------ LMDB walk and threads */

#define MAX_SAMPLE 64

typedef struct {
  int has_id;
  uint8_t id[32];
  int decode_error;
  uint8_t computed_id[32];
  uint8_t payload_hash[32];
} sample_entry;

typedef struct {
  /* in */
  MDB_env *env;
  MDB_dbi walk_dbi, blocks_dbi, orphans_dbi;
  int walk_order;
  uint64_t lo, hi; /* first-8-byte prefix range [lo, hi); hi_open: to the end */
  int hi_open;
  int builtin_b2;
  int sample_want;
  uint64_t limit;
  FILE *dump; /* --dump: one line per record (single thread only) */
  /* out */
  uint64_t blocks, orphans, id_mismatches, payload_mismatches, decode_errors, bytes;
  int nsample;
  sample_entry sample[MAX_SAMPLE];
  int err;
  char errmsg[200];
} job;

static void hex(FILE *f, const uint8_t *b, int n) {
  static const char *d = "0123456789abcdef";
  for (int i = 0; i < n; i++) fputc(d[b[i] >> 4], f), fputc(d[b[i] & 15], f);
}

static uint64_t prefix64(const MDB_val *k) {
  uint8_t b[8] = {0};
  memcpy(b, k->mv_data, k->mv_size < 8 ? k->mv_size : 8);
  return mp_rd64(b);
}

static void *run_job(void *arg) {
  job *j = (job *)arg;
  work c;
  memset(&c, 0, sizeof c);
  if (hasher_init(&c.h, j->builtin_b2) < 0) {
    j->err = 1;
    snprintf(j->errmsg, sizeof j->errmsg, "hasher init failed");
    return NULL;
  }
  MDB_txn *txn = NULL;
  MDB_cursor *cur = NULL;
  int rc = mdb_txn_begin(j->env, NULL, MDB_RDONLY, &txn);
  if (rc == 0) rc = mdb_cursor_open(txn, j->walk_dbi, &cur);
  if (rc != 0) {
    j->err = 1;
    snprintf(j->errmsg, sizeof j->errmsg, "txn/cursor: %s", mdb_strerror(rc));
    goto done;
  }
  uint8_t startkey[8];
  for (int b = 0; b < 8; b++) startkey[b] = (uint8_t)(j->lo >> (56 - 8 * b));
  MDB_val key = {8, startkey}, val;
  rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
  uint64_t seen = 0;
  while (rc == 0) {
    if (!j->hi_open && prefix64(&key) >= j->hi) break;
    if (j->limit && seen >= j->limit) break;
    seen++;
    MDB_val rec;
    int orphan = 0;
    if (j->walk_order) {
      if (val.mv_size >= 40) {
        MDB_val id = {32, (uint8_t *)val.mv_data + 8};
        rc = mdb_get(txn, j->blocks_dbi, &id, &rec);
      } else {
        MDB_val rk = {8, val.mv_data};
        orphan = 1;
        rc = j->orphans_dbi ? mdb_get(txn, j->orphans_dbi, &rk, &rec) : MDB_NOTFOUND;
      }
      if (rc != 0) {
        j->err = 1;
        snprintf(j->errmsg, sizeof j->errmsg, "store inconsistent: an order entry is not stored (%s)", mdb_strerror(rc));
        goto done;
      }
    } else {
      rec = val;
    }
    j->bytes += rec.mv_size;
    outcome o;
    if (orphan) {
      /* no usable id (SPEC 9.4): always a decode-error record */
      memset(&o, 0, sizeof o);
      o.decode_error = 1;
      j->orphans++;
    } else {
      process_record(&c, (const uint8_t *)rec.mv_data, rec.mv_size, &o);
      j->blocks++;
    }
    j->decode_errors += o.decode_error;
    j->id_mismatches += o.id_mismatch;
    j->payload_mismatches += o.payload_mismatch;
    if (j->dump) {
      if (o.has_claimed) hex(j->dump, o.claimed, 32); else fputs("null", j->dump);
      if (o.decode_error) fputs(" decode-error\n", j->dump);
      else {
        fputc(' ', j->dump);
        hex(j->dump, o.computed_id, 32);
        fputc(' ', j->dump);
        hex(j->dump, o.payload_hash, 32);
        fputc('\n', j->dump);
      }
    }
    if (j->nsample < j->sample_want) {
      sample_entry *s = &j->sample[j->nsample++];
      s->has_id = o.has_claimed;
      memcpy(s->id, o.claimed, 32);
      s->decode_error = o.decode_error;
      memcpy(s->computed_id, o.computed_id, 32);
      memcpy(s->payload_hash, o.payload_hash, 32);
    }
    rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
  }
  if (rc != 0 && rc != MDB_NOTFOUND) {
    j->err = 1;
    snprintf(j->errmsg, sizeof j->errmsg, "cursor: %s", mdb_strerror(rc));
  }
done:
  if (cur) mdb_cursor_close(cur);
  if (txn) mdb_txn_abort(txn);
  hasher_free(&c.h);
  free(c.doc.v);
  free(c.w.buf);
  for (int k = 0; k < 4; k++) free(c.ids[k].v);
  free(c.scratch);
  free(c.items);
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "integrity: %s: %s\n", what, rc ? mdb_strerror(rc) : "failed");
  exit(2);
}

/* Self-test of the hash backends: the empty root and both BLAKE2b backends agree. */
static void self_test(void) {
  hasher a, b;
  if (hasher_init(&a, 0) < 0 || hasher_init(&b, 1) < 0) die("hash self-test init", 0);
  uint8_t data[66], x[32], y[32];
  for (int n = 1; n <= 66; n++) {
    for (int i = 0; i < n; i++) data[i] = (uint8_t)(i * 31 + n);
    for (int tag = 0; tag < 3; tag++) {
      if (b2_keyed(&a, tag, data, (size_t)n, x) < 0 || b2_keyed(&b, tag, data, (size_t)n, y) < 0 || memcmp(x, y, 32) != 0)
        die("hash self-test: builtin BLAKE2b differs from OpenSSL BLAKE2BMAC", 0);
    }
  }
  hasher_free(&a);
  hasher_free(&b);
  /* the empty root is unkeyed BLAKE2b-256 of the empty string */
  uint64_t h[8];
  for (int i = 0; i < 8; i++) h[i] = B2_IV[i];
  h[0] ^= 0x01010000ULL ^ 32ULL;
  uint8_t block[128] = {0};
  b2_compress(h, block, 0, 1);
  if (memcmp(h, EMPTY_ROOT, 32) != 0) die("hash self-test: empty trie root", 0);
}

int main(int argc, char **argv) {
  const char *dir = NULL;
  int threads = 1, walk_order = 1, builtin_b2 = 0, nolock = 0, sample = 16;
  uint64_t limit = 0;
  const char *dump = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(a, "--walk") && i + 1 < argc) {
      const char *w = argv[++i];
      if (!strcmp(w, "order")) walk_order = 1;
      else if (!strcmp(w, "blocks")) walk_order = 0;
      else { fprintf(stderr, "integrity: --walk order|blocks\n"); return 2; }
    } else if (!strcmp(a, "--blake2") && i + 1 < argc) {
      const char *w = argv[++i];
      if (!strcmp(w, "openssl")) builtin_b2 = 0;
      else if (!strcmp(w, "builtin")) builtin_b2 = 1;
      else { fprintf(stderr, "integrity: --blake2 openssl|builtin\n"); return 2; }
    } else if (!strcmp(a, "--nolock")) nolock = 1;
    else if (!strcmp(a, "--sample") && i + 1 < argc) sample = atoi(argv[++i]);
    else if (!strcmp(a, "--limit") && i + 1 < argc) limit = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(a, "--dump") && i + 1 < argc) dump = argv[++i];
    else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      printf("usage: integrity STORE_DIR [--threads N] [--walk order|blocks] [--blake2 openssl|builtin] [--nolock] [--sample K] [--limit M] [--dump FILE]\n");
      return 0;
    } else if (a[0] != '-' && dir == NULL) dir = a;
    else { fprintf(stderr, "integrity: unknown argument %s\n", a); return 2; }
  }
  if (dir == NULL) { fprintf(stderr, "integrity: STORE_DIR is required\n"); return 2; }
  if (threads < 1 || threads > 256) { fprintf(stderr, "integrity: --threads must be 1..256\n"); return 2; }
  if (dump != NULL && threads != 1) { fprintf(stderr, "integrity: --dump needs --threads 1\n"); return 2; }
  if (sample < 0) sample = 0;
  if (sample > MAX_SAMPLE) sample = MAX_SAMPLE;

  if (hash_global_init() < 0) die("OpenSSL: SHA3-256 or BLAKE2BMAC unavailable", 0);
  self_test();

  MDB_env *env;
  int rc = mdb_env_create(&env);
  if (rc) die("mdb_env_create", rc);
  mdb_env_set_maxdbs(env, 64);
  unsigned flags = MDB_RDONLY | MDB_NOTLS | (nolock ? MDB_NOLOCK : 0);
  rc = mdb_env_open(env, dir, flags, 0644);
  if (rc) die(dir, rc);

  MDB_txn *txn;
  MDB_dbi blocks = 0, order = 0, orphans = 0;
  rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
  if (rc) die("mdb_txn_begin", rc);
  rc = mdb_dbi_open(txn, "blocks", 0, &blocks);
  if (rc) die("open db blocks", rc);
  if (walk_order) {
    rc = mdb_dbi_open(txn, "order", 0, &order);
    if (rc) die("open db order", rc);
    if (mdb_dbi_open(txn, "orphans", 0, &orphans) != 0) orphans = 0;
  }
  MDB_dbi walk = walk_order ? order : blocks;

  /* key range of the walked db, by the first 8 key bytes: [first, last]; in the order db keys
   * of headerless records start with 16 bytes 0xff and stay with the last thread */
  uint64_t lo = 0, hi = 0;
  int empty = 0;
  {
    MDB_cursor *cur;
    MDB_val k, v;
    rc = mdb_cursor_open(txn, walk, &cur);
    if (rc) die("mdb_cursor_open", rc);
    if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) != 0) empty = 1;
    else {
      lo = prefix64(&k);
      rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
      while (rc == 0 && walk_order && prefix64(&k) == UINT64_MAX) rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
      hi = rc == 0 ? prefix64(&k) : lo;
      if (hi < lo) hi = lo;
    }
    mdb_cursor_close(cur);
  }
  rc = mdb_txn_commit(txn); /* makes the dbi handles available to the threads */
  if (rc) die("mdb_txn_commit", rc);

  job *jobs = (job *)calloc((size_t)threads, sizeof(job));
  pthread_t *tids = (pthread_t *)calloc((size_t)threads, sizeof(pthread_t));
  unsigned __int128 span = (unsigned __int128)(hi - lo) + 1;
  for (int t = 0; t < threads; t++) {
    job *j = &jobs[t];
    j->env = env;
    j->walk_dbi = walk;
    j->blocks_dbi = blocks;
    j->orphans_dbi = orphans;
    j->walk_order = walk_order;
    j->builtin_b2 = builtin_b2;
    j->sample_want = sample;
    j->limit = limit;
    j->lo = t == 0 ? 0 : lo + (uint64_t)(span * (unsigned)t / (unsigned)threads);
    j->hi = lo + (uint64_t)(span * (unsigned)(t + 1) / (unsigned)threads);
    j->hi_open = t == threads - 1;
  }
  FILE *dumpf = NULL;
  if (dump != NULL) {
    dumpf = fopen(dump, "w");
    if (dumpf == NULL) die(dump, errno);
    jobs[0].dump = dumpf;
  }
  double t0 = now();
  if (!empty) {
    for (int t = 0; t < threads; t++)
      if (pthread_create(&tids[t], NULL, run_job, &jobs[t]) != 0) die("pthread_create", 0);
    for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
  }
  double secs = now() - t0;
  if (dumpf != NULL) fclose(dumpf);

  uint64_t nblocks = 0, norphans = 0, idm = 0, pm = 0, de = 0, bytes = 0;
  for (int t = 0; t < threads; t++) {
    job *j = &jobs[t];
    if (j->err) {
      fprintf(stderr, "integrity: thread %d: %s\n", t, j->errmsg);
      return 2;
    }
    nblocks += j->blocks;
    norphans += j->orphans;
    idm += j->id_mismatches;
    pm += j->payload_mismatches;
    de += j->decode_errors;
    bytes += j->bytes;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  uint64_t records = nblocks + norphans;
  printf("{\"blocks\": %" PRIu64 ", \"orphans\": %" PRIu64 ", \"threads\": %d, \"seconds\": %.6f, \"blocksPerSecond\": %.1f, "
         "\"idMismatches\": %" PRIu64 ", \"payloadMismatches\": %" PRIu64 ", \"decodeErrors\": %" PRIu64 ", "
         "\"bytes\": %" PRIu64 ", \"walk\": \"%s\", \"blake2\": \"%s\", \"maxRssKiB\": %ld, \"cpuSeconds\": %.6f, \"sample\": [",
         nblocks, norphans, threads, secs, secs > 0 ? (double)records / secs : 0.0, idm, pm, de, bytes,
         walk_order ? "order" : "blocks", builtin_b2 ? "builtin" : "openssl", ru.ru_maxrss, cpu);
  int printed = 0;
  for (int t = 0; t < threads && printed < sample; t++) {
    for (int s = 0; s < jobs[t].nsample && printed < sample; s++, printed++) {
      sample_entry *e = &jobs[t].sample[s];
      printf("%s{\"id\": ", printed ? ", " : "");
      if (e->has_id) { putchar('"'); hex(stdout, e->id, 32); putchar('"'); } else printf("null");
      if (e->decode_error) {
        printf(", \"computedId\": null, \"payloadHash\": null, \"decodeError\": true}");
      } else {
        printf(", \"computedId\": \"");
        hex(stdout, e->computed_id, 32);
        printf("\", \"payloadHash\": \"");
        hex(stdout, e->payload_hash, 32);
        printf("\"}");
      }
    }
  }
  printf("]}\n");
  mdb_env_close(env);
  free(jobs);
  free(tids);
  return 0;
}
