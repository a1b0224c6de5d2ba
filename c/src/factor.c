/*
 * factor.c - factorizations, the partial validity check used for pruning, the deterministic
 * candidate order and the RNG shared by the searches.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"

int rls__divisors(int64_t v, int64_t *out, int max) {
    /* small divisors ascending, their co-divisors collected then appended in reverse */
    int64_t hi[128];
    int n = 0, nh = 0;
    for (int64_t i = 1; i * i <= v; i++) {
        if (v % i != 0) continue;
        if (n >= max) return -1;
        out[n++] = i;
        if (i != v / i) {
            if (nh >= 128) return -1;
            hi[nh++] = v / i;
        }
    }
    for (int k = nh - 1; k >= 0; k--) {
        if (n >= max) return -1;
        out[n++] = hi[k];
    }
    return n;
}

/* Ordered factorizations are enumerated over the divisors of the root value only: the divisors
 * of any factor v | root are the root's divisors that divide v, so no trial division happens
 * below the root (a value near 2^40 costs one sqrt-time divisor scan, not one per node). */

/* number of ordered factorizations of d[i] over n levels, for every divisor index i, by DP;
 * saturates at limit + 1 */
static void count_all(const int64_t *d, int nd, int n, int64_t limit, int64_t *cnt) {
    for (int i = 0; i < nd; i++) cnt[i] = 1; /* one level */
    int64_t next[256];
    for (int lv = 2; lv <= n; lv++) {
        for (int i = 0; i < nd; i++) {
            int64_t total = 0;
            for (int j = 0; j <= i; j++) {
                if (d[i] % d[j] != 0) continue;
                /* index of d[i] / d[j]: divisors ascending, search below i */
                const int64_t q = d[i] / d[j];
                int lo = 0, hi = i;
                while (lo < hi) {
                    int mid = (lo + hi) / 2;
                    if (d[mid] < q) lo = mid + 1;
                    else hi = mid;
                }
                total += cnt[lo];
                if (total > limit) {
                    total = limit + 1;
                    break;
                }
            }
            next[i] = total;
        }
        memcpy(cnt, next, (size_t)nd * sizeof *cnt);
    }
}

static void fill_factorizations(const int64_t *d, int nd, int64_t v, int depth, int64_t *prefix,
                                int64_t *out, int64_t *pos, int total_n) {
    if (depth == total_n - 1) {
        prefix[depth] = v;
        memcpy(out + *pos * total_n, prefix, (size_t)total_n * sizeof(int64_t));
        (*pos)++;
        return;
    }
    for (int i = 0; i < nd && d[i] <= v; i++) {
        if (v % d[i] != 0) continue;
        prefix[depth] = d[i];
        fill_factorizations(d, nd, v / d[i], depth + 1, prefix, out, pos, total_n);
    }
}

int rls__factor_list_new(int64_t v, int n, rls_factor_list *out) {
    out->n = n;
    out->count = 0;
    out->f = NULL;
    if (v < 1 || n < 1 || n > RLS_ROWS) return RLS_E_ARG;
    int64_t d[256], cnt[256];
    const int nd = rls__divisors(v, d, 256);
    if (nd < 0) return RLS_E_NOMEM;
    /* at most RLS_FACTOR_LIST_MAX_VALUES stored values: bounds memory and setup time */
    const int64_t limit = RLS_FACTOR_LIST_MAX_VALUES / n;
    count_all(d, nd, n, limit, cnt);
    const int64_t count = cnt[nd - 1];
    if (count > limit) return RLS_E_NOMEM;
    out->f = malloc((size_t)count * (size_t)n * sizeof(int64_t));
    if (out->f == NULL) return RLS_E_NOMEM;
    int64_t prefix[RLS_ROWS];
    int64_t pos = 0;
    fill_factorizations(d, nd, v, 0, prefix, out->f, &pos, n);
    out->count = pos;
    return RLS_OK;
}

void rls__factor_list_free(rls_factor_list *fl) {
    if (fl == NULL) return;
    free(fl->f);
    fl->f = NULL;
    fl->count = 0;
}

int rls__facto_degree_term(int64_t v) {
    /* The reference divides out i = 2, 3, ... while i < v (v shrinking), so the last prime
     * factor is not counted when it occurs only once. Same result, with trial division only up
     * to sqrt(v): prime factors with multiplicity, minus one if the largest has multiplicity 1. */
    if (v <= 1) return 0;
    int n = 0, last_mult = 0;
    for (int64_t i = 2; i * i <= v; i++) {
        if (v % i != 0) continue;
        last_mult = 0;
        while (v % i == 0) {
            v /= i;
            n++;
            last_mult++;
        }
    }
    if (v > 1) {
        n++;
        last_mult = 1;
    }
    return last_mult == 1 ? n - 1 : n;
}

int64_t rls__row_facto_degree(const int64_t *row) {
    int64_t d = 1;
    for (int c = 0; c < RLS_COLS; c++) d *= (int64_t)rls__facto_degree_term(row[c]) + 1;
    return d;
}

/* ---- partial validity -------------------------------------------------------------------- */

int rls__level_fits(const rls_temporal *L, const rls_layer_ctx *ctx, const uint64_t pre[RLS_COLS]) {
    uint64_t a[3];
    rls__tiles(pre, ctx, a);
    return rls__capacity_fits(L, a, NULL);
}

static int spatial_fits(const rls_spatial *s, const int64_t *table, int xrow) {
    return rls__spatial_dims_fit(s, table, xrow) && rls__spatial_allowed_fits(s, table, xrow);
}

int rls__partial_ok(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                    uint32_t assigned_mask) {
    for (int r = 0; r < RLS_ROWS; r++) {
        if (!t->row_fixed_one[r]) continue;
        for (int c = 0; c < RLS_COLS; c++)
            if (table[r * RLS_COLS + c] != 1) return 0;
    }
    if (!spatial_fits(&t->mac, table, ROW_MAC_X) || !spatial_fits(&t->pe, table, ROW_PE_X) ||
        !spatial_fits(&t->chip, table, ROW_CHIP_X))
        return 0;
    uint64_t pre[8];
    for (int c = 0; c < 8; c++) pre[c] = 1;
    for (int r = 0; r <= ROW_LB; r++)
        for (int c = 0; c < 8; c++) pre[c] *= (uint64_t)table[r * RLS_COLS + c];
    uint64_t a[3];
    rls__tiles(pre, ctx, a);
    if (!rls__capacity_fits(&t->lb, a, NULL)) return 0;
    if (t->gb.present) {
        for (int r = ROW_LB + 1; r <= ROW_GB; r++)
            for (int c = 0; c < 8; c++) pre[c] *= (uint64_t)table[r * RLS_COLS + c];
        rls__tiles(pre, ctx, a);
        if (!rls__capacity_fits(&t->gb, a, NULL)) return 0;
    }
    return rls__fixed_fits(&t->lb, table, ROW_LB, assigned_mask) &&
           rls__fixed_fits(&t->gb, table, ROW_GB, assigned_mask) &&
           rls__fixed_fits(&t->dram, table, ROW_DRAM, assigned_mask);
}

int rls__writable_rows(const rls_target *t, int32_t *out) {
    int n = 0;
    if (t->mac.present && t->mac.x > 1) out[n++] = ROW_MAC_X;
    if (t->mac.present && t->mac.y > 1) out[n++] = ROW_MAC_Y;
    out[n++] = ROW_LB;
    if (t->pe.present && t->pe.x > 1) out[n++] = ROW_PE_X;
    if (t->pe.present && t->pe.y > 1) out[n++] = ROW_PE_Y;
    if (t->gb.present) out[n++] = ROW_GB;
    if (t->chip.present && t->chip.x > 1) out[n++] = ROW_CHIP_X;
    if (t->chip.present && t->chip.y > 1) out[n++] = ROW_CHIP_Y;
    out[n++] = ROW_DRAM;
    return n;
}

double rls__objective(const rls_summary *s, int objective) {
    if (!s->valid) return HUGE_VAL;
    switch (objective) {
    case RLS_OBJ_ENERGY: return s->energy_pj;
    case RLS_OBJ_CYCLES: return s->cycles;
    default: return s->energy_pj * s->cycles;
    }
}

int rls__better(double obj_a, const int64_t *a, double obj_b, const int64_t *b) {
    if (obj_a != obj_b) return obj_a < obj_b;
    uint64_t da = rls__rowprod(a, ROW_DRAM), db = rls__rowprod(b, ROW_DRAM);
    if (da != db) return da < db;
    for (int i = 0; i < RLS_TABLE_SIZE; i++)
        if (a[i] != b[i]) return a[i] < b[i];
    return 0;
}

uint64_t rls__rng_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t rls__rng_below(uint64_t *state, uint64_t n) {
    if (n <= 1) return 0;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = rls__rng_next(state);
    } while (x >= limit);
    return x % n;
}
