/* bs-safetensors.c: a validating safetensors reader and an atomic writer. */
#include "config.h"

#include "bs-safetensors.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "bs-atomic-file.h"
#include "bs-json.h"

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "safetensors data is little-endian; this reader converts nothing"
#endif

G_DEFINE_QUARK (bs-safetensors-error-quark, bs_safetensors_error)

/* The reference implementation refuses headers over 100 MB. */
#define MAX_HEADER_BYTES 100000000

static const struct
{
  const char *name;
  gsize size;
} dtypes[BS_N_DTYPES] = {
  [BS_DTYPE_BOOL] = { "BOOL", 1 },
  [BS_DTYPE_U8] = { "U8", 1 },
  [BS_DTYPE_I8] = { "I8", 1 },
  [BS_DTYPE_F8_E5M2] = { "F8_E5M2", 1 },
  [BS_DTYPE_F8_E4M3] = { "F8_E4M3", 1 },
  [BS_DTYPE_I16] = { "I16", 2 },
  [BS_DTYPE_U16] = { "U16", 2 },
  [BS_DTYPE_F16] = { "F16", 2 },
  [BS_DTYPE_BF16] = { "BF16", 2 },
  [BS_DTYPE_I32] = { "I32", 4 },
  [BS_DTYPE_U32] = { "U32", 4 },
  [BS_DTYPE_F32] = { "F32", 4 },
  [BS_DTYPE_F64] = { "F64", 8 },
  [BS_DTYPE_I64] = { "I64", 8 },
  [BS_DTYPE_U64] = { "U64", 8 },
};

struct _BsSafetensors
{
  char *path; /* for messages */
  GMappedFile *mapped;
  GBytes *bytes;
  const guint8 *data; /* first byte after the header */
  gsize data_len;
  GPtrArray *tensors;    /* BsTensorInfo*, in header order */
  GHashTable *by_name;   /* name -> BsTensorInfo* */
  GHashTable *metadata;  /* string -> string */
};

const char *
bs_dtype_name (BsDtype dtype)
{
  g_return_val_if_fail (dtype < BS_N_DTYPES, "?");
  return dtypes[dtype].name;
}

gsize
bs_dtype_size (BsDtype dtype)
{
  g_return_val_if_fail (dtype < BS_N_DTYPES, 0);
  return dtypes[dtype].size;
}

static gboolean
dtype_from_name (const char *name, BsDtype *out)
{
  for (int i = 0; i < BS_N_DTYPES; i++)
    if (strcmp (dtypes[i].name, name) == 0)
      {
        *out = (BsDtype) i;
        return TRUE;
      }
  return FALSE;
}

char *
bs_tensor_shape_to_string (int n_dims, const gint64 *shape)
{
  GString *s = g_string_new ("[");
  for (int i = 0; i < n_dims; i++)
    g_string_append_printf (s, i ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static void
tensor_info_free (gpointer p)
{
  BsTensorInfo *info = p;
  g_free (info->name);
  g_free (info);
}

void
bs_safetensors_free (BsSafetensors *st)
{
  if (st == NULL)
    return;
  g_free (st->path);
  g_clear_pointer (&st->mapped, g_mapped_file_unref);
  g_clear_pointer (&st->bytes, g_bytes_unref);
  g_clear_pointer (&st->tensors, g_ptr_array_unref);
  g_clear_pointer (&st->by_name, g_hash_table_unref);
  g_clear_pointer (&st->metadata, g_hash_table_unref);
  g_free (st);
}

/* json-glib keeps the last of several members with one name; the
 * format forbids them, so count what the parser saw. */
typedef struct
{
  GHashTable *seen; /* "object-pointer/name" */
  char *duplicate;
} DuplicateCheck;

static void
on_object_member (JsonParser *parser, JsonObject *object, const char *name, gpointer user_data)
{
  DuplicateCheck *check = user_data;
  char *key = g_strdup_printf ("%p/%s", (void *) object, name);
  if (!g_hash_table_add (check->seen, key) && check->duplicate == NULL)
    check->duplicate = g_strdup (name);
}

static gboolean
header_error (BsSafetensors *st, GError **error, BsSafetensorsError code, const char *tensor,
              const char *format, ...) G_GNUC_PRINTF (5, 6);

static gboolean
header_error (BsSafetensors *st, GError **error, BsSafetensorsError code, const char *tensor,
              const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *what = g_strdup_vprintf (format, args);
  va_end (args);
  if (tensor != NULL)
    /* Translators: a file path, a tensor's name in it, and what is wrong with the tensor */
    g_set_error (error, BS_SAFETENSORS_ERROR, code, _("%s: tensor “%s”: %s"), st->path, tensor, what);
  else
    g_set_error (error, BS_SAFETENSORS_ERROR, code, "%s: %s", st->path, what);
  return FALSE;
}

static gboolean
read_int (JsonNode *node, gint64 *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
parse_tensor_entry (BsSafetensors *st, const char *name, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return header_error (st, error, BS_SAFETENSORS_ERROR_HEADER, name, _("entry is not a JSON object"));
  JsonObject *obj = json_node_get_object (node);

  JsonNode *dtype_node = json_object_get_member (obj, "dtype");
  if (dtype_node == NULL || json_node_get_value_type (dtype_node) != G_TYPE_STRING)
    /* Translators: “dtype” is a safetensors header key; keep it as it is */
    return header_error (st, error, BS_SAFETENSORS_ERROR_HEADER, name, _("“dtype” is missing or not a string"));
  BsTensorInfo info = { 0 };
  const char *dtype_name = json_node_get_string (dtype_node);
  if (!dtype_from_name (dtype_name, &info.dtype))
    /* Translators: %s is the dtype the file names, such as F32 */
    return header_error (st, error, BS_SAFETENSORS_ERROR_DTYPE, name, _("unknown dtype “%s”"), dtype_name);

  JsonNode *shape_node = json_object_get_member (obj, "shape");
  if (shape_node == NULL || !JSON_NODE_HOLDS_ARRAY (shape_node))
    /* Translators: “shape” is a safetensors header key; keep it as it is */
    return header_error (st, error, BS_SAFETENSORS_ERROR_SHAPE, name, _("“shape” is missing or not an array"));
  JsonArray *shape = json_node_get_array (shape_node);
  guint n_dims = json_array_get_length (shape);
  if (n_dims > BS_SAFETENSORS_MAX_DIMS)
    return header_error (st, error, BS_SAFETENSORS_ERROR_SHAPE, name, _("%u dimensions (at most %d supported)"),
                         n_dims, BS_SAFETENSORS_MAX_DIMS);
  info.n_dims = (int) n_dims;
  guint64 n_elements = 1;
  for (guint i = 0; i < n_dims; i++)
    {
      gint64 d;
      if (!read_int (json_array_get_element (shape, i), &d) || d < 0)
        return header_error (st, error, BS_SAFETENSORS_ERROR_SHAPE, name,
                             /* Translators: %u counts from 0; “shape” is a header key */
                             _("dimension %u of “shape” is not a non-negative integer"), i);
      info.shape[i] = d;
      if (!g_uint64_checked_mul (&n_elements, n_elements, (guint64) d))
        return header_error (st, error, BS_SAFETENSORS_ERROR_SHAPE, name, _("shape is too large"));
    }

  JsonNode *offsets_node = json_object_get_member (obj, "data_offsets");
  if (offsets_node == NULL || !JSON_NODE_HOLDS_ARRAY (offsets_node)
      || json_array_get_length (json_node_get_array (offsets_node)) != 2)
    return header_error (st, error, BS_SAFETENSORS_ERROR_OFFSETS, name,
                         /* Translators: “data_offsets” is a safetensors header key; keep it as it is */
                         _("“data_offsets” is missing or not a pair of integers"));
  JsonArray *offsets = json_node_get_array (offsets_node);
  gint64 begin, end;
  if (!read_int (json_array_get_element (offsets, 0), &begin)
      || !read_int (json_array_get_element (offsets, 1), &end))
    return header_error (st, error, BS_SAFETENSORS_ERROR_OFFSETS, name, _("“data_offsets” are not integers"));
  if (begin < 0 || end < begin)
    return header_error (st, error, BS_SAFETENSORS_ERROR_OFFSETS, name,
                         /* Translators: data_offsets is a header key; the numbers are byte offsets */
                         _("data_offsets [%" PRId64 ", %" PRId64 "] are not an interval"),
                         begin, end);
  if ((guint64) end > st->data_len)
    return header_error (st, error, BS_SAFETENSORS_ERROR_OFFSETS, name,
                         /* Translators: data_offsets is a header key; the numbers are byte offsets, then
                            the size of the data */
                         _("data_offsets [%" PRId64 ", %" PRId64 "] go past the end of the "
                           "data (%zu bytes): the file is truncated or the header is wrong"),
                         begin, end, st->data_len);
  guint64 n_bytes;
  if (!g_uint64_checked_mul (&n_bytes, n_elements, dtypes[info.dtype].size)
      || n_bytes != (guint64) (end - begin))
    {
      g_autofree char *shape_str = bs_tensor_shape_to_string (info.n_dims, info.shape);
      return header_error (st, error, BS_SAFETENSORS_ERROR_OFFSETS, name,
                           /* Translators: a number of bytes, a shape such as [2, 3], a dtype such as
                              F32 and the number of bytes they need */
                           _("holds %" PRId64 " bytes but shape %s of %s needs %" PRIu64),
                           end - begin, shape_str, dtype_name, n_elements * dtypes[info.dtype].size);
    }

  BsTensorInfo *stored = g_new (BsTensorInfo, 1);
  *stored = info;
  stored->name = g_strdup (name);
  stored->n_elements = (gint64) n_elements;
  stored->data = st->data + begin;
  stored->n_bytes = (gsize) n_bytes;
  g_ptr_array_add (st->tensors, stored);
  g_hash_table_insert (st->by_name, stored->name, stored);
  return TRUE;
}

static gboolean
parse_metadata (BsSafetensors *st, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    /* Translators: “__metadata__” is a safetensors header key; keep it as it is */
    return header_error (st, error, BS_SAFETENSORS_ERROR_HEADER, NULL, _("“__metadata__” is not a JSON object"));
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;
  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (json_node_get_value_type (value) != G_TYPE_STRING)
        return header_error (st, error, BS_SAFETENSORS_ERROR_HEADER, NULL,
                             /* Translators: “__metadata__” is a header key; %s is a key inside it */
                             _("“__metadata__” value of “%s” is not a string"), key);
      g_hash_table_insert (st->metadata, g_strdup (key), g_strdup (json_node_get_string (value)));
    }
  return TRUE;
}

static int
compare_by_offset (gconstpointer a, gconstpointer b)
{
  const BsTensorInfo *x = *(BsTensorInfo *const *) a;
  const BsTensorInfo *y = *(BsTensorInfo *const *) b;
  if (x->data != y->data)
    return x->data < y->data ? -1 : 1;
  return x->n_bytes < y->n_bytes ? -1 : x->n_bytes > y->n_bytes;
}

/* The format requires the tensors to tile the data exactly: no overlap, no
 * gap, nothing after the last one. */
static gboolean
check_layout (BsSafetensors *st, GError **error)
{
  g_autoptr (GPtrArray) sorted = g_ptr_array_copy (st->tensors, NULL, NULL);
  g_ptr_array_set_free_func (sorted, NULL); /* the copy shares the entries */
  g_ptr_array_sort (sorted, compare_by_offset);
  gsize pos = 0;
  const BsTensorInfo *prev = NULL;
  for (guint i = 0; i < sorted->len; i++)
    {
      const BsTensorInfo *t = g_ptr_array_index (sorted, i);
      gsize begin = (gsize) (t->data - st->data);
      if (begin < pos)
        return header_error (st, error, BS_SAFETENSORS_ERROR_OFFSETS, t->name,
                             /* Translators: a byte offset, another tensor's name and its end offset */
                             _("its data (from byte %zu) overlaps tensor “%s” "
                               "(up to byte %zu)"), begin, prev->name, pos);
      if (begin > pos)
        return header_error (st, error, BS_SAFETENSORS_ERROR_OFFSETS, t->name,
                             _("%zu bytes of unused data before it (from byte %zu)"),
                             begin - pos, pos);
      pos = begin + t->n_bytes;
      prev = t;
    }
  if (pos != st->data_len)
    return header_error (st, error, BS_SAFETENSORS_ERROR_OFFSETS, NULL,
                         _("%zu bytes after the last tensor's data belong to no tensor"),
                         st->data_len - pos);
  return TRUE;
}

static gboolean
parse (BsSafetensors *st, const guint8 *contents, gsize length, GError **error)
{
  if (length < 8)
    return header_error (st, error, BS_SAFETENSORS_ERROR_TRUNCATED, NULL,
                         _("the file is %zu bytes long, too short for a safetensors header"),
                         length);
  guint64 header_len;
  memcpy (&header_len, contents, 8);
  header_len = GUINT64_FROM_LE (header_len);
  if (header_len > length - 8)
    return header_error (st, error, BS_SAFETENSORS_ERROR_TRUNCATED, NULL,
                         _("the header length (%" PRIu64 " bytes) goes past the end of the file "
                           "(%zu bytes): the file is truncated or not a safetensors file"),
                         header_len, length);
  if (header_len > MAX_HEADER_BYTES)
    return header_error (st, error, BS_SAFETENSORS_ERROR_HEADER, NULL,
                         _("the header is %" PRIu64 " bytes long (at most %d allowed)"),
                         header_len, MAX_HEADER_BYTES);
  const char *header = (const char *) contents + 8;
  st->data = contents + 8 + header_len;
  st->data_len = length - 8 - header_len;

  if (!g_utf8_validate_len (header, header_len, NULL))
    return header_error (st, error, BS_SAFETENSORS_ERROR_HEADER, NULL, _("the header is not valid UTF-8"));
  const char *problem;
  if (!bs_json_check (header, header_len, &problem))
    /* Translators: %s says what is wrong with the JSON */
    return header_error (st, error, BS_SAFETENSORS_ERROR_HEADER, NULL, _("the header is not valid JSON: %s"), problem);

  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  DuplicateCheck check = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL), NULL };
  g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member), &check);
  g_autoptr (GError) json_error = NULL;
  gboolean parsed = json_parser_load_from_data (parser, header, (gssize) header_len, &json_error);
  g_hash_table_unref (check.seen);
  g_autofree char *duplicate = check.duplicate;
  if (!parsed)
    /* Translators: %s says what is wrong with the JSON */
    return header_error (st, error, BS_SAFETENSORS_ERROR_HEADER, NULL, _("the header is not valid JSON: %s"),
                         json_error->message);
  if (duplicate != NULL)
    /* Translators: %s is a tensor's or key's name */
    return header_error (st, error, BS_SAFETENSORS_ERROR_DUPLICATE, NULL, _("the header names “%s” twice"), duplicate);
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return header_error (st, error, BS_SAFETENSORS_ERROR_HEADER, NULL, _("the header is not a JSON object"));

  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  /* in header order, as st->tensors promises (the plain iterator follows a hash table) */
  json_object_iter_init_ordered (&iter, json_node_get_object (root));
  while (json_object_iter_next_ordered (&iter, &name, &node))
    {
      gboolean ok = strcmp (name, "__metadata__") == 0 ? parse_metadata (st, node, error)
                                                        : parse_tensor_entry (st, name, node, error);
      if (!ok)
        return FALSE;
    }
  return check_layout (st, error);
}

static BsSafetensors *
safetensors_new (const char *display_name)
{
  BsSafetensors *st = g_new0 (BsSafetensors, 1);
  st->path = g_strdup (display_name);
  st->tensors = g_ptr_array_new_with_free_func (tensor_info_free);
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return st;
}

BsSafetensors *
bs_safetensors_open (const char *path, GError **error)
{
  g_autoptr (BsSafetensors) st = safetensors_new (path);
  g_autoptr (GError) map_error = NULL;
  st->mapped = g_mapped_file_new (path, FALSE, &map_error);
  if (st->mapped == NULL)
    {
      g_set_error (error, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_IO, "%s", map_error->message);
      return NULL;
    }
  if (!parse (st, (const guint8 *) g_mapped_file_get_contents (st->mapped), g_mapped_file_get_length (st->mapped),
              error))
    return NULL;
  return g_steal_pointer (&st);
}

BsSafetensors *
bs_safetensors_new_from_bytes (GBytes *bytes, const char *display_name, GError **error)
{
  g_autoptr (BsSafetensors) st = safetensors_new (display_name);
  st->bytes = g_bytes_ref (bytes);
  gsize length;
  const guint8 *contents = g_bytes_get_data (bytes, &length);
  if (!parse (st, contents, length, error))
    return NULL;
  return g_steal_pointer (&st);
}

const char *
bs_safetensors_get_path (const BsSafetensors *st)
{
  return st->path;
}

guint
bs_safetensors_get_n_tensors (const BsSafetensors *st)
{
  return st->tensors->len;
}

const BsTensorInfo *
bs_safetensors_get_tensor (const BsSafetensors *st, guint index)
{
  g_return_val_if_fail (index < st->tensors->len, NULL);
  return g_ptr_array_index (st->tensors, index);
}

const BsTensorInfo *
bs_safetensors_lookup (const BsSafetensors *st, const char *name)
{
  return g_hash_table_lookup (st->by_name, name);
}

const char *
bs_safetensors_get_metadata (const BsSafetensors *st, const char *key)
{
  return g_hash_table_lookup (st->metadata, key);
}

float
bs_f16_to_f32 (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 exponent = (h >> 10) & 0x1f;
  guint32 mantissa = h & 0x3ff;
  guint32 bits;
  if (exponent == 0x1f) /* inf or nan */
    bits = sign | 0x7f800000u | (mantissa << 13);
  else if (exponent != 0)
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  else if (mantissa == 0)
    bits = sign;
  else
    {
      /* subnormal: normalise */
      int e = -1;
      do
        {
          e++;
          mantissa <<= 1;
        }
      while ((mantissa & 0x400) == 0);
      bits = sign | ((guint32) (112 - e) << 23) | ((mantissa & 0x3ff) << 13);
    }
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

/* Drops the low `shift` bits of value, rounding to nearest, ties to even. */
static guint32
round_shift (guint32 value, int shift)
{
  guint32 kept = value >> shift;
  guint32 rest = value & ((1u << shift) - 1);
  guint32 half = 1u << (shift - 1);
  return kept + (rest > half || (rest == half && (kept & 1)));
}

guint16
bs_f32_to_f16 (float f)
{
  guint32 x;
  memcpy (&x, &f, 4);
  guint16 sign = (guint16) ((x >> 16) & 0x8000);
  int exponent = (int) ((x >> 23) & 0xff);
  guint32 mantissa = x & 0x7fffff;
  if (exponent == 0xff)
    /* inf stays inf; a NaN keeps the top of its payload and is made quiet,
     * so that it cannot turn into inf */
    return sign | 0x7c00 | (mantissa != 0 ? 0x200 | (guint16) (mantissa >> 13) : 0);
  int e = exponent - 127 + 15; /* F16's biased exponent */
  if (e >= 0x1f)
    return sign | 0x7c00;
  if (e <= 0)
    {
      /* an F16 subnormal counts units of 2^-24; below half of one, zero
       * (F32 subnormals included) */
      if (e < -10)
        return sign;
      /* a carry out of the mantissa gives the smallest normal, 0x0400 */
      return sign | (guint16) round_shift (mantissa | 0x800000, 14 - e);
    }
  /* a carry ripples into the exponent, and from the largest finite value
   * to inf (0x7c00): both the right encoding */
  return sign | (guint16) round_shift (((guint32) e << 23) | mantissa, 13);
}

float
bs_bf16_to_f32 (guint16 h)
{
  guint32 bits = (guint32) h << 16;
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

guint16
bs_f32_to_bf16 (float f)
{
  guint32 x;
  memcpy (&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return (guint16) ((x >> 16) | 0x40); /* quiet NaN */
  return (guint16) round_shift (x, 16);
}

gboolean
bs_safetensors_read_f32 (const BsSafetensors *st, const BsTensorInfo *info, float *dst, GError **error)
{
  const guint8 *src = info->data;
  gsize n = (gsize) info->n_elements;
  switch (info->dtype)
    {
    case BS_DTYPE_F32:
      memcpy (dst, src, n * 4);
      return TRUE;
    case BS_DTYPE_F16:
      for (gsize i = 0; i < n; i++)
        {
          guint16 h;
          memcpy (&h, src + 2 * i, 2);
          dst[i] = bs_f16_to_f32 (h);
        }
      return TRUE;
    case BS_DTYPE_BF16:
      for (gsize i = 0; i < n; i++)
        {
          guint16 h;
          memcpy (&h, src + 2 * i, 2);
          dst[i] = bs_bf16_to_f32 (h);
        }
      return TRUE;
    case BS_DTYPE_F64:
      for (gsize i = 0; i < n; i++)
        {
          double d;
          memcpy (&d, src + 8 * i, 8);
          dst[i] = (float) d;
        }
      return TRUE;
    default:
      g_set_error (error, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_DTYPE,
                   /* Translators: a file path, a tensor's name and its dtype; keep the dtype names */
                   _("%s: tensor “%s”: dtype %s is not a floating-point type (F32, F16, BF16 or F64 expected)"),
                   st->path, info->name, dtypes[info->dtype].name);
      return FALSE;
    }
}

gboolean
bs_safetensors_read_i64 (const BsSafetensors *st, const BsTensorInfo *info, gint64 *dst, GError **error)
{
  const guint8 *src = info->data;
  gsize n = (gsize) info->n_elements;
  switch (info->dtype)
    {
    case BS_DTYPE_I64:
      memcpy (dst, src, n * 8);
      return TRUE;
    case BS_DTYPE_I32:
      for (gsize i = 0; i < n; i++)
        {
          gint32 v;
          memcpy (&v, src + 4 * i, 4);
          dst[i] = v;
        }
      return TRUE;
    default:
      g_set_error (error, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_DTYPE,
                   /* Translators: a file path, a tensor's name and its dtype; keep the dtype names */
                   _("%s: tensor “%s”: dtype %s is not an integer type (I64 or I32 expected)"),
                   st->path, info->name, dtypes[info->dtype].name);
      return FALSE;
    }
}

/* ---- writer ---- */

typedef struct
{
  char *name;
  BsDtype dtype;
  int n_dims;
  gint64 shape[BS_SAFETENSORS_MAX_DIMS];
  const void *data;
  gsize n_bytes;
} WriterEntry;

struct _BsSafetensorsWriter
{
  GArray *entries; /* WriterEntry */
  GPtrArray *metadata_keys;
  GPtrArray *metadata_values;
};

static void
writer_entry_clear (gpointer p)
{
  g_free (((WriterEntry *) p)->name);
}

BsSafetensorsWriter *
bs_safetensors_writer_new (void)
{
  BsSafetensorsWriter *w = g_new0 (BsSafetensorsWriter, 1);
  w->entries = g_array_new (FALSE, TRUE, sizeof (WriterEntry));
  g_array_set_clear_func (w->entries, writer_entry_clear);
  w->metadata_keys = g_ptr_array_new_with_free_func (g_free);
  w->metadata_values = g_ptr_array_new_with_free_func (g_free);
  return w;
}

void
bs_safetensors_writer_free (BsSafetensorsWriter *w)
{
  if (w == NULL)
    return;
  g_array_unref (w->entries);
  g_ptr_array_unref (w->metadata_keys);
  g_ptr_array_unref (w->metadata_values);
  g_free (w);
}

void
bs_safetensors_writer_set_metadata (BsSafetensorsWriter *w, const char *key, const char *value)
{
  g_ptr_array_add (w->metadata_keys, g_strdup (key));
  g_ptr_array_add (w->metadata_values, g_strdup (value));
}

void
bs_safetensors_writer_add (BsSafetensorsWriter *w, const char *name, BsDtype dtype, int n_dims,
                           const gint64 *shape, const void *data)
{
  g_return_if_fail (n_dims >= 0 && n_dims <= BS_SAFETENSORS_MAX_DIMS);
  WriterEntry e = { g_strdup (name), dtype, n_dims, { 0 }, data, dtypes[dtype].size };
  for (int i = 0; i < n_dims; i++)
    {
      e.shape[i] = shape[i];
      e.n_bytes *= (gsize) shape[i];
    }
  g_array_append_val (w->entries, e);
}

/* The reference writer orders tensors by dtype (later enum values first),
 * then by name; files written the same way compare byte for byte. */
static int
compare_entries (gconstpointer a, gconstpointer b)
{
  const WriterEntry *x = a, *y = b;
  if (x->dtype != y->dtype)
    return x->dtype > y->dtype ? -1 : 1;
  return strcmp (x->name, y->name);
}

gboolean
bs_safetensors_writer_write (BsSafetensorsWriter *w, const char *path, GError **error)
{
  g_array_sort (w->entries, compare_entries);

  g_autoptr (GString) header = g_string_new ("{");
  if (w->metadata_keys->len > 0)
    {
      g_string_append (header, "\"__metadata__\":{");
      for (guint i = 0; i < w->metadata_keys->len; i++)
        {
          if (i > 0)
            g_string_append_c (header, ',');
          bs_json_append_string (header, g_ptr_array_index (w->metadata_keys, i));
          g_string_append_c (header, ':');
          bs_json_append_string (header, g_ptr_array_index (w->metadata_values, i));
        }
      g_string_append (header, "}");
    }
  gsize offset = 0;
  for (guint i = 0; i < w->entries->len; i++)
    {
      const WriterEntry *e = &g_array_index (w->entries, WriterEntry, i);
      if (header->len > 1)
        g_string_append_c (header, ',');
      bs_json_append_string (header, e->name);
      g_string_append_printf (header, ":{\"dtype\":\"%s\",\"shape\":[", dtypes[e->dtype].name);
      for (int d = 0; d < e->n_dims; d++)
        g_string_append_printf (header, d ? ",%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, e->shape[d]);
      g_string_append_printf (header, "],\"data_offsets\":[%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT "]}", offset,
                              offset + e->n_bytes);
      offset += e->n_bytes;
    }
  g_string_append_c (header, '}');
  while (header->len % 8 != 0)
    g_string_append_c (header, ' ');

  guint64 header_len = GUINT64_TO_LE ((guint64) header->len);
  g_autoptr (BsAtomicFile) file = bs_atomic_file_new (path, error);
  if (file == NULL
      || !bs_atomic_file_write (file, &header_len, 8, error)
      || !bs_atomic_file_write (file, header->str, header->len, error))
    return FALSE;
  for (guint i = 0; i < w->entries->len; i++)
    {
      const WriterEntry *e = &g_array_index (w->entries, WriterEntry, i);
      if (!bs_atomic_file_write (file, e->data, e->n_bytes, error))
        return FALSE;
    }
  return bs_atomic_file_commit (file, error);
}
