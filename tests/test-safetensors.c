/* The safetensors reader and writer against hand-made files.
 *
 * Every malformed file is composed explicitly from a header string and data
 * bytes (compose()), so each test shows what is wrong with its file. A bad
 * file must give a BS_SAFETENSORS_ERROR naming the file, the tensor or key
 * where there is one, and the fault: never a crash, never a file that
 * loads. Good files check the dtype conversions bit for bit, and the writer
 * against bytes made by the reference writer (fixtures/io). */
#include <glib.h>
#include <glib/gstdio.h>
#include <float.h>
#include <gio/gio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bs-safetensors.h"
#include "bs-test-util.h"

#define DISPLAY_NAME "bad-file.safetensors"

/* ---- helpers ---- */

/* A safetensors byte string: the header length as declared (u64 LE), the
 * header's bytes, then the data. */
static GBytes *
compose_raw (guint64 declared_len, const char *header, gsize header_len, const void *data, gsize n_data)
{
  GByteArray *out = g_byte_array_new ();
  guint64 le = GUINT64_TO_LE (declared_len);
  g_byte_array_append (out, (const guint8 *) &le, 8);
  g_byte_array_append (out, (const guint8 *) header, (guint) header_len);
  if (n_data > 0)
    g_byte_array_append (out, data, (guint) n_data);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
compose (const char *header, const void *data, gsize n_data)
{
  return compose_raw (strlen (header), header, strlen (header), data, n_data);
}

/* The same with n_data zero bytes: content that only the header describes. */
static GBytes *
compose_zeros (const char *header, gsize n_data)
{
  g_autofree guint8 *zeros = g_malloc0 (MAX (n_data, 1));
  return compose (header, zeros, n_data);
}

/* Parsing must fail with code, naming the file and each non-NULL needle. */
static void
assert_bad_bytes (GBytes *bytes, int code, const char *needle1, const char *needle2)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsSafetensors) st = bs_safetensors_new_from_bytes (bytes, DISPLAY_NAME, &error);
  g_assert_null (st);
  g_assert_error (error, BS_SAFETENSORS_ERROR, code);
  bs_test_assert_contains (error->message, DISPLAY_NAME);
  if (needle1 != NULL)
    bs_test_assert_contains (error->message, needle1);
  if (needle2 != NULL)
    bs_test_assert_contains (error->message, needle2);
}

static char *
make_tmp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("bs-safetensors-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
write_file (const char *path, const void *data, gsize n)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, data, (gssize) n, &error);
  g_assert_no_error (error);
}

/* Files in dir whose name contains ".tmp-": the atomic writer's leftovers. */
static guint
count_temp_files (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  g_assert_nonnull (dir);
  guint n = 0;
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (strstr (name, ".tmp-") != NULL)
      n++;
  return n;
}

static guint32
float_bits (float f)
{
  guint32 b;
  memcpy (&b, &f, 4);
  return b;
}

/* ---- malformed headers, table-driven: one test case each ---- */

typedef struct
{
  const char *path;
  const char *header;
  gsize n_data;       /* zero bytes after the header */
  int code;
  const char *needle1; /* the tensor or key, or NULL */
  const char *needle2; /* what is wrong */
} BadHeader;

#define F32_1 "\"dtype\":\"F32\",\"shape\":[1]"

static const BadHeader bad_headers[] = {
  /* the header as a whole */
  { "/safetensors/bad/header-not-json", "{\"w\": {\"dtype\": ", 0, BS_SAFETENSORS_ERROR_HEADER, NULL,
    "not valid JSON" },
  { "/safetensors/bad/header-garbage", "PK\x03\x04 this is a zip", 0, BS_SAFETENSORS_ERROR_HEADER, NULL,
    "not valid JSON" },
  /* json-glib alone would take these: the first object, ignoring the rest */
  { "/safetensors/bad/header-second-object", "{} {\"w\": {" F32_1 ",\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_HEADER, NULL, "more text follows" },
  { "/safetensors/bad/header-comment", "/* pt */ {}", 0, BS_SAFETENSORS_ERROR_HEADER, NULL, "not valid JSON" },
  { "/safetensors/bad/header-single-quotes", "{'w': {" F32_1 ",\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_HEADER, NULL, "not valid JSON" },
  { "/safetensors/bad/header-empty", "", 0, BS_SAFETENSORS_ERROR_HEADER, NULL, "not a JSON object" },
  { "/safetensors/bad/header-only-spaces", "        ", 0, BS_SAFETENSORS_ERROR_HEADER, NULL, "not a JSON object" },
  { "/safetensors/bad/header-array", "[{\"w\": {}}]", 0, BS_SAFETENSORS_ERROR_HEADER, NULL, "not a JSON object" },
  { "/safetensors/bad/header-string", "\"w\"", 0, BS_SAFETENSORS_ERROR_HEADER, NULL, "not a JSON object" },
  { "/safetensors/bad/header-number", "8", 0, BS_SAFETENSORS_ERROR_HEADER, NULL, "not a JSON object" },
  { "/safetensors/bad/header-invalid-utf8", "{\"w\xc3\x28\": {" F32_1 ",\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_HEADER, NULL, "UTF-8" },
  { "/safetensors/bad/header-overlong-utf8", "{\"\xc0\xafw\": {" F32_1 ",\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_HEADER, NULL, "UTF-8" },
  /* an entry */
  { "/safetensors/bad/entry-not-object", "{\"w\": [1, 2]}", 0, BS_SAFETENSORS_ERROR_HEADER, "“w”",
    "not a JSON object" },
  { "/safetensors/bad/entry-null", "{\"w\": null}", 0, BS_SAFETENSORS_ERROR_HEADER, "“w”", "not a JSON object" },
  { "/safetensors/bad/dtype-missing", "{\"w\": {\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_HEADER, "“w”", "dtype" },
  { "/safetensors/bad/dtype-not-string", "{\"w\": {\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_HEADER, "“w”", "dtype" },
  { "/safetensors/bad/dtype-unknown", "{\"w\": {\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16,
    BS_SAFETENSORS_ERROR_DTYPE, "“w”", "unknown dtype “F128”" },
  { "/safetensors/bad/dtype-lowercase", "{\"w\": {\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_DTYPE, "“w”", "unknown dtype “f32”" },
  /* shape */
  { "/safetensors/bad/shape-missing", "{\"w\": {\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_SHAPE, "“w”", "“shape” is missing" },
  { "/safetensors/bad/shape-not-array", "{\"w\": {\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,16]}}", 16,
    BS_SAFETENSORS_ERROR_SHAPE, "“w”", "not an array" },
  { "/safetensors/bad/shape-negative", "{\"w\": {\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_SHAPE, "“w”", "dimension 0" },
  { "/safetensors/bad/shape-negative-pair", "{\"w\": {\"dtype\":\"F32\",\"shape\":[-2,-2],\"data_offsets\":[0,16]}}",
    16, BS_SAFETENSORS_ERROR_SHAPE, "“w”", "dimension 0" },
  { "/safetensors/bad/shape-float", "{\"w\": {\"dtype\":\"F32\",\"shape\":[2,2.0],\"data_offsets\":[0,16]}}", 16,
    BS_SAFETENSORS_ERROR_SHAPE, "“w”", "dimension 1" },
  { "/safetensors/bad/shape-string", "{\"w\": {\"dtype\":\"F32\",\"shape\":[\"4\"],\"data_offsets\":[0,16]}}", 16,
    BS_SAFETENSORS_ERROR_SHAPE, "“w”", "dimension 0" },
  { "/safetensors/bad/shape-nested", "{\"w\": {\"dtype\":\"F32\",\"shape\":[[4]],\"data_offsets\":[0,16]}}", 16,
    BS_SAFETENSORS_ERROR_SHAPE, "“w”", "dimension 0" },
  /* beyond int64 the JSON parser saturates: must not wrap to a small size */
  { "/safetensors/bad/shape-beyond-int64",
    "{\"w\": {\"dtype\":\"U8\",\"shape\":[18446744073709551620],\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_SHAPE, "“w”", "dimension 0" },
  { "/safetensors/bad/shape-too-many-dims",
    "{\"w\": {\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_SHAPE, "“w”", "9 dimensions" },
  { "/safetensors/bad/shape-overflow",
    "{\"w\": {\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_SHAPE, "“w”", "too large" },
  /* elements fit in 64 bits, their bytes do not */
  { "/safetensors/bad/shape-bytes-overflow",
    "{\"w\": {\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", 8,
    BS_SAFETENSORS_ERROR_OFFSETS, "“w”", "holds 8 bytes" },
  /* data_offsets */
  { "/safetensors/bad/offsets-missing", "{\"w\": {" F32_1 "}}", 4, BS_SAFETENSORS_ERROR_OFFSETS, "“w”",
    "data_offsets" },
  { "/safetensors/bad/offsets-single", "{\"w\": {" F32_1 ",\"data_offsets\":[4]}}", 4, BS_SAFETENSORS_ERROR_OFFSETS,
    "“w”", "pair" },
  { "/safetensors/bad/offsets-triple", "{\"w\": {" F32_1 ",\"data_offsets\":[0,4,4]}}", 4,
    BS_SAFETENSORS_ERROR_OFFSETS, "“w”", "pair" },
  { "/safetensors/bad/offsets-float", "{\"w\": {" F32_1 ",\"data_offsets\":[0,4.0]}}", 4,
    BS_SAFETENSORS_ERROR_OFFSETS, "“w”", "not integers" },
  { "/safetensors/bad/offsets-negative", "{\"w\": {" F32_1 ",\"data_offsets\":[-4,0]}}", 4,
    BS_SAFETENSORS_ERROR_OFFSETS, "“w”", "not an interval" },
  { "/safetensors/bad/offsets-reversed", "{\"w\": {" F32_1 ",\"data_offsets\":[4,0]}}", 4,
    BS_SAFETENSORS_ERROR_OFFSETS, "“w”", "[4, 0] are not an interval" },
  { "/safetensors/bad/offsets-out-of-range", "{\"w\": {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
    BS_SAFETENSORS_ERROR_OFFSETS, "“w”", "past the end of the data (4 bytes)" },
  { "/safetensors/bad/offsets-far-out-of-range",
    "{\"w\": {\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[9223372036854775803,9223372036854775807]}}", 4,
    BS_SAFETENSORS_ERROR_OFFSETS, "“w”", "past the end" },
  { "/safetensors/bad/size-not-shape", "{\"w\": {\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
    BS_SAFETENSORS_ERROR_OFFSETS, "“w”", "holds 8 bytes but shape [3] of F32 needs 12" },
  { "/safetensors/bad/size-not-dtype", "{\"w\": {\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16,
    BS_SAFETENSORS_ERROR_OFFSETS, "“w”", "needs 8" },
  { "/safetensors/bad/offsets-overlap",
    "{\"a\": {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
    " \"b\": {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
    12, BS_SAFETENSORS_ERROR_OFFSETS, "“b”", "overlaps tensor “a”" },
  { "/safetensors/bad/offsets-same-region",
    "{\"a\": {" F32_1 ",\"data_offsets\":[0,4]}, \"b\": {" F32_1 ",\"data_offsets\":[0,4]}}", 4,
    BS_SAFETENSORS_ERROR_OFFSETS, "overlaps", NULL },
  { "/safetensors/bad/offsets-gap",
    "{\"a\": {" F32_1 ",\"data_offsets\":[0,4]}, \"b\": {" F32_1 ",\"data_offsets\":[8,12]}}", 12,
    BS_SAFETENSORS_ERROR_OFFSETS, "“b”", "4 bytes of unused data before it" },
  { "/safetensors/bad/offsets-gap-at-start", "{\"b\": {" F32_1 ",\"data_offsets\":[4,8]}}", 8,
    BS_SAFETENSORS_ERROR_OFFSETS, "“b”", "unused data" },
  { "/safetensors/bad/trailing-bytes", "{\"a\": {" F32_1 ",\"data_offsets\":[0,4]}}", 7,
    BS_SAFETENSORS_ERROR_OFFSETS, "3 bytes after the last tensor", NULL },
  { "/safetensors/bad/data-without-tensors", "{}", 4, BS_SAFETENSORS_ERROR_OFFSETS, "4 bytes after", NULL },
  /* duplicates: JSON parsers keep one of them silently */
  { "/safetensors/bad/duplicate-name",
    "{\"w\": {" F32_1 ",\"data_offsets\":[0,4]}, \"w\": {" F32_1 ",\"data_offsets\":[4,8]}}", 8,
    BS_SAFETENSORS_ERROR_DUPLICATE, "“w” twice", NULL },
  { "/safetensors/bad/duplicate-metadata",
    "{\"__metadata__\": {\"format\": \"pt\"}, \"__metadata__\": {\"format\": \"np\"}}", 0,
    BS_SAFETENSORS_ERROR_DUPLICATE, "“__metadata__” twice", NULL },
  { "/safetensors/bad/duplicate-metadata-key", "{\"__metadata__\": {\"format\": \"pt\", \"format\": \"np\"}}", 0,
    BS_SAFETENSORS_ERROR_DUPLICATE, "“format” twice", NULL },
  /* __metadata__ must map strings to strings */
  { "/safetensors/bad/metadata-not-object", "{\"__metadata__\": [\"format\", \"pt\"]}", 0,
    BS_SAFETENSORS_ERROR_HEADER, "“__metadata__”", "not a JSON object" },
  { "/safetensors/bad/metadata-string", "{\"__metadata__\": \"pt\"}", 0, BS_SAFETENSORS_ERROR_HEADER,
    "“__metadata__”", "not a JSON object" },
  { "/safetensors/bad/metadata-number-value", "{\"__metadata__\": {\"format\": \"pt\", \"epoch\": 3}}", 0,
    BS_SAFETENSORS_ERROR_HEADER, "“__metadata__”", "“epoch” is not a string" },
  { "/safetensors/bad/metadata-null-value", "{\"__metadata__\": {\"note\": null}}", 0, BS_SAFETENSORS_ERROR_HEADER,
    "“__metadata__”", "“note” is not a string" },
  { "/safetensors/bad/metadata-object-value", "{\"__metadata__\": {\"nested\": {\"a\": \"b\"}}}", 0,
    BS_SAFETENSORS_ERROR_HEADER, "“__metadata__”", "“nested” is not a string" },
};

static void
test_bad_header (gconstpointer data)
{
  const BadHeader *c = data;
  g_autoptr (GBytes) bytes = compose_zeros (c->header, c->n_data);
  assert_bad_bytes (bytes, c->code, c->needle1, c->needle2);
}

/* The header text must be UTF-8 without NUL: a NUL would also cut names
 * short in C. */
static void
test_bad_header_nul (void)
{
  static const char header[] = "{\"w\0x\": {\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
  guint8 data = 7;
  g_autoptr (GBytes) bytes = compose_raw (sizeof header - 1, header, sizeof header - 1, &data, 1);
  assert_bad_bytes (bytes, BS_SAFETENSORS_ERROR_HEADER, "UTF-8", NULL);
}

/* A header of nothing but brackets nests deeper than any JSON parser's
 * recursion survives (json-glib recurses once per level): it must be an
 * error, not a stack overflow. */
static void
test_bad_header_deep_nesting (void)
{
  const gsize depth = 1000000;
  g_autoptr (GString) header = g_string_new ("{\"w\": ");
  for (gsize i = 0; i < depth; i++)
    g_string_append_c (header, '[');
  for (gsize i = 0; i < depth; i++)
    g_string_append_c (header, ']');
  g_string_append_c (header, '}');
  g_autoptr (GBytes) bytes = compose (header->str, NULL, 0);
  assert_bad_bytes (bytes, BS_SAFETENSORS_ERROR_HEADER, "nested", NULL);

  /* the header of a real file is nested three deep */
  g_autoptr (GBytes) good = compose ("{\"__metadata__\":{\"a\":\"[[[[{{{{\"},\"w\":{\"dtype\":\"U8\",\"shape\":[1],"
                                     "\"data_offsets\":[0,1]}}", "x", 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsSafetensors) st = bs_safetensors_new_from_bytes (good, "good", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bs_safetensors_get_metadata (st, "a"), ==, "[[[[{{{{");
}

/* ---- short, truncated and oversized files, read from disk ---- */

static void
assert_bad_file (const char *path, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsSafetensors) st = bs_safetensors_open (path, &error);
  g_assert_null (st);
  g_assert_error (error, BS_SAFETENSORS_ERROR, code);
  bs_test_assert_contains (error->message, path);
  if (needle != NULL)
    bs_test_assert_contains (error->message, needle);
}

static void
test_bad_file_empty (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "empty.safetensors", NULL);
  write_file (path, "", 0);
  assert_bad_file (path, BS_SAFETENSORS_ERROR_TRUNCATED, "0 bytes long");
  bs_test_remove_tree (dir);
}

static void
test_bad_file_short (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "short.safetensors", NULL);
  write_file (path, "\x10\0\0\0\0", 5);
  assert_bad_file (path, BS_SAFETENSORS_ERROR_TRUNCATED, "5 bytes long");
  /* 7 bytes: one short of the length field */
  write_file (path, "\x02\0\0\0\0\0\0", 7);
  assert_bad_file (path, BS_SAFETENSORS_ERROR_TRUNCATED, "7 bytes long");
  bs_test_remove_tree (dir);
}

static void
test_bad_file_missing (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "missing.safetensors", NULL);
  assert_bad_file (path, BS_SAFETENSORS_ERROR_IO, NULL);
  bs_test_remove_tree (dir);
}

static void
test_bad_header_length_beyond_file (void)
{
  static const char header[] = "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
  /* one byte more than the header and data together */
  g_autoptr (GBytes) bytes = compose_raw (sizeof header - 1 + 2, header, sizeof header - 1, "x", 1);
  assert_bad_bytes (bytes, BS_SAFETENSORS_ERROR_TRUNCATED, "goes past the end of the file", NULL);

  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "long-header.safetensors", NULL);
  write_file (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  assert_bad_file (path, BS_SAFETENSORS_ERROR_TRUNCATED, "goes past the end of the file");
  bs_test_remove_tree (dir);
}

/* Lengths near 2^64 must not overflow the bounds check. */
static void
test_bad_header_length_huge (void)
{
  const guint64 lengths[] = { G_MAXUINT64, G_MAXUINT64 - 7, (guint64) 1 << 63, (guint64) G_MAXINT64,
                              (guint64) G_MAXSIZE - 4 };
  for (gsize i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autoptr (GBytes) bytes = compose_raw (lengths[i], "{}", 2, NULL, 0);
      assert_bad_bytes (bytes, BS_SAFETENSORS_ERROR_TRUNCATED, "goes past the end of the file", NULL);
    }
}

/* A header over the reference's 100 MB limit is refused before it is read:
 * a sparse file holds the claimed bytes without using the disk. */
static void
test_bad_header_over_limit (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "big-header.safetensors", NULL);
  const guint64 header_len = 100000001;
  guint64 le = GUINT64_TO_LE (header_len);
  FILE *f = fopen (path, "wb");
  g_assert_nonnull (f);
  g_assert_cmpint (fwrite (&le, 8, 1, f), ==, 1);
  g_assert_cmpint (ftruncate (fileno (f), (off_t) (8 + header_len + 8)), ==, 0);
  fclose (f);
  assert_bad_file (path, BS_SAFETENSORS_ERROR_HEADER, "at most 100000000");
  bs_test_remove_tree (dir);
}

/* Every strict prefix of a good file is an error: a cut in the length
 * field or the header is TRUNCATED, a cut in the data names a tensor. */
static void
test_bad_truncated (void)
{
  float a[3] = { 1, 2, 3 };
  gint64 shape[] = { 3 };
  g_autoptr (BsSafetensorsWriter) w = bs_safetensors_writer_new ();
  bs_safetensors_writer_set_metadata (w, "format", "pt");
  bs_safetensors_writer_add (w, "a", BS_DTYPE_F32, 1, shape, a);
  bs_safetensors_writer_add (w, "b", BS_DTYPE_F32, 1, shape, a);
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "cut.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_writer_write (w, path, &error));
  g_assert_no_error (error);
  g_autofree char *contents = NULL;
  gsize length;
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  guint64 header_len;
  memcpy (&header_len, contents, 8);
  header_len = GUINT64_FROM_LE (header_len);
  g_assert_cmpuint (length, ==, 8 + header_len + 24);

  for (gsize cut = 0; cut < length; cut++)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (contents, cut);
      g_autoptr (GError) cut_error = NULL;
      g_autoptr (BsSafetensors) st = bs_safetensors_new_from_bytes (bytes, DISPLAY_NAME, &cut_error);
      g_assert_null (st);
      if (cut < 8 + header_len)
        g_assert_error (cut_error, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_TRUNCATED);
      else
        {
          /* "b" follows "a"; its end is the first offset past the cut */
          g_assert_error (cut_error, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_OFFSETS);
          bs_test_assert_contains (cut_error->message, cut - 8 - header_len < 12 ? "“a”" : "“b”");
          bs_test_assert_contains (cut_error->message, "truncated");
        }
      bs_test_assert_contains (cut_error->message, DISPLAY_NAME);
    }

  /* and from disk, cut in the middle of "b" */
  g_assert_cmpint (truncate (path, (off_t) (length - 2)), ==, 0);
  assert_bad_file (path, BS_SAFETENSORS_ERROR_OFFSETS, "“b”");
  bs_test_remove_tree (dir);
}

/* ---- good files ---- */

static void
test_good_layout (void)
{
  /* As the reference writes it: metadata first, padded with spaces. Shape
   * [] is a scalar (one element), shape [0] an empty tensor. */
  static const char header[] = "{\"__metadata__\":{\"format\":\"pt\",\"caf\xc3\xa9\":\"\\u00e9\\n\"},"
                               "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                               "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                               "\"m\":{\"dtype\":\"U8\",\"shape\":[2,1,3],\"data_offsets\":[4,10]}}      ";
  guint8 data[10] = { 0, 0, 0xc0, 0x3f, 1, 2, 3, 4, 5, 6 }; /* 1.5f, then 6 bytes */
  g_autoptr (GBytes) bytes = compose (header, data, sizeof data);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsSafetensors) st = bs_safetensors_new_from_bytes (bytes, "good", &error);
  g_assert_no_error (error);
  g_assert_nonnull (st);

  g_assert_cmpstr (bs_safetensors_get_path (st), ==, "good");
  g_assert_cmpstr (bs_safetensors_get_metadata (st, "format"), ==, "pt");
  g_assert_cmpstr (bs_safetensors_get_metadata (st, "caf\xc3\xa9"), ==, "\xc3\xa9\n");
  g_assert_null (bs_safetensors_get_metadata (st, "missing"));
  /* __metadata__ is not a tensor */
  g_assert_cmpuint (bs_safetensors_get_n_tensors (st), ==, 3);
  g_assert_null (bs_safetensors_lookup (st, "__metadata__"));

  /* header order is kept */
  g_assert_cmpstr (bs_safetensors_get_tensor (st, 0)->name, ==, "s");
  g_assert_cmpstr (bs_safetensors_get_tensor (st, 1)->name, ==, "e");
  g_assert_cmpstr (bs_safetensors_get_tensor (st, 2)->name, ==, "m");

  const BsTensorInfo *s = bs_safetensors_lookup (st, "s");
  g_assert_nonnull (s);
  g_assert_cmpint (s->dtype, ==, BS_DTYPE_F32);
  g_assert_cmpint (s->n_dims, ==, 0);
  g_assert_cmpint (s->n_elements, ==, 1);
  g_assert_cmpuint (s->n_bytes, ==, 4);
  float f = 0;
  g_assert_true (bs_safetensors_read_f32 (st, s, &f, &error));
  g_assert_cmpfloat (f, ==, 1.5f);

  const BsTensorInfo *e = bs_safetensors_lookup (st, "e");
  g_assert_cmpint (e->n_dims, ==, 2);
  g_assert_cmpint (e->shape[0], ==, 0);
  g_assert_cmpint (e->shape[1], ==, 3);
  g_assert_cmpint (e->n_elements, ==, 0);
  g_assert_cmpuint (e->n_bytes, ==, 0);

  const BsTensorInfo *m = bs_safetensors_lookup (st, "m");
  g_assert_cmpint (m->dtype, ==, BS_DTYPE_U8);
  g_assert_cmpint (m->n_dims, ==, 3);
  g_assert_cmpint (m->n_elements, ==, 6);
  g_autofree char *shape = bs_tensor_shape_to_string (m->n_dims, m->shape);
  g_assert_cmpstr (shape, ==, "[2, 1, 3]");
  /* data points at its bytes in place */
  const guint8 *base = g_bytes_get_data (bytes, NULL);
  g_assert_true (m->data == base + 8 + strlen (header) + 4);
  g_assert_cmpmem (m->data, 6, data + 4, 6);
}

/* The data order need not follow the header order. */
static void
test_good_out_of_order (void)
{
  static const char header[] = "{\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                               "\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
  gint32 data[2] = { GINT32_TO_LE (11), GINT32_TO_LE (-22) };
  g_autoptr (GBytes) bytes = compose (header, data, sizeof data);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsSafetensors) st = bs_safetensors_new_from_bytes (bytes, "good", &error);
  g_assert_no_error (error);
  gint64 v = 0;
  g_assert_true (bs_safetensors_read_i64 (st, bs_safetensors_lookup (st, "a"), &v, &error));
  g_assert_cmpint (v, ==, 11);
  g_assert_true (bs_safetensors_read_i64 (st, bs_safetensors_lookup (st, "b"), &v, &error));
  g_assert_cmpint (v, ==, -22);
}

/* One tensor of n elements of dtype from raw little-endian bytes. */
static BsSafetensors *
single_tensor (const char *dtype, gsize n, const void *raw, gsize elem_size)
{
  g_autofree char *header = g_strdup_printf ("{\"t\":{\"dtype\":\"%s\",\"shape\":[%" G_GSIZE_FORMAT "],"
                                             "\"data_offsets\":[0,%" G_GSIZE_FORMAT "]}}",
                                             dtype, n, n * elem_size);
  g_autoptr (GBytes) bytes = compose (header, raw, n * elem_size);
  g_autoptr (GError) error = NULL;
  BsSafetensors *st = bs_safetensors_new_from_bytes (bytes, "t.safetensors", &error);
  g_assert_no_error (error);
  return st;
}

/* IEEE half from its fields, computed independently of the engine. */
static float
half_reference (guint16 h)
{
  int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double magnitude;
  if (exponent == 0)
    magnitude = ldexp (mantissa, -24); /* subnormal: m * 2^-24 */
  else
    magnitude = ldexp (1024 + mantissa, exponent - 25);
  return (float) (sign ? -magnitude : magnitude);
}

static void
test_good_f16 (void)
{
  /* all 65536 halves */
  g_autofree guint16 *raw = g_new (guint16, 65536);
  for (guint i = 0; i < 65536; i++)
    raw[i] = GUINT16_TO_LE ((guint16) i);
  g_autoptr (BsSafetensors) st = single_tensor ("F16", 65536, raw, 2);
  g_autofree float *out = g_new (float, 65536);
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_read_f32 (st, bs_safetensors_lookup (st, "t"), out, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 65536; i++)
    {
      guint32 got = float_bits (out[i]);
      if (((i >> 10) & 0x1f) == 0x1f)
        {
          /* inf and nan: sign kept, payload shifted into place, as numpy and torch do */
          guint32 want = ((guint32) (i & 0x8000) << 16) | 0x7f800000u | ((guint32) (i & 0x3ff) << 13);
          if (got != want)
            g_error ("F16 0x%04x: got 0x%08x, want 0x%08x", i, got, want);
          continue;
        }
      guint32 want = float_bits (half_reference ((guint16) i));
      if (got != want)
        g_error ("F16 0x%04x: got %.9g (0x%08x), want %.9g (0x%08x)", i, out[i], got, half_reference ((guint16) i),
                 want);
    }
  /* the landmarks, spelled out */
  g_assert_cmpuint (float_bits (out[0x0000]), ==, 0x00000000u);
  g_assert_cmpuint (float_bits (out[0x8000]), ==, 0x80000000u); /* -0 keeps its sign */
  g_assert_cmpfloat (out[0x0001], ==, 5.9604644775390625e-08f);  /* 2^-24, smallest subnormal */
  g_assert_cmpfloat (out[0x03ff], ==, 6.0975551605224609e-05f);  /* largest subnormal */
  g_assert_cmpfloat (out[0x0400], ==, 6.103515625e-05f);         /* 2^-14, smallest normal */
  g_assert_cmpfloat (out[0x3c00], ==, 1.0f);
  g_assert_cmpfloat (out[0xc000], ==, -2.0f);
  g_assert_cmpfloat (out[0x3555], ==, 0.333251953125f);
  g_assert_cmpfloat (out[0x7bff], ==, 65504.0f);
  g_assert_true (isinf (out[0x7c00]) && out[0x7c00] > 0);
  g_assert_true (isinf (out[0xfc00]) && out[0xfc00] < 0);
  g_assert_true (isnan (out[0x7e00]) && !signbit (out[0x7e00]));
  g_assert_true (isnan (out[0xfe01]) && signbit (out[0xfe01]));
  g_assert_true (isnan (out[0x7c01])); /* signalling nan stays nan, not inf */
}

static void
test_good_bf16 (void)
{
  g_autofree guint16 *raw = g_new (guint16, 65536);
  for (guint i = 0; i < 65536; i++)
    raw[i] = GUINT16_TO_LE ((guint16) i);
  g_autoptr (BsSafetensors) st = single_tensor ("BF16", 65536, raw, 2);
  g_autofree float *out = g_new (float, 65536);
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_read_f32 (st, bs_safetensors_lookup (st, "t"), out, &error));
  for (guint i = 0; i < 65536; i++)
    {
      int sign = i >> 15, exponent = (i >> 7) & 0xff, mantissa = i & 0x7f;
      guint32 got = float_bits (out[i]);
      if (exponent == 0xff)
        {
          g_assert_cmpuint (got, ==, (guint32) i << 16); /* inf, nan with payload */
          continue;
        }
      double magnitude = exponent == 0 ? ldexp (mantissa, -133) : ldexp (128 + mantissa, exponent - 134);
      float want = (float) (sign ? -magnitude : magnitude);
      if (got != float_bits (want))
        g_error ("BF16 0x%04x: got 0x%08x, want 0x%08x", i, got, float_bits (want));
    }
  g_assert_cmpfloat (out[0x3f80], ==, 1.0f);
  g_assert_cmpfloat (out[0xc049], ==, -3.140625f);
  g_assert_cmpuint (float_bits (out[0x8000]), ==, 0x80000000u);
  g_assert_cmpfloat (out[0x0001], ==, ldexpf (1.0f, -133)); /* subnormal */
  g_assert_true (isinf (out[0xff80]) && out[0xff80] < 0);
  g_assert_true (isnan (out[0x7fc0]));
}

static void
test_good_f64 (void)
{
  /* values and the float each must become (round to nearest, ties to even) */
  const struct
  {
    double in;
    guint32 want;
  } cases[] = {
    { 1.0, 0x3f800000u },
    { -0.0, 0x80000000u },
    { 0.1, 0x3dcccccdu },
    { 1.0 + 0x1p-24, 0x3f800000u },                 /* tie: down to even */
    { 1.0 + 3 * 0x1p-24, 0x3f800002u },             /* tie: up to even */
    { 1.0 + 0x1p-24 + 0x1p-50, 0x3f800001u },       /* just above the tie */
    { 0x1p-149, 0x00000001u },                      /* smallest float subnormal */
    { 0x1p-151, 0x00000000u },                      /* below half of it */
    { -1e-50, 0x80000000u },
    { (double) FLT_MAX + 0x1p102, 0x7f7fffffu },    /* above FLT_MAX, below the tie: FLT_MAX */
    { 0x1p128 - 0x1p103, 0x7f800000u },             /* the tie: to even, which overflows */
    { 1e300, 0x7f800000u },                         /* overflow: inf, as torch's .float() */
    { -1e300, 0xff800000u },
    { INFINITY, 0x7f800000u },
  };
  gsize n = G_N_ELEMENTS (cases) + 1;
  g_autofree double *raw = g_new (double, n);
  for (gsize i = 0; i + 1 < n; i++)
    raw[i] = cases[i].in;
  raw[n - 1] = NAN;
  g_autoptr (BsSafetensors) st = single_tensor ("F64", n, raw, 8);
  g_autofree float *out = g_new (float, n);
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_read_f32 (st, bs_safetensors_lookup (st, "t"), out, &error));
  for (gsize i = 0; i + 1 < n; i++)
    {
      if (float_bits (out[i]) != cases[i].want)
        g_error ("F64 %a: got 0x%08x, want 0x%08x", cases[i].in, float_bits (out[i]), cases[i].want);
    }
  g_assert_true (isnan (out[n - 1]));
}

static void
test_good_f32 (void)
{
  const guint32 raw[] = { 0x3f800000u, 0x80000000u, 0x00000001u, 0x7f800000u, 0x7fc00001u, 0xff7fffffu };
  g_autoptr (BsSafetensors) st = single_tensor ("F32", G_N_ELEMENTS (raw), raw, 4);
  float out[G_N_ELEMENTS (raw)];
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_read_f32 (st, bs_safetensors_lookup (st, "t"), out, &error));
  g_assert_cmpmem (out, sizeof out, raw, sizeof raw); /* bits untouched, nan payload too */
}

static void
test_good_integers (void)
{
  const gint64 i64[] = { 0, -1, G_MAXINT64, G_MININT64, 30522 };
  g_autoptr (BsSafetensors) st64 = single_tensor ("I64", G_N_ELEMENTS (i64), i64, 8);
  gint64 out[G_N_ELEMENTS (i64)];
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_read_i64 (st64, bs_safetensors_lookup (st64, "t"), out, &error));
  g_assert_cmpmem (out, sizeof out, i64, sizeof i64);

  const gint32 i32[] = { 0, -1, G_MAXINT32, G_MININT32, 7 };
  g_autoptr (BsSafetensors) st32 = single_tensor ("I32", G_N_ELEMENTS (i32), i32, 4);
  gint64 out32[G_N_ELEMENTS (i32)];
  g_assert_true (bs_safetensors_read_i64 (st32, bs_safetensors_lookup (st32, "t"), out32, &error));
  for (gsize i = 0; i < G_N_ELEMENTS (i32); i++)
    g_assert_cmpint (out32[i], ==, i32[i]); /* sign-extended */
}

/* Reading a tensor as the wrong kind of number is an error naming it. */
static void
test_bad_read_dtype (void)
{
  const gint64 i64[] = { 1, 2 };
  g_autoptr (BsSafetensors) st = single_tensor ("I64", 2, i64, 8);
  float f[2];
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_safetensors_read_f32 (st, bs_safetensors_lookup (st, "t"), f, &error));
  g_assert_error (error, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_DTYPE);
  bs_test_assert_contains (error->message, "t.safetensors");
  bs_test_assert_contains (error->message, "“t”");
  bs_test_assert_contains (error->message, "I64");
  g_clear_error (&error);

  const float f32[] = { 1, 2 };
  g_autoptr (BsSafetensors) stf = single_tensor ("F32", 2, f32, 4);
  gint64 i[2];
  g_assert_false (bs_safetensors_read_i64 (stf, bs_safetensors_lookup (stf, "t"), i, &error));
  g_assert_error (error, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_DTYPE);
  bs_test_assert_contains (error->message, "“t”");
  bs_test_assert_contains (error->message, "F32");
  g_clear_error (&error);

  /* 8-bit floats are valid in a file but not readable as F32 here */
  const guint8 f8[] = { 0x3c, 0x40 };
  g_autoptr (BsSafetensors) st8 = single_tensor ("F8_E5M2", 2, f8, 1);
  g_assert_false (bs_safetensors_read_f32 (st8, bs_safetensors_lookup (st8, "t"), f, &error));
  g_assert_error (error, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_DTYPE);
  bs_test_assert_contains (error->message, "F8_E5M2");
}

/* ---- the writer ---- */

/* The tensors of fixtures/io/make_expected.py, in the same order. */
typedef struct
{
  float a_weight[12], b_bias[4], scalar, cafe[2];
  double f64[5];
  guint16 f16[12];
  gint64 i64[4];
  gint32 i32[3];
  guint8 u8[4];
  gint8 i8[2];
  gint16 i16[2];
  guint16 u16[2];
  guint32 u32[2];
  guint64 u64[1];
  guint8 bool_[3];
} ReferenceTensors;

static void
add_reference_tensors (BsSafetensorsWriter *w, ReferenceTensors *t)
{
  for (int i = 0; i < 12; i++)
    t->a_weight[i] = (float) i * 0.25f - 1.5f;
  /* numpy converts the double literals to float32 */
  const float b[4] = { (float) 0.1, -0.0f, (float) 1e-45, (float) 3.4028235e38 };
  memcpy (t->b_bias, b, sizeof b);
  t->scalar = 3.5f;
  t->cafe[0] = 1.0f;
  t->cafe[1] = -2.0f;
  const double f64[5] = { 0.1, -2.5, 1e300, -0.0, 5e-324 };
  memcpy (t->f64, f64, sizeof f64);
  const guint16 f16[12] = { 0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00,
                            0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0xC500, 0x3555 };
  memcpy (t->f16, f16, sizeof f16);
  const gint64 i64[4] = { -1, 0, G_GINT64_CONSTANT (1) << 40, -(G_GINT64_CONSTANT (1) << 62) };
  memcpy (t->i64, i64, sizeof i64);
  const gint32 i32[3] = { 1, -2, 2147483647 };
  memcpy (t->i32, i32, sizeof i32);
  const guint8 u8[4] = { 0, 1, 254, 255 };
  memcpy (t->u8, u8, sizeof u8);
  t->i8[0] = -128;
  t->i8[1] = 127;
  t->i16[0] = -32768;
  t->i16[1] = 7;
  t->u16[0] = 65535;
  t->u16[1] = 1;
  t->u32[0] = 4294967295u;
  t->u32[1] = 2;
  t->u64[0] = G_MAXUINT64;
  t->bool_[0] = 1;
  t->bool_[1] = 0;
  t->bool_[2] = 1;

  const gint64 s3x4[] = { 3, 4 }, s4[] = { 4 }, s0[] = { 0 }, s2x1[] = { 2, 1 }, s5[] = { 5 }, s2x2[] = { 2, 2 },
               s3[] = { 3 }, s2[] = { 2 }, s1[] = { 1 };
  /* added in an order unlike the file's: the writer sorts */
  bs_safetensors_writer_add (w, "bool", BS_DTYPE_BOOL, 1, s3, t->bool_);
  bs_safetensors_writer_add (w, "u64", BS_DTYPE_U64, 1, s1, t->u64);
  bs_safetensors_writer_add (w, "scalar", BS_DTYPE_F32, 0, NULL, &t->scalar);
  bs_safetensors_writer_add (w, "a.weight", BS_DTYPE_F32, 2, s3x4, t->a_weight);
  bs_safetensors_writer_add (w, "empty", BS_DTYPE_F32, 1, s0, NULL);
  bs_safetensors_writer_add (w, "B.bias", BS_DTYPE_F32, 1, s4, t->b_bias);
  bs_safetensors_writer_add (w, "caf\xc3\xa9 \"q\" \\ / \xe2\x98\x83", BS_DTYPE_F32, 2, s2x1, t->cafe);
  bs_safetensors_writer_add (w, "f64", BS_DTYPE_F64, 1, s5, t->f64);
  bs_safetensors_writer_add (w, "f16", BS_DTYPE_F16, 2, s3x4, t->f16);
  bs_safetensors_writer_add (w, "i64", BS_DTYPE_I64, 2, s2x2, t->i64);
  bs_safetensors_writer_add (w, "i32", BS_DTYPE_I32, 1, s3, t->i32);
  bs_safetensors_writer_add (w, "u8", BS_DTYPE_U8, 1, s4, t->u8);
  bs_safetensors_writer_add (w, "i8", BS_DTYPE_I8, 1, s2, t->i8);
  bs_safetensors_writer_add (w, "i16", BS_DTYPE_I16, 1, s2, t->i16);
  bs_safetensors_writer_add (w, "u16", BS_DTYPE_U16, 1, s2, t->u16);
  bs_safetensors_writer_add (w, "u32", BS_DTYPE_U32, 1, s2, t->u32);
  bs_safetensors_writer_set_metadata (w, "format", "pt");
  bs_safetensors_writer_set_metadata (w, "note",
                                      "ctl \x01\x08\x0c\x1f del \x7f \xc3\xa9 \xe2\x80\xa8 \"q\" \\ / \t\n\r");
}

/* The writer's bytes equal the reference writer's (st.py serialize):
 * dtype-then-name order, compact header with __metadata__ first, JSON
 * escapes as serde_json and Python write them, spaces to a multiple of 8. */
static void
test_writer_reference_bytes (void)
{
  g_autofree char *expected_path = g_test_build_filename (G_TEST_DIST, "fixtures", "io", "expected.safetensors",
                                                          NULL);
  g_autofree char *expected = NULL;
  gsize expected_len;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_get_contents (expected_path, &expected, &expected_len, &error));

  ReferenceTensors t;
  g_autoptr (BsSafetensorsWriter) w = bs_safetensors_writer_new ();
  add_reference_tensors (w, &t);
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "out.safetensors", NULL);
  g_assert_true (bs_safetensors_writer_write (w, path, &error));
  g_assert_no_error (error);
  g_autofree char *written = NULL;
  gsize written_len;
  g_assert_true (g_file_get_contents (path, &written, &written_len, &error));
  if (written_len != expected_len || memcmp (written, expected, expected_len) != 0)
    {
      gsize i = 0;
      while (i < MIN (written_len, expected_len) && written[i] == expected[i])
        i++;
      g_test_message ("first difference at byte %" G_GSIZE_FORMAT ": written “%.40s”, expected “%.40s”", i,
                      written + MIN (i, written_len), expected + MIN (i, expected_len));
    }
  g_assert_cmpmem (written, written_len, expected, expected_len);

  /* and the reader takes it back */
  g_autoptr (BsSafetensors) st = bs_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_safetensors_get_n_tensors (st), ==, 16);
  g_assert_cmpstr (bs_safetensors_get_metadata (st, "note"), ==,
                   "ctl \x01\x08\x0c\x1f del \x7f \xc3\xa9 \xe2\x80\xa8 \"q\" \\ / \t\n\r");
  const BsTensorInfo *cafe = bs_safetensors_lookup (st, "caf\xc3\xa9 \"q\" \\ / \xe2\x98\x83");
  g_assert_nonnull (cafe);
  g_assert_cmpmem (cafe->data, cafe->n_bytes, t.cafe, sizeof t.cafe);
  bs_test_remove_tree (dir);
}

/* Whatever is written reads back with the same dtype, shape and bytes. */
static void
test_writer_round_trip (void)
{
  g_autoptr (BsSafetensorsWriter) w = bs_safetensors_writer_new ();
  ReferenceTensors t;
  add_reference_tensors (w, &t);
  const guint16 bf16[3] = { 0x3f80, 0xc049, 0x7fc0 };
  const guint8 f8[2] = { 0x3c, 0xff };
  const gint64 s3[] = { 3 }, s1x2[] = { 1, 2 }, s8[] = { 1, 1, 1, 1, 1, 1, 1, 1 };
  bs_safetensors_writer_add (w, "bf16", BS_DTYPE_BF16, 1, s3, bf16);
  bs_safetensors_writer_add (w, "f8", BS_DTYPE_F8_E4M3, 2, s1x2, f8);
  bs_safetensors_writer_add (w, "eight-dims", BS_DTYPE_F32, 8, s8, &t.scalar);
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "round.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_writer_write (w, path, &error));
  g_autoptr (BsSafetensors) st = bs_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_safetensors_get_n_tensors (st), ==, 19);

  const BsTensorInfo *b = bs_safetensors_lookup (st, "bf16");
  g_assert_cmpint (b->dtype, ==, BS_DTYPE_BF16);
  g_assert_cmpmem (b->data, b->n_bytes, bf16, sizeof bf16);
  float f[3];
  g_assert_true (bs_safetensors_read_f32 (st, b, f, &error));
  g_assert_cmpfloat (f[0], ==, 1.0f);
  g_assert_cmpfloat (f[1], ==, -3.140625f);
  g_assert_true (isnan (f[2]));

  const BsTensorInfo *e = bs_safetensors_lookup (st, "eight-dims");
  g_assert_cmpint (e->n_dims, ==, 8);
  g_assert_cmpint (e->n_elements, ==, 1);
  const BsTensorInfo *i64 = bs_safetensors_lookup (st, "i64");
  g_assert_cmpint (i64->n_dims, ==, 2);
  gint64 iv[4];
  g_assert_true (bs_safetensors_read_i64 (st, i64, iv, &error));
  g_assert_cmpmem (iv, sizeof iv, t.i64, sizeof t.i64);
  const BsTensorInfo *f64 = bs_safetensors_lookup (st, "f64");
  g_assert_cmpmem (f64->data, f64->n_bytes, t.f64, sizeof t.f64);
  const BsTensorInfo *sc = bs_safetensors_lookup (st, "scalar");
  g_assert_cmpint (sc->n_dims, ==, 0);
  g_assert_cmpmem (sc->data, 4, &t.scalar, 4);
  g_assert_cmpstr (bs_safetensors_get_metadata (st, "format"), ==, "pt");
  bs_test_remove_tree (dir);
}

/* A header padded to a multiple of 8, and a file with no tensors at all. */
static void
test_writer_empty (void)
{
  g_autoptr (BsSafetensorsWriter) w = bs_safetensors_writer_new ();
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "empty.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_writer_write (w, path, &error));
  g_autofree char *contents = NULL;
  gsize length;
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpmem (contents, length, "\x08\0\0\0\0\0\0\0{}      ", 16);
  g_autoptr (BsSafetensors) st = bs_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_safetensors_get_n_tensors (st), ==, 0);
  bs_test_remove_tree (dir);
}

static void
write_small (const char *path, float value, GError **error, gboolean *ok)
{
  float data[256];
  for (int i = 0; i < 256; i++)
    data[i] = value;
  const gint64 shape[] = { 256 };
  g_autoptr (BsSafetensorsWriter) w = bs_safetensors_writer_new ();
  bs_safetensors_writer_add (w, "w", BS_DTYPE_F32, 1, shape, data);
  *ok = bs_safetensors_writer_write (w, path, error);
}

static float
read_small (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BsSafetensors) st = bs_safetensors_open (path, &error);
  g_assert_no_error (error);
  const BsTensorInfo *t = bs_safetensors_lookup (st, "w");
  g_assert_nonnull (t);
  g_assert_cmpint (t->n_elements, ==, 256);
  float data[256];
  g_assert_true (bs_safetensors_read_f32 (st, t, data, &error));
  for (int i = 1; i < 256; i++)
    g_assert_cmpfloat (data[i], ==, data[0]);
  return data[0];
}

/* The target holds the old file or the new one, never a part: a write that
 * fails half-way leaves the old file and no temporary behind. */
static void
test_writer_atomic (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  gboolean ok;

  write_small (path, 1.0f, &error, &ok);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpuint (count_temp_files (dir), ==, 0);
  g_assert_cmpfloat (read_small (path), ==, 1.0f);

  /* overwrite */
  write_small (path, 2.0f, &error, &ok);
  g_assert_no_error (error);
  g_assert_cmpuint (count_temp_files (dir), ==, 0);
  g_assert_cmpfloat (read_small (path), ==, 2.0f);
  g_autofree char *before = NULL;
  gsize before_len;
  g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));

  /* a disk that fills up in the middle: the file size limit makes write()
   * fail with EFBIG after 512 of the ~1100 bytes */
  struct rlimit saved, small;
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  small = saved;
  small.rlim_cur = 512;
  void (*old_handler) (int) = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &small), ==, 0);
  write_small (path, 3.0f, &error, &ok);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, old_handler);
  g_assert_false (ok);
  g_assert_true (error != NULL && error->domain == G_IO_ERROR);
  bs_test_assert_contains (error->message, path);
  g_clear_error (&error);
  g_assert_cmpuint (count_temp_files (dir), ==, 0);
  g_autofree char *after = NULL;
  gsize after_len;
  g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
  g_assert_cmpmem (after, after_len, before, before_len);
  g_assert_cmpfloat (read_small (path), ==, 2.0f);

  /* a folder that is gone: an error naming the target, nothing created */
  g_autofree char *gone = g_build_filename (dir, "gone", NULL);
  g_assert_cmpint (g_mkdir (gone, 0755), ==, 0);
  g_autofree char *gone_path = g_build_filename (gone, "model.safetensors", NULL);
  g_assert_cmpint (g_rmdir (gone), ==, 0);
  write_small (gone_path, 4.0f, &error, &ok);
  g_assert_false (ok);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  bs_test_assert_contains (error->message, gone_path);
  g_clear_error (&error);
  g_assert_false (g_file_test (gone_path, G_FILE_TEST_EXISTS));

  /* a folder without write permission (root may write anyway) */
  if (geteuid () != 0)
    {
      g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
      write_small (path, 5.0f, &error, &ok);
      g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
      g_assert_false (ok);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      g_clear_error (&error);
      g_assert_cmpfloat (read_small (path), ==, 2.0f);
    }
  g_assert_cmpuint (count_temp_files (dir), ==, 0);
  bs_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (bad_headers); i++)
    g_test_add_data_func (bad_headers[i].path, &bad_headers[i], test_bad_header);
  g_test_add_func ("/safetensors/bad/header-nul", test_bad_header_nul);
  g_test_add_func ("/safetensors/bad/header-deep-nesting", test_bad_header_deep_nesting);
  g_test_add_func ("/safetensors/bad/file-empty", test_bad_file_empty);
  g_test_add_func ("/safetensors/bad/file-short", test_bad_file_short);
  g_test_add_func ("/safetensors/bad/file-missing", test_bad_file_missing);
  g_test_add_func ("/safetensors/bad/header-length-beyond-file", test_bad_header_length_beyond_file);
  g_test_add_func ("/safetensors/bad/header-length-huge", test_bad_header_length_huge);
  g_test_add_func ("/safetensors/bad/header-over-limit", test_bad_header_over_limit);
  g_test_add_func ("/safetensors/bad/truncated", test_bad_truncated);
  g_test_add_func ("/safetensors/bad/read-dtype", test_bad_read_dtype);
  g_test_add_func ("/safetensors/good/layout", test_good_layout);
  g_test_add_func ("/safetensors/good/out-of-order", test_good_out_of_order);
  g_test_add_func ("/safetensors/good/f32", test_good_f32);
  g_test_add_func ("/safetensors/good/f16", test_good_f16);
  g_test_add_func ("/safetensors/good/bf16", test_good_bf16);
  g_test_add_func ("/safetensors/good/f64", test_good_f64);
  g_test_add_func ("/safetensors/good/integers", test_good_integers);
  g_test_add_func ("/safetensors/writer/reference-bytes", test_writer_reference_bytes);
  g_test_add_func ("/safetensors/writer/round-trip", test_writer_round_trip);
  g_test_add_func ("/safetensors/writer/empty", test_writer_empty);
  g_test_add_func ("/safetensors/writer/atomic", test_writer_atomic);

  return g_test_run ();
}
