/* The jobs end to end on a small synthetic dataset: fine-tuning learns it,
 * a cancelled or killed run resumes to the same weights as one never
 * stopped, distillation makes a smaller student that still classifies,
 * pretraining learns the texts' words and its model fine-tunes, and
 * evaluation reports what it should. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "bs-checkpoint.h"
#include "bs-evaluate.h"
#include "bs-import.h"
#include "bs-random.h"
#include "bs-store.h"
#include "bs-test-model.h"
#include "bs-test-util.h"
#include "bs-train-job.h"

static char *tmp_root;
static char *db_path;
static char *base_model;

static const char *const positive[] = { "good", "great", "excellent", "wonderful", "amazing", "love", "best", "fun" };
static const char *const negative[] = { "bad", "terrible", "awful", "worst", "boring", "hate", "poor", "dull" };
static const char *const filler[] = { "the", "movie", "film", "was", "and", "it", "a", "story", "acting", "plot",
                                      "of", "this", "with", "actors", "scene", "end" };

/* Reviews whose label shows in two of their words, among filler. */
static void
write_reviews (const char *path, int n, guint64 seed)
{
  BsRandom rng;
  bs_random_init (&rng, seed);
  g_autoptr (GString) out = g_string_new (NULL);
  for (int i = 0; i < n; i++)
    {
      int label = i % 2;
      const char *const *words = label ? positive : negative;
      g_autoptr (GString) text = g_string_new (NULL);
      int length = 6 + (int) bs_random_below (&rng, 12);
      int at1 = (int) bs_random_below (&rng, length), at2 = (int) bs_random_below (&rng, length);
      for (int k = 0; k < length; k++)
        {
          const char *w = k == at1 || k == at2 ? words[bs_random_below (&rng, 8)] : filler[bs_random_below (&rng, 16)];
          g_string_append_printf (text, k ? " %s" : "%s", w);
        }
      g_string_append_printf (out, "{\"text\": \"%s\", \"label\": \"%s\"}\n", text->str, label ? "pos" : "neg");
    }
  g_assert_true (g_file_set_contents (path, out->str, -1, NULL));
}

static void
setup_data (void)
{
  g_autoptr (GError) error = NULL;
  tmp_root = g_dir_make_tmp ("test-jobs-XXXXXX", &error);
  g_assert_no_error (error);
  db_path = g_build_filename (tmp_root, "studio.db", NULL);
  g_autofree char *train = g_build_filename (tmp_root, "train.jsonl", NULL);
  g_autofree char *test = g_build_filename (tmp_root, "test.jsonl", NULL);
  write_reviews (train, 480, 1);
  write_reviews (test, 120, 2);

  g_autoptr (BsStore) store = bs_store_open (db_path, &error);
  g_assert_no_error (error);
  BsImportOptions options = { .format = BS_IMPORT_JSONL, .name = "reviews", .validation_ratio = 0.1, .seed = 3 };
  BsImportResult result = { 0 };
  g_assert_true (bs_import (store, train, &options, &result, NULL, &error));
  g_assert_no_error (error);
  gint64 dataset_id = result.dataset_id;
  bs_import_result_clear (&result);
  options.split = "test";
  options.validation_ratio = 0;
  g_assert_true (bs_import_append (store, dataset_id, test, &options, &result, NULL, &error));
  g_assert_no_error (error);
  bs_import_result_clear (&result);

  /* texts without labels, a dataset of their own */
  BsImportOptions text_options = { .format = BS_IMPORT_JSONL, .name = "texts", .split = "unlabeled" };
  g_autofree char *unlabeled_jsonl = g_build_filename (tmp_root, "unlabeled.jsonl", NULL);
  g_assert_true (g_file_set_contents (unlabeled_jsonl,
                                      "{\"text\": \"the movie was great fun\"}\n"
                                      "{\"text\": \"the plot was dull and the acting poor\"}\n"
                                      "{\"text\": \"a story of love\"}\n", -1, NULL));
  g_assert_true (bs_import (store, unlabeled_jsonl, &text_options, &result, NULL, &error));
  g_assert_no_error (error);
  bs_import_result_clear (&result);

  /* a small model from scratch over the real BERT vocabulary */
  base_model = g_build_filename (tmp_root, "base", NULL);
  bs_test_make_tiny_bert (base_model, 64, NULL, 0, 11);
}

static void
fill_params (BsTrainParams *p, BsTrainKind kind, const char *output)
{
  bs_train_params_init (p, kind);
  p->db_path = g_strdup (db_path);
  p->dataset = g_strdup ("reviews");
  p->output_dir = g_build_filename (tmp_root, output, NULL);
  p->max_length = 32;
  p->batch_size = 16;
  p->epochs = 3;
  p->lr = 2e-3;
  p->schedule = BS_SCHEDULE_LINEAR;
  p->warmup_steps = 5;
  p->checkpoint_every = 7;
  if (kind != BS_TRAIN_DISTILL)
    p->model_dir = g_strdup (base_model);
  if (kind == BS_TRAIN_PRETRAIN)
    {
      /* a vocabulary of 30,522 to learn from random weights */
      p->epochs = 12;
      p->lr = 1e-2;
    }
}

static GBytes *
weights_of (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GMappedFile) f = g_mapped_file_new (path, FALSE, NULL);
  g_assert_nonnull (f);
  return g_mapped_file_get_bytes (f);
}

static BsTrainResult reference;
static GBytes *reference_weights;

/* The uninterrupted run the others are measured against. */
static void
test_fine_tune (void)
{
  g_auto (BsTrainParams) p = { 0 };
  fill_params (&p, BS_TRAIN_FINE_TUNE, "straight");
  g_autoptr (GError) error = NULL;
  bs_train_run (&p, NULL, NULL, NULL, &reference, &error);
  g_assert_no_error (error);
  g_test_message ("fine-tuned: %" G_GINT64_FORMAT " steps, validation %.3f, test %.3f", reference.steps,
                  reference.validation_accuracy, reference.test_accuracy);
  /* 432 training examples in batches of 16, 3 epochs */
  g_assert_cmpint (reference.steps, ==, 27 * 3);
  g_assert_cmpfloat (reference.test_accuracy, >, 0.9);
  reference_weights = weights_of (p.output_dir);

  /* the folder is a model folder, registered; the checkpoint is gone */
  g_autofree char *vocab = g_build_filename (p.output_dir, "vocab.txt", NULL);
  g_autofree char *tok = g_build_filename (p.output_dir, "tokenizer_config.json", NULL);
  g_autofree char *ckpt = g_build_filename (p.output_dir, "checkpoint", NULL);
  g_assert_true (g_file_test (vocab, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (tok, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (ckpt, G_FILE_TEST_EXISTS));
  g_autoptr (BsModel) trained = bs_model_load (p.output_dir, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bs_model_get_config (trained)->labels[0], ==, "neg");
  g_assert_cmpstr (bs_model_get_config (trained)->labels[1], ==, "pos");

  g_autoptr (BsStore) store = bs_store_open (db_path, &error);
  g_autoptr (BsModelInfo) info = bs_store_find_model (store, p.output_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->run_id, ==, reference.run_id);
  g_autoptr (BsRun) run = bs_store_get_run (store, reference.run_id, &error);
  g_assert_cmpstr (run->status, ==, "finished");
  /* a metrics row for every batch, validation rows, and test + validation evaluations */
  g_autoptr (GArray) train_rows = bs_store_get_metrics (store, reference.run_id, "train", 0, &error);
  g_assert_cmpuint (train_rows->len, ==, reference.steps);
  for (guint i = 0; i < train_rows->len; i++)
    g_assert_cmpint (g_array_index (train_rows, BsMetric, i).step, ==, i + 1);
  g_autoptr (GArray) validation_rows = bs_store_get_metrics (store, reference.run_id, "validation", 0, &error);
  g_assert_cmpuint (validation_rows->len, ==, 3); /* each epoch's end */
  g_autoptr (GPtrArray) evals = bs_store_list_evaluations (store, reference.run_id, &error);
  g_assert_cmpuint (evals->len, ==, 2);
}

typedef struct
{
  GCancellable *cancellable;
  gint64 at;
} CancelAt;

static void
cancel_at_step (const BsJobProgress *progress, gpointer data)
{
  CancelAt *c = data;
  if (progress->step >= c->at)
    g_cancellable_cancel (c->cancellable);
}

static void
test_cancel_and_resume (void)
{
  g_auto (BsTrainParams) p = { 0 };
  fill_params (&p, BS_TRAIN_FINE_TUNE, "resumed");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CancelAt c = { cancellable, 40 };
  BsTrainResult first = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_train_run (&p, cancel_at_step, &c, cancellable, &first, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  g_autoptr (BsStore) store = bs_store_open (db_path, &error);
  g_autoptr (BsRun) run = bs_store_get_run (store, first.run_id, &error);
  g_assert_cmpstr (run->status, ==, "cancelled");
  g_autofree char *state = g_build_filename (p.output_dir, "checkpoint", "state.json", NULL);
  g_assert_true (g_file_test (state, G_FILE_TEST_EXISTS));

  BsTrainResult resumed = { 0 };
  bs_train_resume (db_path, first.run_id, NULL, NULL, NULL, &resumed, &error);
  g_assert_no_error (error);
  g_assert_cmpint (resumed.steps, ==, reference.steps);
  g_autoptr (GBytes) weights = weights_of (p.output_dir);
  g_assert_true (g_bytes_equal (weights, reference_weights));
  g_assert_cmpfloat (resumed.test_accuracy, ==, reference.test_accuracy);

  /* no metric lost, none twice */
  g_autoptr (GArray) rows = bs_store_get_metrics (store, first.run_id, "train", 0, &error);
  g_assert_cmpuint (rows->len, ==, reference.steps);
  g_autoptr (BsRun) done = bs_store_get_run (store, first.run_id, &error);
  g_assert_cmpstr (done->status, ==, "finished");

  /* a finished run is not resumed again */
  g_assert_false (bs_train_resume (db_path, first.run_id, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, BS_JOB_ERROR, BS_JOB_ERROR_CHECKPOINT);
}

/* The CLI killed with SIGKILL after a checkpoint: found interrupted, resumed
 * to the same weights. */
static void
test_kill_and_resume (void)
{
  const char *cli = g_getenv ("BS_CLI");
  g_assert_nonnull (cli);
  g_autofree char *output = g_build_filename (tmp_root, "killed", NULL);
  g_autofree char *state = g_build_filename (output, "checkpoint", "state.json", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) train = g_subprocess_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, cli, "train", "--db", db_path,
      "--dataset", "reviews", "--model", base_model, "--output", output, "--max-length", "32", "--batch-size", "16",
      "--epochs", "3", "--lr", "2e-3", "--schedule", "linear", "--warmup", "5", "--checkpoint-every", "7", NULL);
  g_assert_no_error (error);
  /* wait for a checkpoint past the first */
  gint64 deadline = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autofree char *contents = NULL;
      if (g_file_get_contents (state, &contents, NULL, NULL) && strstr (contents, "\"step\": 7") == NULL)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20000);
    }
  g_subprocess_send_signal (train, SIGKILL);
  g_subprocess_wait (train, NULL, &error);
  g_assert_no_error (error);

  g_autoptr (BsStore) store = bs_store_open (db_path, &error);
  g_assert_cmpint (bs_store_mark_interrupted (store, &error), >=, 1);
  g_autoptr (GPtrArray) runs = bs_store_list_runs (store, &error);
  const BsRun *killed = g_ptr_array_index (runs, 0); /* newest first */
  g_assert_cmpstr (killed->status, ==, "interrupted");
  g_autofree char *run_id = g_strdup_printf ("%" G_GINT64_FORMAT, killed->id);

  g_autoptr (GSubprocess) resume = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, cli, "resume", "--db",
                                                     db_path, run_id, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (resume, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) weights = weights_of (output);
  g_assert_true (g_bytes_equal (weights, reference_weights));
}

static void
test_distill (void)
{
  g_auto (BsTrainParams) p = { 0 };
  fill_params (&p, BS_TRAIN_DISTILL, "student");
  p.teacher_dir = g_build_filename (tmp_root, "straight", NULL);
  p.student_layers = 1;
  p.temperature = 2.0;
  p.alpha = 0.5;
  BsTrainResult r = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_train_run (&p, NULL, NULL, NULL, &r, &error));
  g_assert_no_error (error);
  g_test_message ("distilled: test %.3f (teacher %.3f)", r.test_accuracy, reference.test_accuracy);
  g_assert_cmpfloat (r.test_accuracy, >, 0.85);
  g_autoptr (BsModel) teacher = bs_model_load (p.teacher_dir, NULL, NULL, &error);
  g_autoptr (BsModel) student = bs_model_load (p.output_dir, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bs_model_get_config (student)->n_layers, ==, 1);
  g_assert_cmpuint (bs_model_get_n_weights (student), <, bs_model_get_n_weights (teacher));
}

/* A student made from the teacher starts as the teacher's layers 0, 2, ... */
static void
test_student_from_teacher (void)
{
  g_autoptr (BsConfig) config = bs_config_new (BS_ARCH_BERT);
  config->vocab_size = 20, config->hidden_size = 8, config->n_layers = 4, config->n_heads = 2;
  config->intermediate_size = 12, config->max_position_embeddings = 8;
  g_autoptr (BsModel) teacher = bs_model_new (config, NULL);
  bs_model_init_weights (teacher, 5);
  g_autoptr (GError) error = NULL;
  g_autoptr (BsModel) student = bs_student_from_teacher (teacher, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bs_model_get_config (student)->n_layers, ==, 2);
  const BsParam *s1 = bs_model_find_param (student, "bert.encoder.layer.1.output.dense.weight");
  const BsParam *t2 = bs_model_find_param (teacher, "bert.encoder.layer.2.output.dense.weight");
  g_assert_cmpmem (bs_model_peek_weights (student) + s1->offset, s1->n_elements * 4,
                   bs_model_peek_weights (teacher) + t2->offset, t2->n_elements * 4);
  const BsParam *sc = bs_model_find_param (student, "classifier.weight");
  const BsParam *tc = bs_model_find_param (teacher, "classifier.weight");
  g_assert_cmpmem (bs_model_peek_weights (student) + sc->offset, sc->n_elements * 4,
                   bs_model_peek_weights (teacher) + tc->offset, tc->n_elements * 4);
  g_assert_null (bs_student_from_teacher (teacher, 5, &error));
  g_assert_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID);
}

static BsTrainResult pretrained;
static GBytes *pretrained_weights;

/* From random weights, the masked words of the reviews are learnt: their
 * 32 words stand out of the 30,522 of the vocabulary. */
static void
test_pretrain (void)
{
  g_auto (BsTrainParams) p = { 0 };
  fill_params (&p, BS_TRAIN_PRETRAIN, "pretrained");
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_train_run (&p, NULL, NULL, NULL, &pretrained, &error));
  g_assert_no_error (error);
  pretrained_weights = weights_of (p.output_dir);

  g_autoptr (BsStore) store = bs_store_open (db_path, &error);
  g_autoptr (GArray) rows = bs_store_get_metrics (store, pretrained.run_id, "train", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, pretrained.steps);
  double first = g_array_index (rows, BsMetric, 0).loss, last = g_array_index (rows, BsMetric, rows->len - 1).loss;
  g_test_message ("pretrained: %" G_GINT64_FORMAT " steps, loss %.2f -> %.2f, masked words right %.3f "
                  "(validation)", pretrained.steps, first, last, pretrained.validation_accuracy);
  g_assert_cmpfloat (first, >, log (30522.0) - 1);
  g_assert_cmpfloat (last, <, 4.0);
  /* the reviews draw their words at random from 32: at best a masked one is
   * guessed from how common it is (a filler word: 1/16) or, for a sentiment
   * word, from the other one (1/8); from random weights, 1 in 30,522 */
  g_assert_cmpfloat (pretrained.validation_accuracy, >, 0.05);
  g_assert_true (isnan (pretrained.test_accuracy));

  /* a masked LM under transformers' names, nothing missing or left over */
  g_auto (BsLoadReport) report = { 0 };
  BsLoadOptions mlm = { .head = BS_HEAD_MASKED_LM };
  g_autoptr (BsModel) model = bs_model_load (p.output_dir, &mlm, &report, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bs_model_get_head (model), ==, BS_HEAD_MASKED_LM);
  g_assert_false (report.head_initialised);
  g_assert_cmpuint (report.ignored->len, ==, 0);
  g_autofree char *config_path = g_build_filename (p.output_dir, "config.json", NULL);
  g_autofree char *config = NULL;
  g_assert_true (g_file_get_contents (config_path, &config, NULL, NULL));
  g_assert_nonnull (strstr (config, "\"BertForMaskedLM\""));
  g_autoptr (BsModelInfo) info = bs_store_find_model (store, p.output_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->source, ==, "pretrain");
  g_autoptr (BsRun) run = bs_store_get_run (store, pretrained.run_id, &error);
  g_assert_cmpstr (run->kind, ==, "pretrain");
  g_assert_cmpstr (run->status, ==, "finished");
}

/* Resumed from a cancel, pretraining masks and draws as the straight run
 * did, and ends with the same weights. */
static void
test_pretrain_cancel_and_resume (void)
{
  g_auto (BsTrainParams) p = { 0 };
  fill_params (&p, BS_TRAIN_PRETRAIN, "pretrained-resumed");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  CancelAt c = { cancellable, 20 };
  BsTrainResult first = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_false (bs_train_run (&p, cancel_at_step, &c, cancellable, &first, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  BsTrainResult resumed = { 0 };
  g_assert_true (bs_train_resume (db_path, first.run_id, NULL, NULL, NULL, &resumed, &error));
  g_assert_no_error (error);
  g_assert_cmpint (resumed.steps, ==, pretrained.steps);
  g_autoptr (GBytes) weights = weights_of (p.output_dir);
  g_assert_true (g_bytes_equal (weights, pretrained_weights));
}

/* A pretrained model fine-tunes into a classifier: its encoder carried
 * over, a new pooler and head. (Briefly and gently pretrained: the
 * synthetic reviews' words do not depend on each other, so a longer or
 * bolder pretraining learns to ignore the context, which a classifier
 * must then unlearn.) */
static void
test_fine_tune_pretrained (void)
{
  g_auto (BsTrainParams) pre = { 0 };
  fill_params (&pre, BS_TRAIN_PRETRAIN, "pretrained-briefly");
  pre.epochs = 1;
  pre.lr = 2e-3;
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_train_run (&pre, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  g_auto (BsLoadReport) report = { 0 };
  g_autoptr (BsModel) mlm = bs_model_load (pre.output_dir, &(BsLoadOptions) { .head = BS_HEAD_MASKED_LM }, NULL, &error);
  g_autoptr (BsModel) classifier = bs_model_load (pre.output_dir, NULL, &report, &error);
  g_assert_no_error (error);
  g_assert_true (report.head_initialised);
  for (guint i = 0; i < bs_model_get_n_params (classifier); i++)
    {
      const BsParam *c = bs_model_get_param (classifier, i);
      const BsParam *m = bs_model_find_param (mlm, c->name);
      if (c->head || strstr (c->name, ".pooler.") != NULL)
        continue;
      g_assert_nonnull (m);
      g_assert_cmpmem (bs_model_peek_weights (classifier) + c->offset, c->n_elements * 4,
                       bs_model_peek_weights (mlm) + m->offset, m->n_elements * 4);
    }

  g_auto (BsTrainParams) p = { 0 };
  fill_params (&p, BS_TRAIN_FINE_TUNE, "pretrained-then-fine-tuned");
  g_free (p.model_dir);
  p.model_dir = g_strdup (pre.output_dir);
  BsTrainResult r = { 0 };
  g_assert_true (bs_train_run (&p, NULL, NULL, NULL, &r, &error));
  g_assert_no_error (error);
  g_test_message ("fine-tuned after pretraining: test %.3f", r.test_accuracy);
  g_assert_cmpfloat (r.test_accuracy, >, 0.9);
  g_autoptr (BsModel) model = bs_model_load (p.output_dir, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (bs_model_get_head (model), ==, BS_HEAD_CLASSIFIER);
}

/* Texts without any label pretrain; they do not fine-tune. */
static void
test_pretrain_unlabeled (void)
{
  g_auto (BsTrainParams) p = { 0 };
  fill_params (&p, BS_TRAIN_PRETRAIN, "from-texts");
  g_free (p.dataset);
  p.dataset = g_strdup ("texts");
  p.max_length = 8; /* three short texts: a few packed rows */
  p.epochs = 2;
  BsTrainResult r = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_train_run (&p, NULL, NULL, NULL, &r, &error));
  g_assert_no_error (error);
  /* 18 word pieces and 2 [SEP] in rows of 6: 4 rows, one batch an epoch */
  g_assert_cmpint (r.steps, ==, 2);
  g_assert_true (isnan (r.validation_accuracy));

  g_auto (BsTrainParams) f = { 0 };
  fill_params (&f, BS_TRAIN_FINE_TUNE, "texts-fine-tuned");
  g_free (f.dataset);
  f.dataset = g_strdup ("texts");
  g_assert_false (bs_train_run (&f, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID);
  g_clear_error (&error);

  /* nothing to learn from, and a share to mask that means nothing */
  g_auto (BsTrainParams) bad = { 0 };
  fill_params (&bad, BS_TRAIN_PRETRAIN, "bad-share");
  bad.mask_probability = 1.5;
  g_assert_false (bs_train_run (&bad, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID);
}

/* Pretraining learns what the context tells: in texts that repeat one word,
 * a masked word is its neighbours'. Without the context a masked word is
 * guessed at best from how common it is (1 in 24) or, for the tenth left
 * unmasked, from itself: 14% right. */
static void
test_pretrain_learns_context (void)
{
  static const char *const words[] = { "actor", "book", "car", "cat", "city", "dog", "film", "friend",
                                       "game", "hate", "house", "light", "love", "money", "music", "night",
                                       "plot", "river", "scene", "school", "story", "tree", "water", "world" };
  BsRandom rng;
  bs_random_init (&rng, 5);
  g_autoptr (GString) jsonl = g_string_new (NULL);
  for (int i = 0; i < 2000; i++)
    {
      const char *word = words[bs_random_below (&rng, G_N_ELEMENTS (words))];
      g_string_append (jsonl, "{\"text\": \"");
      for (int k = 0; k < 30; k++)
        g_string_append_printf (jsonl, k ? " %s" : "%s", word);
      g_string_append_printf (jsonl, "\", \"label\": %d}\n", i % 2); /* for the validation split */
    }
  g_autofree char *path = g_build_filename (tmp_root, "repeats.jsonl", NULL);
  g_assert_true (g_file_set_contents (path, jsonl->str, -1, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (BsStore) store = bs_store_open (db_path, &error);
  g_assert_no_error (error);
  BsImportOptions options = { .format = BS_IMPORT_JSONL, .name = "repeats", .validation_ratio = 0.1, .seed = 1 };
  BsImportResult imported = { 0 };
  g_assert_true (bs_import (store, path, &options, &imported, NULL, &error));
  g_assert_no_error (error);
  bs_import_result_clear (&imported);

  g_auto (BsTrainParams) p = { 0 };
  fill_params (&p, BS_TRAIN_PRETRAIN, "learnt-context");
  g_free (p.dataset);
  p.dataset = g_strdup ("repeats");
  p.batch_size = 32;
  p.epochs = 6;
  p.lr = 3e-3;
  p.schedule = BS_SCHEDULE_CONSTANT;
  p.warmup_steps = 20;
  p.dropout = FALSE;
  p.checkpoint_every = 0; /* nothing to resume here: spare the writes */
  BsTrainResult r = { 0 };
  g_assert_true (bs_train_run (&p, NULL, NULL, NULL, &r, &error));
  g_assert_no_error (error);
  g_test_message ("repeated words: %" G_GINT64_FORMAT " steps, masked words right %.3f (validation)", r.steps,
                  r.validation_accuracy);
  g_assert_cmpfloat (r.validation_accuracy, >, 0.5);
}

static void
test_bad_params (void)
{
  g_auto (BsTrainParams) p = { 0 };
  fill_params (&p, BS_TRAIN_FINE_TUNE, "bad");
  g_autoptr (GError) error = NULL;
  p.batch_size = 0;
  g_assert_false (bs_train_run (&p, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID);
  g_clear_error (&error);
  p.batch_size = 16;
  g_free (p.dataset);
  p.dataset = g_strdup ("no such dataset");
  g_assert_false (bs_train_run (&p, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, BS_STORE_ERROR, BS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_free (p.dataset);
  p.dataset = g_strdup ("reviews");
  p.max_length = 65; /* more than the model's 64 positions */
  g_assert_false (bs_train_run (&p, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "64"));
}

/* JSON round trip of the parameters a run is resumed with */
static void
test_params_json (void)
{
  g_auto (BsTrainParams) p = { 0 };
  fill_params (&p, BS_TRAIN_DISTILL, "x");
  p.teacher_dir = g_strdup ("/t");
  p.seed = G_MAXUINT64 - 5;
  p.truncation = BS_TRUNCATE_HEAD_TAIL;
  p.exempt_bias_and_norm = TRUE;
  g_autofree char *json = bs_train_params_to_json (&p);
  g_auto (BsTrainParams) q = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (bs_train_params_from_json (&q, json, &error));
  g_assert_no_error (error);
  g_autofree char *again = bs_train_params_to_json (&q);
  g_assert_cmpstr (json, ==, again);
  g_assert_cmpuint (q.seed, ==, p.seed);
  g_assert_cmpint (q.kind, ==, BS_TRAIN_DISTILL);

  g_auto (BsTrainParams) pre = { 0 };
  fill_params (&pre, BS_TRAIN_PRETRAIN, "y");
  pre.mask_probability = 0.2;
  g_autofree char *pre_json = bs_train_params_to_json (&pre);
  g_auto (BsTrainParams) pre_back = { 0 };
  g_assert_true (bs_train_params_from_json (&pre_back, pre_json, &error));
  g_assert_cmpint (pre_back.kind, ==, BS_TRAIN_PRETRAIN);
  g_assert_cmpfloat (pre_back.mask_probability, ==, 0.2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  setup_data ();
  g_test_add_func ("/jobs/params-json", test_params_json);
  g_test_add_func ("/jobs/fine-tune", test_fine_tune);
  g_test_add_func ("/jobs/cancel-and-resume", test_cancel_and_resume);
  g_test_add_func ("/jobs/kill-and-resume", test_kill_and_resume);
  g_test_add_func ("/jobs/distill", test_distill);
  g_test_add_func ("/jobs/pretrain", test_pretrain);
  g_test_add_func ("/jobs/pretrain-cancel-and-resume", test_pretrain_cancel_and_resume);
  g_test_add_func ("/jobs/fine-tune-pretrained", test_fine_tune_pretrained);
  g_test_add_func ("/jobs/pretrain-unlabeled", test_pretrain_unlabeled);
  g_test_add_func ("/jobs/pretrain-learns-context", test_pretrain_learns_context);
  g_test_add_func ("/jobs/student-from-teacher", test_student_from_teacher);
  g_test_add_func ("/jobs/bad-params", test_bad_params);
  int status = g_test_run ();
  g_clear_pointer (&reference_weights, g_bytes_unref);
  g_clear_pointer (&pretrained_weights, g_bytes_unref);
  bs_test_remove_tree (tmp_root);
  g_free (tmp_root), g_free (db_path), g_free (base_model);
  return status;
}
