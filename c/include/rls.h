/*
 * rls.h - the only public header of the rlsched_compile C library.
 *
 * The cost model of ../shared/spec/cost-model.md (NeuroSpector v1.5 semantics, quirks
 * included), computed with 64-bit integers and double precision instead of the reference's
 * wrapping uint32 / binary32 arithmetic (spec Q14/Q15), plus the searches built on it.
 *
 * Conventions
 *  - Every fallible function returns an int status (RLS_OK or RLS_E_*); results come back through
 *    out-pointers. rls_status_str() gives a static message. Nothing here prints, aborts or exits.
 *  - Pointer parameters are borrowed (the caller keeps ownership) unless noted "free with ...".
 *  - No global state. A built rls_target is immutable and may be shared by any number of threads.
 *  - Scheduling tables are int64_t[RLS_ROWS * RLS_COLS], row-major, rows in spec order
 *    (Register, MAC(X), MAC(Y), LocalBuffer, PE(X), PE(Y), GlobalBuffer, Chip(X), Chip(Y), DRAM),
 *    columns K, B, P, Q, C, R, S, G with K and C holding factors of K/G and C/G.
 */
#ifndef RLS_H
#define RLS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RLS_ABI_VERSION 1
#define RLS_ROWS 10
#define RLS_COLS 8
#define RLS_TABLE_SIZE 80

/* ---- status codes -------------------------------------------------------------------- */
enum rls_status {
    RLS_OK = 0,
    RLS_E_NULL = 1,          /* a required pointer argument is NULL */
    RLS_E_TARGET = 2,        /* target description is invalid */
    RLS_E_LAYER = 3,         /* layer parameters invalid (non-positive, K or C not divisible by G) */
    RLS_E_TABLE = 4,         /* table entry < 1 */
    RLS_E_ARG = 5,           /* another argument is out of range (row list, objective, count) */
    RLS_E_NOMEM = 6,         /* allocation failed */
    RLS_E_NOT_FOUND = 7,     /* a search found no valid table */
    RLS_E_OVERFLOW = 8       /* a quantity does not fit 64-bit arithmetic */
};

/* ---- validity reason codes (spec §2.3, first failing rule) ---------------------------- */
enum rls_reason {
    RLS_VALID = 0,
    RLS_R_COLUMN_PRODUCT = 1,
    RLS_R_REGISTER_ROW = 2,
    RLS_R_ABSENT_LEVEL_ROW = 3,
    RLS_R_MAC_ARRAY_DIMS = 4,
    RLS_R_PE_ARRAY_DIMS = 5,
    RLS_R_PE_ARRAY_CONSTRAINT = 6,
    RLS_R_CHIP_ARRAY_DIMS = 7,
    RLS_R_LB_CAPACITY = 8,
    RLS_R_GB_CAPACITY = 9,
    RLS_R_GB_DEDICATED_CAPACITY = 10,
    RLS_R_MAPPING_CONSTRAINT = 11,
    RLS_R_OVERFLOW = 12,     /* extension: a figure (or energy x cycles) would not be finite and
                                non-negative (never with a target inside the schema's bounds); the
                                table is reported invalid */
    RLS_R_COUNT = 13
};

enum rls_dataflow { RLS_DF_NONE = 0, RLS_DF_IS = 1, RLS_DF_WS = 2, RLS_DF_OS = 3 };
enum rls_capacity_form {
    RLS_CAP_NONE = 0,            /* DRAM: not modelled */
    RLS_CAP_SEPARATE = 1,        /* one buffer per data type */
    RLS_CAP_SHARED = 2,          /* one buffer for every non-bypassed type */
    RLS_CAP_PARTIALLY_SHARED = 3 /* shared + a dedicated part for the first bypassed type */
};
/* data types (index into [3] arrays) and bypass mask bits (1 << type) */
enum rls_dtype { RLS_INPUT = 0, RLS_WEIGHT = 1, RLS_OUTPUT = 2 };
/* buffer levels (index into [3] arrays of results) */
enum rls_buffer { RLS_LB = 0, RLS_GB = 1, RLS_DRAM = 2 };
/* access-count kinds (index into [4] arrays) */
enum rls_access { RLS_READ_I = 0, RLS_READ_W = 1, RLS_READ_O = 2, RLS_WRITE_O = 3 };
/* objectives */
enum rls_objective { RLS_OBJ_ENERGY = 0, RLS_OBJ_CYCLES = 1, RLS_OBJ_EDP = 2 };

/* energy components, in the order of the golden vectors' "energy_pj" object */
enum rls_energy {
    RLS_E_MAC = 0, RLS_E_LB_UP, RLS_E_LB_LO, RLS_E_LB, RLS_E_GB_UP, RLS_E_GB_LO, RLS_E_GB,
    RLS_E_DRAM, RLS_E_DYNAMIC, RLS_E_ST_MAC, RLS_E_ST_LB, RLS_E_ST_GB, RLS_E_ST_DRAM,
    RLS_E_STATIC, RLS_E_TOTAL, RLS_N_ENERGY
};
/* cycle components, in the order of the golden vectors' "cycles" object */
enum rls_cycles { RLS_C_MAC = 0, RLS_C_LB, RLS_C_GB, RLS_C_DRAM, RLS_C_TOTAL, RLS_N_CYCLES };
/* active-unit counts, in the order of the golden vectors' "active" object */
enum rls_active {
    RLS_A_MAC_X = 0, RLS_A_MAC_Y, RLS_A_MACS, RLS_A_PE_X, RLS_A_PE_Y, RLS_A_PES,
    RLS_A_CHIP_X, RLS_A_CHIP_Y, RLS_A_CHIPS, RLS_N_ACTIVE
};

/* ---- target description (plain value, filled by the caller) --------------------------- */
typedef struct {
    int32_t present;           /* 0 = absent level; x*y == 1 is also treated as absent (Q19) */
    int64_t x, y;
    int32_t has_allowed_x, has_allowed_y; /* honoured on the PE array only (Q21) */
    uint32_t allowed_x_mask;   /* bit c set = column c may hold a factor > 1 in row (X) */
    uint32_t allowed_y_mask;
} rls_spatial_desc;

typedef struct {
    int32_t present;
    int32_t dataflow;          /* enum rls_dataflow */
    int32_t capacity_form;     /* enum rls_capacity_form */
    double capacity_bytes[3];  /* separate form, per data type */
    double shared_bytes;       /* shared and partially shared forms */
    double dedicated_bytes;    /* partially shared form: the first bypassed type's own part */
    uint32_t bypass_mask;      /* bit (1 << enum rls_dtype) */
    double access_energy_pj[3];
    double static_power_mw[3];
    double access_cycles[3];
    double bandwidth_bits_per_cycle;
    int32_t has_fixed_mapping;
    int64_t fixed_mapping[RLS_COLS]; /* 0 = free */
} rls_temporal_desc;

typedef struct {
    int64_t precision_bits;    /* multiple of 8 */
    double frequency_mhz;
    double mac_energy_pj;
    double mac_static_power_mw;
    rls_spatial_desc mac_array;
    rls_temporal_desc local_buffer; /* mandatory */
    rls_spatial_desc pe_array;
    rls_temporal_desc global_buffer;
    rls_spatial_desc chip_array;
    rls_temporal_desc dram;         /* mandatory */
} rls_target_desc;

/* opaque, immutable once built; thread-safe to share */
typedef struct rls_target rls_target;

/* ---- layer ------------------------------------------------------------------------------ */
typedef struct {
    int64_t K, B, P, Q, C, R, S, G; /* K and C are totals */
    int64_t stride_h, stride_w;     /* >= 0 (0: the reference's FC convention) */
    int64_t dilation_h, dilation_w; /* >= 1 */
} rls_layer;

/* ---- results ---------------------------------------------------------------------------- */
typedef struct {
    int32_t valid;                 /* 1 valid, 0 invalid */
    int32_t reason;                /* enum rls_reason (RLS_VALID when valid) */
    int64_t tile_alloc[3][3];      /* [enum rls_buffer][enum rls_dtype], elements */
    int64_t tile_send[3][3];
    int64_t active[RLS_N_ACTIVE];
    /* the rest only when valid */
    int64_t access_counts[3][4];   /* [enum rls_buffer][enum rls_access], tile transfers */
    double num_mac_operations;
    double energy_pj[RLS_N_ENERGY];
    double cycles[RLS_N_CYCLES];
} rls_result;

/* compact result of the batch call */
typedef struct {
    int32_t valid;
    int32_t reason;
    double energy_pj;              /* total incl. static (the reference's energy metric) */
    double cycles;                 /* total cycles */
} rls_summary;

/* ---- functions -------------------------------------------------------------------------- */
int rls_abi_version(void);
const char *rls_status_str(int status);     /* static string, never NULL */
const char *rls_reason_str(int reason);     /* golden-vector reason code, e.g. "lb_capacity" */

/* Build a target from a description. *out: free with rls_target_free. On error *out is NULL.
 * RLS_E_TARGET: a value out of range (negative, non-finite, a clock period that is not finite);
 * RLS_E_OVERFLOW: the instance counts (MAC units, PEs) do not fit int64, or a derived per-cycle
 * static energy is not finite. */
int rls_target_new(const rls_target_desc *desc, rls_target **out);
void rls_target_free(rls_target *target);  /* NULL is fine */

/* Evaluate one table (int64_t[80]). Returns RLS_OK for any well-formed input, valid or not
 * (validity is in out->valid / out->reason); an error status for NULLs, a bad layer or an
 * entry < 1. A result reported valid always has finite, non-negative energies, cycles and access
 * counts: a table whose figures would not be is reported invalid with reason RLS_R_OVERFLOW. */
int rls_evaluate(const rls_target *target, const rls_layer *layer, const int64_t *table,
                 rls_result *out);

/* Evaluate n tables (n * 80 int64_t, contiguous) for one layer in one call.
 * out: n summaries. Entries < 1 make that table's summary invalid with reason
 * RLS_R_COLUMN_PRODUCT rather than failing the batch. */
int rls_evaluate_batch(const rls_target *target, const rls_layer *layer, const int64_t *tables,
                       size_t n, rls_summary *out);

/* The objective value of a summary (energy, cycles or energy*cycles). */
double rls_objective_value(const rls_summary *s, int objective);

/* ==== searches (search.c, bottomup.c, factor.c) ========================================== *
 * Every search returns the best valid table it found in best_table (int64_t[80], caller
 * allocated) with its summary in *best, and the number of complete candidate tables it
 * evaluated with the cost model in *candidates_evaluated. RLS_E_NOT_FOUND: no valid table.
 * Ties between equally good candidates are broken deterministically: lower objective, then the
 * smaller product of the DRAM row, then the lexicographically smaller table (row-major).
 * (rls_bottom_up breaks ties as the reference heuristic does instead; see bottomup.c.)
 * The searches keep no state between calls; a target may be shared across threads. */

/* Brute force over 2..4 distinct rows (indices 0..9): multiply the selected rows out column
 * by column, try every ordered factorization of each column product over those rows (pruning
 * partial assignments that can no longer become valid) and keep the best. The other rows keep
 * their values. If table is valid the result is never worse than it. objective: enum
 * rls_objective. */
int rls_search_rows(const rls_target *t, const rls_layer *layer, const int64_t *table,
                    const int32_t *rows, int32_t n_rows, int32_t objective,
                    int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated);

/* rls_search_rows by the plain walk: every partial table checked with every rule, every
 * complete one evaluated in full. The same result and count by construction; kept as the
 * reference the pruned walk is tested against. */
int rls_search_rows_plain(const rls_target *t, const rls_layer *layer, const int64_t *table,
                    const int32_t *rows, int32_t n_rows, int32_t objective,
                    int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated);

/* The reference's bottom-up heuristic (spec §12, fixed dataflows). objective RLS_OBJ_EDP is an
 * extension (partial cost = partial energy x partial cycles). budget <= 0: none (the
 * reference's result); otherwise each level-pair search (one per pair and surviving candidate,
 * at most 7) evaluates at most budget options, and *finished = 0 when one was cut short. */
int rls_bottom_up(const rls_target *t, const rls_layer *layer, int32_t objective, int64_t budget,
                  int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated,
                  int32_t *finished);

/* Exhaustive enumeration of every writable row with pruning. budget: the most candidates to
 * evaluate (<= 0: no limit). *finished = 1 when the whole space was enumerated, in which case
 * the result is the optimum of the model. */
int rls_exhaustive(const rls_target *t, const rls_layer *layer, int32_t objective, int64_t budget,
                   int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated,
                   int32_t *finished);

/* Random sampling of valid tables (per column a uniformly drawn ordered factorization over the
 * writable rows, redrawn while the partial table cannot be valid), budget >= 1 evaluations,
 * RNG seeded by seed (splitmix64). */
int rls_random_search(const rls_target *t, const rls_layer *layer, int32_t objective,
                      uint64_t seed, int64_t budget, int64_t *best_table, rls_summary *best,
                      int64_t *candidates_evaluated);

/* The rows the searches may write (every present buffer level and DRAM, each spatial axis of
 * size > 1; never the Register row), ascending in out[RLS_ROWS]. Returns how many (>= 2), or
 * -1 when an argument is NULL. Python's rlsched_compile.table.writable_rows is the same set. */
int rls_writable_rows(const rls_target *t, int32_t *out);

/* One valid table drawn as in rls_random_search. *rng_state: the caller's RNG state (any
 * value), advanced in place. */
int rls_sample_valid(const rls_target *t, const rls_layer *layer, uint64_t *rng_state,
                     int64_t *table_out);
/* ==== end of searches ==================================================================== */

/* ==== dataflows per call (dataflow.c) ===================================================== *
 * The same functions with the buffers' dataflows given per call instead of taken from the built
 * target, so that a search over dataflows never builds another target. dataflows:
 * int32_t[2] = {local buffer, global buffer}, each an enum rls_dataflow; the global buffer's
 * entry is ignored when the target has none. NULL means the target's own dataflows (then each
 * _df function is exactly its plain counterpart). RLS_E_ARG: a value out of range, or the
 * stationary type of a dataflow is bypassed at that buffer (IS/input, WS/weight, OS/output), the
 * rule rls_target_new applies to a described dataflow. The target is only read. */

/* RLS_OK when dataflows (not NULL) may be used with target, else RLS_E_ARG. */
int rls_dataflows_check(const rls_target *target, const int32_t *dataflows);
int rls_evaluate_df(const rls_target *target, const int32_t *dataflows, const rls_layer *layer,
                    const int64_t *table, rls_result *out);
int rls_evaluate_batch_df(const rls_target *target, const int32_t *dataflows, const rls_layer *layer,
                          const int64_t *tables, size_t n, rls_summary *out);
int rls_search_rows_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                       const int64_t *table, const int32_t *rows, int32_t n_rows, int32_t objective,
                       int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated);
int rls_search_rows_plain_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                       const int64_t *table, const int32_t *rows, int32_t n_rows, int32_t objective,
                       int64_t *best_table, rls_summary *best, int64_t *candidates_evaluated);
int rls_bottom_up_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                     int32_t objective, int64_t budget, int64_t *best_table, rls_summary *best,
                     int64_t *candidates_evaluated, int32_t *finished);
int rls_exhaustive_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                      int32_t objective, int64_t budget, int64_t *best_table, rls_summary *best,
                      int64_t *candidates_evaluated, int32_t *finished);
int rls_random_search_df(const rls_target *t, const int32_t *dataflows, const rls_layer *layer,
                         int32_t objective, uint64_t seed, int64_t budget, int64_t *best_table,
                         rls_summary *best, int64_t *candidates_evaluated);
/* ==== end of dataflows per call =========================================================== */

#ifdef __cplusplus
}
#endif
#endif /* RLS_H */
