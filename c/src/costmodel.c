/*
 * costmodel.c - the analytical cost model of ../shared/spec/cost-model.md (§2-§8), quirks
 * included, in 64-bit integers and double precision (the reference wraps uint32 and rounds to
 * binary32; spec Q14/Q15). Section numbers below refer to that spec.
 *
 * Extension over the reference: per-dimension stride and dilation. The input tile height is
 * (P-1)*stride_h + (R-1)*dilation_h + 1, which is the reference's (P-1)*stride + R when the
 * strides are equal and the dilation is 1.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Layers whose loop-nest volume exceeds this are rejected, so that every product of table
 * entries of a table with correct column products fits in int64 without overflow. */
#define RLS_MAX_VOLUME ((int64_t)1 << 52)

int rls_abi_version(void) { return RLS_ABI_VERSION; }

const char *rls_status_str(int status) {
    switch (status) {
    case RLS_OK: return "ok";
    case RLS_E_NULL: return "a required argument is NULL";
    case RLS_E_TARGET: return "invalid target description";
    case RLS_E_LAYER: return "invalid layer (sizes must be >= 1, K and C divisible by G, strides >= 0, dilations >= 1, volume < 2^52)";
    case RLS_E_TABLE: return "invalid table (entries must be >= 1)";
    case RLS_E_ARG: return "argument out of range";
    case RLS_E_NOMEM: return "out of memory";
    case RLS_E_NOT_FOUND: return "no valid table found";
    case RLS_E_OVERFLOW: return "a quantity does not fit 64-bit arithmetic";
    default: return "unknown status";
    }
}

const char *rls_reason_str(int reason) {
    static const char *const names[RLS_R_COUNT] = {
        "valid", "column_product", "register_row", "absent_level_row", "mac_array_dims",
        "pe_array_dims", "pe_array_constraint", "chip_array_dims", "lb_capacity", "gb_capacity",
        "gb_dedicated_capacity", "mapping_constraint", "overflow"};
    if (reason < 0 || reason >= RLS_R_COUNT) return "unknown";
    return names[reason];
}

/* ---- target construction --------------------------------------------------------------- */

static int finite_nonneg(double v) { return isfinite(v) && v >= 0.0; }

static int build_spatial(const rls_spatial_desc *d, int honour_allowed, rls_spatial *s) {
    memset(s, 0, sizeof *s);
    s->x = 1;
    s->y = 1;
    if (!d->present) return RLS_OK;
    if (d->x < 1 || d->y < 1 || d->x > ((int64_t)1 << 31) || d->y > ((int64_t)1 << 31))
        return RLS_E_TARGET;
    s->x = d->x;
    s->y = d->y;
    /* Q19: a 1x1 array is treated as absent (its rows must be ones). */
    s->present = (d->x * d->y > 1);
    if (honour_allowed) { /* Q21: only the PE array honours allowed_x/allowed_y */
        s->has_allowed_x = d->has_allowed_x != 0;
        s->has_allowed_y = d->has_allowed_y != 0;
        s->allowed_x_mask = d->allowed_x_mask;
        s->allowed_y_mask = d->allowed_y_mask;
    }
    return RLS_OK;
}

static int build_temporal(const rls_temporal_desc *d, int64_t precision_bits, int is_dram,
                          rls_temporal *t) {
    memset(t, 0, sizeof *t);
    if (!d->present) return RLS_OK;
    t->present = 1;
    if (d->dataflow < RLS_DF_NONE || d->dataflow > RLS_DF_OS) return RLS_E_TARGET;
    t->dataflow = is_dram ? RLS_DF_NONE : d->dataflow;
    if (d->bypass_mask & ~7u) return RLS_E_TARGET;
    t->bypass_mask = is_dram ? 0u : d->bypass_mask;
    /* a buffer cannot bypass its own stationary type */
    if (t->dataflow != RLS_DF_NONE && (t->bypass_mask & (1u << (t->dataflow - 1)))) {
        /* dataflow IS=1 -> input bit 0, WS=2 -> weight bit 1, OS=3 -> output bit 2 */
        return RLS_E_TARGET;
    }
    const double bpe = (double)(precision_bits / 8);
    if (is_dram) {
        t->capacity_form = RLS_CAP_NONE;
    } else {
        t->capacity_form = d->capacity_form;
        switch (d->capacity_form) {
        case RLS_CAP_SEPARATE:
            for (int k = 0; k < 3; k++) {
                if (!finite_nonneg(d->capacity_bytes[k])) return RLS_E_TARGET;
                t->cap_elems[k] = d->capacity_bytes[k] / bpe;
            }
            break;
        case RLS_CAP_SHARED:
            if (!finite_nonneg(d->shared_bytes)) return RLS_E_TARGET;
            t->cap_shared_elems = d->shared_bytes / bpe;
            break;
        case RLS_CAP_PARTIALLY_SHARED: {
            if (!finite_nonneg(d->shared_bytes) || !finite_nonneg(d->dedicated_bytes))
                return RLS_E_TARGET;
            if (t->bypass_mask == 0) return RLS_E_TARGET;
            t->cap_shared_elems = d->shared_bytes / bpe;
            /* Q18: the first bypassed type gets the dedicated part, later ones 1 element */
            int first = 1;
            for (int k = 0; k < 3; k++) {
                if (!(t->bypass_mask & (1u << k))) continue;
                t->cap_bypassed_elems[k] = first ? d->dedicated_bytes / bpe : 1.0;
                first = 0;
            }
            break;
        }
        default:
            return RLS_E_TARGET;
        }
    }
    double p_sum = 0.0;
    for (int k = 0; k < 3; k++) {
        if (!finite_nonneg(d->access_energy_pj[k]) || !finite_nonneg(d->static_power_mw[k]) ||
            !finite_nonneg(d->access_cycles[k]))
            return RLS_E_TARGET;
        t->e[k] = d->access_energy_pj[k];
        t->c[k] = d->access_cycles[k];
        p_sum += d->static_power_mw[k];
    }
    t->p_sum = p_sum;
    if (!(isfinite(d->bandwidth_bits_per_cycle) && d->bandwidth_bits_per_cycle > 0.0))
        return RLS_E_TARGET;
    t->bw_elems = d->bandwidth_bits_per_cycle / (double)precision_bits;
    int exponent = 0;
    t->bw_pow2 = frexp(t->bw_elems, &exponent) == 0.5;
    t->inv_bw = 1.0 / t->bw_elems;
    if (!(t->bw_elems > 0.0 && isfinite(t->inv_bw))) return RLS_E_TARGET; /* subnormal bandwidth */
    t->has_fixed_mapping = d->has_fixed_mapping != 0;
    if (t->has_fixed_mapping) {
        for (int c = 0; c < RLS_COLS; c++) {
            if (d->fixed_mapping[c] < 0) return RLS_E_TARGET;
            t->fixed_mapping[c] = d->fixed_mapping[c];
        }
    }
    return RLS_OK;
}

int rls_target_new(const rls_target_desc *desc, rls_target **out) {
    if (out == NULL) return RLS_E_NULL;
    *out = NULL;
    if (desc == NULL) return RLS_E_NULL;
    if (desc->precision_bits < 8 || desc->precision_bits % 8 != 0) return RLS_E_TARGET;
    if (!(isfinite(desc->frequency_mhz) && desc->frequency_mhz > 0.0)) return RLS_E_TARGET;
    if (!finite_nonneg(desc->mac_energy_pj) || !finite_nonneg(desc->mac_static_power_mw))
        return RLS_E_TARGET;
    if (!desc->local_buffer.present || !desc->dram.present) return RLS_E_TARGET; /* Q2 */

    /* a subnormal clock gives an infinite period */
    if (!isfinite(1000.0 / desc->frequency_mhz)) return RLS_E_TARGET;

    rls_target *t = calloc(1, sizeof *t);
    if (t == NULL) return RLS_E_NOMEM;
    int st = RLS_OK;
    t->precision_bits = desc->precision_bits;
    t->tclk_ns = 1000.0 / desc->frequency_mhz;
    t->mac_energy_pj = desc->mac_energy_pj;
    t->mac_static_power_mw = desc->mac_static_power_mw;
    if (st == RLS_OK) st = build_spatial(&desc->mac_array, 0, &t->mac);
    if (st == RLS_OK) st = build_spatial(&desc->pe_array, 1, &t->pe);
    if (st == RLS_OK) st = build_spatial(&desc->chip_array, 0, &t->chip);
    if (st == RLS_OK) st = build_temporal(&desc->local_buffer, desc->precision_bits, 0, &t->lb);
    if (st == RLS_OK) st = build_temporal(&desc->global_buffer, desc->precision_bits, 0, &t->gb);
    if (st == RLS_OK) st = build_temporal(&desc->dram, desc->precision_bits, 1, &t->dram);
    if (st == RLS_OK && (t->lb.capacity_form == RLS_CAP_NONE ||
                         (t->gb.present && t->gb.capacity_form == RLS_CAP_NONE)))
        st = RLS_E_TARGET;
    if (st != RLS_OK) {
        free(t);
        return st;
    }

    t->row_fixed_one[ROW_REG] = 1;
    t->row_fixed_one[ROW_MAC_X] = t->row_fixed_one[ROW_MAC_Y] = !t->mac.present;
    t->row_fixed_one[ROW_PE_X] = t->row_fixed_one[ROW_PE_Y] = !t->pe.present;
    t->row_fixed_one[ROW_GB] = !t->gb.present;
    t->row_fixed_one[ROW_CHIP_X] = t->row_fixed_one[ROW_CHIP_Y] = !t->chip.present;

    /* §6 static energy: the instantiated hardware (Q13), pJ per cycle. Array sides are <= 2^31,
     * so their products can exceed int64: every multiply is checked. */
    int64_t n_macs = 1, mac_units = 1, pe_units = 1, chip_units = 1;
    int overflow = 0;
    if (t->mac.present) overflow |= __builtin_mul_overflow(t->mac.x, t->mac.y, &mac_units);
    if (t->pe.present) overflow |= __builtin_mul_overflow(t->pe.x, t->pe.y, &pe_units);
    if (t->chip.present) overflow |= __builtin_mul_overflow(t->chip.x, t->chip.y, &chip_units);
    overflow |= __builtin_mul_overflow(mac_units, pe_units, &n_macs);
    overflow |= __builtin_mul_overflow(n_macs, chip_units, &n_macs);
    t->n_macs_total = n_macs;
    overflow |= __builtin_mul_overflow(t->chip.x, t->chip.y, &t->chip_instances);
    overflow |= __builtin_mul_overflow(t->pe.x, t->pe.y, &t->pe_instances);
    overflow |= __builtin_mul_overflow(t->pe_instances, t->chip_instances, &t->pe_instances);
    t->static_mac_per_cycle = t->mac_static_power_mw * t->tclk_ns * (double)n_macs;
    t->static_lb_per_cycle = t->lb.p_sum * t->tclk_ns * (double)t->pe_instances;
    t->static_gb_per_cycle = t->gb.present ? t->gb.p_sum * t->tclk_ns * (double)t->chip_instances : 0.0;
    t->static_dram_per_cycle = t->dram.p_sum * t->tclk_ns;
    if (!overflow && !(finite_nonneg(t->static_mac_per_cycle) && finite_nonneg(t->static_lb_per_cycle) &&
                       finite_nonneg(t->static_gb_per_cycle) && finite_nonneg(t->static_dram_per_cycle)))
        overflow = 1;
    if (overflow) {
        free(t);
        return RLS_E_OVERFLOW;
    }
    *out = t;
    return RLS_OK;
}

void rls_target_free(rls_target *target) { free(target); }

/* ---- layer ------------------------------------------------------------------------------ */

int rls__layer_ctx(const rls_layer *ly, rls_layer_ctx *ctx) {
    const int64_t v[8] = {ly->K, ly->B, ly->P, ly->Q, ly->C, ly->R, ly->S, ly->G};
    for (int c = 0; c < 8; c++)
        if (v[c] < 1) return RLS_E_LAYER;
    if (ly->stride_h < 0 || ly->stride_w < 0 || ly->dilation_h < 1 || ly->dilation_w < 1)
        return RLS_E_LAYER;
    if (ly->K % ly->G != 0 || ly->C % ly->G != 0) return RLS_E_LAYER;
    ctx->l[COL_K] = ly->K / ly->G;
    ctx->l[COL_B] = ly->B;
    ctx->l[COL_P] = ly->P;
    ctx->l[COL_Q] = ly->Q;
    ctx->l[COL_C] = ly->C / ly->G;
    ctx->l[COL_R] = ly->R;
    ctx->l[COL_S] = ly->S;
    ctx->l[COL_G] = ly->G;
    double volume = 1.0;
    int64_t vol = 1;
    for (int c = 0; c < 8; c++) {
        volume *= (double)ctx->l[c];
        if (volume > (double)RLS_MAX_VOLUME) return RLS_E_LAYER;
        vol *= ctx->l[c];
    }
    if (ly->stride_h > ((int64_t)1 << 20) || ly->stride_w > ((int64_t)1 << 20) ||
        ly->dilation_h > ((int64_t)1 << 20) || ly->dilation_w > ((int64_t)1 << 20))
        return RLS_E_LAYER;
    ctx->stride_h = ly->stride_h;
    ctx->stride_w = ly->stride_w;
    ctx->dil_h = ly->dilation_h;
    ctx->dil_w = ly->dilation_w;
    ctx->num_macs = (double)vol;
    return RLS_OK;
}

/* ---- tiles (§3) ------------------------------------------------------------------------- */

/* All tile sizes: alloc/send for LB (rows 0..3 / 0..2), GB (0..6 / 0..5), DRAM (0..9 / 0..8).
 * The prefix over all rows is the column product, so rule 1 is decided here too: returns 1 when
 * every column multiplies to the layer's value without overflowing. */
static inline int all_tiles(const int64_t *table, const rls_layer_ctx *ctx,
                            uint64_t alloc[3][3], uint64_t send[3][3]) {
    uint64_t pre[8];
    for (int c = 0; c < 8; c++) pre[c] = 1;
    int overflow = 0;
    static const int send_end[3] = {ROW_MAC_Y, ROW_PE_Y, ROW_CHIP_Y};
    int r = 0;
    for (int b = 0; b < 3; b++) {
        for (; r <= send_end[b]; r++)
            for (int c = 0; c < 8; c++)
                overflow |= __builtin_mul_overflow(pre[c], (uint64_t)table[r * RLS_COLS + c], &pre[c]);
        rls__tiles(pre, ctx, send[b]);
        for (int c = 0; c < 8; c++)
            overflow |= __builtin_mul_overflow(pre[c], (uint64_t)table[r * RLS_COLS + c], &pre[c]);
        r++;
        rls__tiles(pre, ctx, alloc[b]);
    }
    int match = !overflow;
    for (int c = 0; c < 8; c++) match &= pre[c] == (uint64_t)ctx->l[c];
    return match;
}

/* all_tiles for a table whose column products are the layer's (the caller guarantees it): every
 * prefix product divides a layer value, so nothing overflows and the same tiles come out without
 * the overflow checks. */
static inline void all_tiles_exact(const int64_t *table, const rls_layer_ctx *ctx,
                                   uint64_t alloc[3][3], uint64_t send[3][3]) {
    uint64_t pre[8];
    for (int c = 0; c < 8; c++) pre[c] = 1;
    static const int send_end[3] = {ROW_MAC_Y, ROW_PE_Y, ROW_CHIP_Y};
    int r = 0;
    for (int b = 0; b < 3; b++) {
        for (; r <= send_end[b]; r++)
            for (int c = 0; c < 8; c++) pre[c] *= (uint64_t)table[r * RLS_COLS + c];
        rls__tiles(pre, ctx, send[b]);
        for (int c = 0; c < 8; c++) pre[c] *= (uint64_t)table[r * RLS_COLS + c];
        r++;
        rls__tiles(pre, ctx, alloc[b]);
    }
}

/* §5 active units of one spatial level, from the row products rp[10] */
static inline void active_of(const rls_spatial *s, const uint64_t rp[RLS_ROWS], int xrow,
                             int64_t *ax, int64_t *ay) {
    *ax = s->present ? (int64_t)rp[xrow] : 1;
    *ay = s->present ? (int64_t)rp[xrow + 1] : 1;
}

static inline int dims_fit(const rls_spatial *s, const uint64_t rp[RLS_ROWS], int xrow) {
    return !s->present || (rp[xrow] <= (uint64_t)s->x && rp[xrow + 1] <= (uint64_t)s->y);
}

/* ---- validity (§2.3) -------------------------------------------------------------------- */

/* Rules 1-6 (everything but capacities and fixed mappings). */
static int check_structure(const rls_target *t, const int64_t *table, int columns_match,
                           const uint64_t rp[RLS_ROWS]) {
    if (!columns_match) return RLS_R_COLUMN_PRODUCT;
    for (int c = 0; c < RLS_COLS; c++)
        if (table[c] != 1) return RLS_R_REGISTER_ROW;
    for (int r = 1; r < RLS_ROWS; r++) {
        if (!t->row_fixed_one[r]) continue;
        for (int c = 0; c < RLS_COLS; c++)
            if (table[r * RLS_COLS + c] != 1) return RLS_R_ABSENT_LEVEL_ROW;
    }
    if (!dims_fit(&t->mac, rp, ROW_MAC_X)) return RLS_R_MAC_ARRAY_DIMS;
    if (!dims_fit(&t->pe, rp, ROW_PE_X)) return RLS_R_PE_ARRAY_DIMS;
    if (!rls__spatial_allowed_fits(&t->pe, table, ROW_PE_X)) return RLS_R_PE_ARRAY_CONSTRAINT;
    if (!dims_fit(&t->chip, rp, ROW_CHIP_X)) return RLS_R_CHIP_ARRAY_DIMS;
    return RLS_VALID;
}

static int check_buffers(const rls_target *t, const int64_t *table, const uint64_t alloc[3][3]) {
    int dedicated = 0;
    if (!rls__capacity_fits(&t->lb, alloc[RLS_LB], NULL)) return RLS_R_LB_CAPACITY;
    if (t->gb.present && !rls__capacity_fits(&t->gb, alloc[RLS_GB], &dedicated))
        return dedicated ? RLS_R_GB_DEDICATED_CAPACITY : RLS_R_GB_CAPACITY;
    const uint32_t all = (1u << RLS_COLS) - 1u;
    if (!rls__fixed_fits(&t->lb, table, ROW_LB, all) || !rls__fixed_fits(&t->gb, table, ROW_GB, all) ||
        !rls__fixed_fits(&t->dram, table, ROW_DRAM, all))
        return RLS_R_MAPPING_CONSTRAINT;
    return RLS_VALID;
}

static inline void row_products(const int64_t *table, uint64_t rp[RLS_ROWS]) {
    for (int r = 0; r < RLS_ROWS; r++) rp[r] = rls__rowprod(table, r);
}

int rls__check(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table) {
    uint64_t alloc[3][3], send[3][3], rp[RLS_ROWS];
    const int columns_match = all_tiles(table, ctx, alloc, send);
    row_products(table, rp);
    int reason = check_structure(t, table, columns_match, rp);
    if (reason != RLS_VALID) return reason;
    return check_buffers(t, table, alloc);
}

/* ---- access counts (§4) ----------------------------------------------------------------- */

typedef struct {
    int64_t rowprod, K, G, BPQ, CRS;
} row_info;

static inline row_info info_of(const int64_t *table, int r) {
    const int64_t *v = table + r * RLS_COLS;
    row_info ri;
    ri.K = v[COL_K];
    ri.G = v[COL_G];
    ri.BPQ = v[COL_B] * v[COL_P] * v[COL_Q];
    ri.CRS = v[COL_C] * v[COL_R] * v[COL_S];
    ri.rowprod = ri.K * ri.G * ri.BPQ * ri.CRS; /* = the row product */
    return ri;
}

static inline int64_t irr_i(const row_info *ri) {
    if (ri->K != 1) return ri->K;
    return ri->BPQ > ri->CRS ? ri->BPQ : ri->CRS; /* Q4: IS fallback */
}

/* N(L, d) of §4.3 for temporal level index li (0 = LB row 3, 1 = GB row 6, 2 = DRAM row 9). */
static void counts_at(const row_info ri[3], int li, int dataflow, int64_t eta9, int64_t n[4]) {
    int64_t V = 1, gamma = 1, kappa = 1, beta = 1, eta = 1;
    for (int j = li; j < 3; j++) {
        V *= ri[j].rowprod;
        gamma *= ri[j].G;
        kappa *= ri[j].K;
        beta *= ri[j].BPQ;
        eta *= ri[j].CRS;
    }
    const row_info *own = &ri[li];
    n[RLS_READ_I] = dataflow == RLS_DF_IS ? V / irr_i(own) : V;
    n[RLS_READ_W] = dataflow == RLS_DF_WS ? V / own->BPQ : V;
    n[RLS_WRITE_O] = dataflow == RLS_DF_OS ? V / own->CRS : V;
    if (dataflow != RLS_DF_OS)
        n[RLS_READ_O] = gamma * kappa * beta * (eta - 1);
    else if (li != 2)
        n[RLS_READ_O] = gamma * kappa * beta * (eta9 - 1); /* Q5 */
    else
        n[RLS_READ_O] = 0;
}

/* Φ(s, n, e) of §6 */
static inline double transfer_energy(const uint64_t s[3], const int64_t n[4], const double e[3]) {
    return (double)s[RLS_INPUT] * (double)n[RLS_READ_I] * e[RLS_INPUT] +
           (double)s[RLS_WEIGHT] * (double)n[RLS_READ_W] * e[RLS_WEIGHT] +
           (double)s[RLS_OUTPUT] * ((double)n[RLS_READ_O] + (double)n[RLS_WRITE_O]) * e[RLS_OUTPUT];
}

/* ceil(elements / bw_elems), bw_elems = bw_bits / precision. A power-of-two bw_elems (every real
 * target) multiplies by its exact reciprocal, which gives the same result as the division; other
 * ratios divide. ceil is open-coded: libm's ceil is a call without SSE4.1. */
static inline double ceil_pos(double v) {
    if (!(v < 9.0e18)) return ceil(v); /* beyond int64, or inf/nan */
    const double i = (double)(int64_t)v;
    return i < v ? i + 1.0 : i;
}

static inline double beats(double elements, const rls_temporal *L) {
    return ceil_pos(L->bw_pow2 ? elements * L->inv_bw : elements / L->bw_elems);
}

static inline double combine(int form, const double v[3]) {
    if (form == RLS_CAP_SEPARATE) {
        double m = v[0] > v[1] ? v[0] : v[1];
        return v[2] > m ? v[2] : m;
    }
    return v[0] + v[1] + v[2];
}

/* §4.4 read-once at DRAM: an operand whose DRAM tile is all of it (dram_eq) is read (written) once */
static inline void dram_read_once(const int dram_eq[3], int64_t n_d[4]) {
    if (dram_eq[RLS_INPUT]) n_d[RLS_READ_I] = 1;
    if (dram_eq[RLS_WEIGHT]) n_d[RLS_READ_W] = 1;
    if (dram_eq[RLS_OUTPUT]) {
        n_d[RLS_READ_O] = 0;
        n_d[RLS_WRITE_O] = 1;
    }
}

/* §7 DRAM cycles from DRAM's send tiles and access counts */
static inline double dram_cycles(const rls_temporal *dram, const uint64_t send[3], const int64_t n_d[4]) {
    const int64_t cnt_d[3] = {n_d[RLS_READ_I], n_d[RLS_READ_W], n_d[RLS_READ_O] + n_d[RLS_WRITE_O]};
    double z[3];
    for (int k = 0; k < 3; k++) z[k] = beats((double)send[k] * (double)cnt_d[k], dram) * dram->c[k];
    return z[0] + z[1] + z[2];
}

double rls__dram_cycles_floor(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table) {
    uint64_t pre[RLS_COLS], send[3], alloc[3];
    for (int c = 0; c < RLS_COLS; c++) pre[c] = 1;
    for (int r = 0; r < ROW_DRAM; r++)
        for (int c = 0; c < RLS_COLS; c++) pre[c] *= (uint64_t)table[r * RLS_COLS + c];
    rls__tiles(pre, ctx, send);
    for (int c = 0; c < RLS_COLS; c++) pre[c] = (uint64_t)ctx->l[c];
    rls__tiles(pre, ctx, alloc);
    const row_info ri[3] = {info_of(table, ROW_LB), info_of(table, ROW_GB), info_of(table, ROW_DRAM)};
    const int df_dram = t->gb.present ? t->gb.dataflow : t->lb.dataflow; /* Q28 */
    int64_t n_d[4];
    counts_at(ri, 2, df_dram, ri[2].CRS, n_d);
    int dram_eq[3];
    for (int k = 0; k < 3; k++) dram_eq[k] = alloc[k] == send[k];
    dram_read_once(dram_eq, n_d);
    for (int k = 0; k < 4; k++)
        if (n_d[k] < 0) return 0.0; /* wrapped counts: no bound */
    const double floor = dram_cycles(&t->dram, send, n_d);
    return finite_nonneg(floor) ? floor : 0.0;
}

/* ---- evaluation ------------------------------------------------------------------------- */

/* An invalid result: the totals are +inf (so no search keeps it); with detail, every figure 0. */
static inline void clear_figures(rls_result *out, int detail) {
    if (detail) {
        memset(out->access_counts, 0, sizeof out->access_counts);
        out->num_mac_operations = 0.0;
        memset(out->energy_pj, 0, sizeof out->energy_pj);
        memset(out->cycles, 0, sizeof out->cycles);
    }
    out->energy_pj[RLS_E_TOTAL] = HUGE_VAL;
    out->cycles[RLS_C_TOTAL] = HUGE_VAL;
}

/* A lower bound on a valid table's objective from its MAC cycles alone: the totals' own
 * expressions, in their own order, with every term not yet known replaced by 0 (dynamic
 * energies) or the cycles by c_mac <= the total cycles (C_MAC, or the total itself). Rounding is monotone, so the bound is
 * <= the objective the model computes, exactly (no margin needed). */
static inline double mac_bound(const rls_target *t, double e_mac, double c_mac, int objective) {
    const double e_static = t->static_mac_per_cycle * c_mac + t->static_lb_per_cycle * c_mac +
                            t->static_gb_per_cycle * c_mac + t->static_dram_per_cycle * c_mac;
    const double energy = e_mac + e_static;
    switch (objective) {
    case RLS_OBJ_ENERGY: return energy;
    case RLS_OBJ_CYCLES: return c_mac;
    default: return energy * c_mac;
    }
}

/* Returns 0 when a valid table's objective is proved above cutoff (nothing else in *out is then
 * meaningful), 1 otherwise (*out filled). cutoff = +inf never stops early. */
static inline int evaluate_impl(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                                rls_result *out, int detail, int known, int objective, double cutoff) {
    uint64_t alloc[3][3], send[3][3], rp[RLS_ROWS];
    row_products(table, rp);
    int64_t a_mx, a_my, a_px, a_py, a_cx, a_cy;
    active_of(&t->mac, rp, ROW_MAC_X, &a_mx, &a_my);
    active_of(&t->pe, rp, ROW_PE_X, &a_px, &a_py);
    active_of(&t->chip, rp, ROW_CHIP_X, &a_cx, &a_cy);
    /* unsigned: a table with wrong column products may hold anything (it wraps, it is invalid) */
    const int64_t a_mac = (int64_t)((uint64_t)a_mx * (uint64_t)a_my);
    const int64_t a_pe = (int64_t)((uint64_t)a_px * (uint64_t)a_py);
    const int64_t a_chip = (int64_t)((uint64_t)a_cx * (uint64_t)a_cy);
    const double M = ctx->num_macs;
    /* unsigned for an invalid table's sake (not used then); a valid one's product is at most the
     * target's MAC count, so this is the signed product's value */
    const double c_mac = M / (double)(int64_t)((uint64_t)a_mac * (uint64_t)a_pe * (uint64_t)a_chip);
    /* a table known valid: its MAC cycles may already prove it above the cutoff */
    if (known >= 2 && cutoff < HUGE_VAL && mac_bound(t, M * t->mac_energy_pj, c_mac, objective) > cutoff) return 0;
    /* with rules 1-6 known (column products among them) the checked walk's match flag is not
     * read, and both walks compute the same products modulo 2^64 */
    int columns_match = 1;
    if (known >= 1)
        all_tiles_exact(table, ctx, alloc, send);
    else
        columns_match = all_tiles(table, ctx, alloc, send);

    /* known: 0 nothing, 1 rules 1-6 (structure), 2 every rule is guaranteed by the caller */
    int reason = known >= 1 ? RLS_VALID : check_structure(t, table, columns_match, rp);
    if (reason == RLS_VALID && known < 2) reason = check_buffers(t, table, alloc);
    out->valid = reason == RLS_VALID;
    out->reason = reason;
    if (detail) {
        memcpy(out->tile_alloc, alloc, sizeof alloc);
        memcpy(out->tile_send, send, sizeof send);
        const int64_t act[RLS_N_ACTIVE] = {a_mx, a_my, a_mac, a_px, a_py, a_pe, a_cx, a_cy, a_chip};
        memcpy(out->active, act, sizeof act);
    }
    if (reason != RLS_VALID) {
        clear_figures(out, detail);
        return 1;
    }

    /* §4.1-4.3 raw counts */
    const row_info ri[3] = {info_of(table, ROW_LB), info_of(table, ROW_GB), info_of(table, ROW_DRAM)};
    const int64_t eta9 = ri[2].CRS;
    const int df_gb = t->lb.dataflow;                                  /* §4.2 */
    const int df_dram = t->gb.present ? t->gb.dataflow : t->lb.dataflow; /* Q28 */
    int64_t n_lb[4], n_gb[4], n_d[4];
    counts_at(ri, 0, RLS_DF_NONE, eta9, n_lb); /* Q3 */
    counts_at(ri, 1, df_gb, eta9, n_gb);
    counts_at(ri, 2, df_dram, eta9, n_d);

    /* §4.4 read-once adjustments */
    int dram_eq[3], gb_eq[3];
    for (int k = 0; k < 3; k++) {
        dram_eq[k] = alloc[RLS_DRAM][k] == send[RLS_DRAM][k];
        gb_eq[k] = alloc[RLS_GB][k] == send[RLS_GB][k];
    }
    dram_read_once(dram_eq, n_d);
    if (gb_eq[RLS_INPUT]) n_gb[RLS_READ_I] = n_d[RLS_READ_I];
    if (gb_eq[RLS_WEIGHT]) n_gb[RLS_READ_W] = n_d[RLS_READ_W];
    if (gb_eq[RLS_OUTPUT]) {
        n_gb[RLS_READ_O] = n_d[RLS_READ_O];
        n_gb[RLS_WRITE_O] = n_d[RLS_WRITE_O];
    }

    /* §4.5 GB bypass adjustments: an else-if chain (Q8) */
    const uint32_t gbyp = t->gb.present ? t->gb.bypass_mask : 0u;
    if ((gbyp & (1u << RLS_INPUT)) && dram_eq[RLS_INPUT] && !gb_eq[RLS_INPUT]) {
        n_d[RLS_WRITE_O] *= irr_i(&ri[2]); /* Q7 */
    } else if ((gbyp & (1u << RLS_WEIGHT)) && dram_eq[RLS_WEIGHT] && !gb_eq[RLS_WEIGHT]) {
        n_d[RLS_READ_W] *= ri[2].BPQ;
    } else if ((gbyp & (1u << RLS_OUTPUT)) && dram_eq[RLS_OUTPUT] && !gb_eq[RLS_OUTPUT]) {
        n_d[RLS_READ_O] = ri[2].CRS - 1; /* Q9 */
        n_d[RLS_WRITE_O] *= ri[2].CRS;
    }

    /* §7 cycles */
    double C[RLS_N_CYCLES];
    C[RLS_C_MAC] = c_mac;
    const int64_t cnt_lb[3] = {n_lb[RLS_READ_I], n_lb[RLS_READ_W], n_lb[RLS_READ_O] + n_lb[RLS_WRITE_O]};
    const int64_t cnt_gb[3] = {n_gb[RLS_READ_I], n_gb[RLS_READ_W], n_gb[RLS_READ_O] + n_gb[RLS_WRITE_O]};
    double x[3], y[3];
    for (int k = 0; k < 3; k++) {
        x[k] = beats((double)send[RLS_LB][k], &t->lb) * (double)cnt_lb[k] * t->lb.c[k];
        y[k] = t->gb.present
                   ? beats((double)send[RLS_GB][k] * (double)cnt_gb[k], &t->gb) * t->gb.c[k]
                   : 0.0;
    }
    C[RLS_C_LB] = combine(t->lb.capacity_form, x);
    C[RLS_C_GB] = t->gb.present ? combine(t->gb.capacity_form, y) : 0.0;
    C[RLS_C_DRAM] = dram_cycles(&t->dram, send[RLS_DRAM], n_d);
    C[RLS_C_TOTAL] = C[RLS_C_MAC] + C[RLS_C_LB] + C[RLS_C_GB] + C[RLS_C_DRAM]; /* Q12 */
    /* the same bound with the total cycles known (static energies exact, the dynamic ones but
     * the MACs' still 0), before the energies are computed */
    if (cutoff < HUGE_VAL && mac_bound(t, M * t->mac_energy_pj, C[RLS_C_TOTAL], objective) > cutoff)
        return 0;

    /* §6 energy */
    const double pe_fan = (double)(a_pe * a_chip);
    double E[RLS_N_ENERGY];
    E[RLS_E_MAC] = M * t->mac_energy_pj;
    E[RLS_E_LB_UP] = transfer_energy(send[RLS_LB], n_lb, t->lb.e) * pe_fan;
    E[RLS_E_LB_LO] = transfer_energy(alloc[RLS_LB], n_gb, t->lb.e) * pe_fan;
    E[RLS_E_LB] = E[RLS_E_LB_UP] + E[RLS_E_LB_LO];
    if (t->gb.present) {
        E[RLS_E_GB_UP] = transfer_energy(send[RLS_GB], n_gb, t->gb.e) * (double)a_chip;
        E[RLS_E_GB_LO] = transfer_energy(alloc[RLS_GB], n_d, t->gb.e) * (double)a_chip;
    } else {
        E[RLS_E_GB_UP] = E[RLS_E_GB_LO] = 0.0;
    }
    E[RLS_E_GB] = E[RLS_E_GB_UP] + E[RLS_E_GB_LO];
    E[RLS_E_DRAM] = transfer_energy(send[RLS_DRAM], n_d, t->dram.e);
    E[RLS_E_DYNAMIC] = E[RLS_E_MAC] + E[RLS_E_LB] + E[RLS_E_GB] + E[RLS_E_DRAM];


    /* §6 static energy (Q13) */
    const double cyc = C[RLS_C_TOTAL];
    E[RLS_E_ST_MAC] = t->static_mac_per_cycle * cyc;
    E[RLS_E_ST_LB] = t->static_lb_per_cycle * cyc;
    E[RLS_E_ST_GB] = t->static_gb_per_cycle * cyc;
    E[RLS_E_ST_DRAM] = t->static_dram_per_cycle * cyc;
    E[RLS_E_STATIC] = E[RLS_E_ST_MAC] + E[RLS_E_ST_LB] + E[RLS_E_ST_GB] + E[RLS_E_ST_DRAM];
    E[RLS_E_TOTAL] = E[RLS_E_DYNAMIC] + E[RLS_E_STATIC];

    /* Never report a figure that is not finite and non-negative as valid. Every component is a
     * sum/product of non-negative terms, so a NaN or infinity anywhere reaches the totals; a
     * negative term can only come from wrapped access counts, checked one by one. */
    int sane = finite_nonneg(E[RLS_E_TOTAL]) && finite_nonneg(C[RLS_C_TOTAL]) &&
               isfinite(E[RLS_E_TOTAL] * C[RLS_C_TOTAL]); /* the EDP objective too */
    for (int k = 0; k < 4; k++) sane &= (n_lb[k] >= 0) & (n_gb[k] >= 0) & (n_d[k] >= 0);
    if (detail) {
        for (int i = 0; i < RLS_N_ENERGY; i++) sane &= finite_nonneg(E[i]);
        for (int i = 0; i < RLS_N_CYCLES; i++) sane &= finite_nonneg(C[i]);
    }
    if (!sane) {
        out->valid = 0;
        out->reason = RLS_R_OVERFLOW;
        clear_figures(out, detail);
        return 1;
    }

    if (detail) {
        memcpy(out->access_counts[RLS_LB], n_lb, sizeof n_lb);
        memcpy(out->access_counts[RLS_GB], n_gb, sizeof n_gb);
        memcpy(out->access_counts[RLS_DRAM], n_d, sizeof n_d);
        out->num_mac_operations = M;
        memcpy(out->energy_pj, E, sizeof E);
        memcpy(out->cycles, C, sizeof C);
    } else {
        out->energy_pj[RLS_E_TOTAL] = E[RLS_E_TOTAL];
        out->cycles[RLS_C_TOTAL] = C[RLS_C_TOTAL];
    }
    return 1;
}

void rls__evaluate(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                   rls_result *out, int detail) {
    (void)evaluate_impl(t, ctx, table, out, detail, 0, RLS_OBJ_ENERGY, HUGE_VAL);
}

void rls__evaluate_trusted(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                           rls_result *out, int detail) {
    (void)evaluate_impl(t, ctx, table, out, detail, 1, RLS_OBJ_ENERGY, HUGE_VAL);
}

int rls__evaluate_summary_valid(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                                int objective, double cutoff, rls_summary *out) {
    rls_result r;
    if (!evaluate_impl(t, ctx, table, &r, 0, 2, objective, cutoff)) return 0;
    out->valid = r.valid;
    out->reason = r.reason;
    out->energy_pj = r.energy_pj[RLS_E_TOTAL];
    out->cycles = r.cycles[RLS_C_TOTAL];
    return 1;
}

void rls__evaluate_summary(const rls_target *t, const rls_layer_ctx *ctx, const int64_t *table,
                           rls_summary *out) {
    rls_result r;
    rls__evaluate(t, ctx, table, &r, 0);
    out->valid = r.valid;
    out->reason = r.reason;
    out->energy_pj = r.energy_pj[RLS_E_TOTAL];
    out->cycles = r.cycles[RLS_C_TOTAL];
}

/* Every entry >= 1. Branch-free so that it vectorises: (uint64)x - 1 has its top bit set exactly
 * when x <= 0. */
static int entries_positive(const int64_t *table) {
    uint64_t bad = 0;
    for (int i = 0; i < RLS_TABLE_SIZE; i++) bad |= (uint64_t)table[i] - 1u;
    return (bad >> 63) == 0;
}

int rls_evaluate(const rls_target *target, const rls_layer *layer, const int64_t *table,
                 rls_result *out) {
    if (target == NULL || layer == NULL || table == NULL || out == NULL) return RLS_E_NULL;
    rls_layer_ctx ctx;
    int st = rls__layer_ctx(layer, &ctx);
    if (st != RLS_OK) return st;
    if (!entries_positive(table)) return RLS_E_TABLE;
    rls__evaluate(target, &ctx, table, out, 1);
    return RLS_OK;
}

int rls_evaluate_batch(const rls_target *target, const rls_layer *layer, const int64_t *tables,
                       size_t n, rls_summary *out) {
    if (target == NULL || layer == NULL || (n > 0 && (tables == NULL || out == NULL)))
        return RLS_E_NULL;
    rls_layer_ctx ctx;
    int st = rls__layer_ctx(layer, &ctx);
    if (st != RLS_OK) return st;
    for (size_t i = 0; i < n; i++) {
        const int64_t *tb = tables + i * RLS_TABLE_SIZE;
        if (!entries_positive(tb)) {
            out[i].valid = 0;
            out[i].reason = RLS_R_COLUMN_PRODUCT;
            out[i].energy_pj = HUGE_VAL;
            out[i].cycles = HUGE_VAL;
            continue;
        }
        rls__evaluate_summary(target, &ctx, tb, &out[i]);
    }
    return RLS_OK;
}

double rls_objective_value(const rls_summary *s, int objective) {
    if (s == NULL || !s->valid) return HUGE_VAL;
    switch (objective) {
    case RLS_OBJ_ENERGY: return s->energy_pj;
    case RLS_OBJ_CYCLES: return s->cycles;
    case RLS_OBJ_EDP: return s->energy_pj * s->cycles;
    default: return HUGE_VAL;
    }
}
