/* Model folders in and out: the spellings of checkpoints found on the hub,
 * and every way a folder can be wrong.
 *
 * Each variant folder is written from the golden fixtures (fixtures/bert,
 * fixtures/distilbert) with the engine's own BsSafetensorsWriter: renamed,
 * converted, with tensors added or removed, or with config.json edited.
 * Loading must give the fixture's values exactly (or their F16/BF16
 * rounding, computed here independently), or a GError naming the file, the
 * tensor or key, and the fault. */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "bs-checkpoint.h"
#include "bs-config.h"
#include "bs-model.h"
#include "bs-safetensors.h"
#include "bs-test-util.h"

/* ---- captured g_message lines ---- */

static GPtrArray *messages; /* char*, MESSAGE-level lines not yet checked */

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if ((level & G_LOG_LEVEL_MASK) != G_LOG_LEVEL_MESSAGE)
    return g_log_writer_default (level, fields, n_fields, user_data);
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE") == 0)
      g_ptr_array_add (messages, fields[i].length < 0 ? g_strdup (fields[i].value)
                                                      : g_strndup (fields[i].value, (gsize) fields[i].length));
  return G_LOG_WRITER_HANDLED;
}

/* The one captured message containing needle; it is consumed. */
static char *
take_message (const char *needle)
{
  for (guint i = 0; i < messages->len; i++)
    if (strstr (g_ptr_array_index (messages, i), needle) != NULL)
      return g_ptr_array_steal_index (messages, i);
  g_test_message ("no message contains “%s” (%u captured)", needle, messages->len);
  g_assert_not_reached ();
  return NULL;
}

static void
assert_no_messages (void)
{
  for (guint i = 0; i < messages->len; i++)
    g_test_message ("unexpected message: %s", (char *) g_ptr_array_index (messages, i));
  g_assert_cmpuint (messages->len, ==, 0);
}

/* ---- helpers ---- */

static char *
fixture_dir (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
}

static char *
make_tmp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("bs-checkpoint-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static guint32
float_bits (float f)
{
  guint32 b;
  memcpy (&b, &f, 4);
  return b;
}

/* Round to nearest, ties to even, by arithmetic on the value (not the
 * bit tricks a converter would use). */
static guint16
f16_round (float x)
{
  guint16 sign = signbit (x) ? 0x8000 : 0;
  double a = fabs ((double) x);
  if (isnan (x))
    return sign | 0x7e00;
  if (a >= 65520.0) /* half-way to 2^16 and above: inf */
    return sign | 0x7c00;
  if (a < 0x1p-14) /* subnormal, in units of 2^-24; 1024 encodes the smallest normal */
    return sign | (guint16) nearbyint (a * 0x1p24);
  int e;
  double f = frexp (a, &e); /* a = f 2^e, f in [0.5, 1) */
  int exponent = e - 1 + 15;
  double mantissa = nearbyint ((2.0 * f - 1.0) * 1024.0);
  if (mantissa == 1024.0)
    {
      mantissa = 0;
      exponent++;
    }
  return sign | (guint16) (exponent << 10) | (guint16) mantissa;
}

static float
f16_value (guint16 h)
{
  int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  g_assert_cmpint (exponent, !=, 0x1f);
  double magnitude = exponent == 0 ? ldexp (mantissa, -24) : ldexp (1024 + mantissa, exponent - 25);
  return (float) ((h & 0x8000) ? -magnitude : magnitude);
}

static guint16
bf16_round (float x)
{
  guint32 b = float_bits (x);
  g_assert_false (isnan (x));
  return (guint16) ((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}

static float
bf16_value (guint16 h)
{
  guint32 b = (guint32) h << 16;
  float f;
  memcpy (&f, &b, 4);
  return f;
}

/* ---- variant folders ---- */

typedef struct
{
  BsSafetensors *source;  /* model.safetensors of the source folder */
  BsSafetensorsWriter *writer;
  GPtrArray *buffers;     /* converted copies, alive until written */
  char *config_json;      /* the config.json to write */
} Variant;

static void
variant_free (Variant *v)
{
  bs_safetensors_free (v->source);
  bs_safetensors_writer_free (v->writer);
  g_ptr_array_unref (v->buffers);
  g_free (v->config_json);
  g_free (v);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Variant, variant_free)

static Variant *
variant_new (const char *source_dir)
{
  Variant *v = g_new0 (Variant, 1);
  g_autofree char *weights = g_build_filename (source_dir, "model.safetensors", NULL);
  g_autofree char *config = g_build_filename (source_dir, "config.json", NULL);
  g_autoptr (GError) error = NULL;
  v->source = bs_safetensors_open (weights, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (config, &v->config_json, NULL, &error));
  v->writer = bs_safetensors_writer_new ();
  bs_safetensors_writer_set_metadata (v->writer, "format", "pt");
  v->buffers = g_ptr_array_new_with_free_func (g_free);
  return v;
}

static Variant *
variant_new_fixture (const char *fixture)
{
  g_autofree char *dir = fixture_dir (fixture);
  return variant_new (dir);
}

/* Adds source tensor t (F32) as name, converted to dtype. */
static void
variant_add_as (Variant *v, const BsTensorInfo *t, const char *name, BsDtype dtype)
{
  g_assert_cmpint (t->dtype, ==, BS_DTYPE_F32);
  const float *src = (const float *) t->data;
  gsize n = (gsize) t->n_elements;
  void *dst;
  switch (dtype)
    {
    case BS_DTYPE_F32:
      bs_safetensors_writer_add (v->writer, name, dtype, t->n_dims, t->shape, t->data);
      return;
    case BS_DTYPE_F16:
    case BS_DTYPE_BF16:
      {
        guint16 *h = g_new (guint16, MAX (n, 1));
        for (gsize i = 0; i < n; i++)
          h[i] = GUINT16_TO_LE (dtype == BS_DTYPE_F16 ? f16_round (src[i]) : bf16_round (src[i]));
        dst = h;
        break;
      }
    case BS_DTYPE_F64:
      {
        double *d = g_new (double, MAX (n, 1));
        for (gsize i = 0; i < n; i++)
          d[i] = src[i];
        dst = d;
        break;
      }
    case BS_DTYPE_I32:
      {
        gint32 *d = g_new (gint32, MAX (n, 1));
        for (gsize i = 0; i < n; i++)
          d[i] = (gint32) (src[i] * 1000);
        dst = d;
        break;
      }
    default:
      {
        /* any other type: the right number of zero bytes */
        dst = g_malloc0 (MAX (n * bs_dtype_size (dtype), 1));
        break;
      }
    }
  g_ptr_array_add (v->buffers, dst);
  bs_safetensors_writer_add (v->writer, name, dtype, t->n_dims, t->shape, dst);
}

/* Maps a fixture name to the variant's, or NULL to leave the tensor out. */
typedef char *(*RenameFunc) (const char *name, gpointer data);

static void
variant_add_all (Variant *v, RenameFunc rename, gpointer data, BsDtype dtype)
{
  for (guint i = 0; i < bs_safetensors_get_n_tensors (v->source); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (v->source, i);
      g_autofree char *name = rename != NULL ? rename (t->name, data) : g_strdup (t->name);
      if (name != NULL)
        variant_add_as (v, t, name, dtype);
    }
}

/* A tensor of zeros (or the given bytes) that the fixture does not have. */
static void
variant_add_extra (Variant *v, const char *name, BsDtype dtype, int n_dims, const gint64 *shape)
{
  gsize n = bs_dtype_size (dtype);
  for (int i = 0; i < n_dims; i++)
    n *= (gsize) shape[i];
  void *zeros = g_malloc0 (MAX (n, 1));
  g_ptr_array_add (v->buffers, zeros);
  bs_safetensors_writer_add (v->writer, name, dtype, n_dims, shape, zeros);
}

static void
variant_write (Variant *v, const char *dir)
{
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *config = g_build_filename (dir, "config.json", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_writer_write (v->writer, weights, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (config, v->config_json, -1, &error));
}

/* config.json with key set to value (JSON text), or removed when NULL. */
static char *
edit_config (const char *json, const char *key, const char *value)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  JsonObject *obj = json_node_get_object (json_parser_get_root (parser));
  if (value == NULL)
    {
      g_assert_true (json_object_has_member (obj, key));
      json_object_remove_member (obj, key);
    }
  else
    {
      g_autoptr (JsonParser) value_parser = json_parser_new ();
      g_autoptr (GError) error = NULL;
      g_assert_true (json_parser_load_from_data (value_parser, value, -1, &error));
      json_object_set_member (obj, key, json_node_copy (json_parser_get_root (value_parser)));
    }
  return json_to_string (json_parser_get_root (parser), TRUE);
}

/* ---- checks ---- */

typedef float (*RoundFunc) (float x);

static float
round_none (float x)
{
  return x;
}

static float
round_f16 (float x)
{
  return f16_value (f16_round (x));
}

static float
round_bf16 (float x)
{
  return bf16_value (bf16_round (x));
}

/* Every parameter of m equals the fixture's tensor of the same name,
 * through round(), bit for bit; head parameters only when with_head. */
static void
assert_weights_from (const BsModel *m, const char *fixture, RoundFunc round, gboolean with_head)
{
  g_autofree char *dir = fixture_dir (fixture);
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsSafetensors) st = bs_safetensors_open (path, &error);
  g_assert_no_error (error);
  const float *weights = bs_model_peek_weights (m);
  guint n_checked = 0;
  for (guint i = 0; i < bs_model_get_n_params (m); i++)
    {
      const BsParam *p = bs_model_get_param (m, i);
      if (p->head && !with_head)
        continue;
      const BsTensorInfo *t = bs_safetensors_lookup (st, p->name);
      g_assert_nonnull (t);
      g_assert_cmpint (t->n_elements, ==, (gint64) p->n_elements);
      g_autofree float *want = g_new (float, p->n_elements);
      g_assert_true (bs_safetensors_read_f32 (st, t, want, &error));
      for (gsize k = 0; k < p->n_elements; k++)
        {
          float w = round (want[k]);
          if (float_bits (weights[p->offset + k]) != float_bits (w))
            g_error ("%s[%" G_GSIZE_FORMAT "]: loaded %.9g, expected %.9g (fixture %.9g)", p->name, k,
                     weights[p->offset + k], w, want[k]);
        }
      n_checked++;
    }
  g_assert_cmpuint (n_checked, >, 10);
}

static BsModel *
load_ok (const char *dir, const BsLoadOptions *options, BsLoadReport *report)
{
  g_autoptr (GError) error = NULL;
  BsModel *m = bs_model_load (dir, options, report, &error);
  g_assert_no_error (error);
  g_assert_nonnull (m);
  return m;
}

/* Loading dir fails with domain/code, the message containing the needles.
 * Once with a report and once without, both must fail alike (and free
 * what they allocated). */
static void
assert_load_fails (const char *dir, GQuark domain, int code, const char *const *needles)
{
  for (int with_report = 0; with_report < 2; with_report++)
    {
      BsLoadReport report = { 0 };
      g_autoptr (GError) error = NULL;
      g_autoptr (BsModel) m = bs_model_load (dir, NULL, with_report ? &report : NULL, &error);
      bs_load_report_clear (&report);
      g_assert_null (m);
      g_assert_error (error, domain, code);
      for (int i = 0; needles[i] != NULL; i++)
        bs_test_assert_contains (error->message, needles[i]);
    }
  assert_no_messages ();
}

static gboolean
ignored_contains (const BsLoadReport *report, const char *name)
{
  for (guint i = 0; i < report->ignored->len; i++)
    if (strcmp (g_ptr_array_index (report->ignored, i), name) == 0)
      return TRUE;
  return FALSE;
}

/* ---- good folders ---- */

static void
test_load_fixture (gconstpointer data)
{
  const char *fixture = data;
  g_autofree char *dir = fixture_dir (fixture);
  BsLoadReport report = { 0 };
  g_autoptr (BsModel) m = load_ok (dir, NULL, &report);
  g_assert_false (report.head_initialised);
  g_assert_cmpuint (report.ignored->len, ==, 0);
  g_assert_cmpuint (report.n_converted, ==, 0);
  assert_no_messages ();
  assert_weights_from (m, fixture, round_none, TRUE);
  const BsConfig *c = bs_model_get_config (m);
  g_assert_cmpint (c->hidden_size, ==, 32);
  g_assert_cmpint (c->n_labels, ==, strcmp (fixture, "bert") == 0 ? 2 : 3);
  g_assert_cmpstr (c->labels[1], ==, "LABEL_1");
  bs_load_report_clear (&report);
}

static char *
strip_prefix (const char *name, gpointer data)
{
  const char *prefix = data;
  return g_strdup (g_str_has_prefix (name, prefix) ? name + strlen (prefix) : name);
}

/* TensorFlow-era names: LayerNorm weight/bias as gamma/beta; with prefix
 * stripped too when data is non-NULL. */
static char *
legacy_names (const char *name, gpointer data)
{
  g_autofree char *stripped = data != NULL ? strip_prefix (name, data) : g_strdup (name);
  gboolean norm = strstr (name, "LayerNorm.") != NULL || strstr (name, "layer_norm.") != NULL;
  if (norm && g_str_has_suffix (stripped, ".weight"))
    {
      stripped[strlen (stripped) - 7] = '\0';
      return g_strconcat (stripped, ".gamma", NULL);
    }
  if (norm && g_str_has_suffix (stripped, ".bias"))
    {
      stripped[strlen (stripped) - 5] = '\0';
      return g_strconcat (stripped, ".beta", NULL);
    }
  return g_steal_pointer (&stripped);
}

typedef struct
{
  const char *fixture;
  const char *prefix;
} Names;

static void
test_load_no_prefix (gconstpointer data)
{
  const Names *names = data;
  g_autoptr (Variant) v = variant_new_fixture (names->fixture);
  variant_add_all (v, strip_prefix, (gpointer) names->prefix, BS_DTYPE_F32);
  g_autofree char *dir = make_tmp_dir ();
  variant_write (v, dir);
  /* the variant really has no prefixed name */
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (BsSafetensors) st = bs_safetensors_open (weights, NULL);
  for (guint i = 0; i < bs_safetensors_get_n_tensors (st); i++)
    g_assert_false (g_str_has_prefix (bs_safetensors_get_tensor (st, i)->name, names->prefix));

  BsLoadReport report = { 0 };
  g_autoptr (BsModel) m = load_ok (dir, NULL, &report);
  g_assert_cmpuint (report.ignored->len, ==, 0);
  g_assert_false (report.head_initialised);
  assert_no_messages ();
  assert_weights_from (m, names->fixture, round_none, TRUE);
  bs_load_report_clear (&report);
  bs_test_remove_tree (dir);
}

static void
test_load_legacy_layernorm (gconstpointer data)
{
  const Names *names = data;
  /* with the prefix, then without: both spellings at once */
  for (int stripped = 0; stripped < 2; stripped++)
    {
      g_autoptr (Variant) v = variant_new_fixture (names->fixture);
      variant_add_all (v, legacy_names, stripped ? (gpointer) names->prefix : NULL, BS_DTYPE_F32);
      g_autofree char *dir = make_tmp_dir ();
      variant_write (v, dir);
      g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
      g_autoptr (BsSafetensors) st = bs_safetensors_open (weights, NULL);
      guint n_gamma = 0;
      for (guint i = 0; i < bs_safetensors_get_n_tensors (st); i++)
        n_gamma += g_str_has_suffix (bs_safetensors_get_tensor (st, i)->name, ".gamma");
      g_assert_cmpuint (n_gamma, ==, 5); /* embeddings + 2 per layer */

      BsLoadReport report = { 0 };
      g_autoptr (BsModel) m = load_ok (dir, NULL, &report);
      g_assert_cmpuint (report.ignored->len, ==, 0);
      assert_no_messages ();
      assert_weights_from (m, names->fixture, round_none, TRUE);
      bs_load_report_clear (&report);
      bs_test_remove_tree (dir);
    }
}

/* What pretraining checkpoints carry besides the encoder: ignored, and
 * listed in the report and in one log line. */
static void
test_load_extra_keys (gconstpointer data)
{
  const char *fixture = data;
  gboolean bert = strcmp (fixture, "bert") == 0;
  g_autoptr (Variant) v = variant_new_fixture (fixture);
  variant_add_all (v, NULL, NULL, BS_DTYPE_F32);
  const gint64 vocab[] = { 99 }, hh[] = { 32, 32 }, h[] = { 32 }, vh[] = { 99, 32 }, pos[] = { 1, 40 },
               h2[] = { 2, 32 }, two[] = { 2 };
  const char *bert_extras[] = { "cls.predictions.bias", "cls.predictions.transform.dense.weight",
                                "cls.predictions.transform.LayerNorm.gamma", "cls.seq_relationship.weight",
                                "cls.seq_relationship.bias", "bert.embeddings.position_ids", NULL };
  const char *distil_extras[] = { "vocab_transform.weight", "vocab_layer_norm.weight", "vocab_layer_norm.bias",
                                  "vocab_projector.weight", "vocab_projector.bias",
                                  "distilbert.embeddings.position_ids", NULL };
  if (bert)
    {
      variant_add_extra (v, bert_extras[0], BS_DTYPE_F32, 1, vocab);
      variant_add_extra (v, bert_extras[1], BS_DTYPE_F32, 2, hh);
      variant_add_extra (v, bert_extras[2], BS_DTYPE_F32, 1, h);
      variant_add_extra (v, bert_extras[3], BS_DTYPE_F32, 2, h2);
      variant_add_extra (v, bert_extras[4], BS_DTYPE_F32, 1, two);
      variant_add_extra (v, bert_extras[5], BS_DTYPE_I64, 2, pos);
    }
  else
    {
      variant_add_extra (v, distil_extras[0], BS_DTYPE_F32, 2, hh);
      variant_add_extra (v, distil_extras[1], BS_DTYPE_F32, 1, h);
      variant_add_extra (v, distil_extras[2], BS_DTYPE_F32, 1, h);
      variant_add_extra (v, distil_extras[3], BS_DTYPE_F32, 2, vh);
      variant_add_extra (v, distil_extras[4], BS_DTYPE_BF16, 1, vocab);
      variant_add_extra (v, distil_extras[5], BS_DTYPE_I64, 2, pos);
    }
  const char *const *extras = bert ? bert_extras : distil_extras;
  g_autofree char *dir = make_tmp_dir ();
  variant_write (v, dir);

  BsLoadReport report = { 0 };
  g_autoptr (BsModel) m = load_ok (dir, NULL, &report);
  g_assert_cmpuint (report.ignored->len, ==, 6);
  for (int i = 0; extras[i] != NULL; i++)
    g_assert_true (ignored_contains (&report, extras[i]));
  g_assert_false (report.head_initialised);
  g_assert_cmpuint (report.n_converted, ==, 0); /* ignored tensors are not read */

  g_autofree char *line = take_message ("ignored");
  bs_test_assert_contains (line, dir);
  bs_test_assert_contains (line, "6 tensors");
  for (int i = 0; extras[i] != NULL; i++)
    bs_test_assert_contains (line, extras[i]);
  assert_no_messages ();
  assert_weights_from (m, fixture, round_none, TRUE);
  bs_load_report_clear (&report);
  bs_test_remove_tree (dir);
}

/* F16, BF16 and F64 files load as the F32 values they round to. */
static void
test_load_converted (gconstpointer data)
{
  const char *fixture = data;
  const struct
  {
    BsDtype dtype;
    RoundFunc round;
  } cases[] = {
    { BS_DTYPE_F16, round_f16 },
    { BS_DTYPE_BF16, round_bf16 },
    { BS_DTYPE_F64, round_none }, /* F32 values are exact in F64 */
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr (Variant) v = variant_new_fixture (fixture);
      variant_add_all (v, NULL, NULL, cases[c].dtype);
      g_autofree char *dir = make_tmp_dir ();
      variant_write (v, dir);
      BsLoadReport report = { 0 };
      g_autoptr (BsModel) m = load_ok (dir, NULL, &report);
      g_assert_cmpuint (report.n_converted, ==, bs_model_get_n_params (m));
      g_assert_false (report.head_initialised);
      assert_no_messages ();
      assert_weights_from (m, fixture, cases[c].round, TRUE);
      bs_load_report_clear (&report);
      bs_test_remove_tree (dir);
    }

  /* The rounding is not the identity on these weights, so the checks above
   * tell a conversion from a copy; and some weights are F16 subnormals. */
  g_autofree char *dir = fixture_dir (fixture);
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (BsSafetensors) st = bs_safetensors_open (path, NULL);
  gsize n_f16_changed = 0, n_bf16_changed = 0, n_f16_subnormal = 0;
  for (guint i = 0; i < bs_safetensors_get_n_tensors (st); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (st, i);
      const float *f = (const float *) t->data;
      for (gint64 k = 0; k < t->n_elements; k++)
        {
          n_f16_changed += round_f16 (f[k]) != f[k];
          n_bf16_changed += round_bf16 (f[k]) != f[k];
          n_f16_subnormal += f[k] != 0 && fabsf (f[k]) < 0x1p-14f;
        }
    }
  g_assert_cmpuint (n_f16_changed, >, 1000);
  g_assert_cmpuint (n_bf16_changed, >, 1000);
  g_assert_cmpuint (n_f16_subnormal, >, 0);
}

/* One file mixing the dtypes, as some conversions leave them. */
static void
test_load_mixed_dtypes (void)
{
  static const BsDtype dtypes[] = { BS_DTYPE_F32, BS_DTYPE_F16, BS_DTYPE_BF16, BS_DTYPE_F64 };
  g_autoptr (Variant) v = variant_new_fixture ("bert");
  guint n_converted = 0;
  for (guint i = 0; i < bs_safetensors_get_n_tensors (v->source); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (v->source, i);
      BsDtype dtype = dtypes[i % 4];
      variant_add_as (v, t, t->name, dtype);
      n_converted += dtype != BS_DTYPE_F32;
    }
  g_autofree char *dir = make_tmp_dir ();
  variant_write (v, dir);
  BsLoadReport report = { 0 };
  g_autoptr (BsModel) m = load_ok (dir, NULL, &report);
  g_assert_cmpuint (report.n_converted, ==, n_converted);
  bs_load_report_clear (&report);

  const float *weights = bs_model_peek_weights (m);
  for (guint i = 0; i < bs_safetensors_get_n_tensors (v->source); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (v->source, i);
      const BsParam *p = bs_model_find_param (m, t->name);
      g_assert_nonnull (p);
      RoundFunc round = dtypes[i % 4] == BS_DTYPE_F16 ? round_f16 : dtypes[i % 4] == BS_DTYPE_BF16 ? round_bf16
                                                                                                     : round_none;
      for (gint64 k = 0; k < t->n_elements; k++)
        g_assert_cmpuint (float_bits (weights[p->offset + k]), ==, float_bits (round (((const float *) t->data)[k])));
    }
  assert_no_messages ();
  bs_test_remove_tree (dir);
}

/* A base model (no classifier) gets a head drawn from N(0,
 * initializer_range) with zero biases, and says so. The model is wide so
 * that the statistics mean something. */
static void
test_load_no_head (gconstpointer data)
{
  BsArch arch = GPOINTER_TO_INT (data);
  gboolean bert = arch == BS_ARCH_BERT;
  g_autoptr (BsConfig) config = bs_config_new (arch);
  config->vocab_size = 16;
  config->hidden_size = 512;
  config->n_heads = 8;
  config->n_layers = 1;
  config->intermediate_size = 32;
  config->max_position_embeddings = 8;
  /* not the default 0.02 for DistilBERT: the head must use the file's value */
  config->initializer_range = bert ? 0.02 : 0.05;
  const char *labels[] = { "a", "b", "c", "d", "e", "f", "g", "h" };
  bs_config_set_labels (config, labels, 8);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsModel) full = bs_model_new (config, &error);
  g_assert_no_error (error);
  bs_model_init_weights (full, 1);
  g_autofree char *root = make_tmp_dir ();
  g_autofree char *full_dir = g_build_filename (root, "full", NULL);
  g_assert_true (bs_model_save (full, full_dir, &error));
  g_assert_no_error (error);

  /* the same folder without the head */
  g_autoptr (Variant) v = variant_new (full_dir);
  guint n_dropped = 0;
  for (guint i = 0; i < bs_safetensors_get_n_tensors (v->source); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (v->source, i);
      if (bs_model_find_param (full, t->name)->head)
        n_dropped++;
      else
        variant_add_as (v, t, t->name, BS_DTYPE_F32);
    }
  g_assert_cmpuint (n_dropped, ==, bert ? 2 : 4);
  g_autofree char *base_dir = g_build_filename (root, "base", NULL);
  variant_write (v, base_dir);

  BsLoadOptions options = { .head_seed = 7 };
  BsLoadReport report = { 0 };
  g_autoptr (BsModel) m = load_ok (base_dir, &options, &report);
  g_assert_true (report.head_initialised);
  g_assert_cmpuint (report.ignored->len, ==, 0);
  g_autofree char *line = take_message ("initialised");
  bs_test_assert_contains (line, base_dir);
  bs_test_assert_contains (line, "8 labels");
  assert_no_messages ();
  bs_load_report_clear (&report);

  const float *w = bs_model_peek_weights (m);
  const float *full_w = bs_model_peek_weights (full);
  for (guint i = 0; i < bs_model_get_n_params (m); i++)
    {
      const BsParam *p = bs_model_get_param (m, i);
      if (!p->head)
        {
          /* the base model (BERT's pooler included) comes from the file */
          g_assert_cmpmem (w + p->offset, p->n_elements * 4, full_w + p->offset, p->n_elements * 4);
          continue;
        }
      if (p->kind == BS_PARAM_BIAS)
        {
          for (gsize k = 0; k < p->n_elements; k++)
            g_assert_cmpuint (float_bits (w[p->offset + k]), ==, 0);
          continue;
        }
      g_assert_cmpint (p->kind, ==, BS_PARAM_MATRIX);
      double sum = 0, sum2 = 0;
      for (gsize k = 0; k < p->n_elements; k++)
        {
          sum += w[p->offset + k];
          sum2 += (double) w[p->offset + k] * w[p->offset + k];
        }
      double n = (double) p->n_elements, mean = sum / n, std = sqrt (sum2 / n - mean * mean);
      double range = config->initializer_range;
      g_test_message ("%s: %g values, mean %.3g, std %.4g (initializer_range %g)", p->name, n, mean, std, range);
      /* n >= 4096: the sample std is within about 1% of the true one */
      g_assert_cmpfloat (fabs (mean), <, 5 * range / sqrt (n));
      g_assert_cmpfloat (std, >, 0.9 * range);
      g_assert_cmpfloat (std, <, 1.1 * range);
      /* and it is not the head that was dropped */
      g_assert_cmpint (memcmp (w + p->offset, full_w + p->offset, p->n_elements * 4), !=, 0);
    }

  /* the seed decides the head: the same seed, the same head */
  g_autoptr (BsModel) again = load_ok (base_dir, &options, &report);
  bs_load_report_clear (&report);
  g_free (take_message ("initialised"));
  g_assert_cmpmem (bs_model_peek_weights (again), bs_model_get_n_weights (again) * 4, w,
                   bs_model_get_n_weights (m) * 4);
  options.head_seed = 8;
  g_autoptr (BsModel) other = load_ok (base_dir, &options, &report);
  bs_load_report_clear (&report);
  g_free (take_message ("initialised"));
  const BsParam *cls = bs_model_find_param (m, "classifier.weight");
  g_assert_cmpint (memcmp (bs_model_peek_weights (other) + cls->offset, w + cls->offset, cls->n_elements * 4), !=, 0);
  assert_no_messages ();
  bs_test_remove_tree (root);
}

/* A masked language model: saved under transformers' BertForMaskedLM names
 * (no pooler, the decoder tied to the word table), loaded back bit for bit;
 * loaded as a classifier it gets a new pooler and classifier and its MLM
 * head is listed as ignored; a classifier loaded as one gets a new MLM head. */
static void
test_masked_lm_folders (void)
{
  g_autoptr (BsConfig) config = bs_config_new (BS_ARCH_BERT);
  config->vocab_size = 50, config->hidden_size = 16, config->n_heads = 2, config->n_layers = 2;
  config->intermediate_size = 24, config->max_position_embeddings = 12;
  g_autoptr (GError) error = NULL;
  g_autoptr (BsModel) mlm = bs_model_new_with_head (config, BS_HEAD_MASKED_LM, &error);
  g_assert_no_error (error);
  bs_model_init_weights (mlm, 3);
  float *mw = bs_model_get_weights (mlm);
  for (gsize k = 0; k < bs_model_get_n_weights (mlm); k++)
    mw[k] += 0.001f * (float) (k % 97); /* biases and LayerNorms not at their defaults */
  g_autofree char *root = make_tmp_dir ();
  g_autofree char *mlm_dir = g_build_filename (root, "mlm", NULL);
  g_assert_true (bs_model_save (mlm, mlm_dir, &error));
  g_assert_no_error (error);

  g_autofree char *config_path = g_build_filename (mlm_dir, "config.json", NULL);
  g_autofree char *config_text = NULL;
  g_assert_true (g_file_get_contents (config_path, &config_text, NULL, NULL));
  bs_test_assert_contains (config_text, "\"BertForMaskedLM\"");
  g_autofree char *weights_path = g_build_filename (mlm_dir, "model.safetensors", NULL);
  g_autoptr (BsSafetensors) st = bs_safetensors_open (weights_path, &error);
  g_assert_no_error (error);
  const char *present[] = { "cls.predictions.bias", "cls.predictions.transform.dense.weight",
                            "cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.weight",
                            "cls.predictions.transform.LayerNorm.bias", "bert.embeddings.word_embeddings.weight" };
  for (gsize i = 0; i < G_N_ELEMENTS (present); i++)
    g_assert_nonnull (bs_safetensors_lookup (st, present[i]));
  g_assert_null (bs_safetensors_lookup (st, "bert.pooler.dense.weight"));
  g_assert_null (bs_safetensors_lookup (st, "cls.predictions.decoder.weight"));

  /* back as a masked LM: the same weights, nothing said */
  BsLoadOptions as_mlm = { .head = BS_HEAD_MASKED_LM };
  BsLoadReport report = { 0 };
  g_autoptr (BsModel) back = load_ok (mlm_dir, &as_mlm, &report);
  g_assert_false (report.head_initialised);
  g_assert_cmpuint (report.ignored->len, ==, 0);
  bs_load_report_clear (&report);
  assert_no_messages ();
  g_assert_cmpint (bs_model_get_head (back), ==, BS_HEAD_MASKED_LM);
  g_assert_cmpmem (bs_model_peek_weights (back), bs_model_get_n_weights (back) * 4, mw,
                   bs_model_get_n_weights (mlm) * 4);

  /* as a classifier: the encoder from the file, a new pooler and head */
  BsLoadOptions as_classifier = { .head_seed = 9 };
  g_autoptr (BsModel) classifier = load_ok (mlm_dir, &as_classifier, &report);
  g_assert_true (report.head_initialised);
  g_assert_cmpuint (report.ignored->len, ==, 5);
  g_assert_true (ignored_contains (&report, "cls.predictions.transform.dense.weight"));
  bs_load_report_clear (&report);
  g_autofree char *initialised = take_message ("initialised");
  bs_test_assert_contains (initialised, "bert.pooler.dense.weight");
  bs_test_assert_contains (initialised, "classifier.weight");
  g_free (take_message ("ignored"));
  assert_no_messages ();
  for (guint i = 0; i < bs_model_get_n_params (classifier); i++)
    {
      const BsParam *p = bs_model_get_param (classifier, i);
      const BsParam *q = bs_model_find_param (mlm, p->name);
      if (q != NULL)
        g_assert_cmpmem (bs_model_peek_weights (classifier) + p->offset, p->n_elements * 4, mw + q->offset,
                         q->n_elements * 4);
      else
        g_assert_true (g_str_has_prefix (p->name, "bert.pooler.") || g_str_has_prefix (p->name, "classifier."));
    }

  /* a classifier as a masked LM: a new MLM head; pooler and classifier unused */
  g_autofree char *classifier_dir = g_build_filename (root, "classifier", NULL);
  g_assert_true (bs_model_save (classifier, classifier_dir, &error));
  g_autoptr (BsModel) relearn = load_ok (classifier_dir, &as_mlm, &report);
  g_assert_cmpint (bs_model_get_head (relearn), ==, BS_HEAD_MASKED_LM);
  g_assert_true (report.head_initialised);
  g_assert_true (ignored_contains (&report, "bert.pooler.dense.weight"));
  g_assert_true (ignored_contains (&report, "classifier.bias"));
  bs_load_report_clear (&report);
  g_autofree char *no_head = take_message ("no masked-language-model head");
  bs_test_assert_contains (no_head, "cls.predictions.bias");
  g_autofree char *unused = take_message ("not used by a masked language model");
  bs_test_assert_contains (unused, "classifier.weight");
  assert_no_messages ();

  /* DistilBERT folders have no masked-LM head here */
  g_autofree char *distil = fixture_dir ("distilbert");
  g_assert_null (bs_model_load (distil, &as_mlm, NULL, &error));
  g_assert_error (error, BS_MODEL_ERROR, BS_MODEL_ERROR_INPUT);
  bs_test_remove_tree (root);
}

/* Other labels than config.json's: a head of the new size. */
static void
test_load_relabel (gconstpointer data)
{
  const char *fixture = data;
  g_autofree char *dir = fixture_dir (fixture);
  const char *labels[] = { "negative", "neutral", "positive", "mixed", "n\xc3\xa9gatif \"q\"" };
  BsLoadOptions options = { .labels = labels, .n_labels = 5, .head_seed = 3 };
  BsLoadReport report = { 0 };
  g_autoptr (BsModel) m = load_ok (dir, &options, &report);
  g_assert_true (report.head_initialised);
  g_free (take_message ("initialised"));
  assert_no_messages ();
  bs_load_report_clear (&report);

  const BsConfig *c = bs_model_get_config (m);
  g_assert_cmpint (c->n_labels, ==, 5);
  for (int i = 0; i < 5; i++)
    g_assert_cmpstr (c->labels[i], ==, labels[i]);
  g_assert_null (c->labels[5]);
  const BsParam *w = bs_model_find_param (m, "classifier.weight");
  const BsParam *b = bs_model_find_param (m, "classifier.bias");
  g_assert_cmpint (w->shape[0], ==, 5);
  g_assert_cmpint (w->shape[1], ==, 32);
  g_assert_cmpint (b->shape[0], ==, 5);
  const float *weights = bs_model_peek_weights (m);
  for (int i = 0; i < 5; i++)
    g_assert_cmpuint (float_bits (weights[b->offset + i]), ==, 0);
  double sum2 = 0;
  for (gsize k = 0; k < w->n_elements; k++)
    sum2 += (double) weights[w->offset + k] * weights[w->offset + k];
  g_assert_cmpfloat (sum2, >, 0); /* drawn, not left zero */
  assert_weights_from (m, fixture, round_none, FALSE);
  /* DistilBERT's pre_classifier does not depend on the labels: kept */
  const BsParam *pre = bs_model_find_param (m, "pre_classifier.weight");
  if (pre != NULL)
    {
      g_autoptr (BsModel) original = load_ok (dir, NULL, NULL);
      g_assert_cmpmem (weights + pre->offset, pre->n_elements * 4, bs_model_peek_weights (original) + pre->offset,
                       pre->n_elements * 4);
    }

  /* as many labels as the checkpoint's head: kept, only renamed */
  const char *two[] = { "no", "yes", "maybe" };
  options.labels = two;
  options.n_labels = strcmp (fixture, "bert") == 0 ? 2 : 3;
  g_autoptr (BsModel) same = load_ok (dir, &options, &report);
  g_assert_false (report.head_initialised);
  assert_no_messages ();
  bs_load_report_clear (&report);
  g_assert_cmpstr (bs_model_get_config (same)->labels[1], ==, "yes");
  assert_weights_from (same, fixture, round_none, TRUE);
}

/* ---- round trip ---- */

static void
assert_configs_equal (const BsConfig *a, const BsConfig *b)
{
  g_assert_cmpint (a->arch, ==, b->arch);
  g_assert_cmpint (a->vocab_size, ==, b->vocab_size);
  g_assert_cmpint (a->hidden_size, ==, b->hidden_size);
  g_assert_cmpint (a->n_layers, ==, b->n_layers);
  g_assert_cmpint (a->n_heads, ==, b->n_heads);
  g_assert_cmpint (a->intermediate_size, ==, b->intermediate_size);
  g_assert_cmpint (a->max_position_embeddings, ==, b->max_position_embeddings);
  g_assert_cmpint (a->type_vocab_size, ==, b->type_vocab_size);
  g_assert_cmpint (a->pad_token_id, ==, b->pad_token_id);
  g_assert_cmpfloat (a->layer_norm_eps, ==, b->layer_norm_eps);
  g_assert_cmpfloat (a->hidden_dropout, ==, b->hidden_dropout);
  g_assert_cmpfloat (a->attention_dropout, ==, b->attention_dropout);
  g_assert_cmpfloat (a->classifier_dropout, ==, b->classifier_dropout);
  g_assert_cmpfloat (a->initializer_range, ==, b->initializer_range);
  g_assert_cmpint (a->n_labels, ==, b->n_labels);
  g_assert_cmpuint (g_strv_length (a->labels), ==, (guint) a->n_labels);
  g_assert_true (g_strv_equal ((const char *const *) a->labels, (const char *const *) b->labels));
  /* the members BsConfig does not manage survive, as JSON values */
  g_autoptr (JsonNode) ea = json_from_string (a->extra_json, NULL);
  g_autoptr (JsonNode) eb = json_from_string (b->extra_json, NULL);
  g_assert_nonnull (ea);
  g_assert_nonnull (eb);
  g_assert_true (json_node_equal (ea, eb));
}

static void
assert_no_temp_files (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_assert_null (strstr (name, ".tmp-"));
}

/* load -> save -> load: the same bits, an equal config, and a file as
 * transformers writes it (the fixtures were written that way, so the
 * bytes are the fixture's). */
static void
test_round_trip (gconstpointer data)
{
  const char *fixture = data;
  g_autofree char *src = fixture_dir (fixture);
  g_autoptr (BsModel) m = load_ok (src, NULL, NULL);
  g_autofree char *root = make_tmp_dir ();
  g_autofree char *dir = g_build_filename (root, "nested", "saved", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_model_save (m, dir, &error));
  g_assert_no_error (error);
  assert_no_temp_files (dir);

  g_autoptr (BsModel) back = load_ok (dir, NULL, NULL);
  assert_no_messages ();
  g_assert_cmpuint (bs_model_get_n_weights (back), ==, bs_model_get_n_weights (m));
  g_assert_cmpmem (bs_model_peek_weights (back), bs_model_get_n_weights (back) * 4, bs_model_peek_weights (m),
                   bs_model_get_n_weights (m) * 4);
  assert_configs_equal (bs_model_get_config (back), bs_model_get_config (m));
  g_autofree char *config_path = g_build_filename (src, "config.json", NULL);
  g_autoptr (BsConfig) original = bs_config_load (config_path, &error);
  g_assert_no_error (error);
  assert_configs_equal (bs_model_get_config (back), original);

  /* model.safetensors: HF's layout and names, byte for byte */
  g_autofree char *fixture_weights = g_build_filename (src, "model.safetensors", NULL);
  g_autofree char *saved_weights = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *a = NULL, *b = NULL;
  gsize a_len, b_len;
  g_assert_true (g_file_get_contents (fixture_weights, &a, &a_len, NULL));
  g_assert_true (g_file_get_contents (saved_weights, &b, &b_len, NULL));
  g_assert_cmpmem (b, b_len, a, a_len);

  /* config.json: what transformers reads */
  g_autofree char *saved_config = g_build_filename (dir, "config.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (parser, saved_config, &error));
  JsonObject *obj = json_node_get_object (json_parser_get_root (parser));
  gboolean bert = strcmp (fixture, "bert") == 0;
  g_assert_cmpstr (json_object_get_string_member (obj, "model_type"), ==, fixture);
  JsonArray *archs = json_object_get_array_member (obj, "architectures");
  g_assert_cmpstr (json_array_get_string_element (archs, 0), ==,
                   bert ? "BertForSequenceClassification" : "DistilBertForSequenceClassification");
  g_assert_cmpint (json_object_get_int_member (obj, bert ? "hidden_size" : "dim"), ==, 32);
  JsonObject *id2label = json_object_get_object_member (obj, "id2label");
  JsonObject *label2id = json_object_get_object_member (obj, "label2id");
  g_assert_cmpstr (json_object_get_string_member (id2label, "1"), ==, "LABEL_1");
  g_assert_cmpint (json_object_get_int_member (label2id, "LABEL_1"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (obj, "problem_type"), ==, "single_label_classification");
  bs_test_remove_tree (root);
}

/* A file in an old spelling is saved in the modern one, F32 only. */
static void
test_round_trip_modernises (void)
{
  g_autoptr (Variant) v = variant_new_fixture ("bert");
  variant_add_all (v, legacy_names, "bert.", BS_DTYPE_F16);
  const gint64 pos[] = { 1, 40 };
  variant_add_extra (v, "bert.embeddings.position_ids", BS_DTYPE_I64, 2, pos);
  g_autofree char *root = make_tmp_dir ();
  g_autofree char *legacy_dir = g_build_filename (root, "legacy", NULL);
  g_autofree char *saved_dir = g_build_filename (root, "saved", NULL);
  variant_write (v, legacy_dir);

  /* labels with characters JSON must escape */
  const char *labels[] = { "n\xc3\xa9gatif", "quote \" back \\ slash", "tab\there" };
  BsLoadOptions options = { .labels = labels, .n_labels = 3 };
  BsLoadReport report = { 0 };
  g_autoptr (BsModel) m = load_ok (legacy_dir, &options, &report);
  bs_load_report_clear (&report);
  g_free (take_message ("ignored"));
  g_free (take_message ("initialised"));
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_model_save (m, saved_dir, &error));
  g_assert_no_error (error);

  g_autofree char *saved_weights = g_build_filename (saved_dir, "model.safetensors", NULL);
  g_autoptr (BsSafetensors) st = bs_safetensors_open (saved_weights, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bs_safetensors_get_n_tensors (st), ==, bs_model_get_n_params (m));
  for (guint i = 0; i < bs_model_get_n_params (m); i++)
    {
      const BsParam *p = bs_model_get_param (m, i);
      const BsTensorInfo *t = bs_safetensors_lookup (st, p->name);
      g_assert_nonnull (t);
      g_assert_cmpint (t->dtype, ==, BS_DTYPE_F32);
      g_assert_cmpint (t->n_dims, ==, p->n_dims);
      g_assert_cmpmem (t->data, t->n_bytes, bs_model_peek_weights (m) + p->offset, p->n_elements * 4);
    }
  g_assert_cmpstr (bs_safetensors_get_metadata (st, "format"), ==, "pt");

  BsLoadReport back_report = { 0 };
  g_autoptr (BsModel) back = load_ok (saved_dir, NULL, &back_report);
  g_assert_cmpuint (back_report.ignored->len, ==, 0);
  g_assert_cmpuint (back_report.n_converted, ==, 0);
  g_assert_false (back_report.head_initialised);
  bs_load_report_clear (&back_report);
  assert_no_messages ();
  assert_configs_equal (bs_model_get_config (back), bs_model_get_config (m));
  g_assert_cmpmem (bs_model_peek_weights (back), bs_model_get_n_weights (back) * 4, bs_model_peek_weights (m),
                   bs_model_get_n_weights (m) * 4);
  bs_test_remove_tree (root);
}

/* ---- F16 and BF16 ---- */

static float
float_of_bits (guint32 b)
{
  float f;
  memcpy (&f, &b, 4);
  return f;
}

static gboolean
f16_is_nan (guint16 h)
{
  return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
}

/* The converters: every F16 value back to itself, the special and tie
 * cases one by one, and random floats against the arithmetic above. */
static void
test_half_conversions (void)
{
  for (guint32 h = 0; h <= 0xffff; h++)
    {
      float f = bs_f16_to_f32 ((guint16) h);
      if (f16_is_nan ((guint16) h))
        {
          g_assert_true (isnan (f));
          g_assert_true (f16_is_nan (bs_f32_to_f16 (f)));
          continue;
        }
      if ((h & 0x7c00) != 0x7c00)
        g_assert_cmpfloat (f, ==, f16_value ((guint16) h));
      if (bs_f32_to_f16 (f) != h)
        g_test_message ("F16 0x%04x → %g → 0x%04x", h, f, bs_f32_to_f16 (f));
      g_assert_cmpuint (bs_f32_to_f16 (f), ==, h);
    }

  static const struct
  {
    float f;
    guint16 h;
  } cases[] = {
    { 0.0f, 0x0000 },
    { -0.0f, 0x8000 },
    { 1.0f, 0x3c00 },
    { -2.0f, 0xc000 },
    { INFINITY, 0x7c00 },
    { -INFINITY, 0xfc00 },
    { 65504.0f, 0x7bff },      /* the largest finite */
    { 65519.99f, 0x7bff },     /* below half-way to 2^16 */
    { 65520.0f, 0x7c00 },      /* half-way: ties to even, which is inf */
    { -65520.0f, 0xfc00 },
    { 3.4e38f, 0x7c00 },
    { 0x1p-14f, 0x0400 },      /* the smallest normal */
    { 0x1p-24f, 0x0001 },      /* the smallest subnormal */
    { 0x1023p-28f, 0x0102 },   /* 258.1875 units: 258 */
    { 0x1p-25f, 0x0000 },      /* half the smallest: ties to even, zero */
    { -0x1p-25f, 0x8000 },
    { 0x1.000002p-25f, 0x0001 }, /* just above half: up */
    { 0x3p-25f, 0x0002 },      /* 1.5 units: to 2, the even */
    { 0x5p-25f, 0x0002 },      /* 2.5 units: to 2, the even */
    { 0x7ffp-25f, 0x0400 },    /* 1023.5 units: up into the smallest normal */
    { 0x7fdp-25f, 0x03fe },    /* 1022.5 units: to 1022 */
    { 0x1.002p0f, 0x3c00 },    /* 1 + 2^-11, half an ulp: to 1, the even */
    { 0x1.006p0f, 0x3c02 },    /* 1 + 3 2^-11: to 1 + 2^-9, the even */
    { 0x1.0021p0f, 0x3c01 },   /* above half an ulp: up */
    { 0x1.ffep0f, 0x4000 },    /* a carry into the exponent */
    { 1e-45f, 0x0000 },        /* an F32 subnormal */
    { -1e-45f, 0x8000 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      if (bs_f32_to_f16 (cases[i].f) != cases[i].h)
        g_test_message ("%a → 0x%04x, not 0x%04x", cases[i].f, bs_f32_to_f16 (cases[i].f), cases[i].h);
      g_assert_cmpuint (bs_f32_to_f16 (cases[i].f), ==, cases[i].h);
    }
  /* NaNs stay NaNs, a signalling one included (a plain shift would make
   * 0x7f800001 an inf), and keep their sign */
  g_assert_true (f16_is_nan (bs_f32_to_f16 (NAN)));
  g_assert_true (f16_is_nan (bs_f32_to_f16 (float_of_bits (0x7f800001))));
  g_assert_true (f16_is_nan (bs_f32_to_f16 (float_of_bits (0xff800100))));
  g_assert_cmpuint (bs_f32_to_f16 (float_of_bits (0xff800100)) & 0x8000, ==, 0x8000);
  g_assert_true (isnan (bs_bf16_to_f32 (bs_f32_to_bf16 (float_of_bits (0x7f800001)))));
  g_assert_cmpuint (bs_f32_to_bf16 (INFINITY), ==, 0x7f80);
  g_assert_cmpuint (bs_f32_to_bf16 (3.4028235e38f), ==, 0x7f80); /* the largest float rounds up */
  g_assert_cmpuint (bs_f32_to_bf16 (float_of_bits (0x3f808000)), ==, 0x3f80); /* a tie: the even */
  g_assert_cmpuint (bs_f32_to_bf16 (float_of_bits (0x3f818000)), ==, 0x3f82);
  g_assert_cmpuint (bs_f32_to_bf16 (float_of_bits (0x3f808001)), ==, 0x3f81);

  /* random bit patterns: every exponent, not only the usual weights' */
  GRand *rand = g_rand_new_with_seed (20240531);
  for (int i = 0; i < 2000000; i++)
    {
      float f = float_of_bits (g_rand_int (rand));
      if (isnan (f))
        continue;
      guint16 h = bs_f32_to_f16 (f);
      if (h != f16_round (f))
        g_test_message ("%a → 0x%04x, not 0x%04x", f, h, f16_round (f));
      g_assert_cmpuint (h, ==, f16_round (f));
      g_assert_cmpuint (bs_f32_to_bf16 (f), ==, bf16_round (f));
    }
  g_rand_free (rand);
}

/* Saved in F16 or BF16 and loaded: each weight is its rounding, exactly;
 * the file holds only that type, at half the size; saved again in F32,
 * nothing changes. */
static void
test_save_half (gconstpointer data)
{
  const char *fixture = data;
  g_autofree char *src = fixture_dir (fixture);
  g_autoptr (BsModel) m = load_ok (src, NULL, NULL);
  /* the special cases go through the writer too */
  const BsParam *bias = bs_model_get_param (m, bs_model_get_n_params (m) - 1);
  g_assert_cmpuint (bias->n_elements, >=, 2);
  float *w = bs_model_get_weights (m);
  const float specials[] = { 0x1p-25f, 0x3p-25f, 65520.0f, -0x1.002p0f, 1e-45f, -INFINITY };
  guint n_specials = MIN (G_N_ELEMENTS (specials), bias->n_elements);
  for (guint i = 0; i < n_specials; i++)
    w[bias->offset + i] = specials[i];

  g_autofree char *root = make_tmp_dir ();
  g_autofree char *f32_dir = g_build_filename (root, "f32", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_model_save (m, f32_dir, &error));
  g_autofree char *f32_weights = g_build_filename (f32_dir, "model.safetensors", NULL);
  GStatBuf f32_stat;
  g_assert_cmpint (g_stat (f32_weights, &f32_stat), ==, 0);

  const BsDtype dtypes[] = { BS_DTYPE_F16, BS_DTYPE_BF16 };
  for (gsize k = 0; k < G_N_ELEMENTS (dtypes); k++)
    {
      BsDtype dtype = dtypes[k];
      g_autofree char *dir = g_build_filename (root, bs_dtype_name (dtype), NULL);
      g_assert_true (bs_model_save_with_dtype (m, dir, dtype, &error));
      g_assert_no_error (error);
      assert_no_temp_files (dir);

      g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
      g_autoptr (BsSafetensors) st = bs_safetensors_open (weights, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (bs_safetensors_get_n_tensors (st), ==, bs_model_get_n_params (m));
      for (guint i = 0; i < bs_model_get_n_params (m); i++)
        {
          const BsParam *p = bs_model_get_param (m, i);
          const BsTensorInfo *t = bs_safetensors_lookup (st, p->name);
          g_assert_nonnull (t);
          g_assert_cmpint (t->dtype, ==, dtype);
          g_assert_cmpint (t->n_elements, ==, (gint64) p->n_elements);
        }
      g_assert_cmpstr (bs_safetensors_get_metadata (st, "format"), ==, "pt");
      /* the specials' bits as written */
      const BsTensorInfo *t = bs_safetensors_lookup (st, bias->name);
      for (guint i = 0; i < n_specials; i++)
        {
          guint16 h;
          memcpy (&h, t->data + 2 * i, 2);
          g_assert_cmpuint (h, ==, dtype == BS_DTYPE_F16 ? f16_round (specials[i]) : bf16_round (specials[i]));
        }
      GStatBuf half_stat;
      g_assert_cmpint (g_stat (weights, &half_stat), ==, 0);
      g_assert_cmpint (half_stat.st_size, <, f32_stat.st_size / 2 + 4096);

      BsLoadReport report = { 0 };
      g_autoptr (BsModel) back = load_ok (dir, NULL, &report);
      g_assert_cmpuint (report.n_converted, ==, bs_model_get_n_params (m));
      g_assert_false (report.head_initialised);
      bs_load_report_clear (&report);
      assert_no_messages ();
      assert_configs_equal (bs_model_get_config (back), bs_model_get_config (m));
      const float *a = bs_model_peek_weights (m), *b = bs_model_peek_weights (back);
      for (gsize i = 0; i < bs_model_get_n_weights (m); i++)
        {
          float expected = dtype == BS_DTYPE_F16 ? (isinf (a[i]) || fabsf (a[i]) >= 65520.0f
                                                        ? copysignf (INFINITY, a[i])
                                                        : f16_value (f16_round (a[i])))
                                                 : bf16_value (bf16_round (a[i]));
          if (float_bits (b[i]) != float_bits (expected))
            g_test_message ("weight %zu: %a loaded as %a, not %a", i, a[i], b[i], expected);
          g_assert_cmpuint (float_bits (b[i]), ==, float_bits (expected));
        }

      /* and back to F32: the rounded values, unchanged */
      g_autofree char *again = g_build_filename (root, "again", NULL);
      g_assert_true (bs_model_save_with_dtype (back, again, BS_DTYPE_F32, &error));
      g_assert_no_error (error);
      g_autoptr (BsModel) wide = load_ok (again, NULL, NULL);
      g_assert_cmpmem (bs_model_peek_weights (wide), bs_model_get_n_weights (wide) * 4, b,
                       bs_model_get_n_weights (back) * 4);
    }

  /* integer types are no weights */
  g_autofree char *bad = g_build_filename (root, "i64", NULL);
  g_assert_false (bs_model_save_with_dtype (m, bad, BS_DTYPE_I64, &error));
  g_assert_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_UNSUPPORTED);
  bs_test_assert_contains (error->message, "I64");
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  bs_test_remove_tree (root);
}

/* Saving where a file stands in the way fails cleanly. */
static void
test_save_fails (void)
{
  g_autofree char *src = fixture_dir ("distilbert");
  g_autoptr (BsModel) m = load_ok (src, NULL, NULL);
  g_autofree char *root = make_tmp_dir ();
  g_autofree char *blocker = g_build_filename (root, "file", NULL);
  g_assert_true (g_file_set_contents (blocker, "x", 1, NULL));
  g_autofree char *dir = g_build_filename (blocker, "model", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_model_save (m, dir, &error));
  g_assert_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_IO);
  bs_test_assert_contains (error->message, dir);
  bs_test_remove_tree (root);
}

/* config.json parse -> write -> parse gives equal fields, also for
 * members that BsConfig does not manage. */
static void
test_config_round_trip (void)
{
  g_autofree char *dir = fixture_dir ("bert");
  g_autofree char *path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  const struct
  {
    const char *key, *value;
  } extras[] = {
    { "initializer_range", "0.1" },
    { "classifier_dropout", "0.3" },
    { "hidden_dropout_prob", "0" },
    { "layer_norm_eps", "1e-05" },
  };
  g_autofree char *json = g_strdup (text);
  for (gsize i = 0; i < G_N_ELEMENTS (extras); i++)
    {
      char *edited = edit_config (json, extras[i].key, extras[i].value);
      g_free (json);
      json = edited;
    }
  /* Unmanaged members, as text: json-glib's own writer spoils some numbers
   * (1e308 becomes "1e+308.0"). Numbers too large for a double parse as
   * infinities. */
  char *end = strrchr (json, '}');
  g_assert_nonnull (end);
  *end = '\0';
  g_autofree char *with_inf = g_strconcat (json, ", \"task_specific_params\": {\"a\": {\"b\": [1, 2.5, null, true, "
                                           "\"x\"]}}, \"tiny\": 5e-324, \"huge\": 1e308,"
                                           " \"overflowing\": 1e999, \"negative_overflowing\": -1e999}", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsConfig) c = bs_config_parse (with_inf, -1, "config.json", &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (c->initializer_range, ==, 0.1);
  g_assert_cmpfloat (c->classifier_dropout, ==, 0.3);
  g_assert_cmpfloat (c->hidden_dropout, ==, 0.0);
  g_assert_cmpfloat (c->layer_norm_eps, ==, 1e-5);
  g_autofree char *written = bs_config_to_json (c);
  g_autoptr (BsConfig) back = bs_config_parse (written, -1, "written config.json", &error);
  if (error != NULL)
    g_test_message ("written: %s", written);
  g_assert_no_error (error);
  assert_configs_equal (back, c);
  g_autoptr (JsonNode) extra = json_from_string (back->extra_json, NULL);
  JsonObject *obj = json_node_get_object (extra);
  g_assert_true (isinf (json_object_get_double_member (obj, "overflowing")));
  g_assert_true (json_object_get_double_member (obj, "negative_overflowing") < 0);
  g_assert_cmpfloat (json_object_get_double_member (obj, "tiny"), ==, 5e-324);
  g_assert_cmpfloat (json_object_get_double_member (obj, "huge"), ==, 1e308);
}

/* ---- bad folders ---- */

/* Config edits that must fail, and what the message must say. */
typedef struct
{
  const char *path;
  const char *fixture;
  const char *key;
  const char *value; /* JSON; NULL removes the key */
  int code;          /* in BS_CONFIG_ERROR */
  const char *needle1, *needle2;
} BadConfig;

static const BadConfig bad_configs[] = {
  { "/checkpoint/bad-config/missing-hidden-size", "bert", "hidden_size", NULL, BS_CONFIG_ERROR_MISSING,
    "“hidden_size” is missing" },
  { "/checkpoint/bad-config/missing-vocab-size", "bert", "vocab_size", NULL, BS_CONFIG_ERROR_MISSING,
    "“vocab_size” is missing" },
  { "/checkpoint/bad-config/missing-model-type", "bert", "model_type", NULL, BS_CONFIG_ERROR_MISSING,
    "“model_type” is missing" },
  { "/checkpoint/bad-config/missing-dim", "distilbert", "dim", NULL, BS_CONFIG_ERROR_MISSING, "“dim” is missing" },
  { "/checkpoint/bad-config/missing-n-heads", "distilbert", "n_heads", NULL, BS_CONFIG_ERROR_MISSING,
    "“n_heads” is missing" },
  { "/checkpoint/bad-config/zero-heads", "bert", "num_attention_heads", "0", BS_CONFIG_ERROR_INVALID,
    "“num_attention_heads”", "is 0" },
  { "/checkpoint/bad-config/negative-heads", "bert", "num_attention_heads", "-4", BS_CONFIG_ERROR_INVALID,
    "“num_attention_heads”", "is -4" },
  { "/checkpoint/bad-config/zero-heads-distilbert", "distilbert", "n_heads", "0", BS_CONFIG_ERROR_INVALID,
    "“n_heads”", "is 0" },
  { "/checkpoint/bad-config/more-heads-than-hidden", "bert", "num_attention_heads", "64", BS_CONFIG_ERROR_INVALID,
    "“num_attention_heads”", "is 64" },
  { "/checkpoint/bad-config/hidden-not-divisible", "bert", "num_attention_heads", "5", BS_CONFIG_ERROR_INVALID,
    "“hidden_size” 32 is not divisible", "“num_attention_heads” 5" },
  { "/checkpoint/bad-config/dim-not-divisible", "distilbert", "dim", "30", BS_CONFIG_ERROR_INVALID,
    "“dim” 30 is not divisible", "“n_heads” 4" },
  { "/checkpoint/bad-config/model-type-unknown", "bert", "model_type", "\"roberta\"", BS_CONFIG_ERROR_UNSUPPORTED,
    "“model_type”", "“roberta”" },
  { "/checkpoint/bad-config/model-type-not-string", "bert", "model_type", "1", BS_CONFIG_ERROR_INVALID,
    "“model_type”", "string" },
  { "/checkpoint/bad-config/hidden-act-relu", "bert", "hidden_act", "\"relu\"", BS_CONFIG_ERROR_UNSUPPORTED,
    "“hidden_act”", "“relu”" },
  { "/checkpoint/bad-config/hidden-act-tanh-gelu", "bert", "hidden_act", "\"gelu_new\"",
    BS_CONFIG_ERROR_UNSUPPORTED, "“hidden_act”", "“gelu_new”" },
  { "/checkpoint/bad-config/activation-relu", "distilbert", "activation", "\"relu\"", BS_CONFIG_ERROR_UNSUPPORTED,
    "“activation”", "“relu”" },
  { "/checkpoint/bad-config/relative-positions", "bert", "position_embedding_type", "\"relative_key\"",
    BS_CONFIG_ERROR_UNSUPPORTED, "“position_embedding_type”", "“relative_key”" },
  { "/checkpoint/bad-config/sinusoidal", "distilbert", "sinusoidal_pos_embds", "true", BS_CONFIG_ERROR_UNSUPPORTED,
    "“sinusoidal_pos_embds”", NULL },
  { "/checkpoint/bad-config/id2label-gap", "bert", "id2label", "{\"0\": \"neg\", \"2\": \"pos\"}",
    BS_CONFIG_ERROR_INVALID, "“id2label”", "“2”" },
  { "/checkpoint/bad-config/id2label-not-number", "bert", "id2label", "{\"0\": \"neg\", \"one\": \"pos\"}",
    BS_CONFIG_ERROR_INVALID, "“id2label”", "“one”" },
  /* names set before the bad key are freed (no class 0 yet) */
  { "/checkpoint/bad-config/id2label-bad-after-others", "bert", "id2label",
    "{\"1\": \"a\", \"2\": \"b\", \"3\": \"c\", \"4\": \"d\", \"5\": \"e\", \"6\": \"f\", \"7\": \"g\","
    " \"8\": \"h\", \"9\": \"i\", \"bad\": \"j\"}",
    BS_CONFIG_ERROR_INVALID, "“id2label”", "“bad”" },
  { "/checkpoint/bad-config/id2label-negative", "bert", "id2label", "{\"0\": \"neg\", \"-1\": \"pos\"}",
    BS_CONFIG_ERROR_INVALID, "“id2label”", "“-1”" },
  { "/checkpoint/bad-config/id2label-value", "bert", "id2label", "{\"0\": \"neg\", \"1\": 1}",
    BS_CONFIG_ERROR_INVALID, "“id2label”", "“1”" },
  { "/checkpoint/bad-config/id2label-empty", "bert", "id2label", "{}", BS_CONFIG_ERROR_INVALID, "“id2label”",
    "0 entries" },
  { "/checkpoint/bad-config/id2label-array", "bert", "id2label", "[\"neg\", \"pos\"]", BS_CONFIG_ERROR_INVALID,
    "“id2label”", NULL },
  { "/checkpoint/bad-config/zero-layers", "bert", "num_hidden_layers", "0", BS_CONFIG_ERROR_INVALID,
    "“num_hidden_layers”", "is 0" },
  { "/checkpoint/bad-config/zero-layers-distilbert", "distilbert", "n_layers", "0", BS_CONFIG_ERROR_INVALID,
    "“n_layers”", "is 0" },
  { "/checkpoint/bad-config/zero-intermediate", "bert", "intermediate_size", "0", BS_CONFIG_ERROR_INVALID,
    "“intermediate_size”", "is 0" },
  { "/checkpoint/bad-config/zero-hidden-dim", "distilbert", "hidden_dim", "0", BS_CONFIG_ERROR_INVALID,
    "“hidden_dim”", "is 0" },
  { "/checkpoint/bad-config/zero-positions", "bert", "max_position_embeddings", "0", BS_CONFIG_ERROR_INVALID,
    "“max_position_embeddings”", "is 0" },
  { "/checkpoint/bad-config/zero-token-types", "bert", "type_vocab_size", "0", BS_CONFIG_ERROR_INVALID,
    "“type_vocab_size”", "is 0" },
  { "/checkpoint/bad-config/pad-beyond-vocab", "bert", "pad_token_id", "99", BS_CONFIG_ERROR_INVALID,
    "“pad_token_id”", "is 99" },
  { "/checkpoint/bad-config/zero-eps", "bert", "layer_norm_eps", "0", BS_CONFIG_ERROR_INVALID, "“layer_norm_eps”",
    NULL },
  { "/checkpoint/bad-config/dropout-one", "bert", "hidden_dropout_prob", "1.0", BS_CONFIG_ERROR_INVALID,
    "“hidden_dropout_prob”", "is 1" },
  { "/checkpoint/bad-config/dropout-negative", "distilbert", "seq_classif_dropout", "-0.1", BS_CONFIG_ERROR_INVALID,
    "“seq_classif_dropout”", "is -0.1" },
  { "/checkpoint/bad-config/absurd-vocab", "bert", "vocab_size", "2000000000", BS_CONFIG_ERROR_INVALID,
    "“vocab_size”", "is 2000000000" },
  { "/checkpoint/bad-config/absurd-hidden", "bert", "hidden_size", "1000000", BS_CONFIG_ERROR_INVALID,
    "“hidden_size”", "is 1000000" },
  { "/checkpoint/bad-config/absurd-layers", "distilbert", "n_layers", "100000", BS_CONFIG_ERROR_INVALID,
    "“n_layers”", "is 100000" },
  { "/checkpoint/bad-config/beyond-int", "bert", "hidden_size", "1000000000000", BS_CONFIG_ERROR_INVALID,
    "“hidden_size”", "out of range" },
  { "/checkpoint/bad-config/beyond-int64", "bert", "hidden_size", "100000000000000000000", BS_CONFIG_ERROR_INVALID,
    "“hidden_size”", NULL },
  /* each size allowed, together too many parameters for any machine */
  { "/checkpoint/bad-config/absurd-total", "bert", "vocab_size", "10000000", BS_CONFIG_ERROR_INVALID, NULL,
    NULL },
  { "/checkpoint/bad-config/string-size", "bert", "hidden_size", "\"32\"", BS_CONFIG_ERROR_INVALID,
    "“hidden_size” must be an integer" },
  { "/checkpoint/bad-config/float-size", "bert", "hidden_size", "32.5", BS_CONFIG_ERROR_INVALID,
    "“hidden_size” must be an integer" },
  { "/checkpoint/bad-config/string-dropout", "bert", "hidden_dropout_prob", "\"0.1\"", BS_CONFIG_ERROR_INVALID,
    "“hidden_dropout_prob” must be a number" },
  { "/checkpoint/bad-config/zero-labels", "bert", "num_labels", "0", BS_CONFIG_ERROR_INVALID, "“num_labels”",
    "is 0" },
};

static void
test_bad_config (gconstpointer data)
{
  const BadConfig *c = data;
  g_autoptr (Variant) v = variant_new_fixture (c->fixture);
  variant_add_all (v, NULL, NULL, BS_DTYPE_F32);
  if (strcmp (c->key, "num_labels") == 0) /* num_labels counts only without id2label */
    {
      char *edited = edit_config (v->config_json, "id2label", NULL);
      g_free (v->config_json);
      v->config_json = edited;
    }
  if (strcmp (c->path, "/checkpoint/bad-config/absurd-total") == 0)
    {
      char *edited = edit_config (v->config_json, "hidden_size", "4096");
      g_free (v->config_json);
      v->config_json = edit_config (edited, "num_attention_heads", "64");
      g_free (edited);
    }
  char *edited = edit_config (v->config_json, c->key, c->value);
  g_free (v->config_json);
  v->config_json = edited;
  g_autofree char *dir = make_tmp_dir ();
  variant_write (v, dir);
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  const char *total_needle = "parameters";
  const char *needles[] = { config_path, c->needle1 != NULL ? c->needle1 : total_needle, c->needle2, NULL };
  assert_load_fails (dir, BS_CONFIG_ERROR, c->code, needles);
  bs_test_remove_tree (dir);
}

/* config.json that is not a JSON object at all. */
static void
test_bad_config_text (void)
{
  g_autoptr (Variant) v = variant_new_fixture ("bert");
  variant_add_all (v, NULL, NULL, BS_DTYPE_F32);
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  g_autoptr (GString) deep = g_string_new (NULL);
  for (int i = 0; i < 200000; i++)
    g_string_append_c (deep, '[');
  g_autofree char *second = g_strconcat (v->config_json, " {\"model_type\": \"roberta\"}", NULL);
  const struct
  {
    const char *text, *needle;
  } cases[] = {
    { "{\"model_type\": \"bert\", ", "not valid JSON" },
    { "", "not a JSON object" },
    { "[1, 2]", "not a JSON object" },
    { "\"bert\"", "not a JSON object" },
    { "{\"model_type\": \"b\xff\"}", "not valid UTF-8" },
    { "{\"model_type\": \"bert\", \"x\": \"\\666\"}", "an escape JSON does not have" },
    { "{\"model_type\": \"bert\", \"x\": \"\\ud800\"}", "is not a character" },
    { "{\"model_type\": \"bert\", \"x\": \"\\udc00\\ud800\"}", "is not a character" },
    { "{\"model_type\": \"bert\", \"x\": \"\\u12\"}", "is not a character" },
    { deep->str, "nested" },
    { second, "more text follows" },
    { "// a comment\n{}", "not valid JSON" },
  };
  variant_write (v, dir);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_true (g_file_set_contents (config_path, cases[i].text, -1, NULL));
      const char *needles[] = { config_path, cases[i].needle, NULL };
      assert_load_fails (dir, BS_CONFIG_ERROR, BS_CONFIG_ERROR_PARSE, needles);
    }
  bs_test_remove_tree (dir);
}

/* JSON escapes in config.json: BMP characters and a surrogate pair decode
 * to the characters, and survive being written back. */
static void
test_config_escapes (void)
{
  g_autoptr (Variant) v = variant_new_fixture ("bert");
  g_autofree char *without = edit_config (v->config_json, "id2label", NULL);
  char *end = strrchr (without, '}');
  g_assert_nonnull (end);
  *end = '\0';
  g_autofree char *text
      = g_strconcat (without, ", \"id2label\": {\"0\": \"\\u00e9t\\u00e9\", \"1\": \"\\ud83d\\ude00 \\/\\\"\"}}", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsConfig) config = bs_config_parse (text, -1, "config.json", &error);
  g_assert_no_error (error);
  g_assert_cmpint (config->n_labels, ==, 2);
  g_assert_cmpstr (config->labels[0], ==, "\xc3\xa9t\xc3\xa9");
  g_assert_cmpstr (config->labels[1], ==, "\xf0\x9f\x98\x80 /\"");
  g_autofree char *written = bs_config_to_json (config);
  g_autoptr (BsConfig) back = bs_config_parse (written, -1, "written config.json", &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_equal ((const char *const *) back->labels, (const char *const *) config->labels));
}

static char *
drop_one (const char *name, gpointer data)
{
  return strcmp (name, data) == 0 ? NULL : g_strdup (name);
}

static void
test_bad_missing_tensor (void)
{
  const char *cases[][2] = {
    { "bert", "bert.encoder.layer.1.output.dense.weight" },
    { "bert", "bert.embeddings.LayerNorm.bias" },
    { "distilbert", "distilbert.transformer.layer.0.attention.k_lin.bias" },
    { "distilbert", "distilbert.embeddings.word_embeddings.weight" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (Variant) v = variant_new_fixture (cases[i][0]);
      variant_add_all (v, drop_one, (gpointer) cases[i][1], BS_DTYPE_F32);
      /* ignored before the failure: the report's list must be freed too */
      const gint64 pos[] = { 1, 40 };
      variant_add_extra (v, "embeddings.position_ids", BS_DTYPE_I64, 2, pos);
      g_autofree char *dir = make_tmp_dir ();
      variant_write (v, dir);
      g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
      g_autofree char *quoted = g_strdup_printf ("lacks tensor “%s”", cases[i][1]);
      const char *needles[] = { weights, quoted, NULL };
      assert_load_fails (dir, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_MISSING_TENSOR, needles);
      bs_test_remove_tree (dir);
    }
}

/* One tensor replaced by one of another shape (same bytes or not). */
static void
test_bad_shape (void)
{
  const struct
  {
    const char *fixture, *name;
    int n_dims;
    gint64 shape[2];
    const char *have, *want;
  } cases[] = {
    { "bert", "bert.encoder.layer.0.intermediate.dense.weight", 2, { 32, 64 }, "[32, 64]", "[64, 32]" },
    { "bert", "bert.embeddings.LayerNorm.weight", 2, { 1, 32 }, "[1, 32]", "[32]" },
    { "bert", "bert.embeddings.word_embeddings.weight", 2, { 100, 32 }, "[100, 32]", "[99, 32]" },
    { "bert", "classifier.weight", 2, { 3, 32 }, "[3, 32]", "[2, 32]" }, /* config.json says 2 labels */
    { "distilbert", "distilbert.transformer.layer.1.ffn.lin1.bias", 1, { 65 }, "[65]", "[64]" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (Variant) v = variant_new_fixture (cases[i].fixture);
      variant_add_all (v, drop_one, (gpointer) cases[i].name, BS_DTYPE_F32);
      variant_add_extra (v, cases[i].name, BS_DTYPE_F32, cases[i].n_dims, cases[i].shape);
      g_autofree char *dir = make_tmp_dir ();
      variant_write (v, dir);
      g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
      g_autofree char *quoted = g_strdup_printf ("“%s”", cases[i].name);
      const char *needles[] = { weights, quoted, cases[i].have, cases[i].want, NULL };
      assert_load_fails (dir, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_SHAPE, needles);
      bs_test_remove_tree (dir);
    }
}

/* Two names that normalise to one parameter: which one would win is
 * arbitrary, so neither does. */
static void
test_bad_duplicate (void)
{
  const struct
  {
    const char *fixture, *original, *second;
  } cases[] = {
    { "bert", "bert.embeddings.word_embeddings.weight", "embeddings.word_embeddings.weight" },
    { "bert", "bert.encoder.layer.0.output.LayerNorm.weight", "bert.encoder.layer.0.output.LayerNorm.gamma" },
    { "bert", "bert.embeddings.LayerNorm.bias", "embeddings.LayerNorm.beta" },
    { "distilbert", "distilbert.transformer.layer.1.sa_layer_norm.weight", "transformer.layer.1.sa_layer_norm.gamma" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (Variant) v = variant_new_fixture (cases[i].fixture);
      variant_add_all (v, NULL, NULL, BS_DTYPE_F32);
      const BsTensorInfo *t = bs_safetensors_lookup (v->source, cases[i].original);
      g_assert_nonnull (t);
      variant_add_as (v, t, cases[i].second, BS_DTYPE_F32);
      g_autofree char *dir = make_tmp_dir ();
      variant_write (v, dir);
      g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
      g_autofree char *a = g_strdup_printf ("“%s”", cases[i].original);
      g_autofree char *b = g_strdup_printf ("“%s”", cases[i].second);
      const char *needles[] = { weights, a, b, "twice", NULL };
      assert_load_fails (dir, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_DUPLICATE_TENSOR, needles);
      bs_test_remove_tree (dir);
    }
}

/* A parameter stored as integers (or 8-bit floats) is refused, not cast. */
static void
test_bad_dtype (void)
{
  const struct
  {
    const char *name;
    BsDtype dtype;
    const char *dtype_name;
  } cases[] = {
    { "bert.pooler.dense.bias", BS_DTYPE_I32, "I32" },
    { "classifier.weight", BS_DTYPE_I64, "I64" },
    { "bert.encoder.layer.0.attention.self.query.weight", BS_DTYPE_U8, "U8" },
    { "bert.embeddings.LayerNorm.weight", BS_DTYPE_F8_E4M3, "F8_E4M3" },
    { "bert.embeddings.LayerNorm.bias", BS_DTYPE_BOOL, "BOOL" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (Variant) v = variant_new_fixture ("bert");
      variant_add_all (v, drop_one, (gpointer) cases[i].name, BS_DTYPE_F32);
      variant_add_as (v, bs_safetensors_lookup (v->source, cases[i].name), cases[i].name, cases[i].dtype);
      g_autofree char *dir = make_tmp_dir ();
      variant_write (v, dir);
      g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
      g_autofree char *quoted = g_strdup_printf ("“%s”", cases[i].name);
      const char *needles[] = { weights, quoted, cases[i].dtype_name, NULL };
      assert_load_fails (dir, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_DTYPE, needles);
      bs_test_remove_tree (dir);
    }
}

/* A broken model.safetensors: the reader's error, with the path. */
static void
test_bad_weights_file (void)
{
  g_autofree char *src = fixture_dir ("bert");
  g_autofree char *src_weights = g_build_filename (src, "model.safetensors", NULL);
  g_autofree char *contents = NULL;
  gsize length;
  g_assert_true (g_file_get_contents (src_weights, &contents, &length, NULL));
  g_autoptr (Variant) v = variant_new_fixture ("bert");
  variant_add_all (v, NULL, NULL, BS_DTYPE_F32);
  g_autofree char *dir = make_tmp_dir ();
  variant_write (v, dir);
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);

  g_assert_true (g_file_set_contents (weights, contents, (gssize) (length - 100), NULL));
  const char *needles[] = { weights, "truncated", NULL };
  assert_load_fails (dir, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_OFFSETS, needles);

  g_assert_true (g_file_set_contents (weights, contents, 6, NULL));
  const char *short_needles[] = { weights, "6 bytes", NULL };
  assert_load_fails (dir, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_TRUNCATED, short_needles);

  g_assert_true (g_file_set_contents (weights, "", 0, NULL));
  const char *empty_needles[] = { weights, NULL };
  assert_load_fails (dir, BS_SAFETENSORS_ERROR, BS_SAFETENSORS_ERROR_TRUNCATED, empty_needles);
  bs_test_remove_tree (dir);
}

/* Folders without the two files. */
static void
test_bad_folder (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *config = g_build_filename (dir, "config.json", NULL);
  g_autofree char *bin = g_build_filename (dir, "pytorch_model.bin", NULL);
  g_autofree char *index = g_build_filename (dir, "model.safetensors.index.json", NULL);
  g_autofree char *src = fixture_dir ("bert");
  g_autofree char *src_config = g_build_filename (src, "config.json", NULL);
  g_autofree char *config_text = NULL;
  g_assert_true (g_file_get_contents (src_config, &config_text, NULL, NULL));

  /* nothing at all, or a folder that does not exist */
  const char *empty_needles[] = { dir, "config.json", NULL };
  assert_load_fails (dir, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_NOT_FOUND, empty_needles);
  g_autofree char *nowhere = g_build_filename (dir, "nowhere", NULL);
  const char *nowhere_needles[] = { nowhere, NULL };
  assert_load_fails (nowhere, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_NOT_FOUND, nowhere_needles);

  /* only the pickle: unsupported, with the way out */
  g_assert_true (g_file_set_contents (bin, "PK\x03\x04", 4, NULL));
  const char *bin_needles[] = { dir, "pytorch_model.bin", "model.safetensors", NULL };
  g_assert_true (g_file_set_contents (config, config_text, -1, NULL));
  assert_load_fails (dir, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_UNSUPPORTED, bin_needles);
  /* weights without config.json: NOT_FOUND even with the pickle there */
  g_assert_cmpint (g_remove (config), ==, 0);
  assert_load_fails (dir, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_NOT_FOUND, empty_needles);

  /* sharded */
  g_assert_cmpint (g_remove (bin), ==, 0);
  g_assert_true (g_file_set_contents (config, config_text, -1, NULL));
  g_assert_true (g_file_set_contents (index, "{}", -1, NULL));
  const char *index_needles[] = { dir, "model.safetensors.index.json", NULL };
  assert_load_fails (dir, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_UNSUPPORTED, index_needles);

  /* config.json alone */
  g_assert_cmpint (g_remove (index), ==, 0);
  const char *none_needles[] = { dir, "model.safetensors", NULL };
  assert_load_fails (dir, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_NOT_FOUND, none_needles);
  bs_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  messages = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

  static const Names bert_names = { "bert", "bert." }, distil_names = { "distilbert", "distilbert." };
  g_test_add_data_func ("/checkpoint/load/fixture/bert", "bert", test_load_fixture);
  g_test_add_data_func ("/checkpoint/load/fixture/distilbert", "distilbert", test_load_fixture);
  g_test_add_data_func ("/checkpoint/load/no-prefix/bert", &bert_names, test_load_no_prefix);
  g_test_add_data_func ("/checkpoint/load/no-prefix/distilbert", &distil_names, test_load_no_prefix);
  g_test_add_data_func ("/checkpoint/load/legacy-layernorm/bert", &bert_names, test_load_legacy_layernorm);
  g_test_add_data_func ("/checkpoint/load/legacy-layernorm/distilbert", &distil_names, test_load_legacy_layernorm);
  g_test_add_data_func ("/checkpoint/load/extra-keys/bert", "bert", test_load_extra_keys);
  g_test_add_data_func ("/checkpoint/load/extra-keys/distilbert", "distilbert", test_load_extra_keys);
  g_test_add_data_func ("/checkpoint/load/converted/bert", "bert", test_load_converted);
  g_test_add_data_func ("/checkpoint/load/converted/distilbert", "distilbert", test_load_converted);
  g_test_add_func ("/checkpoint/load/mixed-dtypes", test_load_mixed_dtypes);
  g_test_add_data_func ("/checkpoint/load/no-head/bert", GINT_TO_POINTER (BS_ARCH_BERT), test_load_no_head);
  g_test_add_data_func ("/checkpoint/load/no-head/distilbert", GINT_TO_POINTER (BS_ARCH_DISTILBERT),
                        test_load_no_head);
  g_test_add_data_func ("/checkpoint/load/relabel/bert", "bert", test_load_relabel);
  g_test_add_data_func ("/checkpoint/load/relabel/distilbert", "distilbert", test_load_relabel);
  g_test_add_data_func ("/checkpoint/round-trip/bert", "bert", test_round_trip);
  g_test_add_data_func ("/checkpoint/round-trip/distilbert", "distilbert", test_round_trip);
  g_test_add_func ("/checkpoint/round-trip/modernises", test_round_trip_modernises);
  g_test_add_func ("/checkpoint/round-trip/config", test_config_round_trip);
  g_test_add_func ("/checkpoint/save/fails", test_save_fails);
  g_test_add_func ("/checkpoint/half/conversions", test_half_conversions);
  g_test_add_data_func ("/checkpoint/half/save/bert", "bert", test_save_half);
  g_test_add_data_func ("/checkpoint/half/save/distilbert", "distilbert", test_save_half);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_configs); i++)
    g_test_add_data_func (bad_configs[i].path, &bad_configs[i], test_bad_config);
  g_test_add_func ("/checkpoint/bad-config/not-json", test_bad_config_text);
  g_test_add_func ("/checkpoint/config-escapes", test_config_escapes);
  g_test_add_func ("/checkpoint/bad/missing-tensor", test_bad_missing_tensor);
  g_test_add_func ("/checkpoint/masked-lm", test_masked_lm_folders);
  g_test_add_func ("/checkpoint/bad/shape", test_bad_shape);
  g_test_add_func ("/checkpoint/bad/duplicate", test_bad_duplicate);
  g_test_add_func ("/checkpoint/bad/dtype", test_bad_dtype);
  g_test_add_func ("/checkpoint/bad/weights-file", test_bad_weights_file);
  g_test_add_func ("/checkpoint/bad/folder", test_bad_folder);

  int status = g_test_run ();
  g_ptr_array_unref (messages);
  return status;
}
