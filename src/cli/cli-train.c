/* cli-train.c: bert-studio-cli train, distill, pretrain and resume. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
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
  BsTrainKind kind;   /* resuming: found once the run has loaded */
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
        printf (", \"test_accuracy\": %.6f, \"latency_ms\": %.3f", t->result.test_accuracy, t->result.latency_ms);
      if (!isnan (t->result.teacher_test_accuracy))
        printf (", \"teacher_test_accuracy\": %.6f, \"teacher_latency_ms\": %.3f", t->result.teacher_test_accuracy,
                t->result.teacher_latency_ms);
      printf ("}\n");
      return;
    }
  /* Translators: a run's number, its number of training steps (batches) and a folder */
  printf (g_dngettext (GETTEXT_PACKAGE, "Run %" PRId64 ": %" PRId64 " step, model saved in %s",
                       "Run %" PRId64 ": %" PRId64 " steps, model saved in %s", (gulong) t->result.steps),
          t->result.run_id, t->result.steps, output_dir);
  printf ("\n");
  if (!isnan (t->result.validation_accuracy) && t->kind == BS_TRAIN_PRETRAIN)
    {
      /* Translators: %.2f%% is a percentage, such as 41.25% */
      printf (_("Masked words predicted in the validation texts: %.2f%%"), 100 * t->result.validation_accuracy);
      printf ("\n");
    }
  else if (!isnan (t->result.validation_accuracy))
    {
      /* Translators: %.2f%% is a percentage, such as 91.25% */
      printf (_("Validation accuracy: %.2f%%"), 100 * t->result.validation_accuracy);
      printf ("\n");
    }
  if (!isnan (t->result.test_accuracy))
    {
      /* Translators: %.2f%% is a percentage, such as 91.25% */
      printf (_("Test accuracy: %.2f%%"), 100 * t->result.test_accuracy);
      printf ("\n");
    }
  if (!isnan (t->result.teacher_test_accuracy))
    {
      /* Translators: the teacher's test accuracy, then how much faster the student is, e.g. 2.5 */
      printf (_("Teacher: %.2f%%; the student keeps %.1f%% of it and is %.1f× as fast"),
              100 * t->result.teacher_test_accuracy, 100 * t->result.test_accuracy / t->result.teacher_test_accuracy,
              t->result.teacher_latency_ms / t->result.latency_ms);
      printf ("\n");
    }
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
    {
      /* Translators: keep 'bert-studio-cli resume' as it is; the number is the run's */
      fprintf (stderr, _("Resume it with: bert-studio-cli resume %" PRId64), t->result.run_id);
      fprintf (stderr, "\n");
    }
  return status;
}

static int
train_or_distill (int argc, char **argv, BsTrainKind kind)
{
  const char *command = kind == BS_TRAIN_DISTILL ? "distill" : kind == BS_TRAIN_PRETRAIN ? "pretrain" : "train";
  g_auto (BsTrainParams) p = { 0 };
  bs_train_params_init (&p, kind);
  g_autofree char *schedule = NULL, *truncation = NULL;
  gboolean no_dropout = FALSE, json = FALSE;
  gint64 seed = (gint64) p.seed;
  int student_layers = 0;
  /* GOption translates the texts marked N_() here (domains set below). */
  GOptionEntry common[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &p.db_path, N_("The database (default: the user's)"),
      /* Translators: in --help, stands for the file the user names */
      N_("PATH") },
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &p.dataset, N_("The dataset to train on (name or id)"),
      /* Translators: in --help, stands for the name the user gives */
      N_("NAME") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &p.output_dir, N_("The folder to save the trained model in"),
      /* Translators: in --help, stands for the folder the user names */
      N_("DIR") },
    { "max-length", 0, 0, G_OPTION_ARG_INT, &p.max_length, N_("Tokens per text at most (default 128)"),
      /* Translators: in --help, stands for the number the user gives */
      N_("N") },
    { "truncation", 0, 0, G_OPTION_ARG_STRING, &truncation,
      /* Translators: keep head and head+tail as they are: they are the values the user types */
      N_("Which tokens of a long text: head or head+tail"),
      /* Translators: in --help, stands for head or head+tail */
      N_("HOW") },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &p.batch_size, N_("Texts per batch (default 64)"), N_("N") },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &p.epochs, N_("Passes over the training texts (default 1)"), N_("N") },
    /* Translators: N as in --help */
    { "max-steps", 0, 0, G_OPTION_ARG_INT64, &p.max_steps, N_("Stop after N batches"), N_("N") },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &p.lr, N_("Learning rate (default 2e-5)"),
      /* Translators: in --help, stands for the decimal number the user gives */
      N_("X") },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &schedule,
      /* Translators: keep exponential, linear and constant as they are: they are the values the user types */
      N_("exponential (default), linear or constant"),
      /* Translators: in --help, stands for exponential, linear or constant */
      N_("KIND") },
    { "gamma", 0, 0, G_OPTION_ARG_DOUBLE, &p.gamma, N_("Exponential decay factor (default 0.96)"), N_("X") },
    /* Translators: N as in --help */
    { "step-every", 0, 0, G_OPTION_ARG_INT, &p.step_every, N_("Decay every N batches (default 10)"), N_("N") },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &p.warmup_steps, N_("Warm-up batches (default 0)"), N_("N") },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &p.weight_decay, N_("AdamW weight decay (default 0.01)"), N_("X") },
    { "no-decay-bias-norm", 0, 0, G_OPTION_ARG_NONE, &p.exempt_bias_and_norm,
      /* Translators: LayerNorm is the name of a layer; keep it as it is */
      N_("No weight decay on biases and LayerNorm weights"), NULL },
    { "max-grad-norm", 0, 0, G_OPTION_ARG_DOUBLE, &p.max_grad_norm, N_("Clip gradients to this norm (default off)"),
      N_("X") },
    { "no-dropout", 0, 0, G_OPTION_ARG_NONE, &no_dropout, N_("Train without dropout"), NULL },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, N_("Random seed (default 42)"), N_("N") },
    { "validate-every", 0, 0, G_OPTION_ARG_INT, &p.validate_every,
      /* Translators: N as in --help */
      N_("Validate every N batches (and at epoch ends)"), N_("N") },
    { "checkpoint-every", 0, 0, G_OPTION_ARG_INT, &p.checkpoint_every,
      /* Translators: N as in --help */
      N_("Checkpoint every N batches (default 200)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL },
  };
  GOptionEntry fine_tune[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &p.model_dir, N_("The base model folder"), N_("DIR") },
    { NULL },
  };
  GOptionEntry pretrain[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &p.model_dir,
      N_("The model to pretrain: a BERT folder, such as one init-model made"), N_("DIR") },
    { "mask-probability", 0, 0, G_OPTION_ARG_DOUBLE, &p.mask_probability,
      N_("Share of the tokens to mask and predict (default 0.15)"), N_("X") },
    { NULL },
  };
  GOptionEntry distill[] = {
    { "teacher", 't', 0, G_OPTION_ARG_FILENAME, &p.teacher_dir, N_("The fine-tuned teacher's folder"), N_("DIR") },
    { "student", 's', 0, G_OPTION_ARG_FILENAME, &p.model_dir,
      N_("A student model folder (default: made from the teacher)"), N_("DIR") },
    { "student-layers", 0, 0, G_OPTION_ARG_INT, &student_layers,
      N_("Layers of a student made from the teacher (default half)"), N_("N") },
    { "temperature", 'T', 0, G_OPTION_ARG_DOUBLE, &p.temperature, N_("Softening temperature (default 2)"), N_("X") },
    { "alpha", 0, 0, G_OPTION_ARG_DOUBLE, &p.alpha, N_("Weight of the teacher's soft targets (default 0.5)"),
      N_("X") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  if (kind == BS_TRAIN_PRETRAIN)
    for (GOptionEntry *e = common; e->long_name != NULL; e++)
      {
        /* pretraining's own defaults */
        if (g_str_equal (e->long_name, "lr"))
          e->description = N_("Learning rate (default 5e-5)");
        else if (g_str_equal (e->long_name, "schedule"))
          /* Translators: keep exponential, linear and constant as they are: they are the values the user types */
          e->description = N_("linear (default), exponential or constant");
        else if (g_str_equal (e->long_name, "dataset"))
          e->description = N_("The dataset whose train and unlabeled texts to learn from (name or id)");
        else if (g_str_equal (e->long_name, "batch-size"))
          e->description = N_("Rows of max-length tokens per batch (default 64)");
        else if (g_str_equal (e->long_name, "truncation"))
          e->flags |= G_OPTION_FLAG_HIDDEN; /* texts are packed, not cut */
      }
  g_option_context_set_summary (context,
                                kind == BS_TRAIN_DISTILL ? N_("Distil a fine-tuned teacher into a smaller student.")
                                : kind == BS_TRAIN_PRETRAIN
                                  ? N_("Pretrain a BERT model on a dataset's texts by predicting masked words (the "
                                       "labels are not used). Fine-tuning the result needs fewer labelled examples.")
                                  : N_("Fine-tune a BERT or DistilBERT model to classify a dataset's texts."));
  /* the entries' domain, then that of the summary */
  g_option_context_add_main_entries (context,
                                     kind == BS_TRAIN_DISTILL    ? distill
                                     : kind == BS_TRAIN_PRETRAIN ? pretrain
                                                                 : fine_tune,
                                     GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
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
        /* Translators: %s is what the user gave for --schedule */
        g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("Unknown schedule “%s”"), schedule);
    }
  if (truncation != NULL && !bs_truncation_from_string (truncation, &p.truncation))
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 /* Translators: %s is what the user gave for --truncation; keep head and head+tail as they are */
                 _("Unknown truncation “%s” (head or head+tail)"), truncation);
  if (error != NULL)
    return bs_cli_report (command, error);

  TrainCommand t = { .params = p, .json = json, .kind = kind };
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
bs_cli_pretrain (int argc, char **argv)
{
  return train_or_distill (argc, argv, BS_TRAIN_PRETRAIN);
}

int
bs_cli_resume (int argc, char **argv)
{
  g_autofree char *db = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, N_("The database (default: the user's)"), N_("PATH") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL },
  };
  /* Translators: in --help's usage line, stands for the run's number */
  g_autoptr (GOptionContext) context = g_option_context_new (N_("RUN"));
  g_option_context_set_summary (context, N_("Continue an interrupted or cancelled run from its last checkpoint."));
  /* the entries' domain, then that of the usage line and summary */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!bs_cli_parse_options (context, "resume", &argc, &argv))
    return BS_EXIT_BAD_INPUT;
  g_autoptr (GError) error = NULL;
  char *end = NULL;
  gint64 run_id = argc == 2 ? g_ascii_strtoll (argv[1], &end, 10) : 0;
  if (run_id <= 0 || end == NULL || *end != '\0')
    {
      /* Translators: keep 'bert-studio-cli resume 3' as it is */
      fprintf (stderr, "bert-studio-cli resume: %s\n", _("give the run's number, e.g. 'bert-studio-cli resume 3'"));
      return BS_EXIT_BAD_INPUT;
    }
  g_autoptr (BsStore) store = bs_store_open (db, &error);
  if (store == NULL || bs_store_mark_interrupted (store, &error) < 0)
    return bs_cli_report ("resume", error);
  g_autoptr (BsRun) run_row = bs_store_get_run (store, run_id, &error);
  if (run_row == NULL)
    return bs_cli_report ("resume", error);
  g_clear_pointer (&store, bs_store_free);
  g_auto (BsTrainParams) stored = { 0 };
  TrainCommand t = { .db = db, .resume = run_id, .json = json };
  if (bs_train_params_from_json (&stored, run_row->params_json, NULL))
    t.kind = stored.kind;
  bs_cli_run_cancellable (run, &t, &error);
  return finish ("resume", &t, run_row->output_path, error);
}
