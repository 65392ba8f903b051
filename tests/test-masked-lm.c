/* BERT's masked-LM head against PyTorch.
 *
 * fixtures/masked_lm holds a tiny BertForMaskedLM (config.json and
 * model.safetensors under transformers' names, the decoder tied to the word
 * table) and mlm_case.safetensors: a padded batch with token types, the
 * masked positions and their labels, and the logits, the mean
 * cross-entropy and the gradient of every parameter that a from-spec
 * PyTorch model computed in float64 (tests/make_masked_lm_fixture.py, which
 * documents the numbers). The folder is loaded as a masked LM, run with
 * dropout off, and every result compared, each tensor relative to its
 * largest expected value. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "bs-checkpoint.h"
#include "bs-loss.h"
#include "bs-model.h"
#include "bs-safetensors.h"

/* allowed max |actual - expected|, relative to the tensor's max |expected|
 * (float32 arithmetic against a float64 reference) */
#define RELATIVE_TOLERANCE 1e-4
/* a tensor whose exact values are ~0 (the attention key biases' gradients:
 * a constant added to every key shifts each softmax row by a constant) is
 * measured against this fraction of the case's largest gradient instead */
#define GRADIENT_FLOOR 1e-3

static char *
fixture_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", "masked_lm", NULL);
}

static const BsTensorInfo *
lookup (const BsSafetensors *st, const char *name)
{
  const BsTensorInfo *t = bs_safetensors_lookup (st, name);
  if (t == NULL)
    g_test_message ("%s has no tensor “%s”", bs_safetensors_get_path (st), name);
  g_assert_nonnull (t);
  return t;
}

static float *
read_f32 (const BsSafetensors *st, const char *name, gsize expected_n)
{
  const BsTensorInfo *t = lookup (st, name);
  g_assert_cmpint (t->n_elements, ==, (gint64) expected_n);
  float *v = g_new (float, MAX (expected_n, 1));
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_read_f32 (st, t, v, &error));
  g_assert_no_error (error);
  return v;
}

/* an I64 tensor as gint32, with its number of elements */
static gint32 *
read_i32 (const BsSafetensors *st, const char *name, gsize *n)
{
  const BsTensorInfo *t = lookup (st, name);
  g_assert_cmpint (t->dtype, ==, BS_DTYPE_I64);
  g_autofree gint64 *wide = g_new (gint64, MAX (t->n_elements, 1));
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_safetensors_read_i64 (st, t, wide, &error));
  g_assert_no_error (error);
  gint32 *v = g_new (gint32, MAX (t->n_elements, 1));
  for (gint64 i = 0; i < t->n_elements; i++)
    {
      g_assert_cmpint (wide[i], >=, G_MININT32);
      g_assert_cmpint (wide[i], <=, G_MAXINT32);
      v[i] = (gint32) wide[i];
    }
  *n = (gsize) t->n_elements;
  return v;
}

typedef struct
{
  char *worst_name;
  double worst; /* largest error / allowed error seen */
  guint n_compared;
  guint n_failed;
} Comparison;

/* Compares n values; scale is the error a tolerance of 1 means (the
 * tensor's largest |expected| or the floor). Reports the tensor's worst
 * element and counts the tensor as failed when it is off by more. */
static void
compare (Comparison *cmp, const char *name, const float *actual, const float *expected, gsize n, double floor)
{
  double largest = 0.0;
  for (gsize i = 0; i < n; i++)
    largest = MAX (largest, fabs ((double) expected[i]));
  double scale = MAX (largest, floor);
  double worst_err = 0.0;
  gsize worst_at = 0;
  for (gsize i = 0; i < n; i++)
    {
      double err = fabs ((double) actual[i] - (double) expected[i]);
      if (!(err <= worst_err)) /* NaN counts as the worst */
        worst_err = err, worst_at = i;
    }
  double ratio = isnan (worst_err) ? INFINITY : worst_err / (RELATIVE_TOLERANCE * scale);
  gboolean ok = ratio <= 1.0;
  g_test_message ("%s %-52s max|e| %.3e  worst |a-e| %.3e at [%" G_GSIZE_FORMAT "] (%.6g vs %.6g)  %.3f of tolerance",
                  ok ? "ok  " : "FAIL", name, largest, worst_err, worst_at, n > 0 ? actual[worst_at] : 0.0f,
                  n > 0 ? expected[worst_at] : 0.0f, ratio);
  if (!(ratio <= cmp->worst))
    {
      cmp->worst = ratio;
      g_free (cmp->worst_name);
      cmp->worst_name = g_strdup (name);
    }
  cmp->n_compared++;
  if (!ok)
    cmp->n_failed++;
}

static void
test_torch_parity (void)
{
  g_autofree char *dir = fixture_dir ();
  g_autofree char *case_path = g_build_filename (dir, "mlm_case.safetensors", NULL);
  g_autoptr (GError) error = NULL;

  BsLoadOptions options = { .head = BS_HEAD_MASKED_LM };
  BsLoadReport report = { 0 };
  g_autoptr (BsModel) model = bs_model_load (dir, &options, &report, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);
  /* every tensor of the file used, the head among them */
  g_assert_false (report.head_initialised);
  g_assert_cmpuint (report.ignored->len, ==, 0);
  bs_load_report_clear (&report);
  g_assert_cmpint (bs_model_get_head (model), ==, BS_HEAD_MASKED_LM);
  const BsConfig *cfg = bs_model_get_config (model);
  int vocab = cfg->vocab_size;

  g_autoptr (BsSafetensors) expected = bs_safetensors_open (case_path, &error);
  g_assert_no_error (error);
  gsize n_ids, n_types, n_mask, n_positions, n_labels;
  g_autofree gint32 *ids = read_i32 (expected, "input_ids", &n_ids);
  g_autofree gint32 *types = read_i32 (expected, "token_type_ids", &n_types);
  g_autofree gint32 *mask = read_i32 (expected, "attention_mask", &n_mask);
  g_autofree gint32 *positions = read_i32 (expected, "positions", &n_positions);
  g_autofree gint32 *labels = read_i32 (expected, "labels", &n_labels);
  const BsTensorInfo *ids_info = lookup (expected, "input_ids");
  g_assert_cmpint (ids_info->n_dims, ==, 2);
  int b = (int) ids_info->shape[0], t = (int) ids_info->shape[1];
  g_assert_cmpuint (n_types, ==, n_ids);
  g_assert_cmpuint (n_mask, ==, n_ids);
  g_assert_cmpuint (n_labels, ==, n_positions);
  g_assert_cmpuint (n_positions, >, 0);
  int p = (int) n_positions;
  gsize n_logits = (gsize) p * vocab;
  g_autofree float *expected_logits = read_f32 (expected, "logits", n_logits);
  g_autofree float *expected_loss = read_f32 (expected, "loss", 1);

  /* forward on the masked rows, the loss, one backward, dropout off */
  BsBatch batch = { b, t, ids, types, mask };
  g_autoptr (BsWorkspace) ws = bs_workspace_new ();
  bs_workspace_set_dropout (ws, FALSE, 0);
  g_autofree float *logits = g_new (float, n_logits);
  g_assert_true (bs_model_forward_masked_lm (model, ws, &batch, positions, p, logits, &error));
  g_assert_no_error (error);
  g_autofree float *dlogits = g_new (float, n_logits);
  float loss = (float) bs_cross_entropy (dlogits, logits, labels, p, vocab);
  bs_model_zero_grads (model);
  bs_model_backward_masked_lm (model, ws, dlogits);
  const float *grads = bs_model_get_grads (model);
  g_assert_nonnull (grads);

  Comparison cmp = { NULL, 0.0, 0, 0 };
  compare (&cmp, "logits", logits, expected_logits, n_logits, 0.0);
  compare (&cmp, "loss", &loss, expected_loss, 1, 0.0);

  /* the case's largest gradient sets the floor */
  double largest_grad = 0.0;
  guint n_grad_tensors = 0;
  for (guint i = 0; i < bs_safetensors_get_n_tensors (expected); i++)
    {
      const BsTensorInfo *info = bs_safetensors_get_tensor (expected, i);
      if (!g_str_has_prefix (info->name, "grad."))
        continue;
      n_grad_tensors++;
      g_autofree float *v = read_f32 (expected, info->name, (gsize) info->n_elements);
      for (gint64 k = 0; k < info->n_elements; k++)
        largest_grad = MAX (largest_grad, fabs ((double) v[k]));
    }
  /* one expected gradient per parameter, and no other */
  g_assert_cmpuint (n_grad_tensors, ==, bs_model_get_n_params (model));
  for (guint i = 0; i < bs_model_get_n_params (model); i++)
    {
      const BsParam *param = bs_model_get_param (model, i);
      g_autofree char *name = g_strconcat ("grad.", param->name, NULL);
      g_autofree float *v = read_f32 (expected, name, param->n_elements);
      compare (&cmp, name, grads + param->offset, v, param->n_elements, GRADIENT_FLOOR * largest_grad);
    }

  g_test_message ("%u tensors compared, %u off; worst %s at %.3f of tolerance (%g of the tensor's max |expected|)",
                  cmp.n_compared, cmp.n_failed, cmp.worst_name, cmp.worst, RELATIVE_TOLERANCE);
  g_assert_cmpuint (cmp.n_compared, ==, 2 + bs_model_get_n_params (model));
  g_assert_cmpuint (cmp.n_failed, ==, 0);
  g_free (cmp.worst_name);
}

static gboolean
report_ignored (const BsLoadReport *report, const char *name)
{
  for (guint i = 0; i < report->ignored->len; i++)
    if (g_str_equal (g_ptr_array_index (report->ignored, i), name))
      return TRUE;
  return FALSE;
}

/* The fixture as the hub publishes BERT checkpoints (BertForPreTraining, as
 * converted from TensorFlow): LayerNorm gamma/beta, the tied decoder stored
 * as well, the pooler and the next-sentence head. Its masked-LM head loads:
 * the same logits bit for bit, the rest listed as ignored. */
static void
test_hub_names (void)
{
  g_autofree char *dir = fixture_dir ();
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *config = g_build_filename (dir, "config.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsSafetensors) st = bs_safetensors_open (weights, &error);
  g_assert_no_error (error);

  g_autoptr (BsSafetensorsWriter) w = bs_safetensors_writer_new ();
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const BsTensorInfo *word = NULL, *bias = NULL;
  for (guint i = 0; i < bs_safetensors_get_n_tensors (st); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (st, i);
      g_assert_cmpint (t->dtype, ==, BS_DTYPE_F32);
      g_autofree char *stem = NULL;
      char *name;
      if (strstr (t->name, "LayerNorm.") != NULL && g_str_has_suffix (t->name, ".weight"))
        stem = g_strndup (t->name, strlen (t->name) - strlen ("weight")), name = g_strconcat (stem, "gamma", NULL);
      else if (strstr (t->name, "LayerNorm.") != NULL && g_str_has_suffix (t->name, ".bias"))
        stem = g_strndup (t->name, strlen (t->name) - strlen ("bias")), name = g_strconcat (stem, "beta", NULL);
      else
        name = g_strdup (t->name);
      g_ptr_array_add (names, name);
      bs_safetensors_writer_add (w, name, t->dtype, t->n_dims, t->shape, t->data);
      if (g_str_equal (t->name, "bert.embeddings.word_embeddings.weight"))
        word = t;
      if (g_str_equal (t->name, "cls.predictions.bias"))
        bias = t;
    }
  g_assert_nonnull (word);
  g_assert_nonnull (bias);
  gint64 h = word->shape[1], hh[] = { h, h }, two_h[] = { 2, h }, two[] = { 2 };
  g_autofree float *zeros = g_new0 (float, h * h);
  bs_safetensors_writer_add (w, "cls.predictions.decoder.weight", BS_DTYPE_F32, 2, word->shape, word->data);
  bs_safetensors_writer_add (w, "cls.predictions.decoder.bias", BS_DTYPE_F32, 1, bias->shape, bias->data);
  bs_safetensors_writer_add (w, "bert.pooler.dense.weight", BS_DTYPE_F32, 2, hh, zeros);
  bs_safetensors_writer_add (w, "bert.pooler.dense.bias", BS_DTYPE_F32, 1, &h, zeros);
  bs_safetensors_writer_add (w, "cls.seq_relationship.weight", BS_DTYPE_F32, 2, two_h, zeros);
  bs_safetensors_writer_add (w, "cls.seq_relationship.bias", BS_DTYPE_F32, 1, two, zeros);
  g_autofree char *hub = g_dir_make_tmp ("test-masked-lm-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *hub_weights = g_build_filename (hub, "model.safetensors", NULL);
  g_autofree char *hub_config = g_build_filename (hub, "config.json", NULL);
  g_assert_true (bs_safetensors_writer_write (w, hub_weights, &error));
  g_autofree char *config_text = NULL;
  gsize config_length;
  g_assert_true (g_file_get_contents (config, &config_text, &config_length, &error));
  g_assert_true (g_file_set_contents (hub_config, config_text, (gssize) config_length, &error));
  g_assert_no_error (error);

  BsLoadOptions options = { .head = BS_HEAD_MASKED_LM };
  g_auto (BsLoadReport) report = { 0 };
  g_autoptr (BsModel) ours = bs_model_load (dir, &options, NULL, &error);
  g_autoptr (BsModel) theirs = bs_model_load (hub, &options, &report, &error);
  g_assert_no_error (error);
  g_assert_false (report.head_initialised);
  g_assert_cmpuint (report.ignored->len, ==, 6);
  const char *const ignored[] = { "cls.predictions.decoder.weight", "cls.predictions.decoder.bias",
                                  "bert.pooler.dense.weight", "bert.pooler.dense.bias", "cls.seq_relationship.weight",
                                  "cls.seq_relationship.bias" };
  for (guint i = 0; i < G_N_ELEMENTS (ignored); i++)
    g_assert_true (report_ignored (&report, ignored[i]));
  g_assert_cmpuint (bs_model_get_n_weights (theirs), ==, bs_model_get_n_weights (ours));
  g_assert_cmpmem (bs_model_peek_weights (theirs), bs_model_get_n_weights (theirs) * sizeof (float),
                   bs_model_peek_weights (ours), bs_model_get_n_weights (ours) * sizeof (float));

  g_unlink (hub_weights);
  g_unlink (hub_config);
  g_rmdir (hub);
}

int
main (int argc, char **argv)
{
  /* run by hand, outside `meson test`: the fixtures beside the source */
  g_setenv ("G_TEST_SRCDIR", TESTS_SRCDIR, FALSE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/masked-lm/torch-parity", test_torch_parity);
  g_test_add_func ("/masked-lm/hub-names", test_hub_names);
  return g_test_run ();
}
