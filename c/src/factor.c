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

/* number of ordered factorizations of v over n levels */
static int64_t count_factorizations(int64_t v, int n) {
    if (n == 1) return 1;
    int64_t d[256];
    int nd = rls__divisors(v, d, 256);
    if (nd < 0) return -1;
    int64_t total = 0;
    for (int i = 0; i < nd; i++) {
        int64_t c = count_factorizations(v / d[i], n - 1);
        if (c < 0) return -1;
        total += c;
    }
    return total;
}

static void fill_factorizations(int64_t v, int n, int depth, int64_t *prefix, int64_t *out,
                                int64_t *pos, int total_n) {
    if (depth == total_n - 1) {
        prefix[depth] = v;
        memcpy(out + *pos * total_n, prefix, (size_t)total_n * sizeof(int64_t));
        (*pos)++;
        return;
    }
    int64_t d[256];
    int nd = rls__divisors(v, d, 256);
    for (int i = 0; i < nd; i++) {
        prefix[depth] = d[i];
        fill_factorizations(v / d[i], n, depth + 1, prefix, out, pos, total_n);
    }
}

int rls__factor_list_new(int64_t v, int n, rls_factor_list *out) {
    out->n = n;
    out->count = 0;
    out->f = NULL;
    if (v < 1 || n < 1 || n > RLS_ROWS) return RLS_E_ARG;
    int64_t count = count_factorizations(v, n);
    if (count < 0 || count > ((int64_t)1 << 26)) return RLS_E_NOMEM;
    out->f = malloc((size_t)count * (size_t)n * sizeof(int64_t));
    if (out->f == NULL) return RLS_E_NOMEM;
    int64_t prefix[RLS_ROWS];
    int64_t pos = 0;
    fill_factorizations(v, n, 0, prefix, out->f, &pos, n);
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

static inline void tiles_lb(const uint64_t v[8], const rls_layer_ctx *ctx, uint64_t out[3]) {
    /* the cost model's §3 tile sizes (with per-dimension stride and dilation) */
    const uint64_t h = (v[COL_P] - 1) * (uint64_t)ctx->stride_h + (v[COL_R] - 1) * (uint64_t)ctx->dil_h + 1;
    const uint64_t w = (v[COL_Q] - 1) * (uint64_t)ctx->stride_w + (v[COL_S] - 1) * (uint64_t)ctx->dil_w + 1;
    out[RLS_INPUT] = v[COL_B] * v[COL_C] * v[COL_G] * h * w;
    out[RLS_WEIGHT] = v[COL_K] * v[COL_C] * v[COL_R] * v[COL_S] * v[COL_G];
    out[RLS_OUTPUT] = v[COL_K] * v[COL_B] * v[COL_P] * v[COL_Q] * v[COL_G];
}

static int capacity_fits(const rls_temporal *L, const uint64_t a[3]) {
    switch (L->capacity_form) {
    case RLS_CAP_SEPARATE:
        for (int k = 0; k < 3; k++)
            if (!(L->bypass_mask & (1u << k)) && (double)a[k] > L->cap_elems[k]) return 0;
        return 1;
    case RLS_CAP_SHARED:
    case RLS_CAP_PARTIALLY_SHARED: {
        double sum = 0.0;
        for (int k = 0; k < 3; k++)
            if (!(L->bypass_mask & (1u << k))) sum += (double)a[k];
        if (sum > L->cap_shared_elems) return 0;
        if (L->capacity_form == RLS_CAP_PARTIALLY_SHARED)
            for (int k = 0; k < 3; k++)
                if ((L->bypass_mask & (1u << k)) && (double)a[k] > L->cap_bypassed_elems[k]) return 0;
        return 1;
    }
    default:
        return 1;
    }
}

static inline uint64_t rowprod(const int64_t *table, int r) {
    uint64_t p = 1;
    for (int c = 0; c < RLS_COLS; c++) p *= (uint64_t)table[r * RLS_COLS + c];
    return p;
}

static int fixed_fits(const rls_temporal *L, const int64_t *table, int row, uint32_t mask);

int rls__level_fits(const rls_temporal *L, const rls_layer_ctx *ctx, const uint64_t pre[RLS_COLS]) {
    uint64_t a[3];
    tiles_lb(pre, ctx, a);
    return capacity_fits(L, a);
}

int rls__fixed_fits(const rls_temporal *L, const int64_t *table, int row, uint32_t assigned_mask) {
    return fixed_fits(L, table, row, assigned_mask);
}

static int spatial_fits(const rls_spatial *s, const int64_t *table, int xrow) {
    if (!s->present) return 1;
    if (rowprod(table, xrow) > (uint64_t)s->x || rowprod(table, xrow + 1) > (uint64_t)s->y) return 0;
    for (int c = 0; c < RLS_COLS; c++) {
        if (s->has_allowed_x && !(s->allowed_x_mask & (1u << c)) && table[xrow * RLS_COLS + c] != 1)
            return 0;
        if (s->has_allowed_y && !(s->allowed_y_mask & (1u << c)) &&
            table[(xrow + 1) * RLS_COLS + c] != 1)
            return 0;
    }
    return 1;
}

static int fixed_fits(const rls_temporal *L, const int64_t *table, int row, uint32_t mask) {
    if (!L->present || !L->has_fixed_mapping) return 1;
    for (int c = 0; c < RLS_COLS; c++)
        if ((mask & (1u << c)) && L->fixed_mapping[c] != 0 && L->fixed_mapping[c] != table[row * RLS_COLS + c])
            return 0;
    return 1;
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
    tiles_lb(pre, ctx, a);
    if (!capacity_fits(&t->lb, a)) return 0;
    if (t->gb.present) {
        for (int r = ROW_LB + 1; r <= ROW_GB; r++)
            for (int c = 0; c < 8; c++) pre[c] *= (uint64_t)table[r * RLS_COLS + c];
        tiles_lb(pre, ctx, a);
        if (!capacity_fits(&t->gb, a)) return 0;
    }
    return fixed_fits(&t->lb, table, ROW_LB, assigned_mask) &&
           fixed_fits(&t->gb, table, ROW_GB, assigned_mask) &&
           fixed_fits(&t->dram, table, ROW_DRAM, assigned_mask);
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
    uint64_t da = rowprod(a, ROW_DRAM), db = rowprod(b, ROW_DRAM);
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
