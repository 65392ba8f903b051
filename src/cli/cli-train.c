/* cli-train.c: bert-studio-cli train, distill and resume. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bs-cli-common.h"
#include "bs-cli.h"
#include "bs-store.h"
#include "bs-train-job.h"

typedef struct
{
  BsTrainParams params;
  const char *db;     /* resuming: the store */
  gint64 resume;
  gboolean json;
  BsTrainResult result;
} TrainCommand;

static gboolean
run (gpointer data, GCancellable *cancellable, GError **error)
{
  TrainCommand *t = data;
  if (t->resume > 0)
    return bs_train_resume (t->db, t->resume, bs_cli_print_progress, NULL, cancellable, &t->result, error);
  return bs_train_run (&t->params, bs_cli_print_progress, NULL, cancellable, &t->result, error);
}

static void
print_result (const TrainCommand *t, const char *output_dir)
{
  if (t->json)
    {
      printf ("{\"run\": %" G_GINT64_FORMAT ", \"steps\": %" G_GINT64_FORMAT ", \"model\": \"%s\"", t->result.run_id,
              t->result.steps, output_dir);
      if (!isnan (t->result.validation_accuracy))
        printf (", \"validation_accuracy\": %.6f", t->result.validation_accuracy);
      if (!isnan (t->result.test_accuracy))
        printf (", \"test_accuracy\": %.6f", t->result.test_accuracy);
      printf ("}\n");
      return;
    }
  printf ("Run %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " steps, model saved in %s\n", t->result.run_id,
          t->result.steps, output_dir);
  if (!isnan (t->result.validation_accuracy))
    printf ("Validation accuracy: %.2f%%\n", 100 * t->result.validation_accuracy);
  if (!isnan (t->result.test_accuracy))
    printf ("Test accuracy: %.2f%%\n", 100 * t->result.test_accuracy);
}

static int
finish (const char *command, TrainCommand *t, const char *output_dir, GError *error)
{
  if (error == NULL)
    {
      print_result (t, output_dir);
      return BS_EXIT_OK;
    }
  int status = bs_cli_report (command, error);
  if (t->result.run_id > 0 && (status == BS_EXIT_CANCELLED || status == BS_EXIT_FAILURE))
    fprintf (stderr, "Resume it with: bert-studio-cli resume %" G_GINT64_FORMAT "\n", t->result.run_id);
  return status;
}

static int
train_or_distill (int argc, char **argv, BsTrainKind kind)
{
  const char *command = kind == BS_TRAIN_DISTILL ? "distill" : "train";
  g_auto (BsTrainParams) p = { 0 };
  bs_train_params_init (&p, kind);
  g_autofree char *schedule = NULL, *truncation = NULL;
  gboolean no_dropout = FALSE, json = FALSE;
  gint64 seed = (gint64) p.seed;
  int student_layers = 0;
  GOptionEntry common[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &p.db_path, "The database (default: the user's)", "PATH" },
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &p.dataset, "The dataset to train on (name or id)", "NAME" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &p.output_dir, "The folder to save the trained model in", "DIR" },
    { "max-length", 0, 0, G_OPTION_ARG_INT, &p.max_length, "Tokens per text at most (default 128)", "N" },
    { "truncation", 0, 0, G_OPTION_ARG_STRING, &truncation, "Which tokens of a long text: head or head+tail", "HOW" },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &p.batch_size, "Texts per batch (default 64)", "N" },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &p.epochs, "Passes over the training texts (default 1)", "N" },
    { "max-steps", 0, 0, G_OPTION_ARG_INT64, &p.max_steps, "Stop after N batches", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &p.lr, "Learning rate (default 2e-5)", "X" },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &schedule, "exponential (default), linear or constant", "KIND" },
    { "gamma", 0, 0, G_OPTION_ARG_DOUBLE, &p.gamma, "Exponential decay factor (default 0.96)", "X" },
    { "step-every", 0, 0, G_OPTION_ARG_INT, &p.step_every, "Decay every N batches (default 10)", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &p.warmup_steps, "Warm-up batches (default 0)", "N" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &p.weight_decay, "AdamW weight decay (default 0.01)", "X" },
    { "no-decay-bias-norm", 0, 0, G_OPTION_ARG_NONE, &p.exempt_bias_and_norm,
      "No weight decay on biases and LayerNorm weights", NULL },
    { "max-grad-norm", 0, 0, G_OPTION_ARG_DOUBLE, &p.max_grad_norm, "Clip gradients to this norm (default off)", "X" },
    { "no-dropout", 0, 0, G_OPTION_ARG_NONE, &no_dropout, "Train without dropout", NULL },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 42)", "N" },
    { "validate-every", 0, 0, G_OPTION_ARG_INT, &p.validate_every, "Validate every N batches (and at epoch ends)",
      "N" },
    { "checkpoint-every", 0, 0, G_OPTION_ARG_INT, &p.checkpoint_every, "Checkpoint every N batches (default 200)",
      "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the result as JSON", NULL },
    { NULL },
  };
  GOptionEntry fine_tune[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &p.model_dir, "The base model folder", "DIR" },
    { NULL },
  };
  GOptionEntry distill[] = {
    { "teacher", 't', 0, G_OPTION_ARG_FILENAME, &p.teacher_dir, "The fine-tuned teacher's folder", "DIR" },
    { "student", 's', 0, G_OPTION_ARG_FILENAME, &p.model_dir, "A student model folder (default: made from the teacher)",
      "DIR" },
    { "student-layers", 0, 0, G_OPTION_ARG_INT, &student_layers,
      "Layers of a student made from the teacher (default half)", "N" },
    { "temperature", 'T', 0, G_OPTION_ARG_DOUBLE, &p.temperature, "Softening temperature (default 2)", "X" },
    { "alpha", 0, 0, G_OPTION_ARG_DOUBLE, &p.alpha, "Weight of the teacher's soft targets (default 0.5)", "X" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_option_context_set_summary (context, kind == BS_TRAIN_DISTILL
                                             ? "Distil a fine-tuned teacher into a smaller student."
                                             : "Fine-tune a BERT or DistilBERT model to classify a dataset's texts.");
  g_option_context_add_main_entries (context, kind == BS_TRAIN_DISTILL ? distill : fine_tune, NULL);
  g_option_context_add_main_entries (context, common, NULL);
  if (!bs_cli_parse_options (context, command, &argc, &argv))
    return BS_EXIT_BAD_INPUT;

  g_autoptr (GError) error = NULL;
  p.dropout = !no_dropout;
  p.seed = (guint64) seed;
  p.student_layers = student_layers;
  if (schedule != NULL)
    {
      if (g_str_equal (schedule, "exponential"))
        p.schedule = BS_SCHEDULE_EXPONENTIAL;
      else if (g_str_equal (schedule, "linear"))
        p.schedule = BS_SCHEDULE_LINEAR;
      else if (g_str_equal (schedule, "constant"))
        p.schedule = BS_SCHEDULE_CONSTANT;
      else
        g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "Unknown schedule “%s”", schedule);
    }
  if (truncation != NULL && !bs_truncation_from_string (truncation, &p.truncation))
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "Unknown truncation “%s” (head or head+tail)",
                 truncation);
  if (error != NULL)
    return bs_cli_report (command, error);

  TrainCommand t = { .params = p, .json = json };
  bs_cli_run_cancellable (run, &t, &error);
  int status = finish (command, &t, p.output_dir, error);
  memset (&t.params, 0, sizeof t.params); /* owned by p */
  return status;
}

int
bs_cli_train (int argc, char **argv)
{
  return train_or_distill (argc, argv, BS_TRAIN_FINE_TUNE);
}

int
bs_cli_distill (int argc, char **argv)
{
  return train_or_distill (argc, argv, BS_TRAIN_DISTILL);
}

int
bs_cli_resume (int argc, char **argv)
{
  g_autofree char *db = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "The database (default: the user's)", "PATH" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the result as JSON", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("RUN");
  g_option_context_set_summary (context, "Continue an interrupted or cancelled run from its last checkpoint.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!bs_cli_parse_options (context, "resume", &argc, &argv))
    return BS_EXIT_BAD_INPUT;
  g_autoptr (GError) error = NULL;
  char *end = NULL;
  gint64 run_id = argc == 2 ? g_ascii_strtoll (argv[1], &end, 10) : 0;
  if (run_id <= 0 || end == NULL || *end != '\0')
    {
      fprintf (stderr, "bert-studio-cli resume: give the run's number, e.g. 'bert-studio-cli resume 3'\n");
      return BS_EXIT_BAD_INPUT;
    }
  g_autoptr (BsStore) store = bs_store_open (db, &error);
  if (store == NULL || bs_store_mark_interrupted (store, &error) < 0)
    return bs_cli_report ("resume", error);
  g_autoptr (BsRun) run_row = bs_store_get_run (store, run_id, &error);
  if (run_row == NULL)
    return bs_cli_report ("resume", error);
  g_clear_pointer (&store, bs_store_free);
  TrainCommand t = { .db = db, .resume = run_id, .json = json };
  bs_cli_run_cancellable (run, &t, &error);
  return finish ("resume", &t, run_row->output_path, error);
}
