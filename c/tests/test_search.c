/*
 * test_search.c - C-level tests of the searches: the reference heuristic's table for ResNet-50
 * conv1 on Eyeriss, the row search's guarantees (never worse, column products kept, argument
 * errors), exhaustive enumeration with and without a budget, seeded random search, the
 * factorization helpers, and "no valid table". Built and run by tests/native/test_c_library.py
 * (also under -fsanitize=address,undefined). Prints one line per failed check and a closing
 * "N passed, N failed" line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rls.h"
#include "testkit.h"
#include "search_internal.h"

static const int64_t *row(const int64_t *t, int r) { return t + r * RLS_COLS; }

static int same_row(const int64_t *t, int r, const int64_t v[8]) {
    return memcmp(row(t, r), v, 8 * sizeof(int64_t)) == 0;
}

static int column_products_equal(const int64_t *a, const int64_t *b) {
    for (int c = 0; c < RLS_COLS; c++) {
        int64_t pa = 1, pb = 1;
        for (int r = 0; r < RLS_ROWS; r++) {
            pa *= a[r * RLS_COLS + c];
            pb *= b[r * RLS_COLS + c];
        }
        if (pa != pb) return 0;
    }
    return 1;
}

static void test_bottom_up_conv1(const rls_target *t, int64_t *out_table) {
    /* ../shared/baselines/reference_bottom_up__resnet50__eyeriss__energy.json, CONV_1 */
    rls_layer ly = {64, 1, 112, 112, 3, 7, 7, 1, 2, 2, 1, 1};
    int64_t tb[RLS_TABLE_SIZE];
    rls_summary s;
    int64_t n = 0;
    int32_t fin = -1;
    int st = rls_bottom_up(t, &ly, RLS_OBJ_ENERGY, 0, tb, &s, &n, &fin);
    CHECK(st == RLS_OK && fin == 1, "bottom-up status %d finished %d", st, fin);
    const int64_t lb[8] = {16, 1, 1, 1, 1, 7, 1, 1}, pex[8] = {1, 1, 1, 2, 1, 1, 7, 1},
                  pey[8] = {4, 1, 1, 1, 3, 1, 1, 1}, gb[8] = {1, 1, 16, 14, 1, 1, 1, 1},
                  dram[8] = {1, 1, 7, 4, 1, 1, 1, 1};
    CHECK(same_row(tb, 3, lb) && same_row(tb, 4, pex) && same_row(tb, 5, pey) && same_row(tb, 6, gb) &&
              same_row(tb, 9, dram),
          "bottom-up conv1 table differs from the reference's");
    CHECK(s.valid && fabs(s.energy_pj / 611750000.0 - 1.0) < 1e-5, "energy %.1f", s.energy_pj);
    CHECK(fabs(s.cycles / 4510070.0 - 1.0) < 1e-5, "cycles %.1f", s.cycles);
    CHECK(n > 1000, "candidates %lld", (long long)n);
    memcpy(out_table, tb, sizeof tb);
    /* a budget cuts the pair searches short but still yields a valid table */
    int64_t tb2[RLS_TABLE_SIZE];
    rls_summary s2;
    int64_t n2 = 0;
    st = rls_bottom_up(t, &ly, RLS_OBJ_ENERGY, 100, tb2, &s2, &n2, &fin);
    CHECK(st == RLS_OK && fin == 0 && s2.valid && n2 <= 7 * 100 + 16, "budget: status %d finished %d n %lld", st, fin,
          (long long)n2);
}

static void test_search_rows(const rls_target *t, const int64_t *start) {
    rls_layer ly = {64, 1, 112, 112, 3, 7, 7, 1, 2, 2, 1, 1};
    rls_summary s0;
    CHECK(rls_evaluate_batch(t, &ly, start, 1, &s0) == RLS_OK && s0.valid, "start table valid");
    const int32_t sets[3][3] = {{3, 6, 9}, {4, 5, 6}, {3, 4, 9}};
    for (int k = 0; k < 3; k++) {
        for (int obj = 0; obj < 3; obj++) {
            int64_t best[RLS_TABLE_SIZE];
            rls_summary s;
            int64_t n = 0;
            int st = rls_search_rows(t, &ly, start, sets[k], 3, obj, best, &s, &n);
            CHECK(st == RLS_OK, "search_rows status %d", st);
            CHECK(s.valid, "search_rows result valid");
            CHECK(rls_objective_value(&s, obj) <= rls_objective_value(&s0, obj) * (1 + 1e-12),
                  "search_rows worse than its start (objective %d)", obj);
            CHECK(column_products_equal(best, start), "column products changed");
            for (int r = 0; r < RLS_ROWS; r++) {
                int searched = r == sets[k][0] || r == sets[k][1] || r == sets[k][2];
                if (!searched) CHECK(memcmp(row(best, r), row(start, r), 8 * sizeof(int64_t)) == 0, "row %d changed", r);
            }
            CHECK(n >= 1, "candidates %lld", (long long)n);
            /* deterministic */
            int64_t again[RLS_TABLE_SIZE];
            rls_summary s2;
            int64_t n2 = 0;
            rls_search_rows(t, &ly, start, sets[k], 3, obj, again, &s2, &n2);
            CHECK(memcmp(again, best, sizeof again) == 0 && n2 == n, "search_rows not deterministic");
        }
    }
    /* argument errors */
    int64_t best[RLS_TABLE_SIZE];
    rls_summary s;
    int64_t n;
    const int32_t one[1] = {3}, dup[2] = {3, 3}, bad[2] = {3, 10}, five[5] = {1, 2, 3, 4, 5};
    CHECK(rls_search_rows(t, &ly, start, one, 1, 0, best, &s, &n) == RLS_E_ARG, "1 row");
    CHECK(rls_search_rows(t, &ly, start, five, 5, 0, best, &s, &n) == RLS_E_ARG, "5 rows");
    CHECK(rls_search_rows(t, &ly, start, dup, 2, 0, best, &s, &n) == RLS_E_ARG, "duplicate rows");
    CHECK(rls_search_rows(t, &ly, start, bad, 2, 0, best, &s, &n) == RLS_E_ARG, "row 10");
    CHECK(rls_search_rows(t, &ly, start, sets[0], 2, 7, best, &s, &n) == RLS_E_ARG, "objective 7");
    CHECK(rls_search_rows(NULL, &ly, start, sets[0], 2, 0, best, &s, &n) == RLS_E_NULL, "NULL target");
    int64_t zero[RLS_TABLE_SIZE];
    memcpy(zero, start, sizeof zero);
    zero[5] = 0;
    CHECK(rls_search_rows(t, &ly, zero, sets[0], 2, 0, best, &s, &n) == RLS_E_TABLE, "entry 0");
    rls_layer bad_layer = {64, 1, 112, 112, 3, 7, 7, 2, 2, 2, 1, 1}; /* C not divisible by G */
    CHECK(rls_search_rows(t, &bad_layer, start, sets[0], 2, 0, best, &s, &n) == RLS_E_LAYER, "bad layer");
}

static void test_exhaustive(const rls_target *t) {
    rls_layer ly = {4, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1};
    int64_t tb[RLS_TABLE_SIZE];
    rls_summary s;
    int64_t n = 0;
    int32_t fin = -1;
    int st = rls_exhaustive(t, &ly, RLS_OBJ_ENERGY, 0, tb, &s, &n, &fin);
    CHECK(st == RLS_OK && fin == 1 && s.valid, "exhaustive status %d finished %d", st, fin);
    /* nothing else beats it */
    int64_t bu[RLS_TABLE_SIZE];
    rls_summary sb;
    int64_t nb;
    int32_t bfin;
    CHECK(rls_bottom_up(t, &ly, RLS_OBJ_ENERGY, 0, bu, &sb, &nb, &bfin) == RLS_OK, "bottom-up tiny");
    CHECK(s.energy_pj <= sb.energy_pj, "bottom-up %.3f beats exhaustive %.3f", sb.energy_pj, s.energy_pj);
    for (int k = 0; k < 8; k++) {
        int64_t rt[RLS_TABLE_SIZE];
        rls_summary sr;
        int64_t nr;
        CHECK(rls_random_search(t, &ly, RLS_OBJ_ENERGY, (uint64_t)k, 50, rt, &sr, &nr) == RLS_OK, "random tiny");
        CHECK(s.energy_pj <= sr.energy_pj, "random beats exhaustive");
    }
    /* a budget stops it */
    int64_t n2 = 0;
    st = rls_exhaustive(t, &ly, RLS_OBJ_ENERGY, 3, tb, &s, &n2, &fin);
    CHECK(st == RLS_OK && fin == 0 && n2 == 3, "budget: status %d finished %d n %lld", st, fin, (long long)n2);
}

static void test_random(const rls_target *t) {
    rls_layer ly = {128, 1, 28, 28, 128, 3, 3, 1, 1, 1, 1, 1};
    int64_t a[RLS_TABLE_SIZE], b[RLS_TABLE_SIZE];
    rls_summary sa, sb;
    int64_t na, nb;
    CHECK(rls_random_search(t, &ly, RLS_OBJ_EDP, 42, 300, a, &sa, &na) == RLS_OK, "random status");
    CHECK(rls_random_search(t, &ly, RLS_OBJ_EDP, 42, 300, b, &sb, &nb) == RLS_OK, "random status 2");
    CHECK(memcmp(a, b, sizeof a) == 0 && na == nb && na == 300, "same seed, same result");
    CHECK(rls_random_search(t, &ly, RLS_OBJ_EDP, 42, 0, a, &sa, &na) == RLS_E_ARG, "budget 0");
    uint64_t state = 7;
    for (int i = 0; i < 20; i++) {
        int64_t tb[RLS_TABLE_SIZE];
        CHECK(rls_sample_valid(t, &ly, &state, tb) == RLS_OK, "sample status");
        rls_result r;
        CHECK(rls_evaluate(t, &ly, tb, &r) == RLS_OK && r.valid, "sample invalid (reason %d)", r.reason);
    }
}

static void test_factor_helpers(void) {
    CHECK(rls__facto_degree_term(6) == 1 && rls__facto_degree_term(12) == 2 &&
              rls__facto_degree_term(18) == 3 && rls__facto_degree_term(7) == 0 &&
              rls__facto_degree_term(8) == 3 && rls__facto_degree_term(1) == 0,
          "factorization degree terms");
    int64_t d[16];
    CHECK(rls__divisors(12, d, 16) == 6 && d[0] == 1 && d[2] == 3 && d[3] == 4 && d[5] == 12, "divisors of 12");
    rls_factor_list fl;
    CHECK(rls__factor_list_new(12, 3, &fl) == RLS_OK, "factor list");
    CHECK(fl.count == 18, "ordered factorizations of 12 over 3: %lld", (long long)fl.count);
    CHECK(fl.f[0] == 1 && fl.f[1] == 1 && fl.f[2] == 12, "first factorization is (1, 1, 12)");
    CHECK(fl.f[3] == 1 && fl.f[4] == 2 && fl.f[5] == 6, "second factorization is (1, 2, 6)");
    rls__factor_list_free(&fl);
}

static void test_no_valid_table(void) {
    rls_target_desc d;
    eyeriss_desc(&d);
    d.local_buffer.capacity_bytes[RLS_INPUT] = 0; /* not even one element fits */
    rls_target *t = NULL;
    CHECK(rls_target_new(&d, &t) == RLS_OK, "target");
    rls_layer ly = {8, 1, 4, 4, 4, 3, 3, 1, 1, 1, 1, 1};
    int64_t tb[RLS_TABLE_SIZE];
    rls_summary s;
    int64_t n;
    int32_t fin;
    uint64_t state = 1;
    CHECK(rls_bottom_up(t, &ly, RLS_OBJ_ENERGY, 0, tb, &s, &n, &fin) == RLS_E_NOT_FOUND, "bottom-up not found");
    CHECK(rls_exhaustive(t, &ly, RLS_OBJ_ENERGY, 0, tb, &s, &n, &fin) == RLS_E_NOT_FOUND && fin == 1,
          "exhaustive not found");
    CHECK(rls_random_search(t, &ly, RLS_OBJ_ENERGY, 1, 10, tb, &s, &n) == RLS_E_NOT_FOUND, "random not found");
    CHECK(rls_sample_valid(t, &ly, &state, tb) == RLS_E_NOT_FOUND, "sample not found");
    rls_target_free(t);
}

int main(void) {
    rls_target_desc d;
    eyeriss_desc(&d);
    rls_target *t = NULL;
    if (rls_target_new(&d, &t) != RLS_OK) {
        printf("FAIL: eyeriss target\n0 passed, 1 failed\n");
        return 1;
    }
    int64_t bu[RLS_TABLE_SIZE];
    test_bottom_up_conv1(t, bu);
    test_search_rows(t, bu);
    test_exhaustive(t);
    test_random(t);
    test_factor_helpers();
    test_no_valid_table();
    rls_target_free(t);
    return TESTKIT_REPORT();
}
