/* word_freq.c — a word-frequency counter written the way the Beskid compiler lowers code: root
 * frames for every managed local, the barrier on every pointer store into the heap, polls at
 * loop back-edges, and only the runtime's ABI (beskid/runtime_abi.h, beskid/stdhost.h).
 *
 *   fn main() -> int {
 *     let input = args.get(1)                      // the file to count
 *     let text = fs.read_text(input)?               // validated UTF-8
 *     let lower: [u8] = ascii_lowercase(text)       // words are slices of this copy
 *     var table = Table.new(1024)                   // open addressing: keys [string], counts [int]
 *     for word in words(lower) { table.add(word) }
 *     let order: [int] = table.entries_sorted()     // count descending, then word by bytes
 *     print the top 10
 *     fs.write_text(output, "word count\n" for every entry)   // atomic
 *   }
 *
 * Usage: beskid_example_word_freq INPUT [OUTPUT]   (OUTPUT defaults to INPUT.counts)
 *
 * A word is a run of ASCII letters and digits and non-ASCII characters (any byte of a UTF-8
 * sequence above 0x7F), with apostrophes inside it ("don't"); ASCII letters are counted without
 * case. The table is built from runtime arrays: the keys are string slices into the lowercased
 * copy of the text, so counting allocates nothing per word. */
#include <stdint.h>
#include <string.h>

#include "beskid/stdhost.h"

/* Elements of [string]: {ptr, len}, ptr managed. */
static const uint64_t str_map[] = {0};
static const beskid_elem_type_t str_elem = {16, 8, str_map, 1};

/* The root frame's slots: every managed local of main, as the compiler assigns them. */
enum {
  S_TEXT,      /* text.ptr: the file's contents */
  S_LOWER,     /* lower.ptr: [u8], the lowercased copy the keys point into */
  S_KEYS,      /* keys.ptr: [string] */
  S_COUNTS,    /* counts.ptr: [int] */
  S_NEW_KEYS,  /* while the table grows */
  S_NEW_COUNT, /* while the table grows */
  S_ORDER,     /* order.ptr: [int], table positions sorted */
  S_SCRATCH,   /* the merge sort's second buffer; then a line to print */
  S_OUT,       /* the table's text */
  S_PATH,      /* the output path */
  SLOTS
};

static void *slots[SLOTS];

static void print(const char *text) {
  beskid_str_t s = {(const uint8_t *)text, (int64_t)strlen(text)};
  beskid_std_console_write(1, &s);
}

static void print_err(const char *text, const beskid_str_t *detail) {
  beskid_str_t s = {(const uint8_t *)text, (int64_t)strlen(text)};
  beskid_std_console_write(2, &s);
  if (detail != NULL) beskid_std_console_write(2, detail);
  beskid_str_t nl = {(const uint8_t *)"\n", 1};
  beskid_std_console_write(2, &nl);
}

static bool word_byte(uint8_t b) {
  return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b >= 0x80;
}

static uint64_t hash(const uint8_t *p, int64_t len) {
  uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */
  for (int64_t i = 0; i < len; i++) h = (h ^ p[i]) * UINT64_C(0x100000001b3);
  return h;
}

static bool same(const beskid_str_t *a, const uint8_t *p, int64_t len) {
  return a->len == len && memcmp(a->ptr, p, (size_t)len) == 0;
}

/* The position of `word` in a table of `cap` slots (a power of two): its slot, or the empty one
 * where it goes. */
static int64_t probe(const beskid_str_t *keys, int64_t cap, const uint8_t *p, int64_t len) {
  int64_t i = (int64_t)(hash(p, len) & (uint64_t)(cap - 1));
  while (keys[i].len != 0 && !same(&keys[i], p, len)) i = (i + 1) & (cap - 1);
  return i;
}

/* Doubles the table: new arrays, every entry moved (the keys keep pointing into `lower`). */
static int64_t grow(beskid_gc_thread_t *t, int64_t cap) {
  beskid_array_t a;
  beskid_rt_array_new_typed(&a, &str_elem, cap * 2);
  slots[S_NEW_KEYS] = a.ptr;
  array_new(&a, 8, cap * 2);
  slots[S_NEW_COUNT] = a.ptr;
  beskid_str_t *keys = slots[S_KEYS], *new_keys = slots[S_NEW_KEYS];
  int64_t *counts = slots[S_COUNTS], *new_counts = slots[S_NEW_COUNT];
  for (int64_t i = 0; i < cap; i++) {
    if (keys[i].len == 0) continue;
    int64_t j = probe(new_keys, cap * 2, keys[i].ptr, keys[i].len);
    beskid_gc_store(t, (void **)&new_keys[j].ptr, (void *)(uintptr_t)keys[i].ptr);
    new_keys[j].len = keys[i].len;
    new_counts[j] = counts[i];
  }
  slots[S_KEYS] = slots[S_NEW_KEYS];
  slots[S_COUNTS] = slots[S_NEW_COUNT];
  slots[S_NEW_KEYS] = slots[S_NEW_COUNT] = NULL;
  return cap * 2;
}

/* Whether table entry a sorts before entry b: more frequent first, then by bytes. */
static bool before(int64_t a, int64_t b) {
  const beskid_str_t *keys = slots[S_KEYS];
  const int64_t *counts = slots[S_COUNTS];
  if (counts[a] != counts[b]) return counts[a] > counts[b];
  int64_t n = keys[a].len < keys[b].len ? keys[a].len : keys[b].len;
  int c = memcmp(keys[a].ptr, keys[b].ptr, (size_t)n);
  return c != 0 ? c < 0 : keys[a].len < keys[b].len;
}

/* Bottom-up merge sort of order[0, n) (S_ORDER) using S_SCRATCH; stable. */
static void sort_entries(beskid_gc_thread_t *t, int64_t n) {
  for (int64_t width = 1; width < n; width *= 2) {
    int64_t *from = slots[S_ORDER], *to = slots[S_SCRATCH];
    for (int64_t lo = 0; lo < n; lo += 2 * width) {
      int64_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) to[k++] = before(from[j], from[i]) ? from[j++] : from[i++];
      while (i < mid) to[k++] = from[i++];
      while (j < hi) to[k++] = from[j++];
    }
    void *swap = slots[S_ORDER];
    slots[S_ORDER] = slots[S_SCRATCH];
    slots[S_SCRATCH] = swap;
    beskid_gc_poll(t);
  }
}

/* Writes the decimal digits of v (≥ 0) at out[at, ...); returns the position after them. */
static int64_t put_int(uint8_t *out, int64_t at, int64_t v) {
  uint8_t digits[20];
  int n = 0;
  do {
    digits[n++] = (uint8_t)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) out[at++] = digits[--n];
  return at;
}

static int64_t int_width(int64_t v) {
  int64_t w = 1;
  while (v >= 10) {
    v /= 10;
    w++;
  }
  return w;
}

int64_t beskid_program_main(void) {
  beskid_gc_thread_t *t = beskid_rt_thread();
  beskid_root_frame_t frame = {t->top_frame, slots, SLOTS};
  t->top_frame = &frame;
  int64_t status = 0;

  if (beskid_std_args_count() < 2) {
    print_err("usage: beskid_example_word_freq INPUT [OUTPUT]", NULL);
    t->top_frame = frame.previous;
    return 2;
  }
  beskid_str_t input, output, text;
  beskid_std_args_get(&input, 1);
  slots[S_PATH] = (void *)(uintptr_t)input.ptr;
  if (beskid_std_args_count() > 2) {
    beskid_std_args_get(&output, 2);
  } else { /* INPUT.counts, byte by byte */
    beskid_array_t p;
    array_new(&p, 1, input.len + 7);
    input.ptr = slots[S_PATH];
    memcpy(p.ptr, input.ptr, (size_t)input.len);
    memcpy((uint8_t *)p.ptr + input.len, ".counts", 7);
    output = (beskid_str_t){p.ptr, p.len};
  }
  slots[S_OUT] = (void *)(uintptr_t)output.ptr; /* until the table's text needs the slot */
  input.ptr = slots[S_PATH];
  int32_t st = beskid_std_fs_read_text(&text, &input);
  if (st != BESKID_OK) {
    print_err("word_freq: cannot read ", &input);
    t->top_frame = frame.previous;
    return 1;
  }
  slots[S_TEXT] = (void *)(uintptr_t)text.ptr;
  slots[S_PATH] = slots[S_OUT];
  slots[S_OUT] = NULL;

  /* lower = ascii_lowercase(text) */
  beskid_array_t lower_arr;
  array_new(&lower_arr, 1, text.len > 0 ? text.len : 1);
  slots[S_LOWER] = lower_arr.ptr;
  {
    const uint8_t *src = slots[S_TEXT];
    uint8_t *dst = slots[S_LOWER];
    for (int64_t i = 0; i < text.len; i++) {
      uint8_t b = src[i];
      dst[i] = b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;
      if ((i & 4095) == 0) {
        beskid_gc_poll(t);
        src = slots[S_TEXT];
        dst = slots[S_LOWER];
      }
    }
  }

  /* The table. */
  int64_t cap = 1024, distinct = 0, total = 0;
  beskid_array_t a;
  beskid_rt_array_new_typed(&a, &str_elem, cap);
  slots[S_KEYS] = a.ptr;
  array_new(&a, 8, cap);
  slots[S_COUNTS] = a.ptr;
  for (int64_t i = 0; i < text.len;) {
    const uint8_t *lower = slots[S_LOWER];
    if (!word_byte(lower[i])) {
      i++;
      continue;
    }
    int64_t start = i;
    while (i < text.len && (word_byte(lower[i]) ||
                            (lower[i] == '\'' && i + 1 < text.len && word_byte(lower[i + 1]))))
      i++;
    if (2 * (distinct + 1) > cap) cap = grow(t, cap);
    lower = slots[S_LOWER];
    beskid_str_t *keys = slots[S_KEYS];
    int64_t *counts = slots[S_COUNTS];
    int64_t at = probe(keys, cap, lower + start, i - start);
    if (keys[at].len == 0) {
      beskid_gc_store(t, (void **)&keys[at].ptr, (void *)(uintptr_t)(lower + start));
      keys[at].len = i - start;
      distinct++;
    }
    counts[at]++;
    total++;
    beskid_gc_poll(t); /* loop back-edge */
  }

  /* order = the used positions, sorted. */
  beskid_array_t order, scratch;
  array_new(&order, 8, distinct > 0 ? distinct : 1);
  slots[S_ORDER] = order.ptr;
  array_new(&scratch, 8, distinct > 0 ? distinct : 1);
  slots[S_SCRATCH] = scratch.ptr;
  {
    const beskid_str_t *keys = slots[S_KEYS];
    int64_t *o = slots[S_ORDER], n = 0;
    for (int64_t i = 0; i < cap; i++) {
      if (keys[i].len != 0) o[n++] = i;
    }
  }
  sort_entries(t, distinct);

  /* The top 10: "<count, right-aligned in 7> <word>\n", built in a byte array per line. */
  print("top words:\n");
  for (int64_t r = 0; r < distinct && r < 10; r++) {
    int64_t pos = ((int64_t *)slots[S_ORDER])[r];
    int64_t len = ((beskid_str_t *)slots[S_KEYS])[pos].len,
            count = ((int64_t *)slots[S_COUNTS])[pos];
    int64_t width = int_width(count) > 7 ? int_width(count) : 7;
    beskid_array_t line;
    array_new(&line, 1, width + 1 + len + 1);
    slots[S_SCRATCH] = line.ptr;
    uint8_t *out = line.ptr;
    int64_t at = 0;
    for (int64_t pad = width - int_width(count); pad > 0; pad--) out[at++] = ' ';
    at = put_int(out, at, count);
    out[at++] = ' ';
    memcpy(out + at, ((beskid_str_t *)slots[S_KEYS])[pos].ptr, (size_t)len);
    at += len;
    out[at++] = '\n';
    beskid_std_console_write_bytes(1, &line, 0, at);
  }

  /* The full table, "word count\n" per entry in order, written atomically. */
  int64_t size = 0;
  for (int64_t r = 0; r < distinct; r++) {
    int64_t pos = ((int64_t *)slots[S_ORDER])[r];
    size += ((beskid_str_t *)slots[S_KEYS])[pos].len + 1 +
            int_width(((int64_t *)slots[S_COUNTS])[pos]) + 1;
  }
  beskid_str_t table = {NULL, 0};
  if (size > 0) {
    beskid_array_t out_arr;
    array_new(&out_arr, 1, size);
    slots[S_OUT] = out_arr.ptr;
    uint8_t *out = slots[S_OUT];
    int64_t at = 0;
    for (int64_t r = 0; r < distinct; r++) {
      int64_t pos = ((int64_t *)slots[S_ORDER])[r];
      const beskid_str_t *key = &((beskid_str_t *)slots[S_KEYS])[pos];
      memcpy(out + at, key->ptr, (size_t)key->len);
      at += key->len;
      out[at++] = ' ';
      at = put_int(out, at, ((int64_t *)slots[S_COUNTS])[pos]);
      out[at++] = '\n';
    }
    table = (beskid_str_t){out, at}; /* whole UTF-8 words and ASCII: valid text */
  }
  output = (beskid_str_t){slots[S_PATH], output.len};
  st = beskid_std_fs_write_text(&output, &table);
  if (st != BESKID_OK) {
    print_err("word_freq: cannot write ", &output);
    status = 1;
  }

  /* "<total> words, <distinct> distinct; table written (<n> bytes)" */
  beskid_array_t summary;
  array_new(&summary, 1, 128);
  slots[S_SCRATCH] = summary.ptr;
  uint8_t *s = summary.ptr;
  int64_t at = put_int(s, 0, total);
  memcpy(s + at, " words, ", 8);
  at = put_int(s, at + 8, distinct);
  memcpy(s + at, " distinct; table of ", 20);
  at = put_int(s, at + 20, size);
  memcpy(s + at, " bytes written\n", 15);
  at += 15;
  beskid_std_console_write_bytes(1, &summary, 0, at);

  t->top_frame = frame.previous;
  return status;
}
