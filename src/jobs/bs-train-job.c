/* bs-train-job.c: the training loop shared by fine-tuning, distillation and
 * pretraining, its checkpoints and its resumption. */
#include "config.h"

#include "bs-train-job.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "bs-atomic-file.h"
#include "bs-checkpoint.h"
#include "bs-encoded-set.h"
#include "bs-evaluate.h"
#include "bs-loss.h"
#include "bs-masking.h"
#include "bs-safetensors.h"
#include "bs-store.h"

#define EVAL_BATCH 64
/* pretraining validates on the first rows only: enough to follow the loss,
 * and a full pass over a large split would cost as much as many batches */
#define MASKED_LM_VALIDATION_ROWS 512

const char *
bs_train_kind_to_string (BsTrainKind kind)
{
  return kind == BS_TRAIN_DISTILL ? "distill" : kind == BS_TRAIN_PRETRAIN ? "pretrain" : "fine-tune";
}

static BsTrainKind
kind_from_string (const char *name)
{
  for (BsTrainKind k = BS_TRAIN_FINE_TUNE; k <= BS_TRAIN_PRETRAIN; k++)
    if (g_strcmp0 (name, bs_train_kind_to_string (k)) == 0)
      return k;
  return BS_TRAIN_FINE_TUNE;
}

void
bs_train_params_init (BsTrainParams *p, BsTrainKind kind)
{
  memset (p, 0, sizeof *p);
  p->kind = kind;
  p->max_length = 128;
  p->truncation = BS_TRUNCATE_HEAD;
  p->batch_size = 64;
  p->epochs = 1;
  p->lr = 2e-5;
  p->schedule = BS_SCHEDULE_EXPONENTIAL;
  p->gamma = 0.96;
  p->step_every = 10;
  p->weight_decay = 0.01;
  p->dropout = TRUE;
  p->seed = 42;
  p->checkpoint_every = 200;
  p->temperature = 2.0;
  p->alpha = 0.5;
  p->mask_probability = 0.15;
  if (kind == BS_TRAIN_PRETRAIN)
    {
      p->lr = 5e-5;
      p->schedule = BS_SCHEDULE_LINEAR;
    }
}

void
bs_train_params_clear (BsTrainParams *p)
{
  g_clear_pointer (&p->db_path, g_free);
  g_clear_pointer (&p->dataset, g_free);
  g_clear_pointer (&p->model_dir, g_free);
  g_clear_pointer (&p->teacher_dir, g_free);
  g_clear_pointer (&p->output_dir, g_free);
}

void
bs_train_params_copy_into (BsTrainParams *to, const BsTrainParams *from)
{
  bs_train_params_clear (to);
  *to = *from;
  to->db_path = g_strdup (from->db_path);
  to->dataset = g_strdup (from->dataset);
  to->model_dir = g_strdup (from->model_dir);
  to->teacher_dir = g_strdup (from->teacher_dir);
  to->output_dir = g_strdup (from->output_dir);
}

BsTrainParams *
bs_train_params_copy (const BsTrainParams *params)
{
  BsTrainParams *copy = g_new0 (BsTrainParams, 1);
  bs_train_params_copy_into (copy, params);
  return copy;
}

void
bs_train_params_free (BsTrainParams *params)
{
  if (params == NULL)
    return;
  bs_train_params_clear (params);
  g_free (params);
}

static const char *const schedule_names[] = { "constant", "exponential", "linear" };

char *
bs_train_params_to_json (const BsTrainParams *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
#define STR(key, value) \
  if ((value) != NULL) \
    { \
      json_builder_set_member_name (b, key); \
      json_builder_add_string_value (b, value); \
    }
#define INT(key, value) \
  json_builder_set_member_name (b, key); \
  json_builder_add_int_value (b, value);
#define NUM(key, value) \
  json_builder_set_member_name (b, key); \
  json_builder_add_double_value (b, value);
  STR ("kind", bs_train_kind_to_string (p->kind));
  STR ("db", p->db_path);
  STR ("dataset", p->dataset);
  STR ("model", p->model_dir);
  STR ("teacher", p->teacher_dir);
  STR ("output", p->output_dir);
  INT ("max_length", p->max_length);
  STR ("truncation", bs_truncation_to_string (p->truncation));
  INT ("batch_size", p->batch_size);
  INT ("epochs", p->epochs);
  INT ("max_steps", p->max_steps);
  NUM ("lr", p->lr);
  STR ("schedule", schedule_names[p->schedule]);
  NUM ("gamma", p->gamma);
  INT ("step_every", p->step_every);
  INT ("warmup_steps", p->warmup_steps);
  NUM ("weight_decay", p->weight_decay);
  json_builder_set_member_name (b, "exempt_bias_and_norm");
  json_builder_add_boolean_value (b, p->exempt_bias_and_norm);
  NUM ("max_grad_norm", p->max_grad_norm);
  json_builder_set_member_name (b, "dropout");
  json_builder_add_boolean_value (b, p->dropout);
  /* as a string: JSON numbers lose 64-bit integers in some readers */
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, p->seed);
  STR ("seed", seed);
  INT ("validate_every", p->validate_every);
  INT ("checkpoint_every", p->checkpoint_every);
  if (p->kind == BS_TRAIN_DISTILL)
    {
      NUM ("temperature", p->temperature);
      NUM ("alpha", p->alpha);
      INT ("student_layers", p->student_layers);
    }
  if (p->kind == BS_TRAIN_PRETRAIN)
    {
      NUM ("mask_probability", p->mask_probability);
    }
#undef STR
#undef INT
#undef NUM
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

gboolean
bs_train_params_from_json (BsTrainParams *p, const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json, -1, error))
    return FALSE;
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID, _("The run's parameters are not a JSON object"));
      return FALSE;
    }
  JsonObject *o = json_node_get_object (root);
  const char *kind = json_object_get_string_member_with_default (o, "kind", "fine-tune");
  bs_train_params_init (p, kind_from_string (kind));
#define STR(key, field) \
  if (json_object_has_member (o, key)) \
    p->field = g_strdup (json_object_get_string_member (o, key));
#define INT(key, field) p->field = json_object_get_int_member_with_default (o, key, p->field);
#define NUM(key, field) p->field = json_object_get_double_member_with_default (o, key, p->field);
  STR ("db", db_path);
  STR ("dataset", dataset);
  STR ("model", model_dir);
  STR ("teacher", teacher_dir);
  STR ("output", output_dir);
  INT ("max_length", max_length);
  INT ("batch_size", batch_size);
  INT ("epochs", epochs);
  INT ("max_steps", max_steps);
  NUM ("lr", lr);
  NUM ("gamma", gamma);
  INT ("step_every", step_every);
  INT ("warmup_steps", warmup_steps);
  NUM ("weight_decay", weight_decay);
  NUM ("max_grad_norm", max_grad_norm);
  INT ("validate_every", validate_every);
  INT ("checkpoint_every", checkpoint_every);
  NUM ("temperature", temperature);
  NUM ("alpha", alpha);
  INT ("student_layers", student_layers);
  NUM ("mask_probability", mask_probability);
#undef STR
#undef INT
#undef NUM
  p->exempt_bias_and_norm = json_object_get_boolean_member_with_default (o, "exempt_bias_and_norm", FALSE);
  p->dropout = json_object_get_boolean_member_with_default (o, "dropout", TRUE);
  p->seed = g_ascii_strtoull (json_object_get_string_member_with_default (o, "seed", "42"), NULL, 10);
  bs_truncation_from_string (json_object_get_string_member_with_default (o, "truncation", "head"), &p->truncation);
  const char *schedule = json_object_get_string_member_with_default (o, "schedule", "exponential");
  for (guint i = 0; i < G_N_ELEMENTS (schedule_names); i++)
    if (g_strcmp0 (schedule, schedule_names[i]) == 0)
      p->schedule = (BsScheduleKind) i;
  return TRUE;
}

/* ---- folders ---- */

static gboolean
remove_folder (const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return TRUE; /* nothing there */
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_unlink (path) != 0)
        {
          int saved = errno;
          /* Translators: a file or folder and the system's reason */
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Could not remove %s: %s"), path,
                       g_strerror (saved));
          return FALSE;
        }
    }
  if (g_rmdir (dir) != 0)
    {
      int saved = errno;
      /* Translators: a file or folder and the system's reason */
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Could not remove %s: %s"), dir,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
copy_file_atomic (const char *from, const char *to, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length;
  return g_file_get_contents (from, &contents, &length, error) && bs_write_file_atomic (to, contents, length, error);
}

gboolean
bs_save_model_folder (const BsModel *model, const char *vocab_path, gboolean lower_case, const char *dir,
                      GError **error)
{
  g_autofree char *vocab_to = g_build_filename (dir, "vocab.txt", NULL);
  g_autofree char *tok_config = g_build_filename (dir, "tokenizer_config.json", NULL);
  g_autofree char *tok_json = g_strdup_printf ("{\n  \"do_lower_case\": %s,\n  \"model_max_length\": %d,\n"
                                               "  \"tokenizer_class\": \"BertTokenizer\"\n}\n",
                                               lower_case ? "true" : "false",
                                               bs_model_get_config (model)->max_position_embeddings);
  if (!bs_model_save (model, dir, error))
    return FALSE;
  if (g_strcmp0 (vocab_path, vocab_to) != 0 && !copy_file_atomic (vocab_path, vocab_to, error))
    return FALSE;
  return bs_write_file_atomic (tok_config, tok_json, strlen (tok_json), error);
}

/* ---- distillation students ---- */

BsModel *
bs_student_from_teacher (const BsModel *teacher, int layers, GError **error)
{
  const BsConfig *tc = bs_model_get_config (teacher);
  int n = layers > 0 ? layers : MAX (1, tc->n_layers / 2);
  if (n > tc->n_layers)
    {
      g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID,
                   /* Translators: the student's number of layers, then the teacher's */
                   g_dngettext (GETTEXT_PACKAGE, "A student of %d layer cannot come from a teacher of %d",
                                "A student of %d layers cannot come from a teacher of %d", (gulong) n),
                   n, tc->n_layers);
      return NULL;
    }
  g_autoptr (BsConfig) sc = bs_config_copy (tc);
  sc->n_layers = n;
  g_autoptr (BsModel) student = bs_model_new (sc, error);
  if (student == NULL)
    return NULL;
  const char *prefix = bs_model_get_prefix (student);
  g_autofree char *layer_prefix = g_strconcat (prefix, tc->arch == BS_ARCH_BERT ? "encoder.layer." : "transformer.layer.",
                                               NULL);
  float *to = bs_model_get_weights (student);
  const float *from = bs_model_peek_weights (teacher);
  for (guint i = 0; i < bs_model_get_n_params (student); i++)
    {
      const BsParam *p = bs_model_get_param (student, i);
      g_autofree char *source = NULL;
      if (g_str_has_prefix (p->name, layer_prefix))
        {
          /* layer k of the student is layer k * teacher / student of the teacher */
          char *rest = NULL;
          guint64 k = g_ascii_strtoull (p->name + strlen (layer_prefix), &rest, 10);
          source = g_strdup_printf ("%s%" G_GUINT64_FORMAT "%s", layer_prefix, k * tc->n_layers / n, rest);
        }
      const BsParam *q = bs_model_find_param (teacher, source != NULL ? source : p->name);
      g_assert (q != NULL && q->n_elements == p->n_elements);
      memcpy (to + p->offset, from + q->offset, p->n_elements * sizeof (float));
    }
  return g_steal_pointer (&student);
}

/* ---- the job ---- */

typedef struct
{
  const BsTrainParams *p;
  BsJobProgressFunc progress;
  gpointer user_data;
  GCancellable *cancellable;
  BsStore *store;
  gint64 run_id;
  BsDataset *dataset;
  BsTokenizer *tokenizer;
  char *vocab_path;
  BsModel *model;
  BsModel *teacher;
  BsAdamW *opt;
  BsSchedule schedule;
  BsWorkspace *ws;
  BsWorkspace *teacher_ws;
  BsWorkspace *eval_ws;  /* pretraining's validation, without dropout */
  BsMasking masking;
  BsEncodedSet *train, *validation, *test;
  /* position */
  gint64 step;
  int epoch;           /* 0-based, current */
  gint64 batch;        /* next batch within the epoch */
  double elapsed;      /* seconds, over every session of the run */
  gint64 session_start;
  double session_elapsed_at_start;
  gint64 steps_per_epoch;
  gint64 total_steps;
  double examples_per_s;
  double last_validation_accuracy;
  char *checkpoint_dir;
} Job;

static void
job_clear (Job *job)
{
  g_clear_pointer (&job->store, bs_store_free);
  g_clear_pointer (&job->dataset, bs_dataset_free);
  g_clear_pointer (&job->tokenizer, bs_tokenizer_free);
  g_clear_pointer (&job->vocab_path, g_free);
  g_clear_pointer (&job->model, bs_model_free);
  g_clear_pointer (&job->teacher, bs_model_free);
  g_clear_pointer (&job->opt, bs_adamw_free);
  g_clear_pointer (&job->ws, bs_workspace_free);
  g_clear_pointer (&job->teacher_ws, bs_workspace_free);
  g_clear_pointer (&job->eval_ws, bs_workspace_free);
  g_clear_pointer (&job->train, bs_encoded_set_free);
  g_clear_pointer (&job->validation, bs_encoded_set_free);
  g_clear_pointer (&job->test, bs_encoded_set_free);
  g_clear_pointer (&job->checkpoint_dir, g_free);
}

static double
elapsed_now (Job *job)
{
  return job->session_elapsed_at_start + (g_get_monotonic_time () - job->session_start) / 1e6;
}

static void
report (Job *job, const char *phase, double loss, double accuracy, double lr)
{
  if (job->progress == NULL)
    return;
  double elapsed = elapsed_now (job);
  double rate = job->examples_per_s;
  gint64 left = job->total_steps - job->step;
  BsJobProgress pr = { phase, job->epoch + 1, job->p->epochs, job->step, job->total_steps, 0, 0, loss, accuracy, lr,
                       rate, elapsed, rate > 0 ? left * (double) job->p->batch_size / rate : NAN, job->run_id };
  job->progress (&pr, job->user_data);
}

static BsEncodedSet *
encode_split (Job *job, const char *split, GError **error)
{
  g_autoptr (BsExamples) ex = bs_store_load_examples (job->store, job->dataset->id, split, error);
  if (ex == NULL)
    return NULL;
  return bs_encoded_set_new (job->tokenizer, (const char *const *) ex->texts, ex->labels, ex->n,
                             (guint) job->p->max_length, job->p->truncation, job->cancellable, error);
}

static gboolean
save_evaluation (Job *job, const char *split, const BsEvalResult *r, GError **error)
{
  const BsConfig *c = bs_model_get_config (job->model);
  BsEvaluation e = { job->run_id, split, job->step, r->n, r->accuracy, r->loss, r->latency_ms, c->n_labels,
                     (const char *const *) c->labels, r->precision, r->recall, r->f1, r->support, r->confusion };
  return bs_store_add_evaluation (job->store, &e, error) > 0;
}

/* What a masked-LM batch needs beyond ids and mask, grown as batches do. */
typedef struct
{
  gsize capacity; /* positions */
  gint32 *positions, *targets;
  float *logits, *dlogits;
} MaskedLmBuffers;

static void
masked_lm_buffers_clear (MaskedLmBuffers *buf)
{
  g_clear_pointer (&buf->positions, g_free);
  g_clear_pointer (&buf->targets, g_free);
  g_clear_pointer (&buf->logits, g_free);
  g_clear_pointer (&buf->dlogits, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MaskedLmBuffers, masked_lm_buffers_clear)

/* Masks the batch (ids b × t, filled from rows) as epoch does, predicts the
 * masked tokens and, when training, adds the gradients of the mean loss. */
static gboolean
masked_lm_batch (Job *job, BsWorkspace *ws, MaskedLmBuffers *buf, const gsize *rows, int b, int t, gint32 *ids,
                 const gint32 *mask, int epoch, gboolean train, double *loss, int *correct, int *n_masked,
                 GError **error)
{
  int v = bs_model_get_config (job->model)->vocab_size;
  gsize cap = (gsize) b * t;
  if (buf->capacity < cap)
    {
      buf->capacity = cap;
      buf->positions = g_renew (gint32, buf->positions, cap);
      buf->targets = g_renew (gint32, buf->targets, cap);
    }
  int n = bs_mask_batch (&job->masking, job->p->seed, epoch, rows, b, t, ids, mask, buf->positions, buf->targets);
  *n_masked = n;
  *correct = 0;
  *loss = 0;
  if (n == 0)
    return TRUE;
  /* logits only for the masked tokens: (n, vocab) */
  buf->logits = g_renew (float, buf->logits, (gsize) n * v);
  if (train)
    buf->dlogits = g_renew (float, buf->dlogits, (gsize) n * v);
  BsBatch batch = { b, t, ids, NULL, mask };
  if (!bs_model_forward_masked_lm (job->model, ws, &batch, buf->positions, n, buf->logits, error))
    return FALSE;
  *loss = bs_cross_entropy (train ? buf->dlogits : NULL, buf->logits, buf->targets, n, v);
  for (int i = 0; i < n; i++)
    *correct += bs_argmax (buf->logits + (gsize) i * v, v) == buf->targets[i];
  if (train)
    bs_model_backward_masked_lm (job->model, ws, buf->dlogits);
  return TRUE;
}

/* The masked-LM loss and accuracy on the first validation rows, masked
 * the same way every time so that the figures compare along a run. */
static gboolean
validate_masked_lm (Job *job, BsEvalResult *r, GError **error)
{
  const BsEncodedSet *set = job->validation;
  gsize cap = (gsize) EVAL_BATCH * set->max_length;
  g_autofree gint32 *ids = g_new (gint32, cap);
  g_autofree gint32 *mask = g_new (gint32, cap);
  g_autofree gsize *rows = g_new (gsize, EVAL_BATCH);
  g_auto (MaskedLmBuffers) buf = { 0 };
  if (job->eval_ws == NULL)
    job->eval_ws = bs_workspace_new ();
  double loss_sum = 0;
  gint64 correct_sum = 0, masked_sum = 0;
  gsize n_rows = MIN (set->n, MASKED_LM_VALIDATION_ROWS);
  for (gsize begin = 0; begin < n_rows; begin += EVAL_BATCH)
    {
      if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
        return FALSE;
      int b = (int) MIN ((gsize) EVAL_BATCH, n_rows - begin);
      for (int i = 0; i < b; i++)
        rows[i] = begin + i;
      guint t = bs_encoded_set_fill_batch (set, rows, b, ids, mask, NULL);
      double loss;
      int correct, n;
      if (!masked_lm_batch (job, job->eval_ws, &buf, rows, b, (int) t, ids, mask, -1, FALSE, &loss, &correct, &n,
                            error))
        return FALSE;
      loss_sum += loss * n;
      correct_sum += correct;
      masked_sum += n;
    }
  r->n = masked_sum;
  r->loss = masked_sum > 0 ? loss_sum / masked_sum : NAN;
  r->accuracy = masked_sum > 0 ? (double) correct_sum / masked_sum : NAN;
  return TRUE;
}

static gboolean
validate (Job *job, gboolean record_evaluation, GError **error)
{
  if (job->validation == NULL || job->validation->n == 0)
    return TRUE;
  g_auto (BsEvalResult) r = { 0 };
  if (job->p->kind == BS_TRAIN_PRETRAIN)
    {
      /* no classes: loss and accuracy on the masked tokens only */
      if (!validate_masked_lm (job, &r, error))
        return FALSE;
      record_evaluation = FALSE;
    }
  else if (!bs_evaluate (job->model, job->validation, EVAL_BATCH, "validation", job->progress, job->user_data,
                         job->cancellable, &r, error))
    return FALSE;
  BsMetric m = { job->run_id, job->epoch + 1, job->step, "validation", r.loss, r.accuracy, NAN, NAN,
                 elapsed_now (job) };
  job->last_validation_accuracy = r.accuracy;
  report (job, "validation", r.loss, r.accuracy, NAN);
  return bs_store_add_metric (job->store, &m, error)
         && (!record_evaluation || save_evaluation (job, "validation", &r, error));
}

/* Writes the checkpoint beside, then swaps it in: a crash leaves the old
 * one or the new one whole. */
static gboolean
write_checkpoint (Job *job, GError **error)
{
  report (job, "checkpoint", NAN, NAN, NAN);
  g_autofree char *tmp = g_strconcat (job->checkpoint_dir, ".tmp", NULL);
  g_autofree char *old = g_strconcat (job->checkpoint_dir, ".old", NULL);
  if (!remove_folder (tmp, error) || !bs_model_save (job->model, tmp, error))
    return FALSE;

  gint64 n = (gint64) bs_model_get_n_weights (job->model);
  g_autoptr (BsSafetensorsWriter) w = bs_safetensors_writer_new ();
  bs_safetensors_writer_add (w, "exp_avg", BS_DTYPE_F32, 1, &n, bs_adamw_get_moments (job->opt, 0));
  bs_safetensors_writer_add (w, "exp_avg_sq", BS_DTYPE_F32, 1, &n, bs_adamw_get_moments (job->opt, 1));
  g_autofree char *opt_path = g_build_filename (tmp, "optimizer.safetensors", NULL);
  if (!bs_safetensors_writer_write (w, opt_path, error))
    return FALSE;

  g_autofree char *state = g_strdup_printf ("{\n  \"run_id\": %" G_GINT64_FORMAT ",\n  \"step\": %" G_GINT64_FORMAT
                                            ",\n  \"epoch\": %d,\n  \"batch\": %" G_GINT64_FORMAT
                                            ",\n  \"adam_step\": %" G_GINT64_FORMAT ",\n  \"elapsed\": %.3f\n}\n",
                                            job->run_id, job->step, job->epoch, job->batch,
                                            bs_adamw_get_step (job->opt), elapsed_now (job));
  g_autofree char *state_path = g_build_filename (tmp, "state.json", NULL);
  if (!bs_write_file_atomic (state_path, state, strlen (state), error))
    return FALSE;

  /* every metric up to here reaches the disk before the checkpoint counts */
  if (!bs_store_flush (job->store, error))
    return FALSE;
  if (!remove_folder (old, error))
    return FALSE;
  if (g_file_test (job->checkpoint_dir, G_FILE_TEST_IS_DIR) && g_rename (job->checkpoint_dir, old) != 0)
    {
      int saved = errno;
      /* Translators: a folder and the system's reason */
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Could not replace the checkpoint %s: %s"),
                   job->checkpoint_dir, g_strerror (saved));
      return FALSE;
    }
  if (g_rename (tmp, job->checkpoint_dir) != 0)
    {
      int saved = errno;
      /* Translators: a folder and the system's reason */
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Could not move the checkpoint into %s: %s"),
                   job->checkpoint_dir, g_strerror (saved));
      return FALSE;
    }
  return remove_folder (old, error);
}

/* How the trained model loads: a classifier for the dataset's labels, or
 * (pretraining) with its masked-LM head and the labels it has. */
static BsLoadOptions
load_options (Job *job)
{
  if (job->p->kind == BS_TRAIN_PRETRAIN)
    return (BsLoadOptions) { NULL, 0, job->p->seed, BS_HEAD_MASKED_LM };
  return (BsLoadOptions) { (const char *const *) job->dataset->labels, (int) g_strv_length (job->dataset->labels),
                           job->p->seed, BS_HEAD_CLASSIFIER };
}

/* Puts weights, optimizer and position back as the checkpoint left them. */
static gboolean
restore_checkpoint (Job *job, GError **error)
{
  g_autofree char *old = g_strconcat (job->checkpoint_dir, ".old", NULL);
  const char *dir = job->checkpoint_dir;
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      /* a crash between the two renames of write_checkpoint */
      if (!g_file_test (old, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_CHECKPOINT,
                       /* Translators: a run's number and the folder where its checkpoint should be */
                       _("Run %" PRId64 " has no checkpoint to resume from (%s)"), job->run_id, dir);
          return FALSE;
        }
      dir = old;
    }
  g_autofree char *state_path = g_build_filename (dir, "state.json", NULL);
  g_autofree char *opt_path = g_build_filename (dir, "optimizer.safetensors", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_file (parser, state_path, error))
    return FALSE;
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      /* Translators: %s is a file path */
      g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_CHECKPOINT, _("%s is not a JSON object"), state_path);
      return FALSE;
    }
  JsonObject *s = json_node_get_object (root);
  if (json_object_get_int_member_with_default (s, "run_id", -1) != job->run_id)
    {
      /* Translators: %s is a checkpoint's file path */
      g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_CHECKPOINT, _("%s belongs to another run"), state_path);
      return FALSE;
    }
  job->step = json_object_get_int_member_with_default (s, "step", 0);
  job->epoch = (int) json_object_get_int_member_with_default (s, "epoch", 0);
  job->batch = json_object_get_int_member_with_default (s, "batch", 0);
  job->session_elapsed_at_start = json_object_get_double_member_with_default (s, "elapsed", 0.0);
  gint64 adam_step = json_object_get_int_member_with_default (s, "adam_step", job->step);

  BsLoadOptions options = load_options (job);
  g_autoptr (BsModel) model = bs_model_load (dir, &options, NULL, error);
  if (model == NULL)
    return FALSE;
  if (bs_model_get_n_weights (model) != bs_model_get_n_weights (job->model))
    {
      /* Translators: %s is a folder */
      g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_CHECKPOINT, _("The checkpoint in %s is of another model"), dir);
      return FALSE;
    }
  memcpy (bs_model_get_weights (job->model), bs_model_peek_weights (model),
          bs_model_get_n_weights (model) * sizeof (float));

  g_autoptr (BsSafetensors) st = bs_safetensors_open (opt_path, error);
  if (st == NULL)
    return FALSE;
  for (int which = 0; which < 2; which++)
    {
      const BsTensorInfo *t = bs_safetensors_lookup (st, which == 0 ? "exp_avg" : "exp_avg_sq");
      if (t == NULL || (gsize) t->n_elements != bs_model_get_n_weights (job->model))
        {
          /* Translators: %s is a file path */
          g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_CHECKPOINT, _("%s lacks the optimizer's moments"), opt_path);
          return FALSE;
        }
      if (!bs_safetensors_read_f32 (st, t, bs_adamw_get_moments (job->opt, which), error))
        return FALSE;
    }
  bs_adamw_set_step (job->opt, adam_step);
  /* rows logged after the checkpoint are logged again */
  return bs_store_delete_metrics_after (job->store, job->run_id, job->step, error);
}

static gboolean
load_models (Job *job, gboolean resuming, GError **error)
{
  const BsTrainParams *p = job->p;
  BsLoadOptions options = load_options (job);
  const char *tokenizer_dir = p->kind == BS_TRAIN_DISTILL ? p->teacher_dir : p->model_dir;
  job->tokenizer = bs_tokenizer_new_from_model_dir (tokenizer_dir, error);
  if (job->tokenizer == NULL)
    return FALSE;
  job->vocab_path = g_build_filename (tokenizer_dir, "vocab.txt", NULL);

  if (p->kind == BS_TRAIN_DISTILL)
    {
      job->teacher = bs_model_load (p->teacher_dir, NULL, NULL, error);
      if (job->teacher == NULL)
        return FALSE;
      const BsConfig *tc = bs_model_get_config (job->teacher);
      if (tc->n_labels != options.n_labels)
        {
          g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID,
                       g_dngettext (GETTEXT_PACKAGE,
                                    /* Translators: the teacher's folder and number of labels, then the dataset's
                                       name and number of labels */
                                    "The teacher %s has %d label but the dataset “%s” %d: fine-tune it on this "
                                    "dataset first",
                                    "The teacher %s has %d labels but the dataset “%s” %d: fine-tune it on this "
                                    "dataset first",
                                    (gulong) tc->n_labels),
                       p->teacher_dir, tc->n_labels, job->dataset->name, options.n_labels);
          return FALSE;
        }
      job->model = p->model_dir != NULL ? bs_model_load (p->model_dir, &options, NULL, error)
                                        : bs_student_from_teacher (job->teacher, p->student_layers, error);
      job->teacher_ws = bs_workspace_new ();
    }
  else
    job->model = bs_model_load (p->model_dir, &options, NULL, error);
  if (job->model == NULL)
    return FALSE;
  if (bs_tokenizer_get_vocab_size (job->tokenizer) > (guint) bs_model_get_config (job->model)->vocab_size)
    {
      guint vocab_size = bs_tokenizer_get_vocab_size (job->tokenizer);
      g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID,
                   /* Translators: a folder, the number of tokens of its vocabulary, and the model's number */
                   g_dngettext (GETTEXT_PACKAGE, "The vocabulary of %s has %u token, more than the model's %d",
                                "The vocabulary of %s has %u tokens, more than the model's %d", vocab_size),
                   tokenizer_dir, vocab_size, bs_model_get_config (job->model)->vocab_size);
      return FALSE;
    }
  if (p->max_length > bs_model_get_config (job->model)->max_position_embeddings)
    {
      int positions = bs_model_get_config (job->model)->max_position_embeddings;
      g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID,
                   /* Translators: keep max_length as it is; the numbers are tokens */
                   g_dngettext (GETTEXT_PACKAGE, "max_length %d is more than the model's %d position",
                                "max_length %d is more than the model's %d positions", (gulong) positions),
                   p->max_length, positions);
      return FALSE;
    }
  if (p->kind == BS_TRAIN_PRETRAIN)
    {
      int mask_id = bs_tokenizer_get_mask_id (job->tokenizer);
      if (mask_id < 0)
        {
          g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID,
                       /* Translators: %s is a folder; keep [MASK] as it is */
                       _("The vocabulary of %s has no [MASK] token to pretrain with"), tokenizer_dir);
          return FALSE;
        }
      job->masking = (BsMasking) { p->mask_probability, mask_id, bs_tokenizer_get_cls_id (job->tokenizer),
                                   bs_tokenizer_get_sep_id (job->tokenizer),
                                   (int) bs_tokenizer_get_vocab_size (job->tokenizer) };
    }
  BsAdamWParams hp = BS_ADAMW_DEFAULTS;
  hp.weight_decay = p->weight_decay;
  hp.exempt_bias_and_norm = p->exempt_bias_and_norm;
  job->opt = bs_adamw_new (job->model, &hp, error);
  if (job->opt == NULL || !bs_model_enable_grads (job->model, error))
    return FALSE;
  return !resuming || restore_checkpoint (job, error);
}

static gboolean
check_params (const BsTrainParams *p, GError **error)
{
  const char *problem = NULL;
  if (p->dataset == NULL)
    problem = _("no dataset given");
  else if (p->output_dir == NULL)
    problem = _("no output folder given");
  else if (p->kind != BS_TRAIN_DISTILL && p->model_dir == NULL)
    problem = _("no base model given");
  else if (p->kind == BS_TRAIN_DISTILL && p->teacher_dir == NULL)
    problem = _("no teacher given");
  else if (p->max_length < 2 || p->max_length > 4096)
    /* Translators: keep max_length as it is */
    problem = _("max_length must be between 2 and 4096");
  else if (p->batch_size < 1 || p->batch_size > 4096)
    problem = _("the batch size must be between 1 and 4096");
  else if (p->epochs < 1)
    problem = _("at least one epoch is needed");
  else if (!(p->lr > 0 && p->lr < 1))
    problem = _("the learning rate must be between 0 and 1");
  else if (p->schedule == BS_SCHEDULE_EXPONENTIAL && !(p->gamma > 0 && p->gamma <= 1))
    /* Translators: gamma is the decay factor of the learning rate; (0, 1] is the interval from 0 (excluded)
       to 1 (included) */
    problem = _("gamma must be in (0, 1]");
  else if (p->kind == BS_TRAIN_DISTILL && !(p->temperature > 0))
    problem = _("the temperature must be positive");
  else if (p->kind == BS_TRAIN_DISTILL && !(p->alpha >= 0 && p->alpha <= 1))
    /* Translators: alpha is the weight of the teacher's soft targets in distillation */
    problem = _("alpha must be between 0 and 1");
  else if (p->kind == BS_TRAIN_PRETRAIN && !(p->mask_probability > 0 && p->mask_probability < 1))
    problem = _("the share of tokens to mask must be between 0 and 1");
  if (problem == NULL)
    return TRUE;
  /* Translators: %s says what is wrong with the training's parameters */
  g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID, _("Cannot train: %s"), problem);
  return FALSE;
}

static gboolean
train_batches (Job *job, GError **error)
{
  const BsTrainParams *p = job->p;
  int l = bs_model_get_config (job->model)->n_labels;
  gsize n = job->train->n, cap = (gsize) p->batch_size * p->max_length;
  g_autofree gsize *order = g_new (gsize, MAX (n, 1));
  g_autofree gint32 *ids = g_new (gint32, cap);
  g_autofree gint32 *mask = g_new (gint32, cap);
  g_autofree gint32 *labels = g_new (gint32, p->batch_size);
  g_autofree float *logits = g_new (float, (gsize) p->batch_size * l);
  g_autofree float *teacher_logits = g_new (float, (gsize) p->batch_size * l);
  g_autofree float *dlogits = g_new (float, (gsize) p->batch_size * l);
  g_auto (MaskedLmBuffers) mlm = { 0 };

  for (; job->epoch < p->epochs && job->step < job->total_steps; job->epoch++, job->batch = 0)
    {
      bs_epoch_order (n, p->seed, job->epoch, order);
      for (; job->batch < job->steps_per_epoch && job->step < job->total_steps;)
        {
          if (g_cancellable_is_cancelled (job->cancellable))
            return write_checkpoint (job, error) && !g_cancellable_set_error_if_cancelled (job->cancellable, error);
          gint64 t0 = g_get_monotonic_time ();
          gsize begin = (gsize) job->batch * p->batch_size;
          int b = (int) MIN ((gsize) p->batch_size, n - begin);
          guint t = bs_encoded_set_fill_batch (job->train, order + begin, b, ids, mask, labels);
          BsBatch batch = { b, (int) t, ids, NULL, mask };

          bs_model_zero_grads (job->model);
          /* the dropout masks follow the step, so a resumed run draws the same */
          bs_workspace_set_dropout_step (job->ws, (guint64) job->step);
          double loss;
          int correct = 0, counted = b;
          if (p->kind == BS_TRAIN_PRETRAIN)
            {
              if (!masked_lm_batch (job, job->ws, &mlm, order + begin, b, (int) t, ids, mask, job->epoch, TRUE, &loss,
                                    &correct, &counted, error))
                return FALSE;
            }
          else
            {
              if (!bs_model_forward (job->model, job->ws, &batch, logits, error))
                return FALSE;
              if (job->teacher != NULL)
                {
                  if (!bs_model_infer (job->teacher, job->teacher_ws, &batch, teacher_logits, error))
                    return FALSE;
                  loss = bs_distillation_loss (dlogits, logits, teacher_logits, labels, b, l, p->temperature, p->alpha)
                           .loss;
                }
              else
                loss = bs_cross_entropy (dlogits, logits, labels, b, l);
              bs_model_backward (job->model, job->ws, dlogits);
              for (int i = 0; i < b; i++)
                correct += bs_argmax (logits + (gsize) i * l, l) == labels[i];
            }
          if (p->max_grad_norm > 0)
            bs_clip_grad_norm (job->model, p->max_grad_norm);
          double lr = bs_schedule_lr (&job->schedule, job->step);
          bs_adamw_step (job->opt, job->model, lr);
          job->step++;
          job->batch++;

          double accuracy = counted > 0 ? (double) correct / counted : NAN;
          double seconds = MAX ((g_get_monotonic_time () - t0) / 1e6, 1e-9);
          /* a moving average: one slow batch does not swing the ETA */
          job->examples_per_s = job->examples_per_s > 0 ? 0.9 * job->examples_per_s + 0.1 * (b / seconds) : b / seconds;
          BsMetric m = { job->run_id, job->epoch + 1, job->step, "train", loss, accuracy, lr, job->examples_per_s,
                         elapsed_now (job) };
          if (!bs_store_add_metric (job->store, &m, error))
            return FALSE;
          report (job, "train", loss, accuracy, lr);

          /* the last validation comes in finish(), with the evaluation */
          gboolean last = job->step == job->total_steps;
          gboolean epoch_end = job->batch == job->steps_per_epoch;
          if (!last && ((p->validate_every > 0 && job->step % p->validate_every == 0) || epoch_end)
              && !validate (job, FALSE, error))
            return FALSE;
          if (p->checkpoint_every > 0 && job->step % p->checkpoint_every == 0 && !epoch_end
              && !write_checkpoint (job, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
finish (Job *job, BsTrainResult *result, GError **error)
{
  const BsTrainParams *p = job->p;
  report (job, "saving", NAN, NAN, NAN);
  if (!bs_save_model_folder (job->model, job->vocab_path, bs_tokenizer_get_lower_case (job->tokenizer),
                             p->output_dir, error))
    return FALSE;
  if (!validate (job, TRUE, error))
    return FALSE;
  double test_accuracy = NAN, latency = NAN, teacher_accuracy = NAN, teacher_latency = NAN;
  if (job->test != NULL && job->test->n > 0)
    {
      g_auto (BsEvalResult) r = { 0 };
      if (!bs_evaluate (job->model, job->test, EVAL_BATCH, "test", job->progress, job->user_data, job->cancellable,
                        &r, error)
          || !save_evaluation (job, "test", &r, error))
        return FALSE;
      test_accuracy = r.accuracy;
      latency = r.latency_ms;
      /* the teacher on the same texts, for the comparison */
      g_auto (BsEvalResult) t = { 0 };
      if (job->teacher != NULL)
        {
          if (!bs_evaluate (job->teacher, job->test, EVAL_BATCH, "teacher", job->progress, job->user_data,
                            job->cancellable, &t, error))
            return FALSE;
          teacher_accuracy = t.accuracy;
          teacher_latency = t.latency_ms;
        }
    }
  if (bs_store_register_model_folder (job->store, p->output_dir, bs_train_kind_to_string (p->kind), job->run_id,
                                      error) == 0)
    return FALSE;
  if (!remove_folder (job->checkpoint_dir, error))
    return FALSE;
  if (result != NULL)
    {
      result->steps = job->step;
      result->test_accuracy = test_accuracy;
      result->validation_accuracy = job->last_validation_accuracy;
      result->latency_ms = latency;
      result->teacher_test_accuracy = teacher_accuracy;
      result->teacher_latency_ms = teacher_latency;
    }
  report (job, "done", NAN, NAN, NAN);
  return TRUE;
}

/* Pretraining's rows: the texts of the given splits, packed. */
static BsEncodedSet *
pack_splits (Job *job, const char *const *splits, GError **error)
{
  g_autoptr (GPtrArray) texts = g_ptr_array_new ();
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) bs_examples_free);
  for (const char *const *split = splits; *split != NULL; split++)
    {
      BsExamples *ex = bs_store_load_examples (job->store, job->dataset->id, *split, error);
      if (ex == NULL)
        return NULL;
      g_ptr_array_add (keep, ex);
      for (gsize i = 0; i < ex->n; i++)
        g_ptr_array_add (texts, ex->texts[i]);
    }
  return bs_encoded_set_new_packed (job->tokenizer, (const char *const *) texts->pdata, texts->len,
                                    (guint) job->p->max_length, job->cancellable, error);
}

static gboolean
load_pretraining_texts (Job *job, GError **error)
{
  static const char *const train[] = { "train", "unlabeled", NULL }, *const validation[] = { "validation", NULL };
  job->train = pack_splits (job, train, error);
  if (job->train == NULL)
    return FALSE;
  if (job->train->n == 0)
    {
      /* Translators: %s is a dataset's name */
      g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID, _("The dataset “%s” has no texts to pretrain on"),
                   job->dataset->name);
      return FALSE;
    }
  job->validation = pack_splits (job, validation, error);
  return job->validation != NULL;
}

static gboolean
load_labelled_texts (Job *job, GError **error)
{
  job->train = encode_split (job, "train", error);
  if (job->train == NULL)
    return FALSE;
  if (job->train->n == 0)
    {
      /* Translators: %s is a dataset's name */
      g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID, _("The dataset “%s” has no training examples"),
                   job->dataset->name);
      return FALSE;
    }
  job->validation = encode_split (job, "validation", error);
  job->test = job->validation != NULL ? encode_split (job, "test", error) : NULL;
  return job->test != NULL;
}

static gboolean
run_job (Job *job, gint64 resume_run_id, BsTrainResult *result, GError **error)
{
  const BsTrainParams *p = job->p;
  job->dataset = bs_store_lookup_dataset (job->store, p->dataset, error);
  if (job->dataset == NULL)
    return FALSE;
  if (p->kind != BS_TRAIN_PRETRAIN && g_strv_length (job->dataset->labels) < 2)
    {
      g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID,
                   /* Translators: %s is a dataset's name */
                   _("The dataset “%s” has fewer than two labels: nothing to classify"), job->dataset->name);
      return FALSE;
    }
  if (!load_models (job, resume_run_id > 0, error))
    return FALSE;
  if (!(p->kind == BS_TRAIN_PRETRAIN ? load_pretraining_texts (job, error) : load_labelled_texts (job, error)))
    return FALSE;

  job->steps_per_epoch = ((gint64) job->train->n + p->batch_size - 1) / p->batch_size;
  job->total_steps = job->steps_per_epoch * p->epochs;
  if (p->max_steps > 0)
    job->total_steps = MIN (job->total_steps, p->max_steps);
  job->schedule = (BsSchedule) { p->schedule, p->lr, p->gamma, p->step_every, p->warmup_steps, job->total_steps };
  job->ws = bs_workspace_new ();
  bs_workspace_set_dropout (job->ws, p->dropout, p->seed);

  if (!train_batches (job, error))
    return FALSE;
  return finish (job, result, error);
}

/* params: a new run's; NULL to resume run resume_run_id of the store at
 * db_path. */
static gboolean
start (const BsTrainParams *params, const char *db_path, gint64 resume_run_id, BsJobProgressFunc progress,
       gpointer user_data, GCancellable *cancellable, BsTrainResult *result, GError **error)
{
  g_auto (BsTrainParams) stored = { 0 };
  Job job = { params, progress, user_data, cancellable };
  job.session_start = g_get_monotonic_time ();
  job.last_validation_accuracy = NAN;
  if (result != NULL)
    *result = (BsTrainResult) { 0, 0, NAN, NAN, NAN, NAN, NAN };

  job.store = bs_store_open (db_path, error);
  if (resume_run_id > 0)
    {
      /* the run's own parameters, from the store it was recorded in */
      if (job.store == NULL)
        return FALSE;
      g_autoptr (BsRun) run = bs_store_get_run (job.store, resume_run_id, error);
      if (run == NULL || !bs_train_params_from_json (&stored, run->params_json, error))
        {
          job_clear (&job);
          return FALSE;
        }
      if (g_strcmp0 (run->status, "finished") == 0)
        {
          /* Translators: a run's number */
          g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_CHECKPOINT, _("Run %" PRId64 " has already finished"),
                       resume_run_id);
          job_clear (&job);
          return FALSE;
        }
      job.p = &stored;
      job.run_id = resume_run_id;
    }
  else if (job.store == NULL || !check_params (params, error))
    {
      job_clear (&job);
      return FALSE;
    }
  const BsTrainParams *p = job.p;
  job.checkpoint_dir = g_build_filename (p->output_dir, "checkpoint", NULL);
  if (g_mkdir_with_parents (p->output_dir, 0755) != 0)
    {
      int saved = errno;
      /* Translators: a folder and the system's reason */
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Could not create the folder %s: %s"),
                   p->output_dir, g_strerror (saved));
      job_clear (&job);
      return FALSE;
    }

  if (resume_run_id > 0)
    {
      if (!bs_store_set_run_status (job.store, job.run_id, "running", NULL, error))
        {
          job_clear (&job);
          return FALSE;
        }
    }
  else
    {
      g_autofree char *json = bs_train_params_to_json (p);
      g_autoptr (BsDataset) dataset = bs_store_lookup_dataset (job.store, p->dataset, error);
      if (dataset == NULL)
        {
          job_clear (&job);
          return FALSE;
        }
      BsRunInfo info = { bs_train_kind_to_string (p->kind), dataset->id,
                         p->kind == BS_TRAIN_DISTILL && p->model_dir == NULL ? NULL : p->model_dir, p->teacher_dir,
                         p->output_dir, json };
      job.run_id = bs_store_create_run (job.store, &info, error);
      if (job.run_id <= 0)
        {
          job_clear (&job);
          return FALSE;
        }
    }
  if (result != NULL)
    result->run_id = job.run_id;

  g_autoptr (GError) local_error = NULL;
  gboolean ok = run_job (&job, resume_run_id, result, &local_error);
  if (!ok)
    {
      gboolean cancelled = g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      bs_store_set_run_status (job.store, job.run_id, cancelled ? "cancelled" : "failed",
                               cancelled ? NULL : local_error->message, NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
    }
  else
    ok = bs_store_set_run_status (job.store, job.run_id, "finished", NULL, error);
  job_clear (&job);
  return ok;
}

gboolean
bs_train_run (const BsTrainParams *params, BsJobProgressFunc progress, gpointer user_data,
              GCancellable *cancellable, BsTrainResult *result, GError **error)
{
  return start (params, params->db_path, 0, progress, user_data, cancellable, result, error);
}

gboolean
bs_train_resume (const char *db_path, gint64 run_id, BsJobProgressFunc progress, gpointer user_data,
                 GCancellable *cancellable, BsTrainResult *result, GError **error)
{
  return start (NULL, db_path, run_id, progress, user_data, cancellable, result, error);
}
