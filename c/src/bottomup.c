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
 * Bound pruning (exact speed-up, issue 14). In the (LB, GB] pair search every option's partial
 * cost is made of terms that depend only on the tile below the global buffer, t = (LB row) x
 * (PE rows) per column (the GB row is then g / t, the rows above are fixed): E_GB_UP, C_GB,
 * C_DRAM and the global buffer's access counts; of terms fixed within one temporal phase (one
 * spatial option): E_LB_UP, C_LB, C_MAC and the PE fan-out; and of E_LB_LO, those counts times
 * the option's own local-buffer tile; the static energies follow from the cycles. The t terms
 * are recorded from every evaluated option, the phase terms from the phase's first, and the
 * partial cost is recomposed from them in partial_cost's order, less a relative 1e-9 margin, as
 * a lower bound. A later option with a known t whose bound exceeds PM's cost,
 * and whose row-b degree (known without the cost model) cannot move SP, is counted but not
 * evaluated: it could change neither survivor. Twins replaying such an option evaluate it when
 * their PM/SP state needs its cost. A whole temporal phase is skipped the same way (without a
 * fixed mapping on either buffer): the local buffer's capacity test depends on the LB row d
 * alone, so over the divisor lattice of the candidate's GB row g the number of fitting d
 * dividing u and their largest row-b degree are prefix sums (maxima) computed once per pair
 * search; the phase's terms come from evaluating d = 1, and with the t terms at 0 (C_DRAM at its
 * floor, rls__dram_cycles_floor: it reads only the DRAM row and the per-column products below it,
 * which no option of the pair search changes) they bound every option of the phase. The floor
 * matters where static energy runs over DRAM cycles (tpu_v3: most of a layer's energy). A phase whose bound exceeds PM's cost and whose largest degree
 * cannot move SP is counted (its options, its odometer) and not walked. Survivors, tie-breaks
 * and candidate counts are those of the plain walk; used only without a budget, like the memo.
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

/* Twin memo (exact speed-up). The cost model sees the rows of one spatial level (X and Y) only
 * through their per-column products and their row products' product (the active units): two
 * spatial options that differ only in how each column's factor is split between a level's X and
 * Y rows ("twins") have the same valid temporal positions with the same costs and the same
 * row-b degrees. The first of them is evaluated and its (position, cost, degree) list kept; a
 * later twin replays that list in its own visiting order through the same PM/SP rules, without
 * calling the cost model. The survivors, their tie-breaks and the candidate counts are exactly
 * those of the evaluating walk. Used only without a budget (a budgeted walk may stop inside a
 * phase); the memo stops growing at MEMO_MAX_ENTRIES positions (later options are evaluated). */
#define MEMO_MAX_ENTRIES ((size_t)1 << 22) /* about 84 MB of pools */

typedef struct {
    uint64_t hash;
    size_t key_off;               /* into keys; the key length is fixed per pair search */
    size_t first, count;          /* slice of the position pools */
    int used;
    int done;                     /* the recording phase finished: summary below is set */
    int64_t max_deg;              /* largest degree of a valid position (-1: none) */
    double min_cost_at_max;       /* smallest cost among the positions of that degree */
} memo_slot;

typedef struct {
    memo_slot *slots;             /* open addressing, linear probing */
    size_t cap, n_slots;
    int64_t *keys;
    size_t keys_len, keys_cap;
    int key_len;
    int64_t *pos;                 /* pools: valid temporal positions (ascending per entry), */
    double *cost;                 /* their partial cost (HUGE_VAL: capacity-invalid), or a lower
                                   * bound on it where known[i] is 0 (not evaluated) */
    uint8_t *known;
    int32_t *deg;                 /* and their row-b degree (-1: invalid) */
    size_t len, pool_cap;
    int full;                     /* stop adding entries */
} twin_memo;

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
    /* f(v) of the factorization degree: a table for v <= deg_max, above it division by the
     * distinct primes of the column's layer value (row entries divide it). Neither costs more
     * than O(sqrt(layer value)) to prepare, so a huge layer value is not a huge setup. */
    int8_t *deg_term;
    int64_t deg_max;
    int64_t primes[RLS_COLS][16];
    int n_primes[RLS_COLS];
    /* during a temporal phase: product of the rows inside buffer b, per column */
    uint64_t base[RLS_COLS];
    /* scratch for the valid temporal positions */
    int64_t *pos;
    size_t pos_len, pos_cap;
    int status;
    twin_memo memo;
    int use_memo;                 /* unlimited allowance: twins replay */
    int64_t replayed;             /* options served by the memo (no cost-model call) */
    /* the memo entry being recorded by the current temporal phase (first index), or none */
    int recording;
    size_t rec_first;
    memo_slot *rec_slot;
    /* bound pruning (see the file comment): per tile t below buffer e (dense, by the divisor
     * indices of the candidate's row-e values), E_GB_UP and C_GB once an option with that t
     * was evaluated; per temporal phase, the terms fixed within it */
    int prune;
    int64_t gdiv[RLS_COLS][256];
    int gnd[RLS_COLS];
    size_t tstride[RLS_COLS];
    size_t t_n;
    double *t_energy, *t_cycles, *t_dram;
    double *t_count;              /* 3 per t: GB access counts (input, weight, output) as doubles */
    uint8_t *t_known;
    size_t tix[RLS_COLS][256];    /* this phase: divisor index of u -> stride-weighted t index */
    size_t cur_t;                 /* t index of the option in cur */
    int have_const;               /* this phase's fixed terms are known */
    double c_energy, c_lb, c_mac, pe_fan;
    double dram_floor;            /* <= every option's C_DRAM in this pair search */
    int64_t pruned;               /* options counted without evaluation */
    int phase_skip;               /* lattice below valid: whole phases may be skipped */
    int64_t *lat_cnt, *lat_deg;   /* per divisor x of g: fitting d | x, their largest degree */
    size_t lat_n;
} pair_search;

/* dense t memo at most this many tiles (8 + 8 + 1 bytes each); above it no pruning */
#define TMEMO_MAX_TILES ((size_t)1 << 18)

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

/* rls__facto_degree_term(v) for a divisor v of a value whose distinct primes (ascending) are p */
static int64_t degree_term_by_primes(int64_t v, const int64_t *p, int np) {
    int n = 0, last_mult = 0;
    for (int i = 0; i < np && v > 1; i++) {
        if (v % p[i] != 0) continue;
        last_mult = 0;
        while (v % p[i] == 0) {
            v /= p[i];
            n++;
            last_mult++;
        }
    }
    return last_mult == 1 ? n - 1 : n;
}

static int64_t degree_of_b(const pair_search *ps) {
    int64_t deg = 1;
    for (int c = 0; c < RLS_COLS; c++) {
        const int64_t v = ps->cur[ps->b * RLS_COLS + c];
        deg *= 1 + (v <= ps->deg_max ? ps->deg_term[v] : degree_term_by_primes(v, ps->primes[c], ps->n_primes[c]));
    }
    return deg;
}

/* distinct primes of v >= 1, ascending (at most 15 for v < 2^63) */
static int distinct_primes(int64_t v, int64_t *out) {
    int n = 0;
    for (int64_t i = 2; i <= v / i; i++) {
        if (v % i != 0) continue;
        out[n++] = i;
        while (v % i == 0) v /= i;
    }
    if (v > 1) out[n++] = v;
    return n;
}

/* PM/SP rules for the option in ps->cur with partial cost `cost` and row-b degree `deg`
 * (deg < 0: the option is invalid). */
static void apply_option(pair_search *ps, double cost, int64_t deg) {
    if (deg < 0) return;
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
    if (deg > ps->sp_degree) {
        ps->sp_degree = deg;
        memcpy(ps->sp, ps->cur, sizeof ps->sp);
    } else if (deg == ps->sp_degree && cost < ps->sp_cost) {
        ps->sp_cost = cost;
        memcpy(ps->sp, ps->cur, sizeof ps->sp);
    }
}

/* Could an option with this cost and degree change PM or SP? (Used to skip materialising a
 * replayed option's table; must not miss any case apply_option acts on.) */
static int may_change(const pair_search *ps, double cost, int64_t deg) {
    if (deg < 0) return 0;
    if (cost <= ps->pm_cost) return 1;
    if (ps->b == ROW_REG) return 0;
    return deg > ps->sp_degree || (deg == ps->sp_degree && cost < ps->sp_cost);
}

/* ---- bound pruning ------------------------------------------------------------------------ */

/* record the t-dependent and the phase-fixed terms of a valid evaluated option */
static void note_evaluated(pair_search *ps, const rls_result *r) {
    const size_t t = ps->cur_t;
    if (!ps->t_known[t]) {
        const int64_t *n = r->access_counts[RLS_GB];
        ps->t_known[t] = 1;
        ps->t_energy[t] = r->energy_pj[RLS_E_GB_UP];
        ps->t_cycles[t] = r->cycles[RLS_C_GB];
        ps->t_dram[t] = r->cycles[RLS_C_DRAM];
        ps->t_count[3 * t + RLS_INPUT] = (double)n[RLS_READ_I];
        ps->t_count[3 * t + RLS_WEIGHT] = (double)n[RLS_READ_W];
        ps->t_count[3 * t + RLS_OUTPUT] = (double)n[RLS_READ_O] + (double)n[RLS_WRITE_O];
    }
    if (!ps->have_const) {
        ps->have_const = 1;
        ps->c_energy = ps->t->mac.present ? 0.0 : r->energy_pj[RLS_E_LB_UP];
        ps->c_lb = r->cycles[RLS_C_LB];
        ps->c_mac = r->cycles[RLS_C_MAC];
        ps->pe_fan = (double)(r->active[RLS_A_PES] * r->active[RLS_A_CHIPS]);
    }
}

/* A lower bound on the partial cost of the option in cur (its t known, the phase's fixed terms
 * known), or -1 when none is at hand: the cost model's terms by its own expressions and in
 * partial_cost's order, less a relative 1e-9 margin that covers any last-bit difference. */
static double option_bound(const pair_search *ps) {
    const size_t t = ps->cur_t;
    if (!ps->have_const || !ps->t_known[t]) return -1.0;
    uint64_t pre[RLS_COLS], tile[3];
    for (int c = 0; c < RLS_COLS; c++) pre[c] = ps->base[c] * (uint64_t)ps->cur[ps->b * RLS_COLS + c];
    rls__tiles(pre, ps->ctx, tile);
    const double *n = ps->t_count + 3 * t, *e = ps->t->lb.e;
    const double lb_lo = ((double)tile[RLS_INPUT] * n[RLS_INPUT] * e[RLS_INPUT] +
                          (double)tile[RLS_WEIGHT] * n[RLS_WEIGHT] * e[RLS_WEIGHT] +
                          (double)tile[RLS_OUTPUT] * n[RLS_OUTPUT] * e[RLS_OUTPUT]) * ps->pe_fan;
    const rls_target *tg = ps->t;
    const double total_cycles = ps->c_mac + ps->c_lb + ps->t_cycles[t] + ps->t_dram[t];
    double energy = ps->t_energy[t] + lb_lo + tg->static_gb_per_cycle * total_cycles +
                    tg->static_mac_per_cycle * total_cycles;
    if (!tg->mac.present) energy += ps->c_energy + tg->static_lb_per_cycle * total_cycles;
    const double cycles = ps->t_cycles[t] + ps->c_lb + ps->c_mac;
    double bound;
    switch (ps->objective) {
    case RLS_OBJ_ENERGY: bound = energy; break;
    case RLS_OBJ_CYCLES: bound = cycles; break;
    default: bound = energy * cycles; break;
    }
    return bound * (1.0 - 1e-9);
}

static void consider(pair_search *ps, size_t i) {
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
    const double cost = r.valid ? partial_cost(ps, &r) : HUGE_VAL;
    const int64_t deg = !r.valid ? -1 : ps->b == ROW_REG ? 0 : degree_of_b(ps);
    if (ps->recording) {
        ps->memo.cost[ps->rec_first + i] = cost;
        ps->memo.deg[ps->rec_first + i] = (int32_t)deg;
        ps->memo.known[ps->rec_first + i] = 1;
    }
    if (ps->prune && r.valid) note_evaluated(ps, &r);
    apply_option(ps, cost, deg);
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

static void visit_temporal(pair_search *ps, const temporal_space *ts, size_t i) {
    int64_t idx[RLS_COLS];
    decode(ts, ps->pos[i], idx);
    for (int c = 0; c < RLS_COLS; c++) set_temporal(ps, ts, c, idx[c]);
    if (ps->prune) {
        size_t t = 0;
        for (int c = 0; c < RLS_COLS; c++) t += ps->tix[c][idx[c]];
        ps->cur_t = t;
        const double bound = option_bound(ps);
        if (bound >= 0.0) {
            /* temporal_ok held, so the option is valid unless a figure overflows: its degree is
             * known; an overflow only makes it invalid, which changes nothing either */
            const int64_t deg = degree_of_b(ps);
            if (!may_change(ps, bound, deg)) {
                ps->evaluated++;
                ps->pruned++;
                if (ps->recording) {
                    ps->memo.cost[ps->rec_first + i] = bound;
                    ps->memo.deg[ps->rec_first + i] = (int32_t)deg;
                    ps->memo.known[ps->rec_first + i] = 0;
                }
                return;
            }
        }
    }
    consider(ps, i);
}

/* ---- the twin memo ------------------------------------------------------------------------ */

static void memo_free(twin_memo *m) {
    free(m->slots);
    free(m->keys);
    free(m->pos);
    free(m->cost);
    free(m->deg);
    free(m->known);
    memset(m, 0, sizeof *m);
}

/* forget every entry (a new pair search), keeping the allocations */
static void memo_clear(twin_memo *m, int key_len) {
    if (m->slots != NULL) memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->n_slots = 0;
    m->keys_len = 0;
    m->len = 0;
    m->full = 0;
    m->key_len = key_len;
}

/* The twin-invariant key of the spatial option in ps->cur: rows b..e, with each spatial level's
 * X row holding the per-column product of its X and Y rows and the Y row holding 1. */
static void memo_key(const pair_search *ps, int64_t *key) {
    int n = 0;
    for (int r = ps->b; r <= ps->e; r++)
        for (int c = 0; c < RLS_COLS; c++) key[n++] = ps->cur[r * RLS_COLS + c];
    static const int xrows[3] = {ROW_MAC_X, ROW_PE_X, ROW_CHIP_X};
    for (int k = 0; k < 3; k++) {
        const int x = xrows[k];
        if (x <= ps->b || x + 1 >= ps->e) continue;
        for (int c = 0; c < RLS_COLS; c++) {
            key[(x - ps->b) * RLS_COLS + c] *= key[(x + 1 - ps->b) * RLS_COLS + c];
            key[(x + 1 - ps->b) * RLS_COLS + c] = 1;
        }
    }
}

static uint64_t memo_hash(const int64_t *key, int n) {
    uint64_t h = 0x243F6A8885A308D3ull;
    for (int i = 0; i < n; i++) {
        h ^= (uint64_t)key[i] + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
        h *= 0xBF58476D1CE4E5B9ull;
    }
    return h ^ (h >> 31);
}

static memo_slot *memo_find(twin_memo *m, const int64_t *key, uint64_t h) {
    if (m->cap == 0) return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        memo_slot *s = &m->slots[i];
        if (!s->used) return NULL;
        if (s->hash == h && memcmp(m->keys + s->key_off, key, (size_t)m->key_len * sizeof *key) == 0) return s;
    }
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap : 1024;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (np == NULL) return 0;
    *p = np;
    *cap = nc;
    return 1;
}

/* Add an entry for key with n positions (copied from ps->pos); returns its first pool index, or
 * (size_t)-1 when the memo is full or out of memory (the phase is then evaluated unrecorded). */
static size_t memo_add(pair_search *ps, const int64_t *key, uint64_t h, size_t n) {
    twin_memo *m = &ps->memo;
    ps->rec_slot = NULL;
    if (m->full) return (size_t)-1;
    if (m->len + n > MEMO_MAX_ENTRIES) {
        m->full = 1;
        return (size_t)-1;
    }
    if ((m->n_slots + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 4096;
        memo_slot *ns = calloc(nc, sizeof *ns);
        if (ns == NULL) {
            m->full = 1;
            return (size_t)-1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].used) continue;
            size_t j = m->slots[i].hash & (nc - 1);
            while (ns[j].used) j = (j + 1) & (nc - 1);
            ns[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->cap = nc;
    }
    size_t pc = m->pool_cap, pc2 = m->pool_cap, pc3 = m->pool_cap, pc4 = m->pool_cap;
    if (!grow((void **)&m->keys, &m->keys_cap, m->keys_len + (size_t)m->key_len, sizeof *m->keys) ||
        !grow((void **)&m->pos, &pc, m->len + n, sizeof *m->pos) ||
        !grow((void **)&m->cost, &pc2, m->len + n, sizeof *m->cost) ||
        !grow((void **)&m->deg, &pc3, m->len + n, sizeof *m->deg) ||
        !grow((void **)&m->known, &pc4, m->len + n, sizeof *m->known)) {
        m->full = 1;
        return (size_t)-1;
    }
    /* the four pools grow in step (same start and rule), so pc == pc2 == pc3 */
    m->pool_cap = pc;
    size_t j = h & (m->cap - 1);
    while (m->slots[j].used) j = (j + 1) & (m->cap - 1);
    memo_slot *s = &m->slots[j];
    s->used = 1;
    s->done = 0;
    s->hash = h;
    ps->rec_slot = s;
    s->key_off = m->keys_len;
    s->first = m->len;
    s->count = n;
    memcpy(m->keys + m->keys_len, key, (size_t)m->key_len * sizeof *key);
    m->keys_len += (size_t)m->key_len;
    memcpy(m->pos + m->len, ps->pos, n * sizeof *ps->pos);
    for (size_t i = 0; i < n; i++) {
        m->cost[m->len + i] = HUGE_VAL;
        m->deg[m->len + i] = -1;
        m->known[m->len + i] = 1;
    }
    m->n_slots++;
    const size_t first = m->len;
    m->len += n;
    return first;
}

/* a twin's visit of the entry's i-th position: the recorded cost and degree, no evaluation */
static void replay_temporal(pair_search *ps, const temporal_space *ts, const memo_slot *s, size_t i) {
    ps->evaluated++;
    ps->replayed++;
    const size_t k = s->first + i;
    double cost = ps->memo.cost[k];
    int64_t deg = ps->memo.deg[k];
    if (!may_change(ps, cost, deg)) return; /* cost: exact, or a lower bound (known 0) */
    int64_t idx[RLS_COLS];
    decode(ts, ps->memo.pos[k], idx);
    for (int c = 0; c < RLS_COLS; c++) set_temporal(ps, ts, c, idx[c]);
    if (!ps->memo.known[k]) {
        /* a pruned option whose cost this state needs: evaluate it now (once) */
        rls_result r;
        rls__evaluate_trusted(ps->t, ps->ctx, ps->cur, &r, 1);
        cost = r.valid ? partial_cost(ps, &r) : HUGE_VAL;
        deg = r.valid ? degree_of_b(ps) : -1;
        ps->memo.cost[k] = cost;
        ps->memo.deg[k] = (int32_t)deg;
        ps->memo.known[k] = 1;
    }
    apply_option(ps, cost, deg);
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

/* index of u (a divisor of the candidate's row e, per column) in the dense lattice */
static size_t lattice_index(const pair_search *ps, const int64_t *u) {
    size_t x = 0;
    for (int c = 0; c < RLS_COLS; c++) {
        int lo = 0, hi = ps->gnd[c] - 1;
        while (lo < hi) {
            const int mid = (lo + hi) / 2;
            if (ps->gdiv[c][mid] < u[c]) lo = mid + 1;
            else hi = mid;
        }
        x += (size_t)lo * ps->tstride[c];
    }
    return x;
}

/* Before walking a phase (the spatial option in cur, rows b = 1 and e = u): evaluate d = 1 for
 * the phase's fixed terms (they also serve option_bound); when no option of the phase can move
 * PM or SP, count its options and return 1 (the caller then only advances the odometer). A
 * phase after a candidate's first draws one position more than it has (the reference's odometer):
 * position `again` (>= 0) is then visited twice and counted twice when valid. */
static int skip_phase(pair_search *ps, const temporal_space *ts, int64_t again) {
    rls_result r;
    rls__evaluate_trusted(ps->t, ps->ctx, ps->cur, &r, 1);
    if (!r.valid) return 0;
    const rls_target *tg = ps->t;
    ps->have_const = 1;
    ps->c_energy = tg->mac.present ? 0.0 : r.energy_pj[RLS_E_LB_UP];
    ps->c_lb = r.cycles[RLS_C_LB];
    ps->c_mac = r.cycles[RLS_C_MAC];
    ps->pe_fan = (double)(r.active[RLS_A_PES] * r.active[RLS_A_CHIPS]);
    const size_t x = lattice_index(ps, ts->u);
    const int64_t count = ps->lat_cnt[x], max_deg = ps->lat_deg[x];
    /* partial_cost with the t terms (E_GB_UP, E_LB_LO, C_GB) at 0 and C_DRAM at its floor, which
     * every option of the pair search shares (the static energies run over the total cycles,
     * C_MAC + C_LB + C_GB + C_DRAM in the model's order; on big arrays DRAM cycles dominate) */
    const double cycles0 = ps->c_mac + ps->c_lb + 0.0 + ps->dram_floor;
    double energy = tg->static_gb_per_cycle * cycles0 + tg->static_mac_per_cycle * cycles0;
    if (!tg->mac.present) energy += ps->c_energy + tg->static_lb_per_cycle * cycles0;
    const double cycles = ps->c_lb + ps->c_mac;
    double bound;
    switch (ps->objective) {
    case RLS_OBJ_ENERGY: bound = energy; break;
    case RLS_OBJ_CYCLES: bound = cycles; break;
    default: bound = energy * cycles; break;
    }
    bound *= 1.0 - 1e-9;
    const int sp_fixed = max_deg < ps->sp_degree || (max_deg == ps->sp_degree && bound >= ps->sp_cost);
    if (count > 0 && !(bound > ps->pm_cost && sp_fixed)) return 0;
    int64_t visits = count;
    if (again >= 0 && count > 0) {
        int64_t idx[RLS_COLS];
        uint64_t pre[RLS_COLS];
        decode(ts, again, idx);
        for (int c = 0; c < RLS_COLS; c++) {
            uint64_t below = 1;
            for (int r = 0; r < ps->b; r++) below *= (uint64_t)ps->cur[r * RLS_COLS + c];
            pre[c] = below * (uint64_t)ts->div[c][idx[c]];
        }
        visits += rls__level_fits(buffer_level(ps->t, ps->b), ps->ctx, pre);
    }
    ps->evaluated += visits;
    ps->pruned += visits;
    return 1;
}

/* The lattice of the phase skip (see the file comment), over the divisors of cand's row e:
 * lat_cnt[x] = fitting d dividing x, lat_deg[x] = their largest row-b degree (-1: none).
 * Returns 0 when it cannot be built (then no phase is skipped). */
static int build_lattice(pair_search *ps, const int64_t *cand, size_t n) {
    if (n > ps->lat_n) {
        free(ps->lat_cnt);
        free(ps->lat_deg);
        ps->lat_cnt = malloc(n * sizeof *ps->lat_cnt);
        ps->lat_deg = malloc(n * sizeof *ps->lat_deg);
        ps->lat_n = ps->lat_cnt && ps->lat_deg ? n : 0;
        if (ps->lat_n == 0) return 0;
    }
    uint64_t base[RLS_COLS];
    for (int c = 0; c < RLS_COLS; c++) {
        base[c] = 1;
        for (int r = 0; r < ps->b; r++) base[c] *= (uint64_t)cand[r * RLS_COLS + c];
    }
    const rls_temporal *L = buffer_level(ps->t, ps->b);
    for (size_t x = 0; x < n; x++) {
        uint64_t pre[RLS_COLS];
        int64_t deg = 1;
        for (int c = 0; c < RLS_COLS; c++) {
            const int64_t v = ps->gdiv[c][(x / ps->tstride[c]) % (size_t)ps->gnd[c]];
            pre[c] = base[c] * (uint64_t)v;
            deg *= 1 + (v <= ps->deg_max ? ps->deg_term[v]
                                         : degree_term_by_primes(v, ps->primes[c], ps->n_primes[c]));
        }
        const int fits = rls__level_fits(L, ps->ctx, pre);
        ps->lat_cnt[x] = fits;
        ps->lat_deg[x] = fits ? deg : -1;
    }
    /* per column, sums (maxima) over the divisors of each entry's value; descending x reads the
     * entries of smaller index (proper divisors) before this column's pass updates them */
    for (int c = 0; c < RLS_COLS; c++) {
        if (ps->gnd[c] == 1) continue;
        for (size_t x = n; x-- > 0;) {
            const int i = (int)((x / ps->tstride[c]) % (size_t)ps->gnd[c]);
            int64_t cnt = ps->lat_cnt[x], deg = ps->lat_deg[x];
            for (int j = 0; j < i; j++) {
                if (ps->gdiv[c][i] % ps->gdiv[c][j] != 0) continue;
                const size_t y = x - (size_t)(i - j) * ps->tstride[c];
                cnt += ps->lat_cnt[y];
                if (ps->lat_deg[y] > deg) deg = ps->lat_deg[y];
            }
            ps->lat_cnt[x] = cnt;
            ps->lat_deg[x] = deg;
        }
    }
    return 1;
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

    /* a twin of an option already walked: replay its positions in this phase's order */
    int64_t key[RLS_TABLE_SIZE];
    uint64_t h = 0;
    if (ps->use_memo) {
        memo_key(ps, key);
        h = memo_hash(key, ps->memo.key_len);
        const memo_slot *s = memo_find(&ps->memo, key, h);
        if (s != NULL && s->done) {
            const int64_t *pos = ps->memo.pos + s->first;
            /* PM cannot change: every position ties an earlier one in (cost, row-e product,
             * irrelevant product), and PM only moves to a strictly smaller key. SP can change only
             * through a position of degree >= sp_degree (then == sp_degree: the original walk
             * already raised sp_degree to max_deg) with a cost below sp_cost. Otherwise only
             * count the visits. */
            const int skip = ps->b == ROW_REG || s->max_deg < ps->sp_degree ||
                             (s->max_deg == ps->sp_degree && !(s->min_cost_at_max < ps->sp_cost));
            if (skip) {
                const int64_t end1 = p0 + calls < total ? p0 + calls : total;
                int64_t visits = (int64_t)(lower_bound(pos, s->count, end1) - lower_bound(pos, s->count, p0));
                if (p0 + calls > total) visits += (int64_t)lower_bound(pos, s->count, p0 + calls - total);
                ps->evaluated += visits;
                ps->replayed += visits;
                decode(&ts, (p0 + calls - 1) % total, ps->tstate);
                for (int c = 0; c < RLS_COLS; c++) {
                    ps->cur[ps->b * RLS_COLS + c] = 1;
                    ps->cur[ps->e * RLS_COLS + c] = ts.u[c];
                }
                return;
            }
            const int64_t end1 = p0 + calls < total ? p0 + calls : total;
            for (size_t i = lower_bound(pos, s->count, p0); i < s->count && pos[i] < end1; i++)
                replay_temporal(ps, &ts, s, i);
            if (p0 + calls > total) {
                const int64_t end2 = p0 + calls - total;
                for (size_t i = 0; i < s->count && pos[i] < end2; i++) replay_temporal(ps, &ts, s, i);
            }
            decode(&ts, (p0 + calls - 1) % total, ps->tstate);
            for (int c = 0; c < RLS_COLS; c++) {
                ps->cur[ps->b * RLS_COLS + c] = 1;
                ps->cur[ps->e * RLS_COLS + c] = ts.u[c];
            }
            return;
        }
    }

    if (ps->prune) {
        /* t = (g / u) * d per column, d a divisor of u: its index among g's divisors */
        ps->have_const = 0;
        for (int c = 0; c < RLS_COLS; c++) {
            const int64_t spatial = ps->gdiv[c][ps->gnd[c] - 1] / ts.u[c];
            int lo = 0;
            for (int64_t j = 0; j < ts.ndiv[c]; j++) {
                const int64_t tv = spatial * ts.div[c][j]; /* ascending in j */
                while (lo < ps->gnd[c] && ps->gdiv[c][lo] < tv) lo++;
                ps->tix[c][j] = (size_t)lo * ps->tstride[c];
            }
        }
        if (ps->phase_skip && skip_phase(ps, &ts, calls > total ? p0 : -1)) {
            decode(&ts, (p0 + calls - 1) % total, ps->tstate);
            for (int c = 0; c < RLS_COLS; c++) {
                ps->cur[ps->b * RLS_COLS + c] = 1;
                ps->cur[ps->e * RLS_COLS + c] = ts.u[c];
            }
            return;
        }
    }
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
    ps->recording = 0;
    if (ps->use_memo) {
        const size_t first = memo_add(ps, key, h, ps->pos_len);
        if (first != (size_t)-1) {
            ps->recording = 1;
            ps->rec_first = first;
        }
    }

    /* visit positions p0 .. p0+calls-1 (mod total) */
    const int64_t end1 = p0 + calls < total ? p0 + calls : total;
    for (size_t i = lower_bound(ps->pos, ps->pos_len, p0); i < ps->pos_len && ps->pos[i] < end1; i++)
        visit_temporal(ps, &ts, i);
    if (p0 + calls > total) {
        const int64_t end2 = p0 + calls - total; /* <= p0 + 1 */
        for (size_t i = 0; i < ps->pos_len && ps->pos[i] < end2; i++) visit_temporal(ps, &ts, i);
    }
    if (ps->recording && ps->status == RLS_OK) {
        memo_slot *s = ps->rec_slot;
        s->max_deg = -1;
        s->min_cost_at_max = HUGE_VAL;
        for (size_t i = 0; i < s->count; i++) {
            const int64_t d = ps->memo.deg[s->first + i];
            const double c = ps->memo.cost[s->first + i];
            if (d > s->max_deg) {
                s->max_deg = d;
                s->min_cost_at_max = c;
            } else if (d == s->max_deg && c < s->min_cost_at_max) {
                s->min_cost_at_max = c;
            }
        }
        s->done = 1;
    }
    ps->recording = 0;
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
    ps->use_memo = ps->allowance < 0;
    memo_clear(&ps->memo, (ps->e - ps->b + 1) * RLS_COLS);
    ps->prune = 0;
    ps->phase_skip = 0;
    if (ps->use_memo && ps->b == ROW_LB && ps->e == ROW_GB) {
        size_t n = 1;
        int ok = 1;
        for (int c = RLS_COLS - 1; c >= 0 && ok; c--) {
            ps->gnd[c] = rls__divisors(cand[ps->e * RLS_COLS + c], ps->gdiv[c], 256);
            ok = ps->gnd[c] > 0 && n <= TMEMO_MAX_TILES / (size_t)ps->gnd[c];
            if (ok) {
                ps->tstride[c] = n;
                n *= (size_t)ps->gnd[c];
            }
        }
        if (ok && n > ps->t_n) {
            free(ps->t_energy);
            free(ps->t_cycles);
            free(ps->t_known);
            free(ps->t_count);
            free(ps->t_dram);
            ps->t_dram = malloc(n * sizeof *ps->t_dram);
            ps->t_energy = malloc(n * sizeof *ps->t_energy);
            ps->t_cycles = malloc(n * sizeof *ps->t_cycles);
            ps->t_count = malloc(3 * n * sizeof *ps->t_count);
            ps->t_known = malloc(n);
            ps->t_n = ps->t_energy && ps->t_cycles && ps->t_dram && ps->t_count && ps->t_known ? n : 0;
            ok = ps->t_n > 0;
        }
        if (ok) {
            memset(ps->t_known, 0, n);
            ps->prune = 1;
            ps->dram_floor = rls__dram_cycles_floor(ps->t, ps->ctx, cand);
        }
        ps->phase_skip = ok && !(ps->t->lb.has_fixed_mapping && ps->t->lb.present) &&
                         !(ps->t->gb.has_fixed_mapping && ps->t->gb.present) && build_lattice(ps, cand, n);
    }

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
    for (int c = 0; c < RLS_COLS; c++) {
        if (ctx.l[c] > ps.deg_max) ps.deg_max = ctx.l[c];
        ps.n_primes[c] = distinct_primes(ctx.l[c], ps.primes[c]);
    }
    if (ps.deg_max > 4096) ps.deg_max = 4096;
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
    free(ps.t_energy);
    free(ps.t_cycles);
    free(ps.t_known);
    free(ps.t_count);
    free(ps.t_dram);
    free(ps.lat_cnt);
    free(ps.lat_deg);
    memo_free(&ps.memo);
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
