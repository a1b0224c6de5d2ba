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

/* Check a layer and derive its context. Returns RLS_OK or RLS_E_LAYER. */
int rls__layer_ctx(const rls_layer *layer, rls_layer_ctx *ctx);

/* Core evaluation. Assumes target/ctx/table are non-NULL and entries >= 1.
 * detail != 0: fill every field of *out; detail == 0: only valid, reason, energy total and
 * cycles total are guaranteed (the fast path used by searches). */
void rls__evaluate(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                   rls_result *out, int detail);

/* Fast path: validity + totals only. */
void rls__evaluate_summary(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                           rls_summary *out);

/* Check only the validity rules (no costs). Returns enum rls_reason. */
int rls__check(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table);

#endif /* RLS_INTERNAL_H */
