/*
 * dataflow.c - the cost model and the searches with the buffers' dataflows given per call
 * (rls_*_df in rls.h) instead of taken from the built target.
 *
 * A buffer's dataflow only enters the access counts of the next level outward (spec §4.2) and the
 * bottom-up heuristic's tie-break; validity never depends on it. So a call with other dataflows
 * is the same computation on the same target with those two fields changed: each entry point
 * checks the dataflows, takes a private copy of the (plain, pointer-free) built target on the
 * stack with them substituted, and runs the existing implementation on that copy. The caller's
 * target is never written, so a target stays immutable and shareable between threads, and no
 * target is built or allocated per call.
 */
#include <string.h>

#include "internal.h"

/* A dataflow may be held in buffer L unless L bypasses its stationary type (IS -> input,
 * WS -> weight, OS -> output; spec §1). NONE is always allowed. */
static int dataflow_allowed(const rls_temporal *L, int32_t df) {
    if (df < RLS_DF_NONE || df > RLS_DF_OS) return 0;
    if (df == RLS_DF_NONE || !L->present) return 1;
    return (L->bypass_mask & (1u << (df - 1))) == 0;
}

/* The target the call works on: t itself when dataflows is NULL, else *scratch = a copy of t
 * with dataflows[0] on the local buffer and dataflows[1] on a present global buffer (an absent
 * global buffer's entry is ignored, as rls_target_new ignores the dataflow of an absent level). */
static int with_dataflows(const rls_target *t, const int32_t *dataflows, rls_target *scratch,
                          const rls_target **use) {
    *use = t;
    if (dataflows == NULL) return RLS_OK;
    if (!dataflow_allowed(&t->lb, dataflows[0]) || !dataflow_allowed(&t->gb, dataflows[1]))
        return RLS_E_ARG;
    memcpy(scratch, t, sizeof *scratch);
    scratch->lb.dataflow = dataflows[0];
    if (scratch->gb.present) scratch->gb.dataflow = dataflows[1];
    *use = scratch;
    return RLS_OK;
}

int rls_dataflows_check(const rls_target *target, const int32_t *dataflows) {
    if (target == NULL || dataflows == NULL) return RLS_E_NULL;
    rls_target scratch;
    const rls_target *use;
    return with_dataflows(target, dataflows, &scratch, &use);
}

int rls_evaluate_df(const rls_target *target, const int32_t *dataflows, const rls_layer *layer,
                    const int64_t *table, rls_result *out) {
    if (target == NULL) return RLS_E_NULL;
    rls_target scratch;
    const rls_target *use;
    const int st = with_dataflows(target, dataflows, &scratch, &use);
    if (st != RLS_OK) return st;
    return rls_evaluate(use, layer, table, out);
}

int rls_evaluate_batch_df(const rls_target *target, const int32_t *dataflows, const rls_layer *layer,
                          const int64_t *tables, size_t n, rls_summary *out) {
    if (target == NULL) return RLS_E_NULL;
    rls_target scratch;
    const rls_target *use;
    const int st = with_dataflows(target, dataflows, &scratch, &use);
    if (st != RLS_OK) return st;
    return rls_evaluate_batch(use, layer, tables, n, out);
}

/* rls_search_rows (plain = 0) or rls_search_rows_plain (1) with the given dataflows */
static int search_rows_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                          const int64_t *table, const int32_t *rows, int32_t n_rows, int32_t objective,
                          int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated, int plain) {
    if (t == NULL) return RLS_E_NULL;
    rls_target scratch;
    const rls_target *use;
    const int st = with_dataflows(t, dataflows, &scratch, &use);
    if (st != RLS_OK) return st;
    return (plain ? rls_search_rows_plain : rls_search_rows)(use, layer, table, rows, n_rows, objective,
                                                             best_table, best, candidates_evaluated);
}

int rls_search_rows_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                       const int64_t *table, const int32_t *rows, int32_t n_rows, int32_t objective,
                       int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated) {
    return search_rows_df(t, dataflows, layer, table, rows, n_rows, objective, best_table, best,
                          candidates_evaluated, 0);
}

int rls_search_rows_plain_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                             const int64_t *table, const int32_t *rows, int32_t n_rows, int32_t objective,
                             int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated) {
    return search_rows_df(t, dataflows, layer, table, rows, n_rows, objective, best_table, best,
                          candidates_evaluated, 1);
}

int rls_bottom_up_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                     int32_t objective, int64_t budget, int64_t *best_table, rls_summary *best,
                     int64_t *candidates_evaluated, int32_t *finished) {
    if (t == NULL) return RLS_E_NULL;
    rls_target scratch;
    const rls_target *use;
    const int st = with_dataflows(t, dataflows, &scratch, &use);
    if (st != RLS_OK) return st;
    return rls_bottom_up(use, layer, objective, budget, best_table, best, candidates_evaluated,
                         finished);
}

int rls_exhaustive_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                      int32_t objective, int64_t budget, int64_t *best_table, rls_summary *best,
                      int64_t *candidates_evaluated, int32_t *finished) {
    if (t == NULL) return RLS_E_NULL;
    rls_target scratch;
    const rls_target *use;
    const int st = with_dataflows(t, dataflows, &scratch, &use);
    if (st != RLS_OK) return st;
    return rls_exhaustive(use, layer, objective, budget, best_table, best, candidates_evaluated,
                          finished);
}

int rls_random_search_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                         int32_t objective, uint64_t seed, int64_t budget, int64_t *best_table,
                         rls_summary *best, int64_t *candidates_evaluated) {
    if (t == NULL) return RLS_E_NULL;
    rls_target scratch;
    const rls_target *use;
    const int st = with_dataflows(t, dataflows, &scratch, &use);
    if (st != RLS_OK) return st;
    return rls_random_search(use, layer, objective, seed, budget, best_table, best,
                             candidates_evaluated);
}
