/* parity: the engine against golden PyTorch results.
 *
 *   parity [ROOT] [--dump DIR]
 *
 * Runs every case folder under ROOT (a folder holding case.safetensors;
 * default: the fixtures beside this test) and checks, within the
 * tolerances of the fixtures' README: eval logits, loss, the gradient of
 * every parameter, parameters after 1 and 3 AdamW + ExponentialLR steps, the
 * losses and logits after training, the distillation loss parts, and that a
 * checkpoint saved after training has exactly the Hugging Face key set and
 * values. Hyper-parameters come from the case's metadata, so other cases in
 * the same format need no code change. Prints one line per case and
 * "N passed, N failed"; exits non-zero on any failure. --dump writes the
 * engine's outputs per case as safetensors for an outside checker. */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bs-checkpoint.h"
#include "bs-loss.h"
#include "bs-model.h"
#include "bs-optimizer.h"
#include "bs-safetensors.h"

typedef struct
{
  char *name;
  GArray *values; /* float */
} Tensor;

typedef struct
{
  const char *case_name;
  BsSafetensors *expected;
  GPtrArray *failures;       /* char* */
  double worst;              /* largest |a - e| / allowed seen */
  guint n_compared;
  double lrs[16];
  int n_steps;
  double eps;
  double grad_scale;         /* G: the largest expected |gradient| */
  const char *dump_dir;      /* may be NULL */
  BsSafetensorsWriter *dump; /* may be NULL */
  GPtrArray *dump_data;      /* keeps dumped arrays alive */
} Check;

static void
fail (Check *ck, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
fail (Check *ck, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_ptr_array_add (ck->failures, g_strdup_vprintf (format, args));
  va_end (args);
}

static float *
expected_f32 (Check *ck, const char *name, gsize *n)
{
  const BsTensorInfo *t = bs_safetensors_lookup (ck->expected, name);
  if (t == NULL)
    return NULL;
  float *out = g_new (float, MAX (t->n_elements, 1));
  g_autoptr (GError) error = NULL;
  if (!bs_safetensors_read_f32 (ck->expected, t, out, &error))
    {
      fail (ck, "%s", error->message);
      g_free (out);
      return NULL;
    }
  *n = (gsize) t->n_elements;
  return out;
}

static gint32 *
expected_i32 (Check *ck, const char *name, gsize *n)
{
  const BsTensorInfo *t = bs_safetensors_lookup (ck->expected, name);
  if (t == NULL)
    return NULL;
  g_autofree gint64 *wide = g_new (gint64, MAX (t->n_elements, 1));
  g_autoptr (GError) error = NULL;
  if (!bs_safetensors_read_i64 (ck->expected, t, wide, &error))
    {
      fail (ck, "%s", error->message);
      return NULL;
    }
  gint32 *out = g_new (gint32, MAX (t->n_elements, 1));
  for (gint64 i = 0; i < t->n_elements; i++)
    out[i] = (gint32) wide[i];
  *n = (gsize) t->n_elements;
  return out;
}

static void
dump (Check *ck, const char *name, const float *values, gsize n)
{
  if (ck->dump == NULL)
    return;
  const BsTensorInfo *t = bs_safetensors_lookup (ck->expected, name);
  float *copy = g_memdup2 (values, n * sizeof (float));
  g_ptr_array_add (ck->dump_data, copy);
  gint64 shape[BS_SAFETENSORS_MAX_DIMS] = { (gint64) n };
  int n_dims = 1;
  if (t != NULL && (gsize) t->n_elements == n)
    {
      n_dims = t->n_dims;
      memcpy (shape, t->shape, sizeof shape);
    }
  bs_safetensors_writer_add (ck->dump, name, BS_DTYPE_F32, n_dims, shape, copy);
}

/* allowed |a - e| per element, as the fixtures' checker computes it */
typedef double (*AllowedFunc) (Check *ck, const char *name, const float *e, gsize i, double tensor_max,
                               const float *grad, double grad_max);

static double
grad_allowed_at (Check *ck, double grad_max, double e)
{
  return 1e-4 * grad_max + 1e-7 * ck->grad_scale + 1e-4 * fabs (e);
}

/* the checker's bound on how far AdamW's step can move when the gradient
 * is only known within its tolerance */
static double
adam_slack (Check *ck, double g, double grad_max)
{
  double delta = grad_allowed_at (ck, grad_max, g);
  double ag = fabs (g);
  double du = ag <= delta ? 2.0 : MIN (ck->eps * delta / ((ag - delta + ck->eps) * (ag - delta + ck->eps)), 2.0);
  return MIN (2.0 * du, 2.02);
}

static void
compare (Check *ck, const char *name, const float *actual, gsize n, double atol, double rtol, int kind)
{
  dump (ck, name, actual, n);
  gsize n_expected = 0;
  g_autofree float *e = expected_f32 (ck, name, &n_expected);
  if (e == NULL)
    return; /* this case does not hold it */
  if (n_expected != n)
    {
      fail (ck, "%s: %" G_GSIZE_FORMAT " values, expected %" G_GSIZE_FORMAT, name, n, n_expected);
      return;
    }
  /* kind 1: gradient tolerance; kind 2: parameters after training */
  double tensor_max = 0.0;
  for (gsize i = 0; i < n; i++)
    tensor_max = MAX (tensor_max, fabs (e[i]));
  g_autofree float *grad = NULL;
  double grad_max = 0.0, lr_sum = 0.0;
  if (kind == 2)
    {
      const char *param = strchr (name, '.') + 1;
      g_autofree char *grad_name = g_strconcat ("grad.", param, NULL);
      gsize n_grad = 0;
      grad = expected_f32 (ck, grad_name, &n_grad);
      if (grad != NULL && n_grad != n)
        g_clear_pointer (&grad, g_free);
      for (gsize i = 0; grad != NULL && i < n; i++)
        grad_max = MAX (grad_max, fabs (grad[i]));
      int steps = g_str_has_prefix (name, "after1.") ? 1 : ck->n_steps;
      for (int s = 0; s < steps; s++)
        lr_sum += ck->lrs[s];
    }
  gsize n_bad = 0;
  double worst = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      double allowed;
      if (kind == 1)
        allowed = grad_allowed_at (ck, tensor_max, e[i]);
      else
        {
          allowed = atol + rtol * fabs (e[i]);
          if (kind == 2 && grad != NULL)
            allowed += lr_sum * adam_slack (ck, grad[i], grad_max);
        }
      double diff = fabs ((double) actual[i] - e[i]);
      if (!isfinite (actual[i]) || diff > allowed)
        n_bad++;
      worst = MAX (worst, isfinite (actual[i]) ? diff / allowed : INFINITY);
    }
  ck->n_compared++;
  ck->worst = MAX (ck->worst, worst);
  if (n_bad > 0)
    fail (ck, "%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " values outside tolerance (worst %.2f× allowed)", name,
          n_bad, n, worst);
}

static void
compare_scalar (Check *ck, const char *name, double value, double atol, double rtol)
{
  float v = (float) value;
  compare (ck, name, &v, 1, atol, rtol, 0);
}

static void
compare_params (Check *ck, BsModel *m, const char *what, const float *arena)
{
  for (guint i = 0; i < bs_model_get_n_params (m); i++)
    {
      const BsParam *p = bs_model_get_param (m, i);
      g_autofree char *name = g_strconcat (what, ".", p->name, NULL);
      if (strcmp (what, "grad") == 0)
        compare (ck, name, arena + p->offset, p->n_elements, 0, 0, 1);
      else
        compare (ck, name, arena + p->offset, p->n_elements, 5e-6, 5e-6, 2);
    }
}

/* Every expected after.<name> must be in the checkpoint and nothing else,
 * all F32 with the right shapes and the values the model holds. */
static void
check_saved_checkpoint (Check *ck, BsModel *m)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *kept = ck->dump_dir != NULL ? g_strdup_printf ("%s/%s-checkpoint", ck->dump_dir, ck->case_name)
                                               : NULL;
  g_autofree char *tmp = kept != NULL ? g_strdup (kept) : g_dir_make_tmp ("parity-XXXXXX", &error);
  if (tmp == NULL || !bs_model_save (m, tmp, &error))
    {
      fail (ck, "saving the checkpoint: %s", error->message);
      return;
    }
  g_autofree char *path = g_build_filename (tmp, "model.safetensors", NULL);
  g_autofree char *config_path = g_build_filename (tmp, "config.json", NULL);
  g_autoptr (BsSafetensors) saved = bs_safetensors_open (path, &error);
  if (saved == NULL)
    fail (ck, "reading the saved checkpoint: %s", error->message);
  else
    {
      const char *format = bs_safetensors_get_metadata (saved, "format");
      if (format == NULL || strcmp (format, "pt") != 0)
        fail (ck, "saved checkpoint: __metadata__ lacks format=pt");
      guint n_expected = 0;
      for (guint i = 0; i < bs_safetensors_get_n_tensors (ck->expected); i++)
        {
          const char *name = bs_safetensors_get_tensor (ck->expected, i)->name;
          if (!g_str_has_prefix (name, "after."))
            continue;
          n_expected++;
          const char *key = name + strlen ("after.");
          const BsTensorInfo *t = bs_safetensors_lookup (saved, key);
          const BsTensorInfo *e = bs_safetensors_get_tensor (ck->expected, i);
          if (t == NULL)
            {
              fail (ck, "saved checkpoint lacks %s", key);
              continue;
            }
          if (t->dtype != BS_DTYPE_F32 || t->n_dims != e->n_dims
              || memcmp (t->shape, e->shape, sizeof (gint64) * e->n_dims) != 0)
            {
              fail (ck, "saved checkpoint: %s has dtype %s or shape unlike the reference", key,
                    bs_dtype_name (t->dtype));
              continue;
            }
          const BsParam *p = bs_model_find_param (m, key);
          if (p == NULL || memcmp (t->data, bs_model_peek_weights (m) + p->offset, t->n_bytes) != 0)
            fail (ck, "saved checkpoint: %s differs from the trained parameters", key);
        }
      if (bs_safetensors_get_n_tensors (saved) != n_expected)
        fail (ck, "saved checkpoint holds %u tensors, the reference %u", bs_safetensors_get_n_tensors (saved),
              n_expected);
      /* and it loads back bit for bit */
      g_autoptr (BsModel) back = bs_model_load (tmp, NULL, NULL, &error);
      if (back == NULL)
        fail (ck, "loading the saved checkpoint: %s", error->message);
      else if (memcmp (bs_model_peek_weights (back), bs_model_peek_weights (m),
                       bs_model_get_n_weights (m) * sizeof (float)) != 0)
        fail (ck, "the saved checkpoint does not load back identically");
    }
  if (kept == NULL)
    {
      g_unlink (path);
      g_unlink (config_path);
      g_rmdir (tmp);
    }
}

static gboolean
read_hyperparameters (Check *ck, BsAdamWParams *adam, double *temperature, double *alpha)
{
  *adam = BS_ADAMW_DEFAULTS;
  const char *optimizer = bs_safetensors_get_metadata (ck->expected, "optimizer");
  const char *lrs = bs_safetensors_get_metadata (ck->expected, "lrs");
  if (optimizer == NULL || lrs == NULL)
    {
      fail (ck, "case.safetensors metadata lacks “optimizer” or “lrs”");
      return FALSE;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, optimizer, -1, NULL) || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      fail (ck, "metadata “optimizer” is not a JSON object");
      return FALSE;
    }
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  adam->weight_decay = json_object_get_double_member_with_default (o, "weight_decay", adam->weight_decay);
  adam->eps = json_object_get_double_member_with_default (o, "eps", adam->eps);
  if (json_object_has_member (o, "betas"))
    {
      JsonArray *betas = json_object_get_array_member (o, "betas");
      adam->beta1 = json_array_get_double_element (betas, 0);
      adam->beta2 = json_array_get_double_element (betas, 1);
    }
  const char *groups = json_object_get_string_member_with_default (o, "param_groups", "");
  adam->exempt_bias_and_norm = strstr (groups, "no decay") != NULL || strstr (groups, "no_decay") != NULL;
  ck->eps = adam->eps;

  g_autoptr (JsonParser) lr_parser = json_parser_new ();
  if (!json_parser_load_from_data (lr_parser, lrs, -1, NULL) || !JSON_NODE_HOLDS_ARRAY (json_parser_get_root (lr_parser)))
    {
      fail (ck, "metadata “lrs” is not a JSON array");
      return FALSE;
    }
  JsonArray *a = json_node_get_array (json_parser_get_root (lr_parser));
  ck->n_steps = MIN ((int) json_array_get_length (a), (int) G_N_ELEMENTS (ck->lrs));
  for (int i = 0; i < ck->n_steps; i++)
    ck->lrs[i] = json_array_get_double_element (a, i);

  const char *t = bs_safetensors_get_metadata (ck->expected, "T");
  const char *al = bs_safetensors_get_metadata (ck->expected, "alpha");
  *temperature = t != NULL ? g_ascii_strtod (t, NULL) : 1.0;
  *alpha = al != NULL ? g_ascii_strtod (al, NULL) : 0.0;
  return TRUE;
}

static void
compute_grad_scale (Check *ck)
{
  for (guint i = 0; i < bs_safetensors_get_n_tensors (ck->expected); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (ck->expected, i);
      if (!g_str_has_prefix (t->name, "grad."))
        continue;
      gsize n;
      g_autofree float *v = expected_f32 (ck, t->name, &n);
      for (gsize k = 0; v != NULL && k < n; k++)
        ck->grad_scale = MAX (ck->grad_scale, fabs (v[k]));
    }
}

/* The loss of the student (or classifier) on the batch, with its gradient
 * in dlogits; teacher_logits NULL for plain classification. */
static BsDistillLoss
batch_loss (float *dlogits, const float *logits, const float *teacher_logits, const gint32 *labels, int b, int l,
            double temperature, double alpha)
{
  if (teacher_logits != NULL)
    return bs_distillation_loss (dlogits, logits, teacher_logits, labels, b, l, temperature, alpha);
  double ce = bs_cross_entropy (dlogits, logits, labels, b, l);
  return (BsDistillLoss) { ce, 0.0, ce };
}

static void
run_case (Check *ck, const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *teacher_dir = g_build_filename (dir, "teacher", NULL);
  gboolean distill = g_file_test (teacher_dir, G_FILE_TEST_IS_DIR);
  g_autofree char *student_dir = distill ? g_build_filename (dir, "student", NULL) : g_strdup (dir);

  BsAdamWParams adam;
  double temperature, alpha;
  if (!read_hyperparameters (ck, &adam, &temperature, &alpha))
    return;
  compute_grad_scale (ck);

  gsize n_ids = 0, n_mask = 0, n_types = 0, n_labels_read = 0;
  g_autofree gint32 *ids = expected_i32 (ck, "input_ids", &n_ids);
  g_autofree gint32 *mask = expected_i32 (ck, "attention_mask", &n_mask);
  g_autofree gint32 *types = expected_i32 (ck, "token_type_ids", &n_types);
  g_autofree gint32 *labels = expected_i32 (ck, "labels", &n_labels_read);
  const BsTensorInfo *ids_info = bs_safetensors_lookup (ck->expected, "input_ids");
  if (ids == NULL || labels == NULL || ids_info->n_dims != 2)
    {
      fail (ck, "case.safetensors lacks input_ids (B, T) or labels");
      return;
    }
  int b = (int) ids_info->shape[0], t = (int) ids_info->shape[1];
  BsBatch batch = { b, t, ids, types, mask };

  g_autoptr (BsModel) model = bs_model_load (student_dir, NULL, NULL, &error);
  if (model == NULL)
    {
      fail (ck, "loading the model: %s", error->message);
      return;
    }
  int l = bs_model_get_config (model)->n_labels;
  g_autoptr (BsWorkspace) ws = bs_workspace_new ();
  bs_workspace_set_dropout (ws, FALSE, 0); /* the fixtures are made without dropout */
  g_autofree float *logits = g_new (float, (gsize) b * l);
  g_autofree float *dlogits = g_new (float, (gsize) b * l);

  g_autofree float *teacher_logits = NULL;
  if (distill)
    {
      g_autoptr (BsModel) teacher = bs_model_load (teacher_dir, NULL, NULL, &error);
      if (teacher == NULL)
        {
          fail (ck, "loading the teacher: %s", error->message);
          return;
        }
      g_autoptr (BsWorkspace) tws = bs_workspace_new ();
      int tl = bs_model_get_config (teacher)->n_labels;
      if (tl != l)
        {
          fail (ck, "teacher has %d labels, student %d", tl, l);
          return;
        }
      teacher_logits = g_new (float, (gsize) b * l);
      if (!bs_model_infer (teacher, tws, &batch, teacher_logits, &error))
        {
          fail (ck, "teacher forward: %s", error->message);
          return;
        }
      compare (ck, "teacher_logits", teacher_logits, (gsize) b * l, 1e-6, 1e-4, 0);
    }

  const char *logits_name = distill ? "student_logits" : "logits";
  if (!bs_model_infer (model, ws, &batch, logits, &error))
    {
      fail (ck, "eval forward: %s", error->message);
      return;
    }
  compare (ck, logits_name, logits, (gsize) b * l, 1e-6, 1e-4, 0);

  g_autoptr (BsAdamW) opt = bs_adamw_new (model, &adam, &error);
  if (opt == NULL)
    {
      fail (ck, "%s", error->message);
      return;
    }
  float losses[17];
  for (int step = 0; step <= ck->n_steps; step++)
    {
      bs_model_zero_grads (model);
      if (!bs_model_forward (model, ws, &batch, logits, &error))
        {
          fail (ck, "training forward: %s", error->message);
          return;
        }
      BsDistillLoss loss = batch_loss (dlogits, logits, teacher_logits, labels, b, l, temperature, alpha);
      losses[step] = (float) loss.loss;
      if (step == ck->n_steps)
        break;
      bs_model_backward (model, ws, dlogits);
      if (step == 0)
        {
          compare_scalar (ck, "loss", loss.loss, 1e-6, 1e-5);
          if (distill)
            {
              compare_scalar (ck, "loss_kl", loss.kl, 1e-6, 1e-5);
              compare_scalar (ck, "loss_ce", loss.ce, 1e-6, 1e-5);
            }
          compare_params (ck, model, "grad", bs_model_get_grads (model));
        }
      bs_adamw_step (opt, model, ck->lrs[step]);
      if (step == 0)
        compare_params (ck, model, "after1", bs_model_get_weights (model));
    }
  compare_params (ck, model, "after", bs_model_get_weights (model));
  compare (ck, "losses", losses, (gsize) ck->n_steps + 1, 1e-6, 5e-5, 0);
  if (!bs_model_infer (model, ws, &batch, logits, &error))
    {
      fail (ck, "eval forward after training: %s", error->message);
      return;
    }
  compare (ck, distill ? "student_logits_after" : "logits_after", logits, (gsize) b * l, 1e-5, 2e-3, 0);
  check_saved_checkpoint (ck, model);
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
find_cases (const char *dir, GPtrArray *cases)
{
  g_autofree char *case_file = g_build_filename (dir, "case.safetensors", NULL);
  if (g_file_test (case_file, G_FILE_TEST_EXISTS))
    {
      g_ptr_array_add (cases, g_strdup (dir));
      return;
    }
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  g_autoptr (GPtrArray) subdirs = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (subdirs, g_steal_pointer (&path));
    }
  g_ptr_array_sort (subdirs, compare_paths);
  for (guint i = 0; i < subdirs->len; i++)
    find_cases (g_ptr_array_index (subdirs, i), cases);
}

int
main (int argc, char **argv)
{
  g_autofree char *dump_dir = NULL;
  g_autofree char *root = NULL;
  GOptionEntry entries[] = {
    { "dump", 0, 0, G_OPTION_ARG_FILENAME, &dump_dir, "Write the engine's outputs per case into DIR", "DIR" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[ROOT] — check the engine against golden cases");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "parity: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    root = g_strdup (argv[1]);
  else
    {
      const char *srcdir = g_getenv ("G_TEST_SRCDIR");
      root = g_build_filename (srcdir != NULL ? srcdir : TESTS_SRCDIR, "fixtures", NULL);
    }

  g_autoptr (GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);
  find_cases (root, cases);
  if (cases->len == 0)
    {
      fprintf (stderr, "parity: no case folders (with case.safetensors) under %s\n", root);
      return 2;
    }

  int passed = 0, failed = 0;
  for (guint i = 0; i < cases->len; i++)
    {
      const char *dir = g_ptr_array_index (cases, i);
      g_autofree char *case_name = g_path_get_basename (dir);
      g_autofree char *case_path = g_build_filename (dir, "case.safetensors", NULL);
      Check ck = { case_name, NULL, g_ptr_array_new_with_free_func (g_free), 0, 0 };
      ck.expected = bs_safetensors_open (case_path, &error);
      if (ck.expected == NULL)
        {
          fail (&ck, "%s", error->message);
          g_clear_error (&error);
        }
      else
        {
          if (dump_dir != NULL)
            {
              ck.dump_dir = dump_dir;
              ck.dump = bs_safetensors_writer_new ();
              ck.dump_data = g_ptr_array_new_with_free_func (g_free);
            }
          run_case (&ck, dir);
          if (ck.n_compared == 0)
            fail (&ck, "nothing compared: the case holds none of the expected tensors");
        }
      if (ck.dump != NULL)
        {
          g_mkdir_with_parents (dump_dir, 0755);
          g_autofree char *file = g_strdup_printf ("%s.safetensors", case_name);
          g_autofree char *out = g_build_filename (dump_dir, file, NULL);
          if (!bs_safetensors_writer_write (ck.dump, out, &error))
            {
              fprintf (stderr, "parity: %s\n", error->message);
              g_clear_error (&error);
            }
          bs_safetensors_writer_free (ck.dump);
          g_ptr_array_unref (ck.dump_data);
        }
      if (ck.failures->len == 0)
        {
          printf ("PASS %-20s %u tensors, worst %.3f of tolerance\n", case_name, ck.n_compared, ck.worst);
          passed++;
        }
      else
        {
          printf ("FAIL %-20s %u of %u tensors:\n", case_name, ck.failures->len, ck.n_compared);
          for (guint k = 0; k < ck.failures->len && k < 20; k++)
            printf ("     %s\n", (char *) g_ptr_array_index (ck.failures, k));
          failed++;
        }
      g_ptr_array_unref (ck.failures);
      bs_safetensors_free (ck.expected);
    }
  printf ("%d passed, %d failed\n", passed, failed);
  return failed > 0 ? 1 : 0;
}
