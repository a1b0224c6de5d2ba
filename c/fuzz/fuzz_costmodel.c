/*
 * fuzz_costmodel.c - libFuzzer target for the C library (see README.md in this folder).
 *
 * The input bytes are read as a target description (array sides up to 2^31 and beyond, any
 * double: NaN, infinities, subnormals, 1e308), a layer and a table; the harness builds the
 * target, evaluates the table (single and batch), draws a valid table with rls_sample_valid and
 * runs a two-row search from it. It aborts when the library breaks its contract:
 *   - an undocumented status, or a failed rls_target_new that leaves *out set;
 *   - a result reported valid with a negative or non-finite energy, cycle count or access count;
 *   - the batch call disagreeing with the single call;
 *   - a search returning a table that is not valid.
 * Built with -fsanitize=fuzzer,address,undefined, memory errors and undefined behaviour
 * (signed overflow included) abort too.
 *
 * Without libFuzzer (-DRLS_FUZZ_STANDALONE) it has a main() that runs each file named on the
 * command line, or, with "-random N SEED", N pseudo-random inputs: the test suite builds it
 * with gcc under ASan/UBSan that way.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rls.h"

#define REQUIRE(cond)                                                                        \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "fuzz_costmodel: contract broken at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

/* ---- reading the input ------------------------------------------------------------------ */

typedef struct {
    const uint8_t *p;
    size_t n;
} reader;

static uint64_t take_u64(reader *r) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | (r->n ? (r->n--, *r->p++) : 0u);
    }
    return v;
}

static uint8_t take_u8(reader *r) { return r->n ? (r->n--, *r->p++) : 0u; }

/* A double: mostly ordinary values, sometimes raw bit patterns (NaN, inf, subnormals, 1e308). */
static double take_real(reader *r) {
    const uint8_t mode = take_u8(r);
    if (mode < 160) return (double)(1 + mode % 64) * 0.25; /* 0.25 .. 16 */
    if (mode < 200) return (double)(1 + take_u64(r) % 100000) / 7.0;
    static const double extremes[] = {0.0, 5e-324, 1e-310, 1e-300, 1e300, 1e308, 1.7976931348623157e308,
                                      INFINITY, -INFINITY, NAN, -1.0, -0.0};
    if (mode < 240) return extremes[take_u8(r) % (sizeof extremes / sizeof extremes[0])];
    double d;
    uint64_t bits = take_u64(r);
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* An array side or loop bound: mostly small, sometimes huge or out of range. */
static int64_t take_size(reader *r, int64_t small_max) {
    const uint8_t mode = take_u8(r);
    if (mode < 240) return 1 + (int64_t)(mode % small_max);
    static const int64_t extremes[] = {0, -1, 1 << 20, 2147483647, 2147483648LL, ((int64_t)1 << 40),
                                       ((int64_t)1 << 62), INT64_MAX, INT64_MIN};
    if (mode < 250) return extremes[take_u8(r) % (sizeof extremes / sizeof extremes[0])];
    return (int64_t)take_u64(r);
}

static void take_spatial(reader *r, rls_spatial_desc *s) {
    s->present = take_u8(r) & 1;
    s->x = take_size(r, 16);
    s->y = take_size(r, 16);
    s->has_allowed_x = take_u8(r) & 1;
    s->has_allowed_y = take_u8(r) & 1;
    s->allowed_x_mask = take_u8(r);
    s->allowed_y_mask = take_u8(r);
}

static void take_temporal(reader *r, rls_temporal_desc *t, int present) {
    t->present = present;
    const uint8_t df = take_u8(r), form = take_u8(r), bypass = take_u8(r);
    t->dataflow = df < 250 ? df % 4 : (df == 250 ? -1 : 4); /* rarely out of range */
    t->capacity_form = form < 250 ? 1 + form % 3 : form % 5;
    for (int k = 0; k < 3; k++) t->capacity_bytes[k] = take_real(r) * 4096.0;
    t->shared_bytes = take_real(r) * 65536.0;
    t->dedicated_bytes = take_real(r) * 4096.0;
    t->bypass_mask = bypass < 160 ? 0u : bypass % 9;
    for (int k = 0; k < 3; k++) {
        t->access_energy_pj[k] = take_real(r);
        t->static_power_mw[k] = take_real(r);
        t->access_cycles[k] = take_real(r);
    }
    t->bandwidth_bits_per_cycle = take_real(r) * 16.0;
    t->has_fixed_mapping = (take_u8(r) % 8) == 0;
    for (int c = 0; c < RLS_COLS; c++) t->fixed_mapping[c] = take_u8(r) % 4;
}

/* ---- checks ----------------------------------------------------------------------------- */

/* how far inputs got (printed by the standalone driver) */
static long n_targets_built, n_valid_results, n_searches;

static int finite_nonneg(double v) { return isfinite(v) && v >= 0.0; }

static void check_result(const rls_result *res) {
    REQUIRE(res->reason >= 0 && res->reason < RLS_R_COUNT);
    REQUIRE((res->valid == 1) == (res->reason == RLS_VALID));
    if (!res->valid) return;
    for (int i = 0; i < RLS_N_ENERGY; i++) REQUIRE(finite_nonneg(res->energy_pj[i]));
    for (int i = 0; i < RLS_N_CYCLES; i++) REQUIRE(finite_nonneg(res->cycles[i]));
    for (int b = 0; b < 3; b++)
        for (int k = 0; k < 4; k++) REQUIRE(res->access_counts[b][k] >= 0);
    REQUIRE(res->cycles[RLS_C_TOTAL] > 0.0 && res->num_mac_operations >= 1.0);
}

static void check_summary(const rls_summary *s) {
    REQUIRE(s->valid == 1);
    REQUIRE(finite_nonneg(s->energy_pj) && finite_nonneg(s->cycles) && s->cycles > 0.0);
    for (int obj = 0; obj < 3; obj++) REQUIRE(finite_nonneg(rls_objective_value(s, obj)));
}

static void evaluate_both(const rls_target *t, const rls_layer *ly, const int64_t *tb) {
    rls_result res;
    rls_summary s;
    const int st = rls_evaluate(t, ly, tb, &res);
    REQUIRE(st == RLS_OK || st == RLS_E_LAYER || st == RLS_E_TABLE);
    const int sb = rls_evaluate_batch(t, ly, tb, 1, &s);
    if (st == RLS_E_LAYER) {
        REQUIRE(sb == RLS_E_LAYER);
        return;
    }
    REQUIRE(sb == RLS_OK);
    if (st == RLS_E_TABLE) {
        REQUIRE(s.valid == 0);
        return;
    }
    check_result(&res);
    REQUIRE(s.valid == res.valid && s.reason == res.reason);
    if (res.valid) {
        n_valid_results++;
        check_summary(&s);
        REQUIRE(s.energy_pj == res.energy_pj[RLS_E_TOTAL] && s.cycles == res.cycles[RLS_C_TOTAL]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size};
    rls_target_desc d;
    memset(&d, 0, sizeof d);
    const uint8_t bits = take_u8(&r);
    d.precision_bits = bits < 200 ? 8 * (1 + bits % 4) : take_size(&r, 64);
    d.frequency_mhz = take_real(&r) * 100.0;
    d.mac_energy_pj = take_real(&r);
    d.mac_static_power_mw = take_real(&r);
    take_spatial(&r, &d.mac_array);
    take_spatial(&r, &d.pe_array);
    take_spatial(&r, &d.chip_array);
    take_temporal(&r, &d.local_buffer, 1);
    take_temporal(&r, &d.global_buffer, take_u8(&r) & 1);
    take_temporal(&r, &d.dram, 1);

    rls_target *t = (rls_target *)&d; /* must be reset to NULL on failure */
    const int st = rls_target_new(&d, &t);
    REQUIRE(st == RLS_OK || st == RLS_E_TARGET || st == RLS_E_OVERFLOW);
    if (st != RLS_OK) {
        REQUIRE(t == NULL);
        return 0;
    }
    n_targets_built++;

    /* one field per statement: the order the input is consumed in is fixed */
    rls_layer ly;
    ly.G = 1 + take_u8(&r) % 4;
    ly.K = (int64_t)((uint64_t)ly.G * (uint64_t)take_size(&r, 16)); /* wraps: garbage is fine */
    ly.B = take_size(&r, 4);
    ly.P = take_size(&r, 16);
    ly.Q = take_size(&r, 16);
    ly.C = (int64_t)((uint64_t)ly.G * (uint64_t)take_size(&r, 16));
    ly.R = take_size(&r, 5);
    ly.S = take_size(&r, 5);
    ly.stride_h = take_u8(&r) % 4;
    ly.stride_w = take_u8(&r) % 4;
    ly.dilation_h = 1 + take_u8(&r) % 3;
    ly.dilation_w = 1 + take_u8(&r) % 3;

    /* a table read from the input */
    int64_t tb[RLS_TABLE_SIZE];
    for (int i = 0; i < RLS_TABLE_SIZE; i++) tb[i] = take_size(&r, 4);
    evaluate_both(t, &ly, tb);

    /* a valid table drawn by the library, then a row search from it */
    uint64_t rng = take_u64(&r);
    int64_t valid[RLS_TABLE_SIZE];
    const int ss = rls_sample_valid(t, &ly, &rng, valid);
    REQUIRE(ss == RLS_OK || ss == RLS_E_NOT_FOUND || ss == RLS_E_LAYER);
    if (ss == RLS_OK) {
        evaluate_both(t, &ly, valid);
        int32_t rows[2];
        rows[0] = take_u8(&r) % RLS_ROWS;
        rows[1] = (rows[0] + 1 + take_u8(&r) % (RLS_ROWS - 1)) % RLS_ROWS;
        const int32_t objective = take_u8(&r) % 3;
        int64_t best[RLS_TABLE_SIZE];
        rls_summary bs;
        int64_t count = 0;
        const int sr = rls_search_rows(t, &ly, valid, rows, 2, objective, best, &bs, &count);
        REQUIRE(sr == RLS_OK || sr == RLS_E_NOT_FOUND);
        n_searches++;
        if (sr == RLS_OK) {
            check_summary(&bs);
            rls_result res;
            REQUIRE(rls_evaluate(t, &ly, best, &res) == RLS_OK && res.valid == 1);
            check_result(&res);
        }
    }
    rls_target_free(t);
    return 0;
}

#ifdef RLS_FUZZ_STANDALONE
/* Replays files, or runs "-random N SEED" pseudo-random inputs (xorshift64*). */
int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "-random") == 0) {
        const long n = strtol(argv[2], NULL, 10);
        uint64_t state = strtoull(argv[3], NULL, 10) | 1u;
        uint8_t buf[1024];
        for (long i = 0; i < n; i++) {
            const size_t len = 64 + (size_t)(state % (sizeof buf - 64));
            for (size_t k = 0; k < len; k++) {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                buf[k] = (uint8_t)((state * 0x2545F4914F6CDD1DULL) >> 56);
            }
            LLVMFuzzerTestOneInput(buf, len);
        }
        printf("fuzz_costmodel: %ld random inputs (%ld targets built, %ld valid results, %ld row searches), "
               "no contract broken\n", n, n_targets_built, n_valid_results, n_searches);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "fuzz_costmodel: cannot open %s\n", argv[i]);
            return 2;
        }
        static uint8_t buf[1 << 16];
        const size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("fuzz_costmodel: %d input file(s), no contract broken\n", argc - 1);
    return 0;
}
#endif
