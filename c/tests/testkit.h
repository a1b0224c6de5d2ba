/*
 * testkit.h - what the C test programs share: the CHECK macro with its counters, and the Eyeriss
 * target description (../shared/targets/eyeriss.json). Each test program includes it once and
 * ends with TESTKIT_REPORT(), which prints the closing "N passed, N failed" line.
 */
#ifndef RLS_TESTKIT_H
#define RLS_TESTKIT_H

#include <stdio.h>
#include <string.h>

#include "rls.h"

static int passed = 0, failed = 0;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                        \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
        }                                                                                      \
    } while (0)

#define TESTKIT_REPORT() (printf("%d passed, %d failed\n", passed, failed), failed == 0 ? 0 : 1)

static inline void per_type(double out[3], double i, double w, double o) {
    out[0] = i;
    out[1] = w;
    out[2] = o;
}

/* Eyeriss v1 as shipped (accelerators/eyeriss.yaml). */
static inline void eyeriss_desc(rls_target_desc *d) {
    memset(d, 0, sizeof *d);
    d->precision_bits = 16;
    d->frequency_mhz = 200;
    d->mac_energy_pj = 2.2;
    d->mac_static_power_mw = 0.0132;
    rls_temporal_desc *lb = &d->local_buffer;
    lb->present = 1;
    lb->dataflow = RLS_DF_WS;
    lb->capacity_form = RLS_CAP_SEPARATE;
    per_type(lb->capacity_bytes, 24, 448, 48);
    per_type(lb->access_energy_pj, 0.19, 0.63, 0.25);
    per_type(lb->static_power_mw, 6e-7, 2.7e-5, 7e-6);
    per_type(lb->access_cycles, 1, 1, 1);
    lb->bandwidth_bits_per_cycle = 16;
    d->pe_array.present = 1;
    d->pe_array.x = 14;
    d->pe_array.y = 12;
    rls_temporal_desc *gb = &d->global_buffer;
    gb->present = 1;
    gb->dataflow = RLS_DF_OS;
    gb->capacity_form = RLS_CAP_SHARED;
    gb->shared_bytes = 102400;
    gb->bypass_mask = 1u << RLS_WEIGHT;
    per_type(gb->access_energy_pj, 5.27, 1.42, 5.27);
    per_type(gb->static_power_mw, 0.006047, 0.000387, 0.006047);
    per_type(gb->access_cycles, 1, 1, 1);
    gb->bandwidth_bits_per_cycle = 64;
    rls_temporal_desc *dr = &d->dram;
    dr->present = 1;
    per_type(dr->access_energy_pj, 128, 128, 128);
    per_type(dr->static_power_mw, 0.008, 0.008, 0.008);
    per_type(dr->access_cycles, 8, 8, 8);
    dr->bandwidth_bits_per_cycle = 64;
}

#endif /* RLS_TESTKIT_H */
