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
#define RINGLOG_LAYOUT_VERSION 3u

#define RL_CACHELINE 64u
#define RL_HEADER_SIZE 4096u
#define RL_SLOT_SIZE 32u   /* bytes per slot; an entry covers 1..N whole slots */
#define RL_SLOT_SHIFT 5u
#define RL_REGISTRY_COUNT 4096u /* producer-process slots; owner ids 1..4095 */
#define RL_RING_HDR_SIZE 256u
#define RL_MIN_SLOTS 128u          /* 4 KiB of entry space */
#define RL_MAX_SLOTS (1u << 25)    /* 1 GiB of entry space */
#define RL_MAX_RINGS 65536u

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
    uint32_t nrings;         /*  24 */
    uint32_t slot_size;      /*  28: RL_SLOT_SIZE */
    uint64_t ring_slots;     /*  32: N, slots per ring, power of two */
    uint64_t rings_offset;   /*  40: offset of ring 0 */
    uint64_t ring_stride;    /*  48: bytes from one ring to the next */
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
    char pad0[128];          /* 128 */
    /* 256: the global index; every log call takes one. */
    alignas(RL_CACHELINE) _Atomic uint64_t next_index;
    char pad1[RL_CACHELINE - 8];
    /* 320: the consuming reader's claim: pid and start time of its process. */
    alignas(RL_CACHELINE) _Atomic uint64_t consumer; /* pid << 32 | 1, or 0 */
    char pad2[RL_CACHELINE - 8];
    /* 384: triggers raised so far; also the futex word recorders sleep on. */
    alignas(RL_CACHELINE) _Atomic uint32_t triggers;
    /* 388: numbers handed to triggers (fetch_add), so that two racing
     * triggers never log the same number; `triggers` moves only after the
     * trigger's entry is in the rings. */
    _Atomic uint32_t trigger_seq;
    char pad3[RL_CACHELINE - 8];
    /* 448: run-time minimum level; read by every log call, rarely written. */
    alignas(RL_CACHELINE) _Atomic uint32_t min_level;
    char pad4[RL_CACHELINE - 4];
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
 * Ring header, 256 bytes: head and tail on lines of their own (producers of
 * one CPU hammer head; the reader and overwriting producers move tail),
 * producer counters on a third, reader counters on the fourth.
 * Positions are free-running slot counts; slot = position & (N - 1).
 */
struct rl_ring {
    alignas(RL_CACHELINE) _Atomic uint64_t head; /*   0: next position to reserve */
    /* 8: a recent value of tail (never above it), kept on the producers' own
     * line so that a reservation does not read the line the consumer
     * writes; the real tail is read only when the hint says "full". */
    _Atomic uint64_t tail_hint;
    char pad0[RL_CACHELINE - 16];
    alignas(RL_CACHELINE) _Atomic uint64_t tail; /*  64: oldest position not yet released */
    char pad1[RL_CACHELINE - 8];
    alignas(RL_CACHELINE) _Atomic uint64_t written; /* 128 */
    _Atomic uint64_t dropped;     /* 136: full ring (drop policy or blocked overwrite) */
    _Atomic uint64_t too_big;     /* 144 */
    _Atomic uint64_t overwritten; /* 152 */
    _Atomic uint64_t aborted;     /* 160: producer found its reservation stolen */
    _Atomic uint64_t abandoned;   /* 168: reservations reclaimed from others */
    /* 176, 184: overwriting producers blocked by a RESERVED entry at the
     * tail: its position + 1 (0: none) and when (ticks of the region's
     * clock) someone last checked whether its owner is alive. */
    _Atomic uint64_t stuck_pos;
    _Atomic uint64_t stuck_ticks;
    char pad2[RL_CACHELINE - 64];
    alignas(RL_CACHELINE) _Atomic uint64_t read; /* 192: entries claimed by the consumer */
    char pad3[RL_CACHELINE - 8];
    /* 256: _Atomic uint64_t seq[N]; then uint64_t data[N * 4] (32 bytes a slot) */
};

/*
 * Slot stamp (seq[slot]): who holds the slot for which position.
 *   bits 63..14  position & RL_POS_MASK (50 bits)
 *   bits 13..2   owner: registry index of the producer process, 0 = none
 *   bits  1..0   state
 * A stamp whose position is not the one a reader expects is "stale": left
 * from an earlier lap or never written (all zero).
 */
enum rl_stamp_state {
    RL_ST_NONE = 0,      /* never written */
    RL_ST_RESERVED = 1,  /* producer writing; owner 0 means ABANDONED */
    RL_ST_COMMITTED = 2, /* entry complete */
    RL_ST_PAD = 3,       /* filler up to the end of the ring */
};
#define RL_POS_BITS 50u
#define RL_POS_MASK ((UINT64_C(1) << RL_POS_BITS) - 1)
#define RL_OWNER_BITS 12u

static inline uint64_t rl_stamp(uint64_t pos, uint32_t owner, unsigned state)
{
    return (pos & RL_POS_MASK) << 14 | (uint64_t)(owner & 0xfffu) << 2 | state;
}
static inline uint64_t rl_stamp_pos(uint64_t s) { return s >> 14; }
static inline uint32_t rl_stamp_owner(uint64_t s) { return (uint32_t)(s >> 2) & 0xfffu; }
static inline unsigned rl_stamp_state(uint64_t s) { return (unsigned)(s & 3u); }
static inline int rl_stamp_is_for(uint64_t s, uint64_t pos)
{
    return rl_stamp_state(s) != RL_ST_NONE && rl_stamp_pos(s) == (pos & RL_POS_MASK);
}

/* True when the stamp is from a position before `pos` (an earlier lap) or
 * was never written: the slot is "unmarked" as seen from `pos`.  A stamp
 * from a later position means the caller's view of the ring is stale. */
static inline int rl_stamp_older(uint64_t s, uint64_t pos)
{
    uint64_t d = ((pos & RL_POS_MASK) - rl_stamp_pos(s)) & RL_POS_MASK;
    return rl_stamp_state(s) == RL_ST_NONE || (d != 0 && d < (RL_POS_MASK >> 1));
}

/* Entry header, the first slot of every entry.  Payload follows at +32. */
struct rl_entry_hdr {
    uint64_t index;     /*  0: global index */
    uint64_t timestamp; /*  8: ticks of the region's clock */
    uint32_t length;    /* 16: payload bytes */
    uint32_t remarks;   /* 20 */
    uint16_t cpu;       /* 24: low 16 bits of the ring number */
    uint16_t type;      /* 26 */
    uint8_t level;      /* 28 */
    uint8_t flags;      /* 29 */
    uint16_t owner;     /* 30: registry index of the producer */
};

/* Slots an entry with `len` payload bytes covers. */
static inline uint64_t rl_entry_slots(uint64_t len)
{
    return 1 + ((len + RL_SLOT_SIZE - 1) >> RL_SLOT_SHIFT);
}

/*
 * The call-site dictionary of deferred logging (docs/FORMAT.md,
 * "Dictionary"): a 64-byte header, a hash table of `dict_size / 64` 32-bit
 * buckets, then an append-only arena of records.  A site's id is its
 * record's offset from the dictionary start divided by 8.  Records are
 * written whole before a bucket names them (release) and never change.
 */
#define RL_DICT_MIN (16u * 1024)
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
    uint32_t reserved; /* 28 */
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
#define RL_SNAP_VERSION 1u
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
    char reason[256];       /*  64: NUL-terminated */
    uint64_t trigger_ns;    /* 320: wall clock of the first covered trigger's entry, 0 unknown */
    uint32_t first_trigger; /* 328: triggers first..last are covered (0, 0: taken by hand) */
    uint32_t last_trigger;  /* 332 */
    char pad[RL_SNAP_HEADER_SIZE - 336];
};
_Static_assert(sizeof(struct rl_snap_header) == RL_SNAP_HEADER_SIZE, "FORMAT.md");
_Static_assert(offsetof(struct rl_snap_header, header_crc) == 56, "FORMAT.md");
_Static_assert(offsetof(struct rl_snap_header, reason) == 64, "FORMAT.md");
_Static_assert(offsetof(struct rl_snap_header, trigger_ns) == 320, "FORMAT.md");
_Static_assert(offsetof(struct rl_snap_header, last_trigger) == 332, "FORMAT.md");

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
_Static_assert(offsetof(struct rl_header, ring_slots) == 32, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, registry_offset) == 56, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, trigger_seq) == 388, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, clock_hz) == 80, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, real_base_ns) == 104, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, checksum) == 124, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, next_index) == 256, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, consumer) == 320, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, triggers) == 384, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, min_level) == 448, "FORMAT.md");
_Static_assert(offsetof(struct rl_header, dict_offset) == 112, "FORMAT.md");
_Static_assert(sizeof(struct rl_registry_slot) == 16, "FORMAT.md");
_Static_assert(sizeof(struct rl_ring) == RL_RING_HDR_SIZE, "FORMAT.md");
_Static_assert(offsetof(struct rl_ring, tail_hint) == 8, "FORMAT.md");
_Static_assert(offsetof(struct rl_ring, tail) == 64, "FORMAT.md");
_Static_assert(offsetof(struct rl_ring, written) == 128, "FORMAT.md");
_Static_assert(offsetof(struct rl_ring, abandoned) == 168, "FORMAT.md");
_Static_assert(offsetof(struct rl_ring, stuck_pos) == 176, "FORMAT.md");
_Static_assert(offsetof(struct rl_ring, stuck_ticks) == 184, "FORMAT.md");
_Static_assert(offsetof(struct rl_ring, read) == 192, "FORMAT.md");
_Static_assert(sizeof(struct rl_entry_hdr) == RL_SLOT_SIZE, "entry header is one slot");
_Static_assert(offsetof(struct rl_entry_hdr, length) == 16, "FORMAT.md");
_Static_assert(offsetof(struct rl_entry_hdr, cpu) == 24, "FORMAT.md");
_Static_assert(offsetof(struct rl_entry_hdr, owner) == 30, "FORMAT.md");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && ATOMIC_LLONG_LOCK_FREE == 2,
               "64-bit atomics must be lock-free to live in shared memory");
_Static_assert(RL_REGISTRY_COUNT <= (1u << RL_OWNER_BITS), "owner id fits the stamp");

#endif /* RINGLOG_LAYOUT_H */
