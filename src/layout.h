/*
 * The shared-memory layout: an ABI between every producer and reader of a
 * region, across processes and builds.  docs/FORMAT.md specifies it byte by
 * byte; the static assertions at the end pin what that document promises.
 * Change anything here and RINGLOG_LAYOUT_VERSION must change with it.
 *
 * All multi-byte fields are little-endian host order (the region never leaves
 * the machine; snapshot files carry their own header).  Offsets, never
 * pointers: each process maps the region at its own address.
 */
#ifndef RINGLOG_LAYOUT_H
#define RINGLOG_LAYOUT_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RINGLOG_MAGIC 0x31474F4C474E4952ull /* "RINGLOG1" little-endian */
/* 4: single-writer lanes (docs/FORMAT.md).  Layout 3 had shared per-CPU
 * rings reserved by compare-and-swap and a global index; neither reader
 * reads the other's layout. */
#define RINGLOG_LAYOUT_VERSION 4u

#define RL_CACHELINE 64u
#define RL_HEADER_SIZE 4096u
#define RL_REGISTRY_COUNT 4096u /* producer handles; owner ids 1..4095 */
#define RL_LANE_HDR_SIZE 256u
#define RL_MIN_LANE (4u * 1024)          /* bytes of entry space */
#define RL_MAX_LANE (1u << 30)
#define RL_MAX_LANES 65536u
#define RL_MAX_SUB 16u                   /* sub-buffers per lane */
#define RL_MIN_SUB_BYTES (8u * 1024)     /* a sub-buffer holds the largest common entry */
#define RL_ALIGN 8u                      /* entries start on 8-byte boundaries */

enum rl_clock { RL_CLOCK_TSC = 1, RL_CLOCK_MONOTONIC = 2 };

/*
 * Region header, first 4096 bytes.  Bytes 0..127 are written once by the
 * creator before it publishes `magic` (release) and never change; the
 * checksum covers bytes 8..123 of them so a reader can tell a corrupt header
 * from a foreign one.  Mutable words each have a cache line of their own.
 */
struct rl_header {
    _Atomic uint64_t magic;  /*   0: RINGLOG_MAGIC, stored last by creator */
    uint32_t version;        /*   8: RINGLOG_LAYOUT_VERSION */
    uint32_t header_size;    /*  12: RL_HEADER_SIZE */
    uint64_t region_size;    /*  16: total bytes of the region */
    uint32_t nlanes;         /*  24: lanes, pool lanes included */
    uint32_t nsub;           /*  28: sub-buffers per lane, a power of two */
    uint64_t lane_size;      /*  32: S, entry bytes per lane, power of two */
    uint64_t lanes_offset;   /*  40: offset of lane 0 */
    uint64_t lane_stride;    /*  48: RL_LANE_HDR_SIZE + lane_size */
    uint64_t registry_offset;/*  56 */
    uint32_t registry_count; /*  64: RL_REGISTRY_COUNT */
    uint32_t policy;         /*  68: enum ringlog_policy */
    uint32_t clock;          /*  72: enum rl_clock */
    uint32_t creator_pid;    /*  76 */
    uint64_t clock_hz;       /*  80: ticks per second of `clock` */
    uint64_t clock_base;     /*  88: ticks at calibration */
    uint64_t mono_base_ns;   /*  96: CLOCK_MONOTONIC at calibration */
    uint64_t real_base_ns;   /* 104: CLOCK_REALTIME at calibration (creation time) */
    uint64_t dict_offset;    /* 112: offset of the call-site dictionary */
    uint32_t dict_size;      /* 120: its bytes, a power of two */
    uint32_t checksum;       /* 124: rl_checksum(bytes 8..123) */
    uint32_t pool;           /* 128: the last `pool` lanes are lent per call, never kept */
    uint32_t reserved0;      /* 132 */
    char pad0[120];          /* 136 */
    /* 256: log calls that found no lane free (lost, not in any lane). */
    alignas(RL_CACHELINE) _Atomic uint64_t nolane;
    char pad1[RL_CACHELINE - 8];
    /* 320: the consuming reader's claim: pid << 32 | state (1 claiming,
     * 2 held, consumer_start valid), or 0. */
    alignas(RL_CACHELINE) _Atomic uint64_t consumer;
    _Atomic uint64_t consumer_start; /* 328: its process start time (pid reuse) */
    char pad2[RL_CACHELINE - 16];
    /* 384: triggers raised so far; also the futex word recorders sleep on. */
    alignas(RL_CACHELINE) _Atomic uint32_t triggers;
    /* 388: numbers handed to triggers (fetch_add), so that two racing
     * triggers never log the same number; `triggers` moves only after the
     * trigger's entry is in its lane. */
    _Atomic uint32_t trigger_seq;
    /* 392: while the region's clock is below this, writers keep the history
     * a trigger is to be copied from: they evict nothing (DESIGN.md,
     * "Snapshots").  Set by a trigger when a recorder is attached, cleared
     * by the recorder once it has copied; it expires by itself. */
    _Atomic uint64_t freeze_until;
    /* 400: pid of the recorder that clears freezes (the last started; 0:
     * none).  A trigger freezes only while that process lives. */
    _Atomic uint32_t recorder_pid;
    char pad3[RL_CACHELINE - 20];
    /* 448: run-time minimum level; read by every log call, rarely written. */
    alignas(RL_CACHELINE) _Atomic uint32_t min_level;
    /* 452: auto-trigger: 0 off, else an entry at level >= trigger_level - 1
     * raises a trigger, at most one per trigger_interval_ms (456).  Zero,
     * as in regions made before these fields, means off (FORMAT.md,
     * "Versioning": compatible additions). */
    _Atomic uint32_t trigger_level;
    _Atomic uint32_t trigger_interval_ms;
    /* 460: bumped (release) after a call site's switch changes: producers
     * re-read their site's switch when it differs from what they saw. */
    _Atomic uint32_t sites_gen;
    /* 464: clock ticks of the last auto-trigger; written at most once per
     * interval, so the line every call reads stays shared. */
    _Atomic uint64_t last_auto_trigger;
    char pad4[RL_CACHELINE - 24];
    char pad5[RL_HEADER_SIZE - 512];
};

/*
 * One producer handle's registry slot.  `word` packs pid, a claim
 * generation and the state so that every change is one compare-and-swap on
 * the whole word: a checker that decided "pid P is dead" cannot mark DEAD a
 * slot that P released and another process re-claimed meanwhile (the
 * generation differs).
 *   bits 63..32 pid   bits 31..8 generation   bits 7..0 state
 */
enum rl_reg_state { RL_REG_FREE = 0, RL_REG_CLAIMING = 1, RL_REG_LIVE = 2, RL_REG_DEAD = 3 };
struct rl_registry_slot {
    _Atomic uint64_t word;
    uint64_t start_time; /* holder's process start time (platform ticks); guards pid reuse */
};
static inline unsigned rl_reg_state(uint64_t w) { return (unsigned)(w & 0xffu); }
static inline uint32_t rl_reg_pid(uint64_t w) { return (uint32_t)(w >> 32); }
static inline uint64_t rl_reg_with(uint64_t w, uint32_t pid, unsigned state)
{
    return (uint64_t)pid << 32 | (w & 0xffffff00u) | state;
}
static inline uint64_t rl_reg_next_gen(uint64_t w)
{
    return (w & ~(uint64_t)0xffffff00u) | ((w + 0x100u) & 0xffffff00u);
}

/*
 * Lane owner word: who may write the lane.  Changed only by compare-and-
 * swap (claim, release, reclaim), never on the log path.
 *   bits 63..32 tid   bits 31..20 generation   bits 19..8 registry id
 *   bits 7..0 state
 * The generation moves at every claim, so a reclaimer that judged one
 * holder dead cannot take the lane from the next (no ABA).
 */
enum rl_lane_state { RL_LANE_FREE = 0, RL_LANE_THREAD = 1, RL_LANE_LENT = 2 };
#define RL_OWN_STATE_BITS 8u
#define RL_OWN_REG_BITS 12u
#define RL_OWN_GEN_BITS 12u
#define RL_OWN_REG_SHIFT RL_OWN_STATE_BITS
#define RL_OWN_GEN_SHIFT (RL_OWN_REG_SHIFT + RL_OWN_REG_BITS)
#define RL_OWN_TID_SHIFT (RL_OWN_GEN_SHIFT + RL_OWN_GEN_BITS)
static inline unsigned rl_own_state(uint64_t w) { return (unsigned)(w & 0xffu); }
static inline uint32_t rl_own_reg(uint64_t w)
{
    return (uint32_t)(w >> RL_OWN_REG_SHIFT) & ((1u << RL_OWN_REG_BITS) - 1);
}
static inline uint32_t rl_own_tid(uint64_t w) { return (uint32_t)(w >> RL_OWN_TID_SHIFT); }
/* The word for a new holder after `old`: next generation. */
static inline uint64_t rl_own_make(uint64_t old, uint32_t tid, uint32_t reg, unsigned state)
{
    uint64_t gen = ((old >> RL_OWN_GEN_SHIFT) + 1) & ((1u << RL_OWN_GEN_BITS) - 1);
    return (uint64_t)tid << RL_OWN_TID_SHIFT | gen << RL_OWN_GEN_SHIFT |
           (uint64_t)(reg & ((1u << RL_OWN_REG_BITS) - 1)) << RL_OWN_REG_SHIFT | state;
}
static inline uint64_t rl_own_free(uint64_t old)
{
    return (old & ~(uint64_t)0xffu) | RL_LANE_FREE;
}

/*
 * Lane header, 256 bytes, then `lane_size` bytes of entries.  Four lines:
 * the writer's (written only by the lane's one writer, read by readers),
 * the owner word, the consumer's, and the writer's sub-buffer bookkeeping.
 * Positions are free-running byte counts; offset = position & (S - 1).
 */
struct rl_lane {
    /* 0: writer's line */
    _Atomic uint64_t head;        /*   0: bytes published; release store */
    _Atomic uint64_t seq;         /*   8: log calls made on the lane = next seq; release,
                                     after head */
    _Atomic uint64_t lost;        /*  16: calls refused (full, too big, frozen) */
    _Atomic uint64_t too_big;     /*  24: (also in lost) */
    _Atomic uint64_t overwritten; /*  32: unread entries evicted (overwrite policy) */
    _Atomic uint64_t frozen;      /*  40: refused while a snapshot held the lane (in lost) */
    _Atomic uint64_t limit;       /*  48: drop policy: the writer's view of tail + S */
    /* 56: the clock value of the call in progress, 0 when none: a reader
     * holds back entries newer than it until it is published (bounded). */
    _Atomic uint64_t inflight;
    /* 64: owner's line */
    alignas(RL_CACHELINE) _Atomic uint64_t owner;
    _Atomic uint64_t claims;      /*  72: times the lane was claimed */
    _Atomic uint64_t abandoned;   /*  80: calls cut short by a holder's death (found at
                                     reclaim; counted in seq, never in an entry) */
    char pad1[RL_CACHELINE - 24];
    /* 128: consumer's line.  `tail`: oldest position still valid.  Moved by
     * the consuming reader (claim) and, under the overwrite policy, by the
     * writer evicting a sub-buffer; both by compare-and-swap. */
    alignas(RL_CACHELINE) _Atomic uint64_t tail;
    _Atomic uint64_t read;        /* 136: entries claimed by the consumer */
    char pad2[RL_CACHELINE - 16];
    /* 192: reserved, zero */
    alignas(RL_CACHELINE) uint64_t reserved[8];
};

/*
 * Entry header, 32 bytes; the payload follows, then zero padding to the
 * next multiple of RL_ALIGN.  An entry never crosses a sub-buffer boundary:
 * a writer that cannot fit the next entry in its sub-buffer writes a pad
 * (length has RL_LEN_PAD set) to its end, or nothing when fewer than 32
 * bytes remain (readers skip such a tail).
 */
struct rl_entry_hdr {
    uint64_t timestamp; /*  0: ticks of the region's clock */
    uint64_t seqown;    /*  8: bits 47..0 the lane seq, 63..48 registry id of the writer */
    uint32_t length;    /* 16: payload bytes; RL_LEN_PAD: a pad to the sub-buffer's end */
    uint32_t remarks;   /* 20 */
    uint16_t type;      /* 24 */
    uint8_t level;      /* 26 */
    uint8_t flags;      /* 27 */
    uint32_t tid;       /* 28: writer's thread id */
};
#define RL_EHDR 32u
#define RL_LEN_PAD 0x80000000u
#define RL_SEQ_BITS 48u
#define RL_SEQ_MASK ((UINT64_C(1) << RL_SEQ_BITS) - 1)
static inline uint64_t rl_seqown(uint64_t seq, uint32_t reg)
{
    return (seq & RL_SEQ_MASK) | (uint64_t)(reg & 0xffffu) << RL_SEQ_BITS;
}
/* The full sequence number of a stored low part, given one near it. */
static inline uint64_t rl_seq_extend(uint64_t low, uint64_t near)
{
    int64_t d = (int64_t)((low - near) << (64 - RL_SEQ_BITS)) >> (64 - RL_SEQ_BITS);
    return near + (uint64_t)d;
}
/* Bytes an entry with `len` payload bytes covers. */
static inline uint64_t rl_entry_bytes(uint64_t len)
{
    return RL_EHDR + ((len + RL_ALIGN - 1) & ~(uint64_t)(RL_ALIGN - 1));
}

/*
 * The call-site dictionary of deferred logging (docs/FORMAT.md,
 * "Dictionary"): a 64-byte header, a hash table of `dict_size / 64` 32-bit
 * buckets, then an append-only arena of records.  A site's id is its
 * record's offset from the dictionary start divided by 8.  Records are
 * written whole before a bucket names them (release) and never change.
 */
#define RL_DICT_MIN (16u * 1024)
/* No region is smaller (header page, registry, smallest dictionary): a
 * creator sizes the object before it writes anything, so a half-made
 * region is this big too. */
#define RL_REGION_MIN_BYTES (RL_HEADER_SIZE + RL_REGISTRY_COUNT * 16u + RL_DICT_MIN)
#define RL_DICT_MAX (64u * 1024 * 1024)
#define RL_DICT_DEFAULT (256u * 1024)
#define RL_DICT_REC_MAGIC 0x53444c52u /* "RLDS" */
#define RL_DICT_FMT_MAX 4096u
#define RL_DICT_FILE_MAX 1024u
#define RL_DICT_FUNC_MAX 1024u
struct rl_dict_hdr {
    _Atomic uint32_t used;    /* 0: arena bytes handed out */
    _Atomic uint32_t records; /* 4: records published */
    _Atomic uint32_t full;    /* 8: registrations refused: dictionary full */
    uint32_t reserved[13];
};
/* A string argument of a deferred entry: a 2-byte length, then the bytes. */
#define RL_STR_NULL 0xffffu /* the length of a NULL string */
#define RL_STR_CUT 0x8000u  /* length flag: the string was cut */

struct rl_dict_rec {
    uint32_t magic;    /*  0: RL_DICT_REC_MAGIC */
    uint32_t size;     /*  4: bytes of the record, a multiple of 8 */
    uint64_t hash;     /*  8: FNV-1a 64 of everything from byte 16 on */
    uint32_t line;     /* 16 */
    uint8_t level;     /* 20 */
    uint8_t nargs;     /* 21: <= RINGLOG_MAX_ARGS */
    uint16_t fmt_len;  /* 22: without the NUL */
    uint16_t file_len; /* 24 */
    uint16_t func_len; /* 26 */
    /* 28: the site's switch (atomic; bit 0: off), the one word of a record
     * that changes after publication; hashed as zero. */
    uint32_t switches;
    /* 32: uint8_t types[nargs]; format NUL file NUL function NUL; zero pad */
};
static inline uint32_t rl_dict_buckets(uint32_t dict_size) { return dict_size / 64; }
static inline uint32_t rl_dict_arena(uint32_t dict_size)
{
    return (uint32_t)sizeof(struct rl_dict_hdr) + 4 * rl_dict_buckets(dict_size);
}
_Static_assert(sizeof(struct rl_dict_hdr) == 64, "FORMAT.md");
_Static_assert(sizeof(struct rl_dict_rec) == 32, "FORMAT.md");

/* Snapshot file header (docs/FORMAT.md, "Snapshot files"). */
#define RL_SNAP_MAGIC "RLSNAP01"
#define RL_SNAP_VERSION 2u    /* written; version 1 (no piece table) is still read */
#define RL_SNAP_HEADER_SIZE 4096u
struct rl_snap_header {
    char magic[8];          /*   0 */
    uint32_t version;       /*   8 */
    uint32_t header_size;   /*  12 */
    uint64_t image_size;    /*  16: bytes of each region image */
    uint32_t nimages;       /*  24: 1, or 2 with a post-trigger image */
    uint32_t trigger;       /*  28: region's trigger count when taken */
    uint64_t taken_ns;      /*  32: wall clock, ns since the epoch */
    uint64_t post_ns;       /*  40: time between the two images */
    uint32_t image_crc[2];  /*  48: CRC-32 of each image */
    uint32_t header_crc;    /*  56: CRC-32 of these 4096 bytes with this field 0 */
    uint32_t reserved;      /*  60 */
    char reason[256];       /*  64: NUL-terminated, RINGLOG_REASON_MAX bytes */
    uint64_t trigger_ns;    /* 320: wall clock of the first covered trigger's entry, 0 unknown */
    uint32_t first_trigger; /* 328: triggers first..last are covered (0, 0: taken by hand) */
    uint32_t last_trigger;  /* 332 */
    /* Version 2: after the images, a table of CRC-32s of each image's
     * pieces (rl_snap_piece), so that damage costs one piece, not the file. */
    uint32_t npieces;       /* 336: pieces per image: 3 + nlanes */
    uint32_t table_crc;     /* 340: CRC-32 of the table */
    uint64_t table_offset;  /* 344: 4096 + nimages × image_size */
    char pad[RL_SNAP_HEADER_SIZE - 352];
};
_Static_assert(sizeof(struct rl_snap_header) == RL_SNAP_HEADER_SIZE, "FORMAT.md");
_Static_assert(offsetof(struct rl_snap_header, header_crc) == 56, "FORMAT.md");
_Static_assert(offsetof(struct rl_snap_header, reason) == 64, "FORMAT.md");
_Static_assert(offsetof(struct rl_snap_header, trigger_ns) == 320, "FORMAT.md");
_Static_assert(offsetof(struct rl_snap_header, last_trigger) == 332, "FORMAT.md");
_Static_assert(offsetof(struct rl_snap_header, table_offset) == 344, "FORMAT.md");

/* Recording files, written by continuous recording (docs/FORMAT.md,
 * "Recording files"): this header, then blocks of records. */
#define RL_REC_MAGIC "RLREC001"
#define RL_REC_VERSION 1u
#define RL_REC_HEADER_SIZE 512u
#define RL_REC_F_ZSTD 0x1u /* header flags: blocks may be zstd-compressed */
struct rl_rec_header {
    char magic[8];           /*   0 */
    uint32_t version;        /*   8 */
    uint32_t header_size;    /*  12: 512 */
    uint32_t region_version; /*  16: the region's layout version */
    uint32_t nlanes;         /*  20 */
    uint64_t lane_size;      /*  24 */
    uint64_t created_ns;     /*  32: the region's creation, ns since the epoch */
    uint64_t opened_ns;      /*  40: this file's start, ns since the epoch */
    uint64_t first_index;    /*  48: the first index this file may hold */
    uint64_t clock_hz;       /*  56: the region's clock rate */
    uint32_t policy;         /*  64 */
    uint32_t clock;          /*  68: RL_CLOCK_* */
    uint32_t creator_pid;    /*  72 */
    uint32_t file_no;        /*  76: 0 for a recording's first file, then 1, 2... */
    uint64_t run_id;         /*  80: the same in every file of one recording */
    uint32_t flags;          /*  88: RL_REC_F_* */
    uint32_t name_len;       /*  92: bytes of name */
    char name[256];          /*  96: the region's name, NUL-padded */
    char pad[RL_REC_HEADER_SIZE - 356];
    uint32_t crc;            /* 508: CRC-32 of bytes 0..507 */
};
_Static_assert(sizeof(struct rl_rec_header) == RL_REC_HEADER_SIZE, "FORMAT.md");
_Static_assert(offsetof(struct rl_rec_header, run_id) == 80, "FORMAT.md");
_Static_assert(offsetof(struct rl_rec_header, name) == 96, "FORMAT.md");
_Static_assert(offsetof(struct rl_rec_header, crc) == 508, "FORMAT.md");

#define RL_REC_BLOCK_MAGIC 0x4b4c4252u /* "RBLK" */
#define RL_REC_B_ZSTD 0x1u             /* the stored bytes are one zstd frame */
#define RL_REC_RAW_MAX (20u << 20)     /* a block's records: at most 20 MiB (an entry of 16) */
#define RL_REC_ENTRY_MAX (16u << 20)   /* an entry's bytes kept: longer is cut, flagged */
struct rl_rec_block {
    uint32_t magic;      /*  0: RL_REC_BLOCK_MAGIC */
    uint32_t flags;      /*  4: RL_REC_B_* */
    uint32_t raw_len;    /*  8: bytes of records */
    uint32_t stored_len; /* 12: bytes that follow this header */
    uint32_t crc;        /* 16: CRC-32 of the stored bytes */
    uint32_t hcrc;       /* 20: CRC-32 of bytes 0..19 */
};
_Static_assert(sizeof(struct rl_rec_block) == 24, "FORMAT.md");

/* A record: its length (header included, a multiple of 8), its kind. */
enum { RL_REC_ENTRY = 1, RL_REC_GAP = 2, RL_REC_SITE = 3, RL_REC_END = 4 };
struct rl_rec_rec {
    uint32_t len;
    uint16_t kind;
    uint16_t reserved;
};
struct rl_rec_entry {                /* after rl_rec_rec; then `length` bytes */
    uint64_t index, timestamp, time_ns, seq;
    uint32_t lane, level, type, remarks, flags, pid, tid, length;
};
struct rl_rec_gap {
    uint64_t first_index, count, first_seq;
    uint32_t lane, reserved;
};
struct rl_rec_site {                 /* then types[nargs], fmt, file, func, each NUL-ended */
    uint32_t id, line, level, nargs, off, fmt_len, file_len, func_len;
};
struct rl_rec_end {
    uint64_t next_index;  /* the first index of the next file */
    uint64_t entries;     /* entries in this file */
    uint64_t gap_calls;   /* calls this file reports as gaps */
    uint64_t closed_ns;
    /* The region's totals when the file was closed (struct ringlog_stats). */
    uint64_t written, read, lost, overwritten, abandoned, buffered;
    uint32_t why;         /* 0 rotated, 1 recording stopped */
    uint32_t reserved;
};
_Static_assert(sizeof(struct rl_rec_entry) == 64, "FORMAT.md");
_Static_assert(sizeof(struct rl_rec_gap) == 32, "FORMAT.md");
_Static_assert(sizeof(struct rl_rec_site) == 32, "FORMAT.md");
_Static_assert(sizeof(struct rl_rec_end) == 88, "FORMAT.md");

/* FNV-1a, enough to tell a corrupt header from a good one. */
static inline uint32_t rl_checksum(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "FORMAT.md: regions and snapshots are little-endian");
_Static_assert(sizeof(struct rl_header) == RL_HEADER_SIZE, "header is one page");
_Static_assert(offsetof(struct rl_header, version) == 8, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, region_size) == 16, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, nlanes) == 24, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, lane_size) == 32, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, registry_offset) == 56, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, clock_hz) == 80, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, real_base_ns) == 104, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, dict_offset) == 112, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, checksum) == 124, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, pool) == 128, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, nolane) == 256, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, consumer) == 320, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, consumer_start) == 328, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, triggers) == 384, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, trigger_seq) == 388, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, freeze_until) == 392, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, recorder_pid) == 400, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, min_level) == 448, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, trigger_level) == 452, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, last_auto_trigger) == 464, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, sites_gen) == 460, "FORMAT.md");
_Static_assert(sizeof(struct rl_registry_slot) == 16, "FORMAT.md");
_Static_assert(sizeof(struct rl_lane) == RL_LANE_HDR_SIZE, "FORMAT.md");
_Static_assert(offsetof(struct rl_lane, seq) == 8, "FORMAT.md");
_Static_assert(offsetof(struct rl_lane, inflight) == 56, "FORMAT.md");
_Static_assert(offsetof(struct rl_lane, abandoned) == 80, "FORMAT.md");
_Static_assert(offsetof(struct rl_lane, owner) == 64, "FORMAT.md");
_Static_assert(offsetof(struct rl_lane, tail) == 128, "FORMAT.md");
_Static_assert(offsetof(struct rl_lane, read) == 136, "FORMAT.md");
_Static_assert(offsetof(struct rl_lane, reserved) == 192, "FORMAT.md");
_Static_assert(sizeof(struct rl_entry_hdr) == RL_EHDR, "FORMAT.md");
_Static_assert(offsetof(struct rl_entry_hdr, seqown) == 8, "FORMAT.md");
_Static_assert(offsetof(struct rl_entry_hdr, length) == 16, "FORMAT.md");
_Static_assert(offsetof(struct rl_entry_hdr, type) == 24, "FORMAT.md");
_Static_assert(offsetof(struct rl_entry_hdr, tid) == 28, "FORMAT.md");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && ATOMIC_LLONG_LOCK_FREE == 2,
               "64-bit atomics must be lock-free to live in shared memory");
_Static_assert(RL_REGISTRY_COUNT <= (1u << RL_OWN_REG_BITS), "registry id fits the owner word");
_Static_assert(RL_MAX_LANE / RL_MAX_SUB >= RL_MIN_SUB_BYTES, "sub-buffer geometry");

#endif /* RINGLOG_LAYOUT_H */
