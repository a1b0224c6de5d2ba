/*
 * search_internal.h - helpers shared by the search .c files (factor.c, search.c, bottomup.c);
 * not part of the public API.
 */
#ifndef RLS_SEARCH_INTERNAL_H
#define RLS_SEARCH_INTERNAL_H

#include "internal.h"

/* Ordered factorizations of one value over n levels, in the reference's order: the first
 * level takes each divisor in ascending order, the rest is factorized recursively, the last
 * level takes the remainder. Stored flat: entry i is f[i * n .. i * n + n - 1]. */
typedef struct {
    int n;          /* levels */
    int64_t count;  /* number of factorizations */
    int64_t *f;     /* count * n values; free with rls__factor_list_free */
} rls_factor_list;

/* Divisors of v (>= 1) in ascending order into out[max]; returns their number, or -1 if there
 * are more than max. */
int rls__divisors(int64_t v, int64_t *out, int max);

/* Most values (count * n) one factorization list may hold: 2^24 int64 = 128 MiB. */
#define RLS_FACTOR_LIST_MAX_VALUES ((int64_t)1 << 24)

/* Build the list for v over n levels (1 <= n <= RLS_ROWS). Returns RLS_OK, or RLS_E_NOMEM when
 * it would exceed RLS_FACTOR_LIST_MAX_VALUES values (or v has more than 256 divisors) or an
 * allocation fails. */
int rls__factor_list_new(int64_t v, int n, rls_factor_list *out);
void rls__factor_list_free(rls_factor_list *fl);

/* The reference's "factorization degree" term f(v) (spec §12): the number of prime factors of v
 * with multiplicity, minus one when the largest prime factor occurs only once. */
int rls__facto_degree_term(int64_t v);
/* Product over the 8 entries of a row of (f(v) + 1). */
int64_t rls__row_facto_degree(const int64_t *row);

/* Validity rules 2-9 on a possibly incomplete table (column products are not checked).
 * Entries of columns not in assigned_mask (bit c) must hold lower bounds (e.g. 1) in every row
 * still being searched: every tile size and row product only grows with the entries, so a
 * failure here cannot be repaired by completing the table. The fixed-mapping rule is checked
 * only on assigned columns. Returns 1 when the partial table may still become valid. */
int rls__partial_ok(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                    uint32_t assigned_mask);

/* Capacity rule of one buffer level for the tile sizes of the column products pre[8]. */
int rls__level_fits(const rls_temporal *L, const rls_layer_ctx *ctx, const uint64_t pre[RLS_COLS]);

/* Rows a search may write for this target: LB, DRAM, a present GB, and each spatial row whose
 * dimension is > 1. Returns how many, rows ascending in out[RLS_ROWS]. */
int rls__writable_rows(const rls_target *t, int32_t *out);

/* Objective of a summary (+inf when invalid). */
double rls__objective(const rls_summary *s, int objective);

/* Deterministic order of two valid candidates: lower objective, then smaller DRAM-row product,
 * then lexicographically smaller table (row-major). Returns 1 when a is better than b. */
int rls__better(double obj_a, const int64_t *a, double obj_b, const int64_t *b);

/* splitmix64 step: advances *state and returns the next 64-bit value. */
uint64_t rls__rng_next(uint64_t *state);
/* Uniform integer in [0, n) (n >= 1), by rejection (no modulo bias). */
uint64_t rls__rng_below(uint64_t *state, uint64_t n);

#endif /* RLS_SEARCH_INTERNAL_H */
