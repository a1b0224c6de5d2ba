/*
 * search.c - brute-force searches over the scheduling table: a selected set of rows
 * (rls_search_rows, the paper's local optimizer), every writable row (rls_exhaustive), and
 * random sampling of valid tables (rls_random_search, rls_sample_valid).
 *
 * All of them enumerate, per column, the ordered factorizations of the column's product over
 * the searched rows, column by column (K first), and prune a partial assignment as soon as
 * rls__partial_ok says it cannot become valid: tile sizes and row products only grow with the
 * entries, and the columns not assigned yet hold 1 in the searched rows while checking.
 *
 * Exact speed-ups of that walk (issue 14; rls_search_rows_plain keeps the plain walk as the
 * reference the tests compare with): below the root, whose check is the full rls__partial_ok,
 * a node re-checks only the rules that read a searched row or the mask (engine_ok); a column of
 * ones is not re-checked (its table is its parent's); a complete table whose start had the
 * layer's column products is valid by every rule once its check passed, so it is evaluated
 * without re-checking; and a table whose objective a bound proves above the incumbent's (MAC
 * energy plus static energy over the MAC cycles, then over its total cycles: the model's own
 * expressions with the unknown non-negative terms at 0, so monotone rounding keeps the bound
 * <= the figure) is counted without the rest of its figures: it could neither win nor tie.
 * Tables, figures and candidate counts are those of the plain walk.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"

/* ---- the row-set enumeration engine --------------------------------------------------- */

typedef struct {
    const rls_target *t;
    const rls_layer_ctx *ctx;
    int objective;
    int n;
    int32_t rows[RLS_ROWS];
    rls_factor_list fl[RLS_COLS];
    int64_t table[RLS_TABLE_SIZE];
    int have_best;
    double best_obj;
    int64_t best_table[RLS_TABLE_SIZE];
    rls_summary best;
    int64_t evaluated;
    int64_t budget;      /* <= 0: unlimited */
    int64_t work;        /* partial checks done */
    int64_t work_limit;  /* <= 0: unlimited */
    int stopped;
    /* The engine's own partial check (engine_ok, set up by engine_prepare): only the searched
     * rows change below the root, so the parts of rls__partial_ok that read none of them are
     * decided once, by the root's full check, and are not repeated at every node. */
    int n_one_rows;                /* searched rows that must hold ones */
    int32_t one_rows[RLS_ROWS];
    int chk_mac, chk_pe, chk_chip; /* a spatial level with a searched row */
    int chk_lb, chk_gb;            /* a buffer level whose tile reads a searched row */
    int fixed_mapping;             /* some level has a fixed mapping: every check also reads the mask */
    uint64_t lb_fixed[RLS_COLS];   /* products of the unsearched rows 0..LB per column */
    uint64_t gb_fixed[RLS_COLS];   /* and of those of rows LB+1..GB */
    int ones_col[RLS_COLS];        /* the searched rows' product of this column is 1 */
    int known_valid;               /* the table's column products are the layer's: a complete table
                                    * the partial check accepts passes every rule */
    int plain;                     /* the plain walk (rls_search_rows_plain): every node checked by
                                    * rls__partial_ok, every complete table fully evaluated */
} rows_engine;

static void engine_free(rows_engine *e) {
    for (int c = 0; c < RLS_COLS; c++) rls__factor_list_free(&e->fl[c]);
}

/* Prepare the per-column factorization lists of prod[c] over the engine's rows, and put 1 in
 * every searched entry. */
static int engine_init(rows_engine *e, const int64_t prod[RLS_COLS]) {
    for (int c = 0; c < RLS_COLS; c++) {
        e->fl[c].f = NULL;
        e->fl[c].count = 0;
    }
    for (int c = 0; c < RLS_COLS; c++) {
        int st = rls__factor_list_new(prod[c], e->n, &e->fl[c]);
        if (st != RLS_OK) {
            engine_free(e);
            return st;
        }
    }
    for (int i = 0; i < e->n; i++)
        for (int c = 0; c < RLS_COLS; c++) e->table[e->rows[i] * RLS_COLS + c] = 1;
    e->have_best = 0;
    e->best_obj = HUGE_VAL;
    e->evaluated = 0;
    e->work = 0;
    e->stopped = 0;
    return RLS_OK;
}

/* Set up engine_ok for the engine's rows and its current table (searched entries at 1), and
 * whether that table's column products (the searched rows' held by prod) are the layer's. */
static void engine_prepare(rows_engine *e, const int64_t prod[RLS_COLS]) {
    const rls_target *t = e->t;
    int searched[RLS_ROWS] = {0};
    for (int i = 0; i < e->n; i++) searched[e->rows[i]] = 1;
    e->n_one_rows = 0;
    for (int r = 0; r < RLS_ROWS; r++)
        if (searched[r] && t->row_fixed_one[r]) e->one_rows[e->n_one_rows++] = r;
    e->chk_mac = searched[ROW_MAC_X] || searched[ROW_MAC_Y];
    e->chk_pe = searched[ROW_PE_X] || searched[ROW_PE_Y];
    e->chk_chip = searched[ROW_CHIP_X] || searched[ROW_CHIP_Y];
    e->chk_lb = 0;
    e->chk_gb = 0;
    for (int r = 0; r <= ROW_GB; r++) {
        if (!searched[r]) continue;
        if (r <= ROW_LB) e->chk_lb = 1;
        if (t->gb.present) e->chk_gb = 1;
    }
    e->fixed_mapping = (t->lb.present && t->lb.has_fixed_mapping) || (t->gb.present && t->gb.has_fixed_mapping) ||
                       (t->dram.present && t->dram.has_fixed_mapping);
    for (int c = 0; c < RLS_COLS; c++) {
        e->lb_fixed[c] = 1;
        e->gb_fixed[c] = 1;
        for (int r = 0; r <= ROW_GB; r++) {
            if (searched[r]) continue;
            uint64_t *p = r <= ROW_LB ? &e->lb_fixed[c] : &e->gb_fixed[c];
            *p *= (uint64_t)e->table[r * RLS_COLS + c];
        }
    }
    for (int c = 0; c < RLS_COLS; c++) e->ones_col[c] = prod[c] == 1;
    e->known_valid = 1;
    for (int c = 0; c < RLS_COLS; c++) {
        int64_t p = prod[c];
        for (int r = 0; r < RLS_ROWS && e->known_valid; r++)
            if (!searched[r] && __builtin_mul_overflow(p, e->table[r * RLS_COLS + c], &p)) e->known_valid = 0;
        if (p != e->ctx->l[c]) e->known_valid = 0;
    }
}

static int engine_spatial_fits(const rls_spatial *s, const int64_t *table, int xrow) {
    return rls__spatial_dims_fit(s, table, xrow) && rls__spatial_allowed_fits(s, table, xrow);
}

/* rls__partial_ok(t, ctx, table, mask) for a node below a root that passed it: the same answer,
 * reading only what a searched entry or the mask can change (the other rules held at the root
 * and read the same entries here; products are the same modulo 2^64 in any order). */
static int engine_ok(const rows_engine *e, uint32_t mask) {
    const rls_target *t = e->t;
    const int64_t *table = e->table;
    for (int i = 0; i < e->n_one_rows; i++)
        for (int c = 0; c < RLS_COLS; c++)
            if (table[e->one_rows[i] * RLS_COLS + c] != 1) return 0;
    if (e->chk_mac && !engine_spatial_fits(&t->mac, table, ROW_MAC_X)) return 0;
    if (e->chk_pe && !engine_spatial_fits(&t->pe, table, ROW_PE_X)) return 0;
    if (e->chk_chip && !engine_spatial_fits(&t->chip, table, ROW_CHIP_X)) return 0;
    if (e->chk_lb || e->chk_gb) {
        uint64_t pre[RLS_COLS], a[3];
        for (int c = 0; c < RLS_COLS; c++) pre[c] = e->lb_fixed[c];
        for (int i = 0; i < e->n && e->rows[i] <= ROW_LB; i++)
            for (int c = 0; c < RLS_COLS; c++) pre[c] *= (uint64_t)table[e->rows[i] * RLS_COLS + c];
        if (e->chk_lb) {
            rls__tiles(pre, e->ctx, a);
            if (!rls__capacity_fits(&t->lb, a, NULL)) return 0;
        }
        if (e->chk_gb) {
            for (int c = 0; c < RLS_COLS; c++) pre[c] *= e->gb_fixed[c];
            for (int i = 0; i < e->n; i++)
                if (e->rows[i] > ROW_LB && e->rows[i] <= ROW_GB)
                    for (int c = 0; c < RLS_COLS; c++) pre[c] *= (uint64_t)table[e->rows[i] * RLS_COLS + c];
            rls__tiles(pre, e->ctx, a);
            if (!rls__capacity_fits(&t->gb, a, NULL)) return 0;
        }
    }
    if (!e->fixed_mapping) return 1;
    return rls__fixed_fits(&t->lb, table, ROW_LB, mask) && rls__fixed_fits(&t->gb, table, ROW_GB, mask) &&
           rls__fixed_fits(&t->dram, table, ROW_DRAM, mask);
}

static void engine_leaf(rows_engine *e) {
    if (e->budget > 0 && e->evaluated >= e->budget) {
        e->stopped = 1;
        return;
    }
    rls_summary s;
    /* every complete table here passed the partial check with every column assigned (or, for a
     * column of ones, its parent's, the same table): with the layer's column products it is
     * valid by every rule, so only its figures are computed */
    if (e->known_valid && !e->plain) {
        /* a table whose objective is proved above the incumbent's cannot win, nor tie (the
         * tie-break needs an equal objective): it is counted but its figures are not needed */
        const double cutoff = e->have_best ? e->best_obj : HUGE_VAL;
        if (!rls__evaluate_summary_valid(e->t, e->ctx, e->table, e->objective, cutoff, &s)) {
            e->evaluated++;
            return;
        }
    } else
        rls__evaluate_summary(e->t, e->ctx, e->table, &s);
    e->evaluated++;
    if (!s.valid) return;
    const double obj = rls__objective(&s, e->objective);
    if (!e->have_best || rls__better(obj, e->table, e->best_obj, e->best_table)) {
        e->have_best = 1;
        e->best_obj = obj;
        e->best = s;
        memcpy(e->best_table, e->table, sizeof e->table);
    }
}

static void engine_dfs(rows_engine *e, int col) {
    if (col == RLS_COLS) {
        engine_leaf(e);
        return;
    }
    const rls_factor_list *fl = &e->fl[col];
    const uint32_t mask = (2u << col) - 1u;
    /* A column whose product is 1 has one factorization, all ones: the table is the parent's,
     * which passed; without fixed mappings the mask changes nothing, so the check is skipped. */
    const int same_as_parent = e->ones_col[col] && !e->fixed_mapping && !e->plain;
    /* Last factorization first: it puts the most into the innermost rows. A complete run finds
     * the same best table in any order (the tie-break does not depend on it); a budgeted one
     * meets the tables that use the buffers and arrays sooner than all-in-DRAM ones. */
    for (int64_t i = fl->count - 1; i >= 0 && !e->stopped; i--) {
        const int64_t *f = fl->f + i * fl->n;
        for (int k = 0; k < e->n; k++) e->table[e->rows[k] * RLS_COLS + col] = f[k];
        e->work++;
        if (e->work_limit > 0 && e->work > e->work_limit) {
            e->stopped = 1;
            break;
        }
        if (same_as_parent || (e->plain ? rls__partial_ok(e->t, e->ctx, e->table, mask) : engine_ok(e, mask)))
            engine_dfs(e, col + 1);
    }
    /* back to the lower bound for the shallower partial checks */
    for (int k = 0; k < e->n; k++) e->table[e->rows[k] * RLS_COLS + col] = 1;
}

static int check_objective(int32_t objective) {
    return objective == RLS_OBJ_ENERGY || objective == RLS_OBJ_CYCLES || objective == RLS_OBJ_EDP;
}

static int entries_positive(const int64_t *table) {
    for (int i = 0; i < RLS_TABLE_SIZE; i++)
        if (table[i] < 1) return 0;
    return 1;
}

static void sort_rows(int32_t *rows, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && rows[j - 1] > rows[j]; j--) {
            int32_t tmp = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = tmp;
        }
}

/* Run the engine from its current table; fill the outputs. */
static int engine_run(rows_engine *e, int64_t *best_table, rls_summary *best,
                      int64_t *candidates_evaluated) {
    if (rls__partial_ok(e->t, e->ctx, e->table, 0u)) engine_dfs(e, 0);
    *candidates_evaluated = e->evaluated;
    if (!e->have_best) return RLS_E_NOT_FOUND;
    memcpy(best_table, e->best_table, sizeof e->best_table);
    *best = e->best;
    return RLS_OK;
}

static int search_rows(const rls_target *t, const rls_layer *layer, const int64_t *table,
                       const int32_t *rows, int32_t n_rows, int32_t objective, int64_t *best_table,
                       rls_summary *best, int64_t *candidates_evaluated, int plain) {
    if (t == NULL || layer == NULL || table == NULL || rows == NULL || best_table == NULL ||
        best == NULL || candidates_evaluated == NULL)
        return RLS_E_NULL;
    *candidates_evaluated = 0;
    if (n_rows < 2 || n_rows > 4 || !check_objective(objective)) return RLS_E_ARG;
    rls_layer_ctx ctx;
    int st = rls__layer_ctx(layer, &ctx);
    if (st != RLS_OK) return st;
    if (!entries_positive(table)) return RLS_E_TABLE;

    rows_engine e;
    e.t = t;
    e.ctx = &ctx;
    e.objective = objective;
    e.n = n_rows;
    e.budget = 0;
    e.work_limit = 0;
    e.plain = plain;
    for (int i = 0; i < n_rows; i++) {
        if (rows[i] < 0 || rows[i] >= RLS_ROWS) return RLS_E_ARG;
        for (int j = 0; j < i; j++)
            if (rows[j] == rows[i]) return RLS_E_ARG;
        e.rows[i] = rows[i];
    }
    sort_rows(e.rows, n_rows);
    memcpy(e.table, table, sizeof e.table);
    int64_t prod[RLS_COLS];
    for (int c = 0; c < RLS_COLS; c++) {
        prod[c] = 1;
        for (int i = 0; i < n_rows; i++) {
            if (__builtin_mul_overflow(prod[c], table[e.rows[i] * RLS_COLS + c], &prod[c]) ||
                prod[c] > ((int64_t)1 << 40))
                return RLS_E_OVERFLOW;
        }
    }
    st = engine_init(&e, prod);
    if (st != RLS_OK) return st;
    engine_prepare(&e, prod);
    st = engine_run(&e, best_table, best, candidates_evaluated);
    engine_free(&e);
    return st;
}

int rls_search_rows(const rls_target *t, const rls_layer *layer, const int64_t *table,
                    const int32_t *rows, int32_t n_rows, int32_t objective, int64_t *best_table,
                    rls_summary *best, int64_t *candidates_evaluated) {
    return search_rows(t, layer, table, rows, n_rows, objective, best_table, best, candidates_evaluated, 0);
}

int rls_search_rows_plain(const rls_target *t, const rls_layer *layer, const int64_t *table,
                          const int32_t *rows, int32_t n_rows, int32_t objective, int64_t *best_table,
                          rls_summary *best, int64_t *candidates_evaluated) {
    return search_rows(t, layer, table, rows, n_rows, objective, best_table, best, candidates_evaluated, 1);
}

int rls_exhaustive(const rls_target *t, const rls_layer *layer, int32_t objective, int64_t budget,
                   int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated,
                   int32_t *finished) {
    if (t == NULL || layer == NULL || best_table == NULL || best == NULL ||
        candidates_evaluated == NULL || finished == NULL)
        return RLS_E_NULL;
    *candidates_evaluated = 0;
    *finished = 0;
    if (!check_objective(objective)) return RLS_E_ARG;
    rls_layer_ctx ctx;
    int st = rls__layer_ctx(layer, &ctx);
    if (st != RLS_OK) return st;

    rows_engine e;
    e.t = t;
    e.ctx = &ctx;
    e.objective = objective;
    e.n = rls__writable_rows(t, e.rows);
    e.budget = budget;
    e.plain = 0;
    /* pruned nodes cost time too: bound them relative to the evaluation budget */
    e.work_limit = budget > 0 ? budget * 64 + 1000000 : 0;
    for (int i = 0; i < RLS_TABLE_SIZE; i++) e.table[i] = 1;
    st = engine_init(&e, ctx.l);
    if (st != RLS_OK) return st;
    engine_prepare(&e, ctx.l);
    st = engine_run(&e, best_table, best, candidates_evaluated);
    *finished = !e.stopped;
    engine_free(&e);
    return st;
}

/* ---- random sampling ------------------------------------------------------------------- */

typedef struct {
    const rls_target *t;
    const rls_layer_ctx *ctx;
    int n;
    int32_t rows[RLS_ROWS];
    rls_factor_list fl[RLS_COLS];
} sampler;

static void sampler_free(sampler *s) {
    for (int c = 0; c < RLS_COLS; c++) rls__factor_list_free(&s->fl[c]);
}

static int sampler_init(sampler *s, const rls_target *t, const rls_layer_ctx *ctx) {
    s->t = t;
    s->ctx = ctx;
    s->n = rls__writable_rows(t, s->rows);
    for (int c = 0; c < RLS_COLS; c++) {
        s->fl[c].f = NULL;
        s->fl[c].count = 0;
    }
    for (int c = 0; c < RLS_COLS; c++) {
        int st = rls__factor_list_new(ctx->l[c], s->n, &s->fl[c]);
        if (st != RLS_OK) {
            sampler_free(s);
            return st;
        }
    }
    return RLS_OK;
}

/* Draw one table column by column: up to 64 uniform draws among the column's factorizations
 * that keep the partial table feasible, else everything of that column in DRAM (the first
 * factorization). Returns 1 with a table that passes every rule, 0 if this draw failed. */
static int sampler_draw(const sampler *s, uint64_t *rng, int64_t *table) {
    for (int i = 0; i < RLS_TABLE_SIZE; i++) table[i] = 1;
    for (int c = 0; c < RLS_COLS; c++) {
        const rls_factor_list *fl = &s->fl[c];
        const uint32_t mask = (2u << c) - 1u;
        int ok = 0;
        for (int attempt = 0; attempt < 65 && !ok; attempt++) {
            const int64_t i = attempt < 64 ? (int64_t)rls__rng_below(rng, (uint64_t)fl->count) : 0;
            const int64_t *f = fl->f + i * fl->n;
            for (int k = 0; k < s->n; k++) table[s->rows[k] * RLS_COLS + c] = f[k];
            ok = rls__partial_ok(s->t, s->ctx, table, mask);
        }
        if (!ok) return 0;
    }
    return rls__check(s->t, s->ctx, table) == RLS_VALID;
}

int rls_writable_rows(const rls_target *t, int32_t *out) {
    if (t == NULL || out == NULL) return -1;
    return rls__writable_rows(t, out);
}

int rls_sample_valid(const rls_target *t, const rls_layer *layer, uint64_t *rng_state,
                     int64_t *table_out) {
    if (t == NULL || layer == NULL || rng_state == NULL || table_out == NULL) return RLS_E_NULL;
    rls_layer_ctx ctx;
    int st = rls__layer_ctx(layer, &ctx);
    if (st != RLS_OK) return st;
    sampler s;
    st = sampler_init(&s, t, &ctx);
    if (st != RLS_OK) return st;
    st = RLS_E_NOT_FOUND;
    for (int tries = 0; tries < 1000; tries++) {
        if (sampler_draw(&s, rng_state, table_out)) {
            st = RLS_OK;
            break;
        }
    }
    sampler_free(&s);
    return st;
}

int rls_random_search(const rls_target *t, const rls_layer *layer, int32_t objective,
                      uint64_t seed, int64_t budget, int64_t *best_table, rls_summary *best,
                      int64_t *candidates_evaluated) {
    if (t == NULL || layer == NULL || best_table == NULL || best == NULL ||
        candidates_evaluated == NULL)
        return RLS_E_NULL;
    *candidates_evaluated = 0;
    if (!check_objective(objective) || budget < 1) return RLS_E_ARG;
    rls_layer_ctx ctx;
    int st = rls__layer_ctx(layer, &ctx);
    if (st != RLS_OK) return st;
    sampler s;
    st = sampler_init(&s, t, &ctx);
    if (st != RLS_OK) return st;

    uint64_t rng = seed;
    int64_t table[RLS_TABLE_SIZE];
    double best_obj = HUGE_VAL;
    int have = 0;
    int64_t failures = 0;
    while (*candidates_evaluated < budget && failures < 1000 + budget) {
        if (!sampler_draw(&s, &rng, table)) {
            failures++;
            continue;
        }
        rls_summary sm;
        rls__evaluate_summary(t, &ctx, table, &sm);
        (*candidates_evaluated)++;
        if (!sm.valid) continue;
        const double obj = rls__objective(&sm, objective);
        if (!have || rls__better(obj, table, best_obj, best_table)) {
            have = 1;
            best_obj = obj;
            *best = sm;
            memcpy(best_table, table, sizeof table);
        }
    }
    sampler_free(&s);
    return have ? RLS_OK : RLS_E_NOT_FOUND;
}
