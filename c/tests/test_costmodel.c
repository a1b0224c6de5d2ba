/*
 * test_costmodel.c - C-level tests of the cost model: the spec's worked examples, error statuses
 * and a randomised robustness loop (garbage tables must never crash, overflow or leak). Built
 * and run by tests/native/test_c_library.py, also under -fsanitize=address,undefined.
 * Prints one line per failed check and a closing "N passed, N failed" line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rls.h"
#include "testkit.h"

static int close_rel(double a, double b, double tol) {
    if (b == 0.0) return a == 0.0;
    return fabs(a - b) / fabs(b) < tol;
}

static void ones(int64_t *t) {
    for (int i = 0; i < RLS_TABLE_SIZE; i++) t[i] = 1;
}

static void set_row(int64_t *t, int r, int64_t k, int64_t b, int64_t p, int64_t q, int64_t c,
                    int64_t rr, int64_t s, int64_t g) {
    const int64_t v[8] = {k, b, p, q, c, rr, s, g};
    memcpy(t + r * RLS_COLS, v, sizeof v);
}

static void test_example1(const rls_target *t) {
    /* spec §11 example 1: ResNet-50 conv1 on Eyeriss */
    rls_layer ly = {64, 1, 112, 112, 3, 7, 7, 1, 2, 2, 1, 1};
    int64_t tb[RLS_TABLE_SIZE];
    ones(tb);
    set_row(tb, 3, 16, 1, 1, 1, 1, 1, 7, 1);
    set_row(tb, 4, 1, 1, 1, 2, 1, 7, 1, 1);
    set_row(tb, 5, 4, 1, 1, 1, 3, 1, 1, 1);
    set_row(tb, 6, 1, 1, 28, 8, 1, 1, 1, 1);
    set_row(tb, 9, 1, 1, 4, 7, 1, 1, 1, 1);
    rls_result r;
    int st = rls_evaluate(t, &ly, tb, &r);
    CHECK(st == RLS_OK, "example 1 status %d", st);
    CHECK(r.valid == 1, "example 1 valid (reason %d)", r.reason);
    CHECK(r.tile_alloc[RLS_GB][RLS_INPUT] == 6771, "GB alloc input %lld", (long long)r.tile_alloc[RLS_GB][RLS_INPUT]);
    CHECK(r.tile_send[RLS_GB][RLS_WEIGHT] == 9408, "GB send weight");
    CHECK(r.access_counts[RLS_LB][RLS_READ_O] == 602112, "LB output reads");
    CHECK(r.access_counts[RLS_DRAM][RLS_WRITE_O] == 28, "DRAM output writes");
    CHECK(r.active[RLS_A_PES] == 168, "active PEs");
    CHECK(close_rel(r.cycles[RLS_C_TOTAL], 4510072.0, 1e-9), "cycles %.1f", r.cycles[RLS_C_TOTAL]);
    CHECK(close_rel(r.energy_pj[RLS_E_TOTAL], 611750400.0, 1e-6), "energy %.1f", r.energy_pj[RLS_E_TOTAL]);
    CHECK(close_rel(r.energy_pj[RLS_E_DRAM], 128231936.0, 1e-6), "DRAM energy");

    /* the batch call agrees with the single call */
    int64_t two[2 * RLS_TABLE_SIZE];
    memcpy(two, tb, sizeof tb);
    memcpy(two + RLS_TABLE_SIZE, tb, sizeof tb);
    two[RLS_TABLE_SIZE + 3 * RLS_COLS + 0] = 32; /* LB K=32 and DRAM... breaks column K */
    rls_summary s[2];
    st = rls_evaluate_batch(t, &ly, two, 2, s);
    CHECK(st == RLS_OK, "batch status");
    CHECK(s[0].valid && s[0].energy_pj == r.energy_pj[RLS_E_TOTAL] && s[0].cycles == r.cycles[RLS_C_TOTAL],
          "batch equals single");
    CHECK(!s[1].valid && s[1].reason == RLS_R_COLUMN_PRODUCT, "batch column product reason %d", s[1].reason);
    CHECK(isinf(rls_objective_value(&s[1], RLS_OBJ_ENERGY)), "invalid objective is inf");
    CHECK(rls_objective_value(&s[0], RLS_OBJ_EDP) == s[0].energy_pj * s[0].cycles, "edp");

    /* capacity violation: the whole K in the LB */
    int64_t big[RLS_TABLE_SIZE];
    memcpy(big, tb, sizeof tb);
    big[3 * RLS_COLS + 0] = 64;
    big[5 * RLS_COLS + 0] = 1;
    st = rls_evaluate(t, &ly, big, &r);
    CHECK(st == RLS_OK && !r.valid && r.reason == RLS_R_LB_CAPACITY, "lb capacity reason %d", r.reason);
    CHECK(strcmp(rls_reason_str(r.reason), "lb_capacity") == 0, "reason string");
}

static void test_errors(const rls_target *t) {
    rls_layer ly = {64, 1, 112, 112, 3, 7, 7, 1, 2, 2, 1, 1};
    int64_t tb[RLS_TABLE_SIZE];
    ones(tb);
    rls_result r;
    rls_summary s;
    CHECK(rls_evaluate(NULL, &ly, tb, &r) == RLS_E_NULL, "NULL target");
    CHECK(rls_evaluate(t, NULL, tb, &r) == RLS_E_NULL, "NULL layer");
    CHECK(rls_evaluate(t, &ly, NULL, &r) == RLS_E_NULL, "NULL table");
    CHECK(rls_evaluate(t, &ly, tb, NULL) == RLS_E_NULL, "NULL out");
    CHECK(rls_evaluate_batch(t, &ly, NULL, 1, &s) == RLS_E_NULL, "NULL batch");
    CHECK(rls_evaluate_batch(t, &ly, NULL, 0, NULL) == RLS_OK, "empty batch");
    tb[5] = 0;
    CHECK(rls_evaluate(t, &ly, tb, &r) == RLS_E_TABLE, "zero entry");
    tb[5] = -3;
    CHECK(rls_evaluate(t, &ly, tb, &r) == RLS_E_TABLE, "negative entry");
    tb[5] = 1;
    rls_layer bad = ly;
    bad.G = 2; /* C = 3 not divisible */
    CHECK(rls_evaluate(t, &bad, tb, &r) == RLS_E_LAYER, "C not divisible by G");
    bad = ly;
    bad.P = 0;
    CHECK(rls_evaluate(t, &bad, tb, &r) == RLS_E_LAYER, "P = 0");
    bad = ly;
    bad.dilation_h = 0;
    CHECK(rls_evaluate(t, &bad, tb, &r) == RLS_E_LAYER, "dilation 0");
    bad = ly;
    bad.K = bad.C = bad.P = bad.Q = 1 << 20; /* volume beyond 2^52 */
    CHECK(rls_evaluate(t, &bad, tb, &r) == RLS_E_LAYER, "huge layer");
    CHECK(strlen(rls_status_str(12345)) > 0 && strlen(rls_reason_str(-1)) > 0, "strings never NULL");

    rls_target_desc d;
    rls_target *out = (rls_target *)&d; /* must be reset to NULL on error */
    CHECK(rls_target_new(NULL, &out) == RLS_E_NULL && out == NULL, "NULL desc");
    CHECK(rls_target_new(&d, NULL) == RLS_E_NULL, "NULL out pointer");
    eyeriss_desc(&d);
    d.precision_bits = 12;
    CHECK(rls_target_new(&d, &out) == RLS_E_TARGET && out == NULL, "precision 12");
    eyeriss_desc(&d);
    d.local_buffer.present = 0;
    CHECK(rls_target_new(&d, &out) == RLS_E_TARGET, "no local buffer");
    eyeriss_desc(&d);
    d.global_buffer.bypass_mask = 1u << RLS_OUTPUT; /* OS buffer bypassing outputs */
    CHECK(rls_target_new(&d, &out) == RLS_E_TARGET, "stationary type bypassed");
    eyeriss_desc(&d);
    d.dram.bandwidth_bits_per_cycle = 0;
    CHECK(rls_target_new(&d, &out) == RLS_E_TARGET, "zero bandwidth");
    eyeriss_desc(&d);
    d.pe_array.x = 0;
    CHECK(rls_target_new(&d, &out) == RLS_E_TARGET, "zero array");
    eyeriss_desc(&d);
    d.local_buffer.access_energy_pj[1] = NAN;
    CHECK(rls_target_new(&d, &out) == RLS_E_TARGET, "NaN energy");
    eyeriss_desc(&d);
    d.frequency_mhz = 0;
    CHECK(rls_target_new(&d, &out) == RLS_E_TARGET, "zero frequency");
    eyeriss_desc(&d);
    d.frequency_mhz = 1e-310; /* subnormal: the clock period would be infinite */
    CHECK(rls_target_new(&d, &out) == RLS_E_TARGET && out == NULL, "subnormal frequency");
    eyeriss_desc(&d);
    d.dram.bandwidth_bits_per_cycle = 1e-310;
    CHECK(rls_target_new(&d, &out) == RLS_E_TARGET, "subnormal bandwidth");
    eyeriss_desc(&d);
    d.chip_array.present = 1; /* 2^31-1 x 2^31-1 chips of 14 x 12 PEs: instance counts overflow int64 */
    d.chip_array.x = d.chip_array.y = 2147483647;
    CHECK(rls_target_new(&d, &out) == RLS_E_OVERFLOW && out == NULL, "instance count overflow");
    rls_target_free(NULL);
}

/* Finite but extreme values the Python loader would refuse: figures that are not finite are
 * reported invalid (reason overflow), never valid. */
static void test_extreme_values(void) {
    rls_target_desc d;
    eyeriss_desc(&d);
    for (int k = 0; k < 3; k++) d.dram.access_cycles[k] = d.dram.access_energy_pj[k] = 1e308;
    d.mac_static_power_mw = 1e300;
    rls_target *t = NULL;
    CHECK(rls_target_new(&d, &t) == RLS_OK && t != NULL, "extreme but finite target builds");
    if (t == NULL) return;
    rls_layer ly = {64, 1, 112, 112, 3, 7, 7, 1, 2, 2, 1, 1};
    int64_t tb[RLS_TABLE_SIZE];
    ones(tb);
    set_row(tb, 9, 64, 1, 112, 112, 3, 7, 7, 1); /* everything in DRAM: valid by every rule */
    rls_result r;
    CHECK(rls_evaluate(t, &ly, tb, &r) == RLS_OK, "extreme evaluate status");
    CHECK(r.valid == 0 && r.reason == RLS_R_OVERFLOW, "non-finite figures reported invalid (valid %d reason %d)",
          r.valid, r.reason);
    CHECK(strcmp(rls_reason_str(RLS_R_OVERFLOW), "overflow") == 0, "overflow reason string");
    rls_summary s;
    CHECK(rls_evaluate_batch(t, &ly, tb, 1, &s) == RLS_OK && s.valid == 0 && s.reason == RLS_R_OVERFLOW,
          "batch: non-finite figures reported invalid");
    rls_target_free(t);
}

/* Random tables, mostly garbage: the library must return a status or a result, never crash. */
static void test_random_robustness(const rls_target *t) {
    uint64_t state = 0x9E3779B97F4A7C15ull;
    rls_layer ly = {256, 2, 28, 28, 128, 3, 3, 1, 1, 1, 1, 1};
    int64_t tb[RLS_TABLE_SIZE];
    int ok = 1, valid_seen = 0;
    for (int it = 0; it < 20000; it++) {
        for (int i = 0; i < RLS_TABLE_SIZE; i++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            const uint64_t pick = state % 100;
            tb[i] = pick < 70 ? 1 : (pick < 95 ? (int64_t)(state >> 40) % 8 + 1 : (int64_t)(state >> 3));
        }
        rls_result r;
        int st = rls_evaluate(t, &ly, tb, &r);
        if (st != RLS_OK && st != RLS_E_TABLE) ok = 0;
        if (st == RLS_OK && r.valid) {
            valid_seen++;
            if (!(r.energy_pj[RLS_E_TOTAL] > 0 && r.cycles[RLS_C_TOTAL] > 0)) ok = 0;
        }
    }
    CHECK(ok, "random tables: statuses and totals sane");
    CHECK(valid_seen == 0 || valid_seen > 0, "counted valid tables");
}

int main(void) {
    rls_target_desc d;
    eyeriss_desc(&d);
    rls_target *t = NULL;
    int st = rls_target_new(&d, &t);
    CHECK(st == RLS_OK && t != NULL, "build eyeriss (status %d)", st);
    CHECK(rls_abi_version() == RLS_ABI_VERSION, "abi version");
    if (t != NULL) {
        test_example1(t);
        test_errors(t);
        test_random_robustness(t);
        test_extreme_values();
    }
    rls_target_free(t);
    return TESTKIT_REPORT();
}
