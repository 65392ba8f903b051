/* bs-checkpoint.c: name mapping between checkpoints and the model's arena. */
#include "config.h"

#include "bs-checkpoint.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "bs-safetensors.h"

G_DEFINE_QUARK (bs-checkpoint-error-quark, bs_checkpoint_error)

void
bs_load_report_clear (BsLoadReport *report)
{
  g_clear_pointer (&report->ignored, g_ptr_array_unref);
  report->head_initialised = FALSE;
  report->n_converted = 0;
}

/* A checkpoint's name for the model's: without the base model's prefix
 * (some files omit it) and with TensorFlow-era LayerNorm gamma/beta. */
static char *
canonical_name (const BsModel *m, const char *name)
{
  const char *prefix = bs_model_get_prefix (m);
  g_autofree char *modern = NULL;
  if (g_str_has_suffix (name, ".gamma") || g_str_has_suffix (name, ".beta"))
    {
      const char *dot = strrchr (name, '.');
      g_autofree char *stem = g_strndup (name, (gsize) (dot - name));
      modern = g_strconcat (stem, dot[1] == 'g' ? ".weight" : ".bias", NULL);
    }
  else
    modern = g_strdup (name);
  g_autofree char *full = g_str_has_prefix (modern, prefix) ? g_strdup (modern) : g_strconcat (prefix, modern, NULL);
  if (bs_model_find_param (m, full) != NULL)
    return g_steal_pointer (&full);
  /* head parameters (cls.predictions.*, classifier.*) carry no prefix */
  if (bs_model_find_param (m, modern) != NULL)
    return g_steal_pointer (&modern);
  return NULL;
}

static gboolean
shapes_equal (const BsTensorInfo *t, const BsParam *p)
{
  if (t->n_dims != p->n_dims)
    return FALSE;
  for (int i = 0; i < p->n_dims; i++)
    if (t->shape[i] != p->shape[i])
      return FALSE;
  return TRUE;
}

static gboolean
unsupported_format (const char *dir, GError **error)
{
  g_autofree char *bin = g_build_filename (dir, "pytorch_model.bin", NULL);
  g_autofree char *index = g_build_filename (dir, "model.safetensors.index.json", NULL);
  if (g_file_test (bin, G_FILE_TEST_EXISTS))
    g_set_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_UNSUPPORTED,
                 /* Translators: %s is a folder; keep the file names as they are */
                 _("%s holds only pytorch_model.bin: that format is a Python pickle, which BERT Studio does not "
                   "load (it can run code); convert it to model.safetensors"), dir);
  else if (g_file_test (index, G_FILE_TEST_EXISTS))
    g_set_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_UNSUPPORTED,
                 /* Translators: %s is a folder; keep the file name as it is */
                 _("%s holds a sharded checkpoint (model.safetensors.index.json), which is not supported yet"), dir);
  else
    /* Translators: %s is a folder; keep the file name as it is */
    g_set_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_NOT_FOUND, _("%s has no model.safetensors"), dir);
  return FALSE;
}

BsModel *
bs_model_load (const char *dir, const BsLoadOptions *options, BsLoadReport *report, GError **error)
{
  /* cleared on every return: failures return early */
  g_auto (BsLoadReport) local_report = { 0 };
  if (report == NULL)
    report = &local_report;
  bs_load_report_clear (report);
  report->ignored = g_ptr_array_new_with_free_func (g_free);

  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *weights_path = g_build_filename (dir, "model.safetensors", NULL);
  if (!g_file_test (config_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_NOT_FOUND,
                   /* Translators: %s is a folder; keep the file name as it is */
                   _("%s is not a model folder: it has no config.json"), dir);
      return NULL;
    }
  if (!g_file_test (weights_path, G_FILE_TEST_EXISTS))
    {
      unsupported_format (dir, error);
      return NULL;
    }

  g_autoptr (BsConfig) config = bs_config_load (config_path, error);
  if (config == NULL)
    return NULL;
  gboolean relabelled = options != NULL && options->labels != NULL;
  if (relabelled)
    bs_config_set_labels (config, options->labels, options->n_labels);
  g_autoptr (BsSafetensors) st = bs_safetensors_open (weights_path, error);
  if (st == NULL)
    return NULL;
  BsHeadKind head = options != NULL ? options->head : BS_HEAD_CLASSIFIER;
  g_autoptr (BsModel) m = bs_model_new_with_head (config, head, error);
  if (m == NULL)
    return NULL;

  guint n_params = bs_model_get_n_params (m);
  g_autofree const char **source = g_new0 (const char *, n_params); /* checkpoint name per param */
  g_autofree gboolean *mismatched = g_new0 (gboolean, n_params);
  float *weights = bs_model_get_weights (m);
  for (guint i = 0; i < bs_safetensors_get_n_tensors (st); i++)
    {
      const BsTensorInfo *t = bs_safetensors_get_tensor (st, i);
      g_autofree char *name = canonical_name (m, t->name);
      if (name == NULL)
        {
          g_ptr_array_add (report->ignored, g_strdup (t->name));
          continue;
        }
      const BsParam *p = bs_model_find_param (m, name);
      guint index = (guint) (p - bs_model_get_param (m, 0));
      if (source[index] != NULL)
        {
          g_set_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_DUPLICATE_TENSOR,
                       /* Translators: a file path, a parameter's name, and the two tensor names it has there */
                       _("%s: parameter “%s” is given twice, as “%s” and as “%s”"), weights_path, p->name,
                       source[index], t->name);
          return NULL;
        }
      source[index] = t->name;
      if (!shapes_equal (t, p))
        {
          if (p->head && relabelled)
            {
              /* a head for other labels: replaced, as transformers does */
              mismatched[index] = TRUE;
              continue;
            }
          g_autofree char *have = bs_tensor_shape_to_string (t->n_dims, t->shape);
          g_autofree char *want = bs_tensor_shape_to_string (p->n_dims, p->shape);
          g_set_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_SHAPE,
                       /* Translators: a file path, a tensor's name, and two shapes such as [768, 768] */
                       _("%s: tensor “%s” has shape %s, but config.json describes %s"), weights_path, t->name, have,
                       want);
          return NULL;
        }
      if (!bs_safetensors_read_f32 (st, t, weights + p->offset, error))
        return NULL;
      if (t->dtype != BS_DTYPE_F32)
        report->n_converted++;
    }

  g_autoptr (GString) initialised = g_string_new (NULL);
  for (guint i = 0; i < n_params; i++)
    {
      const BsParam *p = bs_model_get_param (m, i);
      if (source[i] != NULL && !mismatched[i])
        continue;
      /* BERT's pooler: a masked-LM checkpoint has none, and transformers
       * then starts a classifier with a new one */
      if (p->head || g_str_has_suffix (p->name, ".pooler.dense.weight") || g_str_has_suffix (p->name, ".pooler.dense.bias"))
        {
          bs_model_init_param (m, i, options != NULL ? options->head_seed : 0);
          g_string_append_printf (initialised, "%s%s", initialised->len ? ", " : "", p->name);
          continue;
        }
      g_set_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_MISSING_TENSOR,
                   /* Translators: a file path, a tensor's name, and BERT or DistilBERT */
                   _("%s lacks tensor “%s”, which a %s model as described by config.json needs"), weights_path, p->name,
                   config->arch == BS_ARCH_BERT ? "BERT" : "DistilBERT");
      return NULL;
    }
  if (initialised->len > 0)
    {
      report->head_initialised = TRUE;
      if (head == BS_HEAD_MASKED_LM)
        /* Translators: a folder and a list of parameter names */
        g_message (_("%s: the checkpoint has no masked-language-model head; new parameters were initialised: %s"), dir,
                   initialised->str);
      else
        g_message (g_dngettext (GETTEXT_PACKAGE,
                              /* Translators: a folder, a number of labels, and a list of parameter names */
                              "%s: the checkpoint has no classification head for %d label; new parameters were "
                              "initialised: %s",
                              "%s: the checkpoint has no classification head for %d labels; new parameters were "
                              "initialised: %s",
                              (gulong) config->n_labels),
                 dir, config->n_labels, initialised->str);
    }
  if (report->ignored->len > 0)
    {
      g_autoptr (GString) list = g_string_new (NULL);
      for (guint i = 0; i < report->ignored->len; i++)
        g_string_append_printf (list, "%s%s", i ? ", " : "", (char *) g_ptr_array_index (report->ignored, i));
      /* Translators: a folder, a number of tensors, and a list of their names */
      if (head == BS_HEAD_MASKED_LM)
        /* Translators: a folder, a number of tensors, and a list of their names */
        g_message (g_dngettext (GETTEXT_PACKAGE, "%s: %u tensor not used by a masked language model was ignored: %s",
                                "%s: %u tensors not used by a masked language model were ignored: %s",
                                report->ignored->len),
                   dir, report->ignored->len, list->str);
      else
        /* Translators: a folder, a number of tensors, and a list of their names */
        g_message (g_dngettext (GETTEXT_PACKAGE, "%s: %u tensor not used by a sequence classifier was ignored: %s",
                                "%s: %u tensors not used by a sequence classifier were ignored: %s",
                                report->ignored->len),
                   dir, report->ignored->len, list->str);
    }
  return g_steal_pointer (&m);
}

gboolean
bs_model_save (const BsModel *m, const char *dir, GError **error)
{
  return bs_model_save_with_dtype (m, dir, BS_DTYPE_F32, error);
}

gboolean
bs_model_save_with_dtype (const BsModel *m, const char *dir, BsDtype dtype, GError **error)
{
  if (dtype != BS_DTYPE_F32 && dtype != BS_DTYPE_F16 && dtype != BS_DTYPE_BF16)
    {
      g_set_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_UNSUPPORTED,
                   /* Translators: %s is a dtype such as I64; keep F32, F16 and BF16 as they are */
                   _("Models are saved in F32, F16 or BF16, not %s"), bs_dtype_name (dtype));
      return FALSE;
    }
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;
      /* Translators: a folder and the system's reason */
      g_set_error (error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_IO, _("Could not create the folder %s: %s"), dir,
                   g_strerror (saved_errno));
      return FALSE;
    }
  g_autoptr (BsSafetensorsWriter) writer = bs_safetensors_writer_new ();
  bs_safetensors_writer_set_metadata (writer, "format", "pt");
  const float *weights = bs_model_peek_weights (m);
  /* the narrowed copy, in the arena's order; the writer references it */
  gsize n_weights = bs_model_get_n_weights (m);
  g_autofree guint16 *narrow = dtype != BS_DTYPE_F32 ? g_new (guint16, MAX (n_weights, 1)) : NULL;
  for (gsize i = 0; narrow != NULL && i < n_weights; i++)
    narrow[i] = dtype == BS_DTYPE_F16 ? bs_f32_to_f16 (weights[i]) : bs_f32_to_bf16 (weights[i]);
  for (guint i = 0; i < bs_model_get_n_params (m); i++)
    {
      const BsParam *p = bs_model_get_param (m, i);
      const void *data = narrow != NULL ? (const void *) (narrow + p->offset) : (const void *) (weights + p->offset);
      bs_safetensors_writer_add (writer, p->name, dtype, p->n_dims, p->shape, data);
    }
  g_autofree char *weights_path = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  return bs_safetensors_writer_write (writer, weights_path, error)
         && bs_config_save (bs_model_get_config (m), config_path, error);
}
