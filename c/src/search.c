/*
 * search.c - brute-force searches over the scheduling table: a selected set of rows
 * (rls_search_rows, the paper's local optimizer), every writable row (rls_exhaustive), and
 * random sampling of valid tables (rls_random_search, rls_sample_valid).
 *
 * All of them enumerate, per column, the ordered factorizations of the column's product over
 * the searched rows, column by column (K first), and prune a partial assignment as soon as
 * rls__partial_ok says it cannot become valid: tile sizes and row products only grow with the
 * entries, and the columns not assigned yet hold 1 in the searched rows while checking.
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

static void engine_leaf(rows_engine *e) {
    if (e->budget > 0 && e->evaluated >= e->budget) {
        e->stopped = 1;
        return;
    }
    rls_summary s;
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
        if (rls__partial_ok(e->t, e->ctx, e->table, mask)) engine_dfs(e, col + 1);
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

int rls_search_rows(const rls_target *t, const rls_layer *layer, const int64_t *table,
                    const int32_t *rows, int32_t n_rows, int32_t objective, int64_t *best_table,
                    rls_summary *best, int64_t *candidates_evaluated) {
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
    st = engine_run(&e, best_table, best, candidates_evaluated);
    engine_free(&e);
    return st;
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
    /* pruned nodes cost time too: bound them relative to the evaluation budget */
    e.work_limit = budget > 0 ? budget * 64 + 1000000 : 0;
    for (int i = 0; i < RLS_TABLE_SIZE; i++) e.table[i] = 1;
    st = engine_init(&e, ctx.l);
    if (st != RLS_OK) return st;
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
