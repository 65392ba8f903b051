/* cli-models.c: bert-studio-cli init-model, eval, predict, runs, models and convert. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bs-atomic-file.h"
#include "bs-checkpoint.h"
#include "bs-classifier.h"
#include "bs-cli-common.h"
#include "bs-cli.h"
#include "bs-encoded-set.h"
#include "bs-evaluate.h"
#include "bs-json.h"
#include "bs-model-card.h"
#include "bs-safetensors.h"
#include "bs-store.h"
#include "bs-train-job.h"

/* ---- init-model ---- */

int
bs_cli_init_model (int argc, char **argv)
{
  g_autofree char *vocab = NULL, *output = NULL, *arch = NULL, *labels = NULL;
  int hidden = 128, layers = 2, heads = 2, intermediate = 512, positions = 512;
  gint64 seed = 42;
  double embedding_scale = 1;
  gboolean cased = FALSE;
  /* GOption translates the texts marked N_() here (domains set below). */
  GOptionEntry entries[] = {
    { "vocab", 0, 0, G_OPTION_ARG_FILENAME, &vocab,
      /* Translators: keep vocab.txt as it is: it is a file name */
      N_("vocab.txt to use (one token a line)"),
      /* Translators: in --help, stands for the file the user names */
      N_("FILE") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("The folder to create"),
      /* Translators: in --help, stands for the folder the user names */
      N_("DIR") },
    { "arch", 0, 0, G_OPTION_ARG_STRING, &arch,
      /* Translators: keep bert and distilbert as they are: they are the values the user types */
      N_("bert (default) or distilbert"),
      /* Translators: in --help, stands for bert or distilbert (the architecture) */
      N_("ARCH") },
    { "hidden", 0, 0, G_OPTION_ARG_INT, &hidden, N_("Hidden size (default 128)"),
      /* Translators: in --help, stands for the number the user gives */
      N_("N") },
    { "layers", 0, 0, G_OPTION_ARG_INT, &layers, N_("Encoder layers (default 2)"), N_("N") },
    { "heads", 0, 0, G_OPTION_ARG_INT, &heads, N_("Attention heads (default 2)"), N_("N") },
    { "intermediate", 0, 0, G_OPTION_ARG_INT, &intermediate, N_("Feed-forward size (default 512)"), N_("N") },
    { "max-position", 0, 0, G_OPTION_ARG_INT, &positions, N_("Longest text in tokens (default 512)"), N_("N") },
    { "labels", 0, 0, G_OPTION_ARG_STRING, &labels,
      /* Translators: keep LABEL_0,LABEL_1 as it is: they are the default names */
      N_("Class names, comma-separated (default LABEL_0,LABEL_1)"),
      /* Translators: in --help, stands for names separated by commas */
      N_("A,B") },
    { "cased", 0, 0, G_OPTION_ARG_NONE, &cased, N_("Keep letter case (a cased vocabulary)"), NULL },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, N_("Random seed (default 42)"), N_("N") },
    { "embedding-scale", 0, 0, G_OPTION_ARG_DOUBLE, &embedding_scale,
      N_("Multiply the word embeddings' random values by X (default 1); 10 shortens the start of pretraining from scratch"),
      /* Translators: in --help, stands for the number the user gives */
      N_("X") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_option_context_set_summary (context, N_("Create a randomly initialised model folder of a given size, for "
                                            "training from scratch when no pretrained model is at hand."));
  /* the entries' domain, then that of the summary */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!bs_cli_parse_options (context, "init-model", &argc, &argv))
    return BS_EXIT_BAD_INPUT;
  g_autoptr (GError) error = NULL;
  if (vocab == NULL || output == NULL)
    {
      /* Translators: keep --vocab and --output as they are */
      fprintf (stderr, "bert-studio-cli init-model: %s\n", _("--vocab and --output are needed"));
      return BS_EXIT_BAD_INPUT;
    }
  if (!(embedding_scale > 0 && embedding_scale <= 1000))
    {
      fprintf (stderr, "bert-studio-cli init-model: ");
      /* Translators: %g is what the user gave; keep --embedding-scale as it is */
      fprintf (stderr, _("--embedding-scale %g is out of range (more than 0, at most 1000)"), embedding_scale);
      fprintf (stderr, "\n");
      return BS_EXIT_BAD_INPUT;
    }
  g_autoptr (BsTokenizer) tokenizer = bs_tokenizer_new_from_file (vocab, !cased, &error);
  if (tokenizer == NULL)
    return bs_cli_report ("init-model", error);
  g_autoptr (BsConfig) config = bs_config_new (g_strcmp0 (arch, "distilbert") == 0 ? BS_ARCH_DISTILBERT : BS_ARCH_BERT);
  if (arch != NULL && !g_str_equal (arch, "bert") && !g_str_equal (arch, "distilbert"))
    {
      fprintf (stderr, "bert-studio-cli init-model: ");
      /* Translators: %s is what the user gave for --arch; keep bert and distilbert as they are */
      fprintf (stderr, _("unknown architecture “%s” (bert or distilbert)"), arch);
      fprintf (stderr, "\n");
      return BS_EXIT_BAD_INPUT;
    }
  config->vocab_size = (int) bs_tokenizer_get_vocab_size (tokenizer);
  config->hidden_size = hidden;
  config->n_layers = layers;
  config->n_heads = heads;
  config->intermediate_size = intermediate;
  config->max_position_embeddings = positions;
  config->pad_token_id = MAX (bs_tokenizer_get_pad_id (tokenizer), 0);
  if (labels != NULL)
    {
      g_auto (GStrv) names = g_strsplit (labels, ",", -1);
      bs_config_set_labels (config, (const char *const *) names, (int) g_strv_length (names));
    }
  /* Translators: where a wrong size came from, at the start of an error such as
     “the options: “hidden_size” (the hidden size) is 0 (1 to 8192 expected)” */
  if (!bs_config_validate (config, _("the options"), &error))
    return bs_cli_report ("init-model", error);
  g_autoptr (BsModel) model = bs_model_new (config, &error);
  if (model == NULL)
    return bs_cli_report ("init-model", error);
  bs_model_init_weights (model, (guint64) seed);
  /* The word table is also the masked-word decoder: at BERT's 0.02 its
   * logits start near zero, and pretraining from scratch lingers on word
   * frequencies before it learns to read the context. */
  g_autofree char *word_name = g_strconcat (bs_model_get_prefix (model), "embeddings.word_embeddings.weight", NULL);
  const BsParam *word = bs_model_find_param (model, word_name);
  float *word_weights = bs_model_get_weights (model) + word->offset;
  for (gsize k = 0; k < word->n_elements; k++)
    word_weights[k] *= (float) embedding_scale;
  if (!bs_save_model_folder (model, vocab, !cased, output, &error))
    return bs_cli_report ("init-model", error);
  gsize n_weights = bs_model_get_n_weights (model);
  /* Translators: a folder, bert or distilbert (the model type, not translated), and a number */
  printf (g_dngettext (GETTEXT_PACKAGE, "%s: %s with %zu parameter", "%s: %s with %zu parameters", n_weights), output,
          bs_arch_model_type (config->arch), n_weights);
  printf ("\n");
  return BS_EXIT_OK;
}

/* ---- eval ---- */

static void
print_evaluation_json (const BsEvalResult *r, const BsConfig *c, gint64 run_id)
{
  g_autoptr (GString) s = g_string_new ("{");
  g_string_append_printf (s, "\"run\": %" G_GINT64_FORMAT ", \"examples\": %" G_GINT64_FORMAT
                          ", \"accuracy\": %.6f, \"loss\": %.6f, \"ms_per_text\": %.3f, \"latency_ms\": %.3f, "
                          "\"classes\": [",
                          run_id, r->n, r->accuracy, r->loss, r->ms_per_text, r->latency_ms);
  for (int i = 0; i < r->n_labels; i++)
    {
      g_string_append (s, i ? ", {\"label\": " : "{\"label\": ");
      bs_json_append_string (s, c->labels[i]);
      g_string_append_printf (s, ", \"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"support\": %" G_GINT64_FORMAT
                              "}", r->precision[i], r->recall[i], r->f1[i], r->support[i]);
    }
  g_string_append (s, "], \"confusion\": [");
  for (int i = 0; i < r->n_labels; i++)
    {
      g_string_append (s, i ? ", [" : "[");
      for (int k = 0; k < r->n_labels; k++)
        g_string_append_printf (s, k ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                                r->confusion[(gsize) i * r->n_labels + k]);
      g_string_append (s, "]");
    }
  g_string_append (s, "]}");
  printf ("%s\n", s->str);
}

static void
print_evaluation (const BsEvalResult *r, const BsConfig *c)
{
  printf (g_dngettext (GETTEXT_PACKAGE,
                       /* Translators: a number of examples, the accuracy in percent, the loss, then
                          milliseconds per text when classified in batches and when classified alone */
                       "%" PRId64 " example: accuracy %.2f%%, loss %.4f, %.2f ms a text in batches, %.1f ms alone",
                       "%" PRId64 " examples: accuracy %.2f%%, loss %.4f, %.2f ms a text in batches, %.1f ms alone",
                       (gulong) r->n),
          r->n, 100 * r->accuracy, r->loss, r->ms_per_text, r->latency_ms);
  printf ("\n\n");
  /* Translators: the column headings of an evaluation's table, 9 characters at most but for the first (20) */
  printf ("%-20s %9s %9s %9s %9s\n", C_("evaluation", "class"), C_("evaluation", "precision"),
          C_("evaluation", "recall"), C_("evaluation", "F1"), C_("evaluation", "support"));
  for (int i = 0; i < r->n_labels; i++)
    printf ("%-20s %9.4f %9.4f %9.4f %9" G_GINT64_FORMAT "\n", c->labels[i], r->precision[i], r->recall[i], r->f1[i],
            r->support[i]);
  printf ("\n%s\n", _("confusion (rows: true class, columns: predicted)"));
  for (int i = 0; i < r->n_labels; i++)
    {
      printf ("%-20s", c->labels[i]);
      for (int k = 0; k < r->n_labels; k++)
        printf (" %8" G_GINT64_FORMAT, r->confusion[(gsize) i * r->n_labels + k]);
      printf ("\n");
    }
}

typedef struct
{
  char *db, *model_dir, *dataset, *split;
  int max_length, batch_size;
  gboolean has_truncation; /* else the model card's */
  BsTruncation truncation;
  BsEvalResult result;
  BsConfig *config;
  gint64 run_id;
} EvalCommand;

static gboolean
run_eval (gpointer data, GCancellable *cancellable, GError **error)
{
  EvalCommand *e = data;
  g_autoptr (BsStore) store = bs_store_open (e->db, error);
  if (store == NULL)
    return FALSE;
  g_autoptr (BsDataset) dataset = bs_store_lookup_dataset (store, e->dataset, error);
  if (dataset == NULL)
    return FALSE;
  g_autoptr (BsClassifier) classifier = bs_classifier_load (e->model_dir, (guint) e->max_length, error);
  if (classifier == NULL)
    return FALSE;
  if (!e->has_truncation)
    e->truncation = bs_classifier_get_truncation (classifier);
  const BsConfig *c = bs_model_get_config (bs_classifier_get_model (classifier));
  /* the model's labels must be the dataset's, in the same order */
  guint n_labels = g_strv_length (dataset->labels);
  for (guint i = 0; i < n_labels || (int) i < c->n_labels; i++)
    if (i >= n_labels || (int) i >= c->n_labels || g_strcmp0 (dataset->labels[i], c->labels[i]) != 0)
      {
        g_set_error (error, BS_JOB_ERROR, BS_JOB_ERROR_INVALID,
                     /* Translators: a label's index from 0, then its name in the model and in the dataset */
                     _("The model's labels are not the dataset's (label %u: “%s” and “%s”)"), i,
                     (int) i < c->n_labels ? c->labels[i] : "", i < n_labels ? dataset->labels[i] : "");
        return FALSE;
      }
  g_autoptr (BsExamples) ex = bs_store_load_examples (store, dataset->id, e->split, error);
  if (ex == NULL)
    return FALSE;
  g_autoptr (BsEncodedSet) set = bs_encoded_set_new (bs_classifier_get_tokenizer (classifier),
                                                     (const char *const *) ex->texts, ex->labels, ex->n,
                                                     bs_classifier_get_max_length (classifier), e->truncation,
                                                     cancellable, error);
  if (set == NULL)
    return FALSE;
  g_autofree char *params = g_strdup_printf ("{\"split\": \"%s\", \"max_length\": %u, \"batch_size\": %d}", e->split,
                                             bs_classifier_get_max_length (classifier), e->batch_size);
  BsRunInfo info = { "evaluate", dataset->id, e->model_dir, NULL, NULL, params };
  e->run_id = bs_store_create_run (store, &info, error);
  if (e->run_id <= 0)
    return FALSE;
  gboolean ok = bs_evaluate (bs_classifier_get_model (classifier), set, e->batch_size, e->split,
                             bs_cli_print_progress, NULL, cancellable, &e->result, error);
  if (ok)
    {
      BsEvaluation row = { e->run_id, e->split, 0, e->result.n, e->result.accuracy, e->result.loss,
                           e->result.latency_ms, c->n_labels, (const char *const *) c->labels, e->result.precision,
                           e->result.recall, e->result.f1, e->result.support, e->result.confusion };
      ok = bs_store_add_evaluation (store, &row, error) > 0;
    }
  bs_store_set_run_status (store, e->run_id, ok ? "finished" : "failed", ok ? NULL : (*error)->message, NULL);
  e->config = bs_config_copy (c);
  return ok;
}

int
bs_cli_eval (int argc, char **argv)
{
  EvalCommand e = { .max_length = 0, .batch_size = 64 };
  g_autofree char *truncation = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &e.db, N_("The database (default: the user's)"),
      /* Translators: in --help, stands for the file the user names */
      N_("PATH") },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &e.model_dir, N_("The model folder"), N_("DIR") },
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &e.dataset, N_("The dataset (name or id)"),
      /* Translators: in --help, stands for the name the user gives */
      N_("NAME") },
    { "split", 0, 0, G_OPTION_ARG_STRING, &e.split,
      /* Translators: keep test, validation and train as they are: they are the values the user types */
      N_("test (default), validation or train"),
      /* Translators: in --help, stands for test, validation or train */
      N_("SPLIT") },
    { "max-length", 0, 0, G_OPTION_ARG_INT, &e.max_length, N_("Tokens per text at most (default: the model's)"),
      N_("N") },
    { "truncation", 0, 0, G_OPTION_ARG_STRING, &truncation,
      /* Translators: keep head and head+tail as they are: they are the values the user types */
      N_("head or head+tail (default: as the model card says, else head)"),
      /* Translators: in --help, stands for head or head+tail */
      N_("HOW") },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &e.batch_size, N_("Texts per batch (default 64)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_option_context_set_summary (context, N_("Evaluate a model on a dataset's split: accuracy, per-class precision, "
                                            "recall and F1, the confusion matrix and the time per text."));
  /* the entries' domain, then that of the summary */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!bs_cli_parse_options (context, "eval", &argc, &argv))
    return BS_EXIT_BAD_INPUT;
  if (e.split == NULL)
    e.split = g_strdup ("test");
  g_autoptr (GError) error = NULL;
  if (e.model_dir == NULL || e.dataset == NULL)
    /* Translators: keep --model and --dataset as they are */
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("--model and --dataset are needed"));
  else if (truncation != NULL && !bs_truncation_from_string (truncation, &e.truncation))
    /* Translators: %s is what the user gave for --truncation */
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("Unknown truncation “%s”"), truncation);
  else if (e.batch_size < 1)
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("The batch size must be at least 1"));
  e.has_truncation = truncation != NULL;
  int status = BS_EXIT_OK;
  if (error == NULL && bs_cli_run_cancellable (run_eval, &e, &error))
    {
      if (json)
        print_evaluation_json (&e.result, e.config, e.run_id);
      else
        print_evaluation (&e.result, e.config);
    }
  if (error != NULL)
    status = bs_cli_report ("eval", error);
  bs_eval_result_clear (&e.result);
  bs_config_free (e.config);
  g_free (e.db), g_free (e.model_dir), g_free (e.dataset), g_free (e.split);
  return status;
}

/* ---- predict ---- */

int
bs_cli_predict (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *truncation = NULL;
  int max_length = 0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir,
      N_("The model folder (default: the model that comes with BERT Studio)"), N_("DIR") },
    { "max-length", 0, 0, G_OPTION_ARG_INT, &max_length, N_("Tokens per text at most (default: the model's)"),
      N_("N") },
    { "truncation", 0, 0, G_OPTION_ARG_STRING, &truncation,
      N_("head or head+tail (default: as the model card says, else head)"), N_("HOW") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("One JSON object a text"), NULL },
    { NULL },
  };
  /* Translators: in --help's usage line, stands for the texts the user gives */
  g_autoptr (GOptionContext) context = g_option_context_new (N_("[TEXT…]"));
  g_option_context_set_summary (context, N_("Classify texts given as arguments, or one a line on standard input."));
  /* the entries' domain, then that of the usage line and summary */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!bs_cli_parse_options (context, "predict", &argc, &argv))
    return BS_EXIT_BAD_INPUT;
  g_autoptr (GError) error = NULL;
  BsTruncation how = BS_TRUNCATE_HEAD;
  if (truncation != NULL && !bs_truncation_from_string (truncation, &how))
    {
      fprintf (stderr, "bert-studio-cli predict: ");
      /* Translators: %s is what the user gave for --truncation */
      fprintf (stderr, _("unknown truncation “%s”"), truncation);
      fprintf (stderr, "\n");
      return BS_EXIT_BAD_INPUT;
    }
  gboolean is_default = FALSE;
  if (model_dir == NULL && (model_dir = bs_cli_model_or_default (NULL, &is_default, &error)) == NULL)
    return bs_cli_report ("predict", error);
  g_autoptr (BsClassifier) classifier = bs_classifier_load (model_dir, (guint) MAX (max_length, 0), &error);
  if (classifier == NULL)
    return bs_cli_report ("predict", error);
  /* else the model card's */
  if (truncation != NULL)
    bs_classifier_set_truncation (classifier, how);
  if (is_default)
    {
      /* on standard error: standard output holds only the predictions */
      g_autofree char *name = bs_cli_model_name (model_dir);
      /* Translators: the name of the model that comes with BERT Studio, and its folder */
      fprintf (stderr, _("Classifying with the default model, %s (%s)"), name, model_dir);
      fprintf (stderr, "\n");
    }

  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (texts, g_strdup (argv[i]));
  if (argc < 2)
    {
      char line[1 << 16];
      g_autoptr (GString) text = g_string_new (NULL);
      while (fgets (line, sizeof line, stdin) != NULL)
        {
          g_string_append (text, line);
          if (text->len > 0 && text->str[text->len - 1] == '\n')
            {
              g_string_truncate (text, text->len - 1);
              g_ptr_array_add (texts, g_strdup (text->str));
              g_string_truncate (text, 0);
            }
        }
      if (text->len > 0)
        g_ptr_array_add (texts, g_strdup (text->str));
    }
  int l = bs_classifier_get_n_labels (classifier);
  g_autofree float *probs = g_new (float, MAX (texts->len, 1) * (gsize) l);
  if (!bs_classifier_predict (classifier, (const char *const *) texts->pdata, texts->len, probs, &error))
    return bs_cli_report ("predict", error);
  for (guint i = 0; i < texts->len; i++)
    {
      const float *p = probs + (gsize) i * l;
      int best = 0;
      for (int k = 1; k < l; k++)
        if (p[k] > p[best])
          best = k;
      if (json)
        {
          g_autoptr (GString) s = g_string_new ("{\"label\": ");
          bs_json_append_string (s, bs_classifier_get_label (classifier, best));
          g_string_append_printf (s, ", \"label_id\": %d, \"probabilities\": {", best);
          for (int k = 0; k < l; k++)
            {
              if (k > 0)
                g_string_append (s, ", ");
              bs_json_append_string (s, bs_classifier_get_label (classifier, k));
              g_string_append_printf (s, ": %.6f", p[k]);
            }
          g_string_append (s, "}}");
          printf ("%s\n", s->str);
        }
      else
        printf ("%s\t%.4f\n", bs_classifier_get_label (classifier, best), p[best]);
    }
  return BS_EXIT_OK;
}

/* ---- runs ---- */

int
bs_cli_runs (int argc, char **argv)
{
  g_autofree char *db = NULL, *export_path = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, N_("The database (default: the user's)"), N_("PATH") },
    { "export-metrics", 0, 0, G_OPTION_ARG_FILENAME, &export_path, N_("Write the run's per-batch metrics as CSV"),
      N_("FILE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  /* Translators: in --help's usage line, stands for a run's number */
  g_autoptr (GOptionContext) context = g_option_context_new (N_("[RUN]"));
  g_option_context_set_summary (context, N_("List the runs, or show one with its evaluations."));
  /* the entries' domain, then that of the usage line and summary */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!bs_cli_parse_options (context, "runs", &argc, &argv))
    return BS_EXIT_BAD_INPUT;
  g_autoptr (GError) error = NULL;
  g_autoptr (BsStore) store = bs_store_open (db, &error);
  if (store == NULL || bs_store_mark_interrupted (store, &error) < 0)
    return bs_cli_report ("runs", error);
  gint64 only = argc > 1 ? g_ascii_strtoll (argv[1], NULL, 10) : 0;
  if (argc > 1 && only <= 0)
    {
      fprintf (stderr, "bert-studio-cli runs: ");
      /* Translators: %s is what the user gave as the run */
      fprintf (stderr, _("“%s” is not a run number"), argv[1]);
      fprintf (stderr, "\n");
      return BS_EXIT_BAD_INPUT;
    }
  if (export_path != NULL)
    {
      if (only <= 0)
        {
          /* Translators: keep --export-metrics as it is */
          fprintf (stderr, "bert-studio-cli runs: %s\n", _("--export-metrics needs a run number"));
          return BS_EXIT_BAD_INPUT;
        }
      if (!bs_store_export_metrics_csv (store, only, export_path, &error))
        return bs_cli_report ("runs", error);
      return BS_EXIT_OK;
    }
  g_autoptr (GPtrArray) runs = bs_store_list_runs (store, &error);
  if (runs == NULL)
    return bs_cli_report ("runs", error);
  g_autoptr (GString) out = g_string_new (json ? "[" : "");
  gboolean first = TRUE;
  for (guint i = 0; i < runs->len; i++)
    {
      const BsRun *r = g_ptr_array_index (runs, i);
      if (only > 0 && r->id != only)
        continue;
      g_autoptr (GPtrArray) evals = bs_store_list_evaluations (store, r->id, &error);
      if (evals == NULL)
        return bs_cli_report ("runs", error);
      if (json)
        {
          g_string_append_printf (out, "%s{\"id\": %" G_GINT64_FORMAT ", \"kind\": ", first ? "" : ", ", r->id);
          bs_json_append_string (out, r->kind);
          g_string_append (out, ", \"status\": ");
          bs_json_append_string (out, r->status);
          g_string_append_printf (out, ", \"dataset\": %" G_GINT64_FORMAT ", \"started\": %" G_GINT64_FORMAT
                                  ", \"finished\": %" G_GINT64_FORMAT ", \"output\": ",
                                  r->dataset_id, r->started, r->finished);
          if (r->output_path != NULL)
            bs_json_append_string (out, r->output_path);
          else
            g_string_append (out, "null");
          g_string_append_printf (out, ", \"params\": %s, \"evaluations\": [", r->params_json ? r->params_json : "{}");
          for (guint k = 0; k < evals->len; k++)
            {
              const BsEvaluationRecord *e = g_ptr_array_index (evals, k);
              g_string_append_printf (out, "%s{\"split\": ", k ? ", " : "");
              bs_json_append_string (out, e->split);
              g_string_append_printf (out, ", \"examples\": %" G_GINT64_FORMAT ", \"accuracy\": %.6f}", e->n_examples,
                                      e->accuracy);
            }
          g_string_append (out, "]}");
        }
      else
        {
          g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (r->started);
          g_autofree char *started = g_date_time_format (when, "%F %R");
          g_string_append_printf (out, "%4" G_GINT64_FORMAT "  %-9s  %-11s  %s  %s", r->id, r->kind, r->status,
                                  started, r->output_path ? r->output_path : (r->model_path ? r->model_path : ""));
          for (guint k = 0; k < evals->len; k++)
            {
              const BsEvaluationRecord *e = g_ptr_array_index (evals, k);
              g_string_append_printf (out, "  %s %.2f%%", e->split, 100 * e->accuracy);
            }
          if (r->message != NULL)
            g_string_append_printf (out, "  (%s)", r->message);
          g_string_append_c (out, '\n');
        }
      first = FALSE;
    }
  if (json)
    g_string_append (out, "]\n");
  fputs (out->str, stdout);
  return BS_EXIT_OK;
}

/* ---- models ---- */

int
bs_cli_models (int argc, char **argv)
{
  g_autofree char *db = NULL, *add = NULL;
  gint64 remove = 0;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, N_("The database (default: the user's)"), N_("PATH") },
    { "add", 0, 0, G_OPTION_ARG_FILENAME, &add, N_("Register a Hugging Face model folder"), N_("DIR") },
    { "remove", 0, 0, G_OPTION_ARG_INT64, &remove, N_("Forget a model (its folder is kept)"), N_("ID") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_option_context_set_summary (context, N_("List the model registry: architecture, parameters, size on disk, "
                                            "where each model came from."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!bs_cli_parse_options (context, "models", &argc, &argv))
    return BS_EXIT_BAD_INPUT;
  g_autoptr (GError) error = NULL;
  g_autoptr (BsStore) store = bs_store_open (db, &error);
  if (store == NULL)
    return bs_cli_report ("models", error);
  if (add != NULL)
    {
      /* only a folder the engine loads goes in */
      g_autoptr (BsModel) model = bs_model_load (add, NULL, NULL, &error);
      g_autofree char *absolute = g_canonicalize_filename (add, NULL);
      if (model == NULL || bs_store_register_model_folder (store, absolute, "folder", 0, &error) == 0)
        return bs_cli_report ("models", error);
    }
  if (remove > 0 && !bs_store_delete_model (store, remove, &error))
    return bs_cli_report ("models", error);
  if (add != NULL || remove > 0)
    return BS_EXIT_OK;

  g_autoptr (GPtrArray) models = bs_store_list_models (store, &error);
  if (models == NULL)
    return bs_cli_report ("models", error);
  g_autoptr (GString) out = g_string_new (json ? "[" : "");
  for (guint i = 0; i < models->len; i++)
    {
      const BsModelInfo *m = g_ptr_array_index (models, i);
      if (json)
        {
          g_string_append_printf (out, "%s{\"id\": %" G_GINT64_FORMAT ", \"name\": ", i ? ", " : "", m->id);
          bs_json_append_string (out, m->name);
          g_string_append (out, ", \"path\": ");
          bs_json_append_string (out, m->path);
          g_string_append (out, ", \"architecture\": ");
          bs_json_append_string (out, m->architecture);
          g_string_append_printf (out, ", \"parameters\": %" G_GINT64_FORMAT ", \"size_bytes\": %" G_GINT64_FORMAT
                                  ", \"labels\": %s, \"source\": ",
                                  m->n_params, m->size_bytes, m->labels_json != NULL ? m->labels_json : "null");
          bs_json_append_string (out, m->source != NULL ? m->source : "");
          g_string_append_printf (out, ", \"run\": %" G_GINT64_FORMAT "}", m->run_id);
        }
      else
        g_string_append_printf (out, "%4" G_GINT64_FORMAT "  %-24s %-10s %10.1fM params %8.1f MB  %s\n", m->id,
                                m->name, m->architecture, m->n_params / 1e6, m->size_bytes / 1e6, m->path);
    }
  if (json)
    g_string_append (out, "]\n");
  fputs (out->str, stdout);
  return BS_EXIT_OK;
}

/* ---- convert ---- */

/* The head the checkpoint holds, by its tensors' names: a classifier's,
 * else a masked language model's; FALSE for neither. Errors are left to
 * the loader, which says them better. */
static gboolean
checkpoint_head (const char *dir, BsHeadKind *head)
{
  g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (BsSafetensors) st = bs_safetensors_open (path, NULL);
  *head = BS_HEAD_CLASSIFIER;
  if (st == NULL)
    return TRUE;
  gboolean masked_lm = FALSE;
  for (guint i = 0; i < bs_safetensors_get_n_tensors (st); i++)
    {
      const char *name = bs_safetensors_get_tensor (st, i)->name;
      if (g_str_has_prefix (name, "classifier."))
        return TRUE;
      masked_lm |= g_str_has_prefix (name, "cls.predictions.") || g_str_has_prefix (name, "vocab_");
    }
  *head = BS_HEAD_MASKED_LM;
  return masked_lm;
}

static gsize
file_size (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GStatBuf st;
  return g_stat (path, &st) == 0 ? (gsize) st.st_size : 0;
}

int
bs_cli_convert (int argc, char **argv)
{
  g_autofree char *dtype_name = NULL;
  const GOptionEntry entries[] = {
    { "dtype", 0, 0, G_OPTION_ARG_STRING, &dtype_name,
      /* Translators: keep f16, bf16 and f32 as they are: they are the values the user types */
      N_("f16 (default: half the size of f32, nearly always the same predictions), bf16 or f32"),
      /* Translators: in --help, stands for f16, bf16 or f32 */
      N_("TYPE") },
    { NULL },
  };
  /* Translators: in --help's usage line, stand for the model folder read and the one written */
  g_autoptr (GOptionContext) context = g_option_context_new (N_("IN OUT"));
  g_option_context_set_summary (context, N_("Write the model folder IN to OUT with its weights in another "
                                            "floating-point type, with its vocabulary and model card."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!bs_cli_parse_options (context, "convert", &argc, &argv))
    return BS_EXIT_BAD_INPUT;
  g_autoptr (GError) error = NULL;
  BsDtype dtype = BS_DTYPE_F16;
  if (argc != 3)
    /* Translators: keep IN and OUT as they are in the usage line */
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         _("Give a model folder IN and a folder OUT"));
  else if (dtype_name != NULL && g_ascii_strcasecmp (dtype_name, "f16") != 0)
    {
      if (g_ascii_strcasecmp (dtype_name, "bf16") == 0)
        dtype = BS_DTYPE_BF16;
      else if (g_ascii_strcasecmp (dtype_name, "f32") == 0)
        dtype = BS_DTYPE_F32;
      else
        g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     /* Translators: %s is what the user gave for --dtype; keep f16, bf16 and f32 as they are */
                     _("Unknown type “%s” (f16, bf16 or f32)"), dtype_name);
    }
  if (error != NULL)
    return bs_cli_report ("convert", error);
  const char *in = argv[1], *out = argv[2];

  /* a card that does not parse would make the copy unusable too */
  g_autoptr (BsModelCard) card = bs_model_card_load_from_dir (in, &error);
  if (card == NULL && !g_error_matches (error, BS_MODEL_CARD_ERROR, BS_MODEL_CARD_ERROR_NOT_FOUND))
    return bs_cli_report ("convert", error);
  g_clear_error (&error);

  BsLoadOptions options = { 0 };
  gboolean has_head = checkpoint_head (in, &options.head);
  g_auto (BsLoadReport) report = { 0 };
  g_autoptr (BsModel) model = bs_model_load (in, &options, &report, &error);
  if (model == NULL)
    return bs_cli_report ("convert", error);
  if (!has_head || report.head_initialised)
    {
      g_set_error (&error, BS_CHECKPOINT_ERROR, BS_CHECKPOINT_ERROR_MISSING_TENSOR,
                   /* Translators: %s is a model folder */
                   _("%s has no complete head (a classifier’s or a masked language model’s): a copy would hold "
                     "newly initialised parameters instead"),
                   in);
      return bs_cli_report ("convert", error);
    }
  if (!bs_model_save_with_dtype (model, out, dtype, &error))
    return bs_cli_report ("convert", error);

  /* what the folder holds besides the weights; converting in place,
   * they are there already */
  static const char *const companions[] = { "vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
                                            BS_MODEL_CARD_FILE, "README.md" };
  g_autofree char *in_abs = g_canonicalize_filename (in, NULL);
  g_autofree char *out_abs = g_canonicalize_filename (out, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (companions) && g_strcmp0 (in_abs, out_abs) != 0; i++)
    {
      g_autofree char *from = g_build_filename (in, companions[i], NULL);
      g_autofree char *to = g_build_filename (out, companions[i], NULL);
      g_autofree char *contents = NULL;
      gsize length;
      if (!g_file_test (from, G_FILE_TEST_IS_REGULAR))
        continue;
      if (!g_file_get_contents (from, &contents, &length, &error)
          || !bs_write_file_atomic (to, contents, length, &error))
        return bs_cli_report ("convert", error);
    }
  g_autofree char *size = g_format_size (file_size (out, "model.safetensors"));
  gsize n_weights = bs_model_get_n_weights (model);
  printf (g_dngettext (GETTEXT_PACKAGE,
                       /* Translators: a folder, a number of parameters, a type such as F16, and a size such as
                          9.6 MB */
                       "%s: %zu parameter in %s, %s", "%s: %zu parameters in %s, %s", n_weights),
          out, n_weights, bs_dtype_name (dtype), size);
  printf ("\n");
  return BS_EXIT_OK;
}
