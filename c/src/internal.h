/*
 * internal.h - definitions shared by the library's .c files; not part of the public API.
 */
#ifndef RLS_INTERNAL_H
#define RLS_INTERNAL_H

#include "rls.h"

/* Row indices of the scheduling table. */
enum {
    ROW_REG = 0, ROW_MAC_X = 1, ROW_MAC_Y = 2, ROW_LB = 3, ROW_PE_X = 4, ROW_PE_Y = 5,
    ROW_GB = 6, ROW_CHIP_X = 7, ROW_CHIP_Y = 8, ROW_DRAM = 9
};
/* Column indices. */
enum { COL_K = 0, COL_B, COL_P, COL_Q, COL_C, COL_R, COL_S, COL_G };

/* A spatial level, normalised: present == 0 also for a 1x1 array (Q19). */
typedef struct {
    int present;
    int64_t x, y;
    int has_allowed_x, has_allowed_y;
    uint32_t allowed_x_mask, allowed_y_mask;
} rls_spatial;

/* A temporal level with its unit conversions precomputed. */
typedef struct {
    int present;
    int dataflow;                 /* enum rls_dataflow */
    int capacity_form;            /* enum rls_capacity_form */
    double cap_elems[3];          /* separate form, elements */
    double cap_shared_elems;      /* shared / partially shared, elements */
    double cap_bypassed_elems[3]; /* partially shared: capacity of each bypassed type (Q18) */
    uint32_t bypass_mask;
    double e[3];                  /* access energy pJ per element */
    double p_sum;                 /* static power, I + W + O, mW */
    double c[3];                  /* access cycles per beat */
    double bw_elems;              /* elements per beat */
    int bw_pow2;                  /* bw_elems is a power of two: inv_bw is exact */
    double inv_bw;                /* 1 / bw_elems */
    int has_fixed_mapping;
    int64_t fixed_mapping[RLS_COLS];
} rls_temporal;

struct rls_target {
    int64_t precision_bits;
    double tclk_ns;
    double mac_energy_pj;
    double mac_static_power_mw;
    rls_spatial mac, pe, chip;
    rls_temporal lb, gb, dram;
    /* rows that must be all ones for this target (Register + rows of absent levels) */
    int row_fixed_one[RLS_ROWS];
    /* precomputed static-energy factors, pJ per cycle */
    double static_mac_per_cycle, static_lb_per_cycle, static_gb_per_cycle, static_dram_per_cycle;
    int64_t n_macs_total;          /* product of x*y over present spatial levels */
    int64_t pe_instances;          /* pe.x*pe.y*chip.x*chip.y */
    int64_t chip_instances;        /* chip.x*chip.y */
};

/* Per-group parameter vector and strides of a layer, checked once. */
typedef struct {
    int64_t l[RLS_COLS];          /* (K/G, B, P, Q, C/G, R, S, G) */
    int64_t stride_h, stride_w, dil_h, dil_w;
    double num_macs;
} rls_layer_ctx;

/* ---- rule helpers shared by the cost model and the searches ------------------------------ */

/* §3 tile sizes (I, W, O) of a vector of column products, with per-dimension stride and
 * dilation. Unsigned: a garbage table (wrong column products) wraps instead of invoking UB. */
static inline void rls__tiles(const uint64_t v[RLS_COLS], const rls_layer_ctx *ctx, uint64_t out[3]) {
    const uint64_t h = (v[COL_P] - 1) * (uint64_t)ctx->stride_h + (v[COL_R] - 1) * (uint64_t)ctx->dil_h + 1;
    const uint64_t w = (v[COL_Q] - 1) * (uint64_t)ctx->stride_w + (v[COL_S] - 1) * (uint64_t)ctx->dil_w + 1;
    out[RLS_INPUT] = v[COL_B] * v[COL_C] * v[COL_G] * h * w;
    out[RLS_WEIGHT] = v[COL_K] * v[COL_C] * v[COL_R] * v[COL_S] * v[COL_G];
    out[RLS_OUTPUT] = v[COL_K] * v[COL_B] * v[COL_P] * v[COL_Q] * v[COL_G];
}

static inline uint64_t rls__rowprod(const int64_t *table, int r) {
    uint64_t p = 1;
    for (int c = 0; c < RLS_COLS; c++) p *= (uint64_t)table[r * RLS_COLS + c];
    return p;
}

/* §2.3 rules 7/8: do the allocated tiles fit buffer L? *dedicated_failed (may be NULL) tells a
 * partially shared buffer's dedicated-part failure apart from the shared-part one. */
static inline int rls__capacity_fits(const rls_temporal *L, const uint64_t a[3], int *dedicated_failed) {
    if (dedicated_failed != NULL) *dedicated_failed = 0;
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
                if ((L->bypass_mask & (1u << k)) && (double)a[k] > L->cap_bypassed_elems[k]) {
                    if (dedicated_failed != NULL) *dedicated_failed = 1;
                    return 0;
                }
        return 1;
    }
    default:
        return 1;
    }
}

/* §2.3 rules 3/4/6: row products of a spatial level within its dimensions. */
static inline int rls__spatial_dims_fit(const rls_spatial *s, const int64_t *table, int xrow) {
    if (!s->present) return 1;
    return rls__rowprod(table, xrow) <= (uint64_t)s->x && rls__rowprod(table, xrow + 1) <= (uint64_t)s->y;
}

/* §2.3 rule 5: only allowed columns hold factors > 1 (given only on the PE array, Q21). */
static inline int rls__spatial_allowed_fits(const rls_spatial *s, const int64_t *table, int xrow) {
    if (!s->present) return 1;
    for (int c = 0; c < RLS_COLS; c++) {
        if (s->has_allowed_x && !(s->allowed_x_mask & (1u << c)) && table[xrow * RLS_COLS + c] != 1)
            return 0;
        if (s->has_allowed_y && !(s->allowed_y_mask & (1u << c)) && table[(xrow + 1) * RLS_COLS + c] != 1)
            return 0;
    }
    return 1;
}

/* §2.3 rule 9 for the columns in mask: fixed-mapping entries of buffer L's row. */
static inline int rls__fixed_fits(const rls_temporal *L, const int64_t *table, int row, uint32_t mask) {
    if (!L->present || !L->has_fixed_mapping) return 1;
    for (int c = 0; c < RLS_COLS; c++)
        if ((mask & (1u << c)) && L->fixed_mapping[c] != 0 && L->fixed_mapping[c] != table[row * RLS_COLS + c])
            return 0;
    return 1;
}

/* Check a layer and derive its context. Returns RLS_OK or RLS_E_LAYER. */
int rls__layer_ctx(const rls_layer *layer, rls_layer_ctx *ctx);

/* Core evaluation. Assumes target/ctx/table are non-NULL and entries >= 1.
 * detail != 0: fill every field of *out; detail == 0: only valid, reason, energy total and
 * cycles total are guaranteed (the fast path used by searches). */
void rls__evaluate(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                   rls_result *out, int detail);

/* rls__evaluate for a table whose rules 1-6 of §2.3 (column products, ones in the Register and
 * absent-level rows, array sizes, PE constraint) the caller already guarantees, e.g. a search that
 * only moves factors between checked rows; capacities and fixed mappings are still checked. */
void rls__evaluate_trusted(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                           rls_result *out, int detail);

/* Fast path: validity + totals only. */
void rls__evaluate_summary(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                           rls_summary *out);

/* rls__evaluate_summary for a table the caller guarantees passes every rule of §2.3 (column
 * products, fixed rows, arrays, capacities, fixed mappings), e.g. a complete table that
 * rls__partial_ok accepted with every column assigned and whose column products are the layer's:
 * the same figures, without re-checking the rules (only the overflow/sanity check remains).
 * Returns 0, with *out unset, when a lower bound proves the objective (enum rls_objective) above
 * cutoff, so the table cannot be kept by a search whose incumbent is cutoff; 1 otherwise
 * (cutoff = HUGE_VAL: always evaluated). */
int rls__evaluate_summary_valid(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                                int objective, double cutoff, rls_summary *out);

/* A lower bound on the DRAM cycles (C_DRAM of §7) of a table with the layer's column products:
 * the model's own expressions without the global buffer's bypass adjustments (§4.5), which only
 * raise DRAM access counts, so it is <= the evaluation's C_DRAM (equal when the global buffer
 * bypasses nothing). It reads only the DRAM row and the per-column products of the rows below it,
 * so every table that moves factors among the rows below DRAM shares it. */
double rls__dram_cycles_floor(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table);

/* Check only the validity rules (no costs). Returns enum rls_reason. */
int rls__check(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table);

#endif /* RLS_INTERNAL_H */
