/*
 * test_dataflow.c - the per-call dataflow entry points (rls_*_df): for every allowed dataflow
 * pair, on random valid tables, each gives exactly what its plain counterpart gives on a target
 * built with that pair; NULL means the target's own dataflows; bypassed stationary types and
 * out-of-range values are refused with RLS_E_ARG; the shared target is never modified. Built and
 * run by tests/native/test_c_library.py (also under ASan/UBSan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rls.h"
#include "testkit.h"

static const rls_layer LAYERS[] = {
    {16, 1, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1},
    {256, 1, 14, 14, 1024, 1, 1, 1, 1, 1, 1, 1},
    {32, 1, 28, 28, 32, 3, 3, 32, 2, 2, 1, 1},
    {1000, 1, 1, 1, 2048, 1, 1, 1, 0, 0, 1, 1},
};

static int same_result(const rls_result *a, const rls_result *b) {
    return memcmp(a, b, sizeof *a) == 0;
}

static void check_pair(const rls_target_desc *base_desc, const rls_target *base, int32_t lb, int32_t gb,
                       uint64_t *rng) {
    rls_target_desc d = *base_desc;
    d.local_buffer.dataflow = lb;
    d.global_buffer.dataflow = gb;
    rls_target *built = NULL;
    CHECK(rls_target_new(&d, &built) == RLS_OK, "build %d/%d", lb, gb);
    if (built == NULL) return;
    const int32_t df[2] = {lb, gb};
    CHECK(rls_dataflows_check(base, df) == RLS_OK, "check %d/%d", lb, gb);
    for (size_t li = 0; li < sizeof LAYERS / sizeof LAYERS[0]; li++) {
        const rls_layer *ly = &LAYERS[li];
        enum { N = 40 };
        int64_t tables[N * RLS_TABLE_SIZE];
        for (int i = 0; i < N; i++)
            CHECK(rls_sample_valid(base, ly, rng, tables + i * RLS_TABLE_SIZE) == RLS_OK, "sample");
        for (int i = 0; i < N; i++) {
            rls_result want, got;
            memset(&want, 0x5a, sizeof want); /* padding compared too: fill both the same */
            memset(&got, 0x5a, sizeof got);
            CHECK(rls_evaluate(built, ly, tables + i * RLS_TABLE_SIZE, &want) == RLS_OK, "eval");
            CHECK(rls_evaluate_df(base, df, ly, tables + i * RLS_TABLE_SIZE, &got) == RLS_OK, "eval df");
            CHECK(same_result(&want, &got), "layer %zu table %d df %d/%d: results differ", li, i, lb, gb);
        }
        rls_summary sw[N], sg[N];
        CHECK(rls_evaluate_batch(built, ly, tables, N, sw) == RLS_OK, "batch");
        CHECK(rls_evaluate_batch_df(base, df, ly, tables, N, sg) == RLS_OK, "batch df");
        for (int i = 0; i < N; i++)
            CHECK(sw[i].valid == sg[i].valid && sw[i].energy_pj == sg[i].energy_pj &&
                      sw[i].cycles == sg[i].cycles, "batch %d differs", i);

        if (li != 0) continue; /* the searches: one small layer is enough (and keeps ASan fast) */
        for (int obj = RLS_OBJ_ENERGY; obj <= RLS_OBJ_CYCLES; obj++) {
            int64_t tw[RLS_TABLE_SIZE], tg[RLS_TABLE_SIZE], cw = 0, cg = 0;
            rls_summary bw, bg;
            int32_t fw = 0, fg = 0;
            int sw_ = rls_bottom_up(built, ly, obj, 0, tw, &bw, &cw, &fw);
            int sg_ = rls_bottom_up_df(base, df, ly, obj, 0, tg, &bg, &cg, &fg);
            CHECK(sw_ == sg_, "bottom-up status");
            if (sw_ == RLS_OK && sg_ == RLS_OK)
                CHECK(memcmp(tw, tg, sizeof tw) == 0 && bw.energy_pj == bg.energy_pj && cw == cg,
                      "bottom-up %zu df %d/%d obj %d differs", li, lb, gb, obj);
            const int32_t rows[3] = {3, 6, 9};
            sw_ = rls_search_rows(built, ly, tables, rows, 3, obj, tw, &bw, &cw);
            sg_ = rls_search_rows_df(base, df, ly, tables, rows, 3, obj, tg, &bg, &cg);
            CHECK(sw_ == sg_ && memcmp(tw, tg, sizeof tw) == 0 && bw.cycles == bg.cycles && cw == cg,
                  "search_rows %zu df %d/%d differs", li, lb, gb);
            sw_ = rls_random_search(built, ly, obj, 7, 50, tw, &bw, &cw);
            sg_ = rls_random_search_df(base, df, ly, obj, 7, 50, tg, &bg, &cg);
            CHECK(sw_ == sg_ && memcmp(tw, tg, sizeof tw) == 0 && bw.energy_pj == bg.energy_pj,
                  "random %zu df %d/%d differs", li, lb, gb);
            sw_ = rls_exhaustive(built, ly, obj, 300, tw, &bw, &cw, &fw);
            sg_ = rls_exhaustive_df(base, df, ly, obj, 300, tg, &bg, &cg, &fg);
            CHECK(sw_ == sg_ && (sw_ != RLS_OK || (memcmp(tw, tg, sizeof tw) == 0 && fw == fg)),
                  "exhaustive %zu df %d/%d differs", li, lb, gb);
        }
    }
    rls_target_free(built);
}

int main(void) {
    rls_target_desc desc;
    eyeriss_desc(&desc); /* LB WS, GB OS with weights bypassed */
    rls_target *base = NULL;
    CHECK(rls_target_new(&desc, &base) == RLS_OK, "build eyeriss");
    if (base == NULL) return TESTKIT_REPORT();
    uint64_t rng = 12345;

    for (int32_t lb = RLS_DF_NONE; lb <= RLS_DF_OS; lb++)
        for (int32_t gb = RLS_DF_NONE; gb <= RLS_DF_OS; gb++) {
            if (gb == RLS_DF_WS) continue; /* weights bypass the GB */
            check_pair(&desc, base, lb, gb, &rng);
        }

    /* NULL = the target's own dataflows */
    const rls_layer *ly = &LAYERS[0];
    int64_t tb[RLS_TABLE_SIZE];
    CHECK(rls_sample_valid(base, ly, &rng, tb) == RLS_OK, "sample");
    rls_result a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    CHECK(rls_evaluate(base, ly, tb, &a) == RLS_OK && rls_evaluate_df(base, NULL, ly, tb, &b) == RLS_OK,
          "NULL dataflows");
    CHECK(same_result(&a, &b), "NULL dataflows differ from the plain call");
    const rls_result plain = a;
    const int32_t own[2] = {RLS_DF_WS, RLS_DF_OS};
    memset(&b, 0, sizeof b);
    CHECK(rls_evaluate_df(base, own, ly, tb, &b) == RLS_OK && same_result(&a, &b), "own pair");

    /* refusals */
    const int32_t ws_gb[2] = {RLS_DF_WS, RLS_DF_WS}; /* GB bypasses weights */
    const int32_t out_of_range[2] = {4, RLS_DF_OS};
    const int32_t negative[2] = {RLS_DF_IS, -1};
    rls_summary s;
    CHECK(rls_evaluate_df(base, ws_gb, ly, tb, &b) == RLS_E_ARG, "WS on a weight-bypassing GB");
    CHECK(rls_dataflows_check(base, ws_gb) == RLS_E_ARG, "check WS GB");
    CHECK(rls_evaluate_batch_df(base, out_of_range, ly, tb, 1, &s) == RLS_E_ARG, "out of range");
    CHECK(rls_dataflows_check(base, negative) == RLS_E_ARG, "negative");
    CHECK(rls_dataflows_check(NULL, own) == RLS_E_NULL, "NULL target");
    CHECK(rls_dataflows_check(base, NULL) == RLS_E_NULL, "NULL dataflows in check");
    CHECK(rls_evaluate_df(NULL, own, ly, tb, &b) == RLS_E_NULL, "NULL target eval");
    CHECK(rls_evaluate_df(base, own, NULL, tb, &b) == RLS_E_NULL, "NULL layer");
    int64_t bt[RLS_TABLE_SIZE], cnt;
    int32_t fin;
    CHECK(rls_bottom_up_df(base, ws_gb, ly, RLS_OBJ_ENERGY, 0, bt, &s, &cnt, &fin) == RLS_E_ARG,
          "bottom-up refuses");

    /* an absent GB: its entry is ignored, as rls_target_new ignores an absent level's dataflow */
    rls_target_desc nogb = desc;
    nogb.global_buffer.present = 0;
    rls_target *t1 = NULL;
    CHECK(rls_target_new(&nogb, &t1) == RLS_OK, "build without GB");
    if (t1 != NULL) {
        const int32_t anything[2] = {RLS_DF_OS, RLS_DF_WS};
        nogb.local_buffer.dataflow = RLS_DF_OS;
        rls_target *t2 = NULL;
        CHECK(rls_target_new(&nogb, &t2) == RLS_OK, "build without GB, LB OS");
        int64_t t0[RLS_TABLE_SIZE];
        CHECK(rls_sample_valid(t1, ly, &rng, t0) == RLS_OK, "sample no GB");
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        CHECK(rls_evaluate(t2, ly, t0, &a) == RLS_OK && rls_evaluate_df(t1, anything, ly, t0, &b) == RLS_OK,
              "no-GB eval");
        CHECK(same_result(&a, &b), "no-GB results differ");
        rls_target_free(t2);
        rls_target_free(t1);
    }

    /* the shared target still evaluates with its own dataflows afterwards */
    memset(&b, 0, sizeof b);
    CHECK(rls_evaluate(base, ly, tb, &b) == RLS_OK && same_result(&plain, &b), "base unchanged");
    rls_target_free(base);
    return TESTKIT_REPORT();
}
