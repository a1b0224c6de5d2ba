/*
 * bottomup.c - the reference's bottom-up heuristic (NeuroSpector v1.5, fixed dataflows),
 * ../shared/spec/cost-model.md §12, reproduced including its visiting order so that ties are
 * broken as the reference breaks them.
 *
 * The walk goes from DRAM inward over level pairs (inner buffer row b, outer buffer row e]:
 * (GB, DRAM], (LB, GB], (Register, LB] (an absent GB is skipped). For every surviving candidate:
 *  1. every ordered factorization of row e over the present spatial rows between b and e plus
 *     row e itself ("spatial options"), with row b at 1, validity-checked;
 *  2. for each, every 2-way split of row e between row b and row e ("temporal options"),
 *     validity-checked and scored with the pair's partial cost;
 *  3. survivors: PM (lowest partial cost; ties to the smaller product of row e, then to the
 *     larger product of row e's factors irrelevant to buffer b's stationary type) and, except
 *     for the innermost pair, SP (largest factorization degree of row b; see below), dropped
 *     when equal to PM.
 * Finally every complete candidate is evaluated and the lowest objective wins (first on ties),
 * unless the starting all-in-DRAM table is strictly better.
 *
 * Budget (an extension; the reference has none): with budget > 0 every pair search (one per
 * level pair and surviving candidate, at most 7) may evaluate at most budget temporal options;
 * one that runs out keeps the survivors of the options visited so far (a prefix of the
 * reference's order) and *finished becomes 0.
 *
 * Visiting order (it decides ties). The reference draws options from an odometer over the 8
 * columns (G fastest, K slowest) whose first draw increments before reading, so a fresh space is
 * visited from position 1 to N-1 and then position 0. The temporal space object is reused for
 * every spatial option of one candidate without resetting its indices: after the first, each
 * temporal space starts one past where the previous one stopped (indices normalised to the new
 * sizes by the same carry rule) and is drawn N+1 times. We enumerate the valid options in natural
 * order with pruning and replay exactly that cyclic order.
 *
 * SP bookkeeping follows the reference too: a strictly larger degree replaces SP without
 * recording its cost; an equal degree replaces SP only when its cost is below the last recorded
 * SP cost.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"

typedef struct {
    int64_t t[RLS_TABLE_SIZE];
} table_t;

typedef struct {
    const rls_target *t;
    const rls_layer_ctx *ctx;
    int objective;
    int b, e;                     /* inner and outer buffer rows of the pair */
    int n_spatial;
    int32_t spatial_rows[RLS_ROWS];
    int64_t cur[RLS_TABLE_SIZE];  /* working table */
    /* temporal odometer state (persists across spatial options of one candidate) */
    int64_t tstate[RLS_COLS];
    int tfirst;
    /* survivors */
    double pm_cost, sp_cost;
    int64_t sp_degree;
    int64_t pm[RLS_TABLE_SIZE], sp[RLS_TABLE_SIZE];
    int64_t evaluated;
    int64_t allowance;            /* evaluations left for this pair search; < 0: unlimited */
    int truncated;                /* some pair search ran out of its allowance */
    /* f(v) of the factorization degree for v <= deg_max (row entries never exceed the layer) */
    int8_t *deg_term;
    int64_t deg_max;
    /* during a temporal phase: product of the rows inside buffer b, per column */
    uint64_t base[RLS_COLS];
    /* scratch for the valid temporal positions */
    int64_t *pos;
    size_t pos_len, pos_cap;
    int status;
} pair_search;

static double partial_cost(const pair_search *ps, const rls_result *r) {
    const rls_target *t = ps->t;
    const double *E = r->energy_pj;
    const double *C = r->cycles;
    double energy, cycles;
    if (ps->e == ROW_DRAM) {
        energy = E[RLS_E_DRAM] + (t->gb.present ? E[RLS_E_GB_LO] : E[RLS_E_LB_LO]) +
                 E[RLS_E_ST_DRAM] + E[RLS_E_ST_MAC];
        cycles = C[RLS_C_DRAM] + C[RLS_C_MAC];
    } else if (ps->e == ROW_GB) {
        energy = E[RLS_E_GB_UP] + E[RLS_E_LB_LO] + E[RLS_E_ST_GB] + E[RLS_E_ST_MAC];
        if (!t->mac.present) energy += E[RLS_E_LB_UP] + E[RLS_E_ST_LB];
        cycles = C[RLS_C_GB] + C[RLS_C_LB] + C[RLS_C_MAC];
    } else {
        energy = E[RLS_E_LB_UP] + E[RLS_E_ST_LB] + E[RLS_E_ST_MAC];
        cycles = C[RLS_C_LB] + C[RLS_C_MAC];
    }
    switch (ps->objective) {
    case RLS_OBJ_ENERGY: return energy;
    case RLS_OBJ_CYCLES: return cycles;
    default: return energy * cycles; /* extension: the reference has no EDP metric */
    }
}

static int64_t row_prod(const int64_t *table, int r) {
    int64_t p = 1;
    for (int c = 0; c < RLS_COLS; c++) p *= table[r * RLS_COLS + c];
    return p;
}

/* product of row r's factors irrelevant to the stationary type of buffer row b */
static int64_t irrelevant_product(const pair_search *ps, const int64_t *table) {
    int df = RLS_DF_NONE;
    if (ps->b == ROW_LB) df = ps->t->lb.dataflow;
    else if (ps->b == ROW_GB) df = ps->t->gb.dataflow;
    const int64_t *v = table + ps->e * RLS_COLS;
    switch (df) {
    case RLS_DF_IS: return v[COL_K];
    case RLS_DF_WS: return v[COL_B] * v[COL_P] * v[COL_Q];
    case RLS_DF_OS: return v[COL_C] * v[COL_R] * v[COL_S];
    default: return 1;
    }
}

static void consider(pair_search *ps) {
    if (ps->allowance == 0) {
        ps->truncated = 1;
        return;
    }
    if (ps->allowance > 0) ps->allowance--;
    rls_result r;
    /* the spatial option was checked with rls__check and a temporal split only moves factors
     * between the pair's two buffer rows: rules 1-6 hold, so only capacities are checked here */
    rls__evaluate_trusted(ps->t, ps->ctx, ps->cur, &r, 1);
    ps->evaluated++;
    if (!r.valid) return;
    const double cost = partial_cost(ps, &r);
    /* PM */
    if (cost < ps->pm_cost) {
        ps->pm_cost = cost;
        memcpy(ps->pm, ps->cur, sizeof ps->pm);
    } else if (cost == ps->pm_cost) {
        const int64_t it_cur = row_prod(ps->cur, ps->e), it_pm = row_prod(ps->pm, ps->e);
        if (it_cur < it_pm) {
            memcpy(ps->pm, ps->cur, sizeof ps->pm);
        } else if (it_cur == it_pm && irrelevant_product(ps, ps->cur) > irrelevant_product(ps, ps->pm)) {
            memcpy(ps->pm, ps->cur, sizeof ps->pm);
        }
    }
    /* SP (not for the innermost pair) */
    if (ps->b == ROW_REG) return;
    int64_t deg = 1;
    for (int c = 0; c < RLS_COLS; c++) {
        const int64_t v = ps->cur[ps->b * RLS_COLS + c];
        deg *= 1 + (v <= ps->deg_max ? ps->deg_term[v] : rls__facto_degree_term(v));
    }
    if (deg > ps->sp_degree) {
        ps->sp_degree = deg;
        memcpy(ps->sp, ps->cur, sizeof ps->sp);
    } else if (deg == ps->sp_degree && cost < ps->sp_cost) {
        ps->sp_cost = cost;
        memcpy(ps->sp, ps->cur, sizeof ps->sp);
    }
}

/* ---- temporal options ------------------------------------------------------------------- */

typedef struct {
    int64_t div[RLS_COLS][256];
    int64_t ndiv[RLS_COLS];
    int64_t u[RLS_COLS];
} temporal_space;

static int push_pos(pair_search *ps, int64_t p) {
    if (ps->pos_len == ps->pos_cap) {
        size_t cap = ps->pos_cap ? ps->pos_cap * 2 : 1024;
        int64_t *np = realloc(ps->pos, cap * sizeof *np);
        if (np == NULL) return 0;
        ps->pos = np;
        ps->pos_cap = cap;
    }
    ps->pos[ps->pos_len++] = p;
    return 1;
}

static void set_temporal(pair_search *ps, const temporal_space *ts, int c, int64_t j) {
    ps->cur[ps->b * RLS_COLS + c] = ts->div[c][j];
    ps->cur[ps->e * RLS_COLS + c] = ts->u[c] / ts->div[c][j];
}

static const rls_temporal *buffer_level(const rls_target *t, int row) {
    return row == ROW_LB ? &t->lb : row == ROW_GB ? &t->gb : &t->dram;
}

/* Only rows b and e change in a temporal phase and their column products are fixed, so of all
 * the rules only buffer b's capacity (its tiles grow with row b) and the fixed mappings of rows
 * b and e can change; the Register row must stay 1. */
static int temporal_ok(const pair_search *ps, uint32_t mask) {
    if (ps->b == ROW_REG) {
        for (int c = 0; c < RLS_COLS; c++)
            if (ps->cur[c] != 1) return 0;
        return 1;
    }
    const rls_temporal *L = buffer_level(ps->t, ps->b);
    uint64_t pre[RLS_COLS];
    for (int c = 0; c < RLS_COLS; c++) pre[c] = ps->base[c] * (uint64_t)ps->cur[ps->b * RLS_COLS + c];
    return rls__level_fits(L, ps->ctx, pre) && rls__fixed_fits(L, ps->cur, ps->b, mask) &&
           rls__fixed_fits(buffer_level(ps->t, ps->e), ps->cur, ps->e, mask);
}

/* valid temporal positions in natural order (K slowest), pruned */
static void temporal_dfs(pair_search *ps, const temporal_space *ts, int c, int64_t pos) {
    if (ps->status != RLS_OK) return;
    if (c == RLS_COLS) {
        if (!push_pos(ps, pos)) ps->status = RLS_E_NOMEM;
        return;
    }
    const uint32_t mask = (2u << c) - 1u;
    for (int64_t j = 0; j < ts->ndiv[c]; j++) {
        set_temporal(ps, ts, c, j);
        if (temporal_ok(ps, mask))
            temporal_dfs(ps, ts, c + 1, pos * ts->ndiv[c] + j);
    }
    ps->cur[ps->b * RLS_COLS + c] = 1;
    ps->cur[ps->e * RLS_COLS + c] = 1;
}

static void decode(const temporal_space *ts, int64_t p, int64_t idx[RLS_COLS]) {
    for (int c = RLS_COLS - 1; c >= 0; c--) {
        idx[c] = p % ts->ndiv[c];
        p /= ts->ndiv[c];
    }
}

static void visit_temporal(pair_search *ps, const temporal_space *ts, int64_t p) {
    int64_t idx[RLS_COLS];
    decode(ts, p, idx);
    for (int c = 0; c < RLS_COLS; c++) set_temporal(ps, ts, c, idx[c]);
    consider(ps);
}

/* first valid index in the sorted positions that is >= p */
static size_t lower_bound(const int64_t *a, size_t n, int64_t p) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] < p) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void temporal_phase(pair_search *ps) {
    temporal_space ts;
    int64_t total = 1;
    for (int c = 0; c < RLS_COLS; c++) {
        ts.u[c] = ps->cur[ps->e * RLS_COLS + c];
        int nd = rls__divisors(ts.u[c], ts.div[c], 256);
        if (nd < 0) {
            ps->status = RLS_E_OVERFLOW;
            return;
        }
        ts.ndiv[c] = nd;
        total *= nd;
    }
    /* the reference's draw count and first position (see the file comment) */
    const int64_t calls = ps->tfirst ? total : total + 1;
    ps->tfirst = 0;
    int64_t w[RLS_COLS];
    memcpy(w, ps->tstate, sizeof w);
    w[RLS_COLS - 1]++;
    for (int c = RLS_COLS - 1; c >= 0; c--) {
        if (w[c] > ts.ndiv[c] - 1) {
            w[c] = 0;
            if (c != 0) w[c - 1]++;
        }
    }
    int64_t p0 = 0;
    for (int c = 0; c < RLS_COLS; c++) p0 = p0 * ts.ndiv[c] + w[c];

    ps->pos_len = 0;
    for (int c = 0; c < RLS_COLS; c++) {
        ps->cur[ps->b * RLS_COLS + c] = 1;
        ps->cur[ps->e * RLS_COLS + c] = 1;
    }
    for (int c = 0; c < RLS_COLS; c++) {
        ps->base[c] = 1;
        for (int r = 0; r < ps->b; r++) ps->base[c] *= (uint64_t)ps->cur[r * RLS_COLS + c];
    }
    if (temporal_ok(ps, 0u)) temporal_dfs(ps, &ts, 0, 0);
    if (ps->status != RLS_OK) return;

    /* visit positions p0 .. p0+calls-1 (mod total) */
    const int64_t end1 = p0 + calls < total ? p0 + calls : total;
    for (size_t i = lower_bound(ps->pos, ps->pos_len, p0); i < ps->pos_len && ps->pos[i] < end1; i++)
        visit_temporal(ps, &ts, ps->pos[i]);
    if (p0 + calls > total) {
        const int64_t end2 = p0 + calls - total; /* <= p0 + 1 */
        for (size_t i = 0; i < ps->pos_len && ps->pos[i] < end2; i++) visit_temporal(ps, &ts, ps->pos[i]);
    }
    /* where the odometer stops */
    decode(&ts, (p0 + calls - 1) % total, ps->tstate);

    /* restore the spatial option */
    for (int c = 0; c < RLS_COLS; c++) {
        ps->cur[ps->b * RLS_COLS + c] = 1;
        ps->cur[ps->e * RLS_COLS + c] = ts.u[c];
    }
}

/* ---- spatial options -------------------------------------------------------------------- */

typedef struct {
    rls_factor_list fl[RLS_COLS];
    int n;              /* levels: spatial rows + row e */
    int32_t rows[RLS_ROWS];
    int64_t idx[RLS_COLS];
    int deferred;       /* position 0 was a feasible leaf: visit it last */
} spatial_space;

static void set_spatial(pair_search *ps, spatial_space *ss, int c, int64_t i) {
    const int64_t *f = ss->fl[c].f + i * ss->n;
    for (int k = 0; k < ss->n; k++) ps->cur[ss->rows[k] * RLS_COLS + c] = f[k];
}

static void spatial_option(pair_search *ps) {
    if (ps->allowance == 0) return; /* budget spent: stop enumerating */
    for (int c = 0; c < RLS_COLS; c++) ps->cur[ps->b * RLS_COLS + c] = 1;
    if (rls__check(ps->t, ps->ctx, ps->cur) != RLS_VALID) return;
    temporal_phase(ps);
}

static void spatial_dfs(pair_search *ps, spatial_space *ss, int c) {
    if (ps->status != RLS_OK) return;
    if (c == RLS_COLS) {
        int zero = 1;
        for (int k = 0; k < RLS_COLS; k++) zero &= ss->idx[k] == 0;
        if (zero) ss->deferred = 1;
        else spatial_option(ps);
        return;
    }
    const uint32_t mask = (2u << c) - 1u;
    for (int64_t i = 0; i < ss->fl[c].count && ps->allowance != 0; i++) {
        ss->idx[c] = i;
        set_spatial(ps, ss, c, i);
        if (rls__partial_ok(ps->t, ps->ctx, ps->cur, mask)) spatial_dfs(ps, ss, c + 1);
    }
    for (int k = 0; k < ss->n; k++) ps->cur[ss->rows[k] * RLS_COLS + c] = 1;
    ss->idx[c] = 0;
}

/* Search one pair from one candidate; writes PM and maybe SP into out[], returns how many. */
static int search_pair(pair_search *ps, const int64_t *cand, table_t out[2]) {
    memcpy(ps->cur, cand, sizeof ps->cur);
    memcpy(ps->pm, cand, sizeof ps->pm);
    memcpy(ps->sp, cand, sizeof ps->sp);
    ps->pm_cost = HUGE_VAL;
    ps->sp_cost = HUGE_VAL;
    ps->sp_degree = 0;
    ps->tfirst = 1;
    memset(ps->tstate, 0, sizeof ps->tstate);

    spatial_space ss;
    ss.n = ps->n_spatial + 1;
    memcpy(ss.rows, ps->spatial_rows, (size_t)ps->n_spatial * sizeof(int32_t));
    ss.rows[ps->n_spatial] = ps->e;
    ss.deferred = 0;
    for (int c = 0; c < RLS_COLS; c++) {
        ss.fl[c].f = NULL;
        ss.fl[c].count = 0;
        ss.idx[c] = 0;
    }
    int64_t v[RLS_COLS];
    for (int c = 0; c < RLS_COLS; c++) v[c] = cand[ps->e * RLS_COLS + c];
    for (int c = 0; c < RLS_COLS && ps->status == RLS_OK; c++)
        ps->status = rls__factor_list_new(v[c], ss.n, &ss.fl[c]);
    if (ps->status == RLS_OK) {
        for (int k = 0; k < ss.n; k++)
            for (int c = 0; c < RLS_COLS; c++) ps->cur[ss.rows[k] * RLS_COLS + c] = 1;
        if (rls__partial_ok(ps->t, ps->ctx, ps->cur, 0u)) spatial_dfs(ps, &ss, 0);
        if (ss.deferred && ps->status == RLS_OK) {
            for (int c = 0; c < RLS_COLS; c++) set_spatial(ps, &ss, c, 0);
            spatial_option(ps);
        }
    }
    for (int c = 0; c < RLS_COLS; c++) rls__factor_list_free(&ss.fl[c]);
    int n = 0;
    memcpy(out[n++].t, ps->pm, sizeof ps->pm);
    if (ps->b != ROW_REG && memcmp(ps->pm, ps->sp, sizeof ps->pm) != 0) memcpy(out[n++].t, ps->sp, sizeof ps->sp);
    return n;
}

int rls_bottom_up(const rls_target *t, const rls_layer *layer, int32_t objective, int64_t budget,
                  int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated,
                  int32_t *finished) {
    if (t == NULL || layer == NULL || best_table == NULL || best == NULL || candidates_evaluated == NULL ||
        finished == NULL)
        return RLS_E_NULL;
    *candidates_evaluated = 0;
    *finished = 0;
    if (objective != RLS_OBJ_ENERGY && objective != RLS_OBJ_CYCLES && objective != RLS_OBJ_EDP)
        return RLS_E_ARG;
    rls_layer_ctx ctx;
    int st = rls__layer_ctx(layer, &ctx);
    if (st != RLS_OK) return st;

    /* buffer rows, innermost first; spatial rows that may be written */
    int buffers[4], nb = 0;
    buffers[nb++] = ROW_REG;
    buffers[nb++] = ROW_LB;
    if (t->gb.present) buffers[nb++] = ROW_GB;
    buffers[nb++] = ROW_DRAM;
    int32_t writable[RLS_ROWS];
    const int nw = rls__writable_rows(t, writable);

    /* the starting table: everything in DRAM */
    table_t start;
    for (int i = 0; i < RLS_TABLE_SIZE; i++) start.t[i] = 1;
    for (int c = 0; c < RLS_COLS; c++) start.t[ROW_DRAM * RLS_COLS + c] = ctx.l[c];

    table_t cands[16], next[16];
    int ncand = 1;
    cands[0] = start;
    pair_search ps;
    memset(&ps, 0, sizeof ps);
    ps.t = t;
    ps.ctx = &ctx;
    ps.objective = objective;
    ps.status = RLS_OK;
    ps.deg_max = 1;
    for (int c = 0; c < RLS_COLS; c++)
        if (ctx.l[c] > ps.deg_max) ps.deg_max = ctx.l[c];
    if (ps.deg_max > ((int64_t)1 << 24)) ps.deg_max = (int64_t)1 << 24;
    ps.deg_term = malloc((size_t)ps.deg_max + 1);
    if (ps.deg_term == NULL) return RLS_E_NOMEM;
    for (int64_t v = 0; v <= ps.deg_max; v++) ps.deg_term[v] = (int8_t)rls__facto_degree_term(v);
    for (int k = nb - 1; k >= 1 && ps.status == RLS_OK; k--) {
        ps.b = buffers[k - 1];
        ps.e = buffers[k];
        ps.n_spatial = 0;
        for (int i = 0; i < nw; i++)
            if (writable[i] > ps.b && writable[i] < ps.e && writable[i] != ROW_LB && writable[i] != ROW_GB)
                ps.spatial_rows[ps.n_spatial++] = writable[i];
        int nnext = 0;
        for (int i = 0; i < ncand && ps.status == RLS_OK; i++) {
            ps.allowance = budget > 0 ? budget : -1;
            nnext += search_pair(&ps, cands[i].t, next + nnext);
        }
        memcpy(cands, next, (size_t)nnext * sizeof(table_t));
        ncand = nnext;
    }
    free(ps.pos);
    free(ps.deg_term);
    *candidates_evaluated = ps.evaluated;
    *finished = !ps.truncated;
    if (ps.status != RLS_OK) return ps.status;

    /* final selection with the full objective; ties keep the earlier candidate */
    int have = 0;
    double best_obj = HUGE_VAL;
    for (int i = 0; i < ncand; i++) {
        rls_summary s;
        rls__evaluate_summary(t, &ctx, cands[i].t, &s);
        (*candidates_evaluated)++;
        const double obj = rls__objective(&s, objective);
        if (s.valid && obj < best_obj) {
            have = 1;
            best_obj = obj;
            *best = s;
            memcpy(best_table, cands[i].t, sizeof cands[i].t);
        }
    }
    rls_summary s0;
    rls__evaluate_summary(t, &ctx, start.t, &s0);
    (*candidates_evaluated)++;
    const double obj0 = rls__objective(&s0, objective);
    if (s0.valid && obj0 < best_obj) {
        have = 1;
        *best = s0;
        memcpy(best_table, start.t, sizeof start.t);
    }
    return have ? RLS_OK : RLS_E_NOT_FOUND;
}
