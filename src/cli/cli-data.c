/* cli-data.c: the dataset subcommands of bert-studio-cli — import, datasets,
 * stats and export.  Exit status 0: done; 2: bad usage or bad input (a
 * malformed file, an unknown dataset); 1: any other failure. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bs-cli.h"
#include "bs-cli-common.h"
#include "bs-dataset-stats.h"
#include "bs-import.h"
#include "bs-json.h"
#include "bs-store.h"
#include "bs-tokenizer.h"

static int
usage_error (const char *command, const char *message)
{
  fprintf (stderr, "bert-studio-cli %s: %s\nRun 'bert-studio-cli %s --help' for its options.\n", command, message,
           command);
  return BS_EXIT_BAD_INPUT;
}

/* Parses the options; -1 when the command may go on, else its exit status. */
static int
parse_options (GOptionContext *context, const char *command, int *argc, char ***argv)
{
  g_autofree char *prgname = g_strdup_printf ("bert-studio-cli %s", command);
  g_set_prgname (prgname); /* for --help's usage line */
  return bs_cli_parse_options (context, command, argc, argv) ? -1 : BS_EXIT_BAD_INPUT;
}

static BsStore *
open_store (const char *command, const char *db, int *status)
{
  g_autoptr (GError) error = NULL;
  BsStore *store = bs_store_open (db, &error);
  if (store == NULL)
    *status = bs_cli_report (command, error);
  return store;
}

static void
append_dataset_json (GString *out, const BsDataset *d)
{
  g_string_append_printf (out, "{\"id\": %" G_GINT64_FORMAT ", \"name\": ", d->id);
  bs_json_append_string (out, d->name);
  g_string_append (out, ", \"source\": ");
  if (d->source != NULL)
    bs_json_append_string (out, d->source);
  else
    g_string_append (out, "null");
  g_string_append (out, ", \"labels\": [");
  for (guint i = 0; d->labels[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      bs_json_append_string (out, d->labels[i]);
    }
  g_string_append_printf (out, "], \"train\": %" G_GINT64_FORMAT ", \"validation\": %" G_GINT64_FORMAT
                          ", \"test\": %" G_GINT64_FORMAT ", \"unlabeled\": %" G_GINT64_FORMAT
                          ", \"created\": %" G_GINT64_FORMAT "}",
                          d->n_train, d->n_validation, d->n_test, d->n_unlabeled, d->created);
}

static char *
format_time (gint64 unix_seconds)
{
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_local (unix_seconds);
  return t != NULL ? g_date_time_format (t, "%Y-%m-%d %H:%M") : g_strdup ("?");
}

static int
finish_output (const char *command)
{
  if (fflush (stdout) != 0 || ferror (stdout))
    {
      fprintf (stderr, "bert-studio-cli %s: could not write standard output\n", command);
      return BS_EXIT_FAILURE;
    }
  return BS_EXIT_OK;
}

/* ---- import ---- */

typedef struct
{
  gint64 last_us;
} Progress;

static void
show_progress (gint64 n_rows, double fraction, gpointer data)
{
  Progress *p = data;
  gint64 now = g_get_monotonic_time ();
  if (fraction < 1.0 && now - p->last_us < 100000)
    return;
  p->last_us = now;
  if (fraction >= 0)
    fprintf (stderr, "\rimporting: %" G_GINT64_FORMAT " rows (%.0f%%)\033[K", n_rows, 100 * fraction);
  else
    fprintf (stderr, "\rimporting: %" G_GINT64_FORMAT " rows\033[K", n_rows);
  fflush (stderr);
}

int
bs_cli_import (int argc, char **argv)
{
  g_autofree char *db = NULL, *name = NULL, *format_name = NULL, *label_column = NULL, *split = NULL;
  g_autofree char *append_to = NULL;
  g_auto (GStrv) text_columns = NULL;
  gboolean no_header = FALSE, skip_bad_rows = FALSE, json = FALSE;
  double validation_ratio = 0;
  gint64 seed = 0;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "The database (default: $BERT_STUDIO_DB, else the user data folder)", "PATH" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The dataset's name (default: the file's name)", "NAME" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_name, "csv, tsv, jsonl or folder (default: from the name or content)", "FORMAT" },
    { "text-column", 0, 0, G_OPTION_ARG_STRING_ARRAY, &text_columns,
      "The text column or field; repeat to join several with a space (default: text, review, sentence, …)", "C" },
    { "label-column", 0, 0, G_OPTION_ARG_STRING, &label_column,
      "The label column or field (default: label, sentiment, class, …)", "C" },
    { "no-header", 0, 0, G_OPTION_ARG_NONE, &no_header, "CSV/TSV: the first row is data; columns are numbers from 1", NULL },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split,
      "train (default), validation, test or unlabeled; a folder: only that split", "S" },
    { "validation-ratio", 0, 0, G_OPTION_ARG_DOUBLE, &validation_ratio,
      "Move this share of the train examples, per label, to validation (default 0)", "R" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the validation split (default 0)", "N" },
    { "skip-bad-rows", 0, 0, G_OPTION_ARG_NONE, &skip_bad_rows, "Skip malformed rows and list them instead of failing", NULL },
    { "append-to", 0, 0, G_OPTION_ARG_STRING, &append_to,
      "Add the rows to this dataset (name or id), e.g. its test split", "DATASET" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the result as JSON", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE - import a dataset");
  g_option_context_set_summary (context,
    "Imports a CSV or TSV file with a header, a JSON Lines file, or an aclImdb-style folder\n"
    "(train/pos/*.txt, train/neg/*.txt, test/…, train/unsup/) — each may be gzip'd — into\n"
    "the database as one dataset, in one transaction: a failed import leaves nothing behind.");
  g_option_context_set_description (context,
    "Labels may be names or numbers; -1 or an empty label is unlabeled. Errors name the\n"
    "file and line.  Exit status: 0 done, 2 bad input or usage, 1 other failure.\n\n"
    "Example (AG News, no header: class, title, description):\n"
    "  bert-studio-cli import test.csv.gz --name agnews --no-header --label-column 1 \\\n"
    "      --text-column 2 --text-column 3 --split test");
  g_option_context_add_main_entries (context, entries, NULL);
  int status = parse_options (context, "import", &argc, &argv);
  if (status >= 0)
    return status;
  if (argc != 2)
    return usage_error ("import", argc < 2 ? "FILE is required" : "only one FILE at a time");

  BsImportOptions options = {
    .name = name,
    .label_column = label_column,
    .text_columns = (const char *const *) text_columns,
    .split = split,
    .no_header = no_header,
    .skip_bad_rows = skip_bad_rows,
    .validation_ratio = validation_ratio,
    .seed = (guint64) seed,
  };
  if (format_name != NULL && !bs_import_format_from_string (format_name, &options.format))
    return usage_error ("import", "--format must be csv, tsv, jsonl or folder");
  if (!(validation_ratio >= 0 && validation_ratio < 1))
    return usage_error ("import", "--validation-ratio must be at least 0 and below 1");
  Progress progress = { 0 };
  if (isatty (STDERR_FILENO))
    {
      options.progress = show_progress;
      options.progress_data = &progress;
    }

  g_autoptr (BsStore) store = open_store ("import", db, &status);
  if (store == NULL)
    return status;
  g_autoptr (GError) error = NULL;
  g_auto (BsImportResult) result = { 0 };
  gint64 start = g_get_monotonic_time ();
  gboolean ok;
  if (append_to != NULL)
    {
      g_autoptr (BsDataset) target = bs_store_lookup_dataset (store, append_to, &error);
      ok = target != NULL
           && bs_import_append (store, target->id, argv[1], &options, &result, NULL, &error);
    }
  else
    ok = bs_import (store, argv[1], &options, &result, NULL, &error);
  double seconds = (double) (g_get_monotonic_time () - start) / 1e6;
  if (options.progress != NULL)
    fprintf (stderr, "\r\033[K");
  if (!ok)
    return bs_cli_report ("import", error);

  g_autoptr (BsDataset) d = bs_store_get_dataset (store, result.dataset_id, &error);
  if (d == NULL)
    return bs_cli_report ("import", error);
  for (guint i = 0; i < result.skipped->len; i++)
    fprintf (stderr, "skipped %s\n", (const char *) g_ptr_array_index (result.skipped, i));
  if (json)
    {
      g_autoptr (GString) out = g_string_new ("{\"dataset\": ");
      append_dataset_json (out, d);
      g_string_append_printf (out, ", \"rows\": %" G_GINT64_FORMAT ", \"skipped\": %" G_GINT64_FORMAT
                              ", \"skipped_rows\": [", result.n_rows, result.n_skipped);
      for (guint i = 0; i < result.skipped->len; i++)
        {
          if (i > 0)
            g_string_append (out, ", ");
          bs_json_append_string (out, g_ptr_array_index (result.skipped, i));
        }
      g_string_append_printf (out, "], \"seconds\": %.3f}\n", seconds);
      fputs (out->str, stdout);
    }
  else
    {
      g_autofree char *labels = g_strjoinv (", ", d->labels);
      printf ("%s %" G_GINT64_FORMAT " rows into dataset “%s” (id %" G_GINT64_FORMAT ") in %.2f s\n",
              append_to != NULL ? "Added" : "Imported", result.n_rows, d->name, d->id, seconds);
      printf ("  labels: %s\n", labels[0] != '\0' ? labels : "(none)");
      printf ("  train %" G_GINT64_FORMAT ", validation %" G_GINT64_FORMAT ", test %" G_GINT64_FORMAT
              ", unlabeled %" G_GINT64_FORMAT "\n", d->n_train, d->n_validation, d->n_test, d->n_unlabeled);
      if (result.n_skipped > 0)
        printf ("  skipped %" G_GINT64_FORMAT " bad rows (listed on standard error)\n", result.n_skipped);
    }
  return finish_output ("import");
}

/* ---- datasets ---- */

int
bs_cli_datasets (int argc, char **argv)
{
  g_autofree char *db = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "The database (default: $BERT_STUDIO_DB, else the user data folder)", "PATH" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON array", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- list the datasets");
  g_option_context_set_summary (context, "Lists the datasets: id, name, labels and the examples of each split.");
  g_option_context_add_main_entries (context, entries, NULL);
  int status = parse_options (context, "datasets", &argc, &argv);
  if (status >= 0)
    return status;
  if (argc > 1)
    return usage_error ("datasets", "no arguments expected");

  g_autoptr (BsStore) store = open_store ("datasets", db, &status);
  if (store == NULL)
    return status;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = bs_store_list_datasets (store, &error);
  if (list == NULL)
    return bs_cli_report ("datasets", error);
  if (json)
    {
      g_autoptr (GString) out = g_string_new ("[");
      for (guint i = 0; i < list->len; i++)
        {
          g_string_append (out, i > 0 ? ",\n " : "");
          append_dataset_json (out, g_ptr_array_index (list, i));
        }
      g_string_append (out, "]\n");
      fputs (out->str, stdout);
    }
  else if (list->len == 0)
    printf ("No datasets in %s; add one with 'bert-studio-cli import FILE'.\n", bs_store_get_path (store));
  else
    {
      printf ("%4s  %-24s %-24s %8s %10s %8s %9s  %s\n", "ID", "NAME", "LABELS", "TRAIN", "VALIDATION", "TEST",
              "UNLABELED", "CREATED");
      for (guint i = 0; i < list->len; i++)
        {
          BsDataset *d = g_ptr_array_index (list, i);
          g_autofree char *labels = g_strjoinv (",", d->labels);
          g_autofree char *created = format_time (d->created);
          printf ("%4" G_GINT64_FORMAT "  %-24s %-24s %8" G_GINT64_FORMAT " %10" G_GINT64_FORMAT " %8" G_GINT64_FORMAT
                  " %9" G_GINT64_FORMAT "  %s\n", d->id, d->name, labels, d->n_train, d->n_validation, d->n_test,
                  d->n_unlabeled, created);
        }
    }
  return finish_output ("datasets");
}

/* ---- stats ---- */

static const char *
label_name (const BsDataset *d, int label)
{
  if (label < 0)
    return NULL;
  return (guint) label < g_strv_length (d->labels) ? d->labels[label] : "?";
}

int
bs_cli_stats (int argc, char **argv)
{
  g_autofree char *db = NULL, *vocab = NULL, *split = NULL;
  gboolean json = FALSE, cased = FALSE;
  int max_length = 128, bins = 16;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "The database (default: $BERT_STUDIO_DB, else the user data folder)", "PATH" },
    { "vocab", 0, 0, G_OPTION_ARG_FILENAME, &vocab, "The vocabulary: vocab.txt, or a model folder", "FILE" },
    { "cased", 0, 0, G_OPTION_ARG_NONE, &cased, "Do not lower-case (for a vocab.txt; a folder says itself)", NULL },
    { "max-length", 0, 0, G_OPTION_ARG_INT, &max_length, "Report the share of texts this many tokens keep whole (default 128)", "N" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "Only this split (default: all)", "S" },
    { "bins", 0, 0, G_OPTION_ARG_INT, &bins, "At most this many histogram bins (default 16)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the statistics as JSON", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("DATASET - token lengths and label balance");
  g_option_context_set_summary (context,
    "Counts the WordPiece tokens of every text of DATASET (a name or an id), with [CLS]\n"
    "and [SEP], and shows their percentiles, a histogram and the share of texts that fit\n"
    "in --max-length tokens; then the examples per split and label. Counts are cached in\n"
    "the database per vocabulary.");
  g_option_context_add_main_entries (context, entries, NULL);
  int status = parse_options (context, "stats", &argc, &argv);
  if (status >= 0)
    return status;
  if (argc != 2)
    return usage_error ("stats", argc < 2 ? "DATASET is required" : "only one DATASET");
  if (vocab == NULL)
    return usage_error ("stats", "--vocab FILE is required");
  if (max_length < 2 || bins < 1)
    return usage_error ("stats", max_length < 2 ? "--max-length must be at least 2" : "--bins must be at least 1");
  if (split != NULL && !bs_store_is_split (split))
    return usage_error ("stats", "--split must be train, validation, test or unlabeled");

  g_autoptr (GError) error = NULL;
  g_autoptr (BsTokenizer) tokenizer = g_file_test (vocab, G_FILE_TEST_IS_DIR)
    ? bs_tokenizer_new_from_model_dir (vocab, &error)
    : bs_tokenizer_new_from_file (vocab, !cased, &error);
  if (tokenizer == NULL)
    return bs_cli_report ("stats", error);
  g_autoptr (BsStore) store = open_store ("stats", db, &status);
  if (store == NULL)
    return status;
  g_autoptr (BsDataset) d = bs_store_lookup_dataset (store, argv[1], &error);
  if (d == NULL)
    return bs_cli_report ("stats", error);
  if (isatty (STDERR_FILENO))
    fprintf (stderr, "counting tokens…");
  g_autoptr (BsTokenStats) stats = bs_dataset_token_stats (store, d->id, split, tokenizer, max_length, (guint) bins,
                                                           NULL, &error);
  if (isatty (STDERR_FILENO))
    fprintf (stderr, "\r\033[K");
  if (stats == NULL)
    return bs_cli_report ("stats", error);
  g_autoptr (GArray) counts = bs_dataset_label_counts (store, d->id, &error);
  if (counts == NULL)
    return bs_cli_report ("stats", error);

  g_autoptr (GString) out = g_string_new (NULL);
  if (json)
    {
      g_string_append_printf (out, "{\"dataset_id\": %" G_GINT64_FORMAT ", \"name\": ", d->id);
      bs_json_append_string (out, d->name);
      g_string_append (out, ", \"split\": ");
      if (split != NULL)
        bs_json_append_string (out, split);
      else
        g_string_append (out, "null");
      g_string_append_printf (out, ", \"lower_case\": %s, \"n_texts\": %" G_GSIZE_FORMAT,
                              bs_tokenizer_get_lower_case (tokenizer) ? "true" : "false", stats->n_texts);
      g_string_append_printf (out, ", \"min\": %d, \"max\": %d, \"mean\": %.3f", stats->min, stats->max, stats->mean);
      g_string_append_printf (out, ", \"percentiles\": {\"50\": %d, \"90\": %d, \"95\": %d, \"99\": %d}",
                              stats->p50, stats->p90, stats->p95, stats->p99);
      g_string_append_printf (out, ", \"max_length\": %d, \"within_max_length\": %" G_GSIZE_FORMAT
                              ", \"fraction_within\": %.6f", max_length, stats->n_within, stats->fraction_within);
      g_string_append_printf (out, ", \"histogram\": {\"bin_width\": %d, \"counts\": [", stats->bin_width);
      for (guint i = 0; i < stats->n_bins; i++)
        g_string_append_printf (out, i > 0 ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, stats->bins[i]);
      g_string_append (out, "]}, \"labels\": [");
      for (guint i = 0; i < counts->len; i++)
        {
          const BsLabelCount *c = &g_array_index (counts, BsLabelCount, i);
          g_string_append_printf (out, "%s{\"split\": \"%s\", \"label\": ", i > 0 ? ", " : "", c->split);
          if (label_name (d, c->label) != NULL)
            bs_json_append_string (out, label_name (d, c->label));
          else
            g_string_append (out, "null");
          g_string_append_printf (out, ", \"count\": %" G_GINT64_FORMAT "}", c->count);
        }
      g_string_append (out, "]}\n");
    }
  else
    {
      g_string_append_printf (out, "Dataset “%s” (id %" G_GINT64_FORMAT "), %s: %" G_GSIZE_FORMAT " texts\n", d->name,
                              d->id, split != NULL ? split : "all splits", stats->n_texts);
      g_string_append_printf (out, "Tokens per text, [CLS] and [SEP] included (%s): min %d, mean %.1f, max %d\n",
                              bs_tokenizer_get_lower_case (tokenizer) ? "lower-cased" : "cased",
                              stats->min, stats->mean, stats->max);
      g_string_append_printf (out, "Percentiles: 50%% %d, 90%% %d, 95%% %d, 99%% %d\n", stats->p50, stats->p90,
                              stats->p95, stats->p99);
      g_string_append_printf (out, "max_length %d keeps %.1f%% of the texts whole (%" G_GSIZE_FORMAT " of %"
                              G_GSIZE_FORMAT ")\n", max_length, 100 * stats->fraction_within, stats->n_within,
                              stats->n_texts);
      gint64 peak = 1;
      for (guint i = 0; i < stats->n_bins; i++)
        peak = MAX (peak, stats->bins[i]);
      g_string_append (out, "Histogram (tokens: texts):\n");
      for (guint i = 0; i < stats->n_bins; i++)
        {
          gint64 lo = (gint64) i * stats->bin_width, hi = lo + stats->bin_width - 1;
          int bar = (int) lround (40.0 * (double) stats->bins[i] / (double) peak);
          g_string_append_printf (out, "  %6" G_GINT64_FORMAT "-%-6" G_GINT64_FORMAT " %8" G_GINT64_FORMAT "  ", lo, hi,
                                  stats->bins[i]);
          for (int b = 0; b < bar; b++)
            g_string_append (out, "#");
          g_string_append_c (out, '\n');
        }
      g_string_append (out, "Examples per split and label:\n");
      for (guint i = 0; i < counts->len; i++)
        {
          const BsLabelCount *c = &g_array_index (counts, BsLabelCount, i);
          const char *label = label_name (d, c->label);
          g_string_append_printf (out, "  %-10s %-20s %8" G_GINT64_FORMAT "\n", c->split,
                                  label != NULL ? label : "(unlabeled)", c->count);
        }
    }
  fputs (out->str, stdout);
  return finish_output ("stats");
}

/* ---- export ---- */

int
bs_cli_export (int argc, char **argv)
{
  g_autofree char *db = NULL, *split = NULL, *format_name = NULL;
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, "The database (default: $BERT_STUDIO_DB, else the user data folder)", "PATH" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "Only this split (default: all, with a split column)", "S" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_name, "csv or jsonl (default: from FILE's extension, else csv)", "FORMAT" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("DATASET FILE - write a dataset to a file");
  g_option_context_set_summary (context,
    "Writes the examples of DATASET (a name or an id) to FILE as CSV (text,label[,split];\n"
    "RFC 4180) or JSON Lines ({\"text\", \"label\"[, \"split\"]}), with label names.  The file\n"
    "is replaced atomically.");
  g_option_context_add_main_entries (context, entries, NULL);
  int status = parse_options (context, "export", &argc, &argv);
  if (status >= 0)
    return status;
  if (argc != 3)
    return usage_error ("export", "DATASET and FILE are required");
  if (split != NULL && !bs_store_is_split (split))
    return usage_error ("export", "--split must be train, validation, test or unlabeled");
  BsExportFormat format;
  const char *path = argv[2];
  if (format_name != NULL)
    {
      if (g_ascii_strcasecmp (format_name, "csv") == 0)
        format = BS_EXPORT_CSV;
      else if (g_ascii_strcasecmp (format_name, "jsonl") == 0)
        format = BS_EXPORT_JSONL;
      else
        return usage_error ("export", "--format must be csv or jsonl");
    }
  else
    format = g_str_has_suffix (path, ".jsonl") || g_str_has_suffix (path, ".json") || g_str_has_suffix (path, ".ndjson")
             ? BS_EXPORT_JSONL : BS_EXPORT_CSV;

  g_autoptr (BsStore) store = open_store ("export", db, &status);
  if (store == NULL)
    return status;
  g_autoptr (GError) error = NULL;
  g_autoptr (BsDataset) d = bs_store_lookup_dataset (store, argv[1], &error);
  if (d == NULL)
    return bs_cli_report ("export", error);
  if (!bs_store_export_dataset (store, d->id, split, path, format, &error))
    return bs_cli_report ("export", error);
  gint64 n = split == NULL ? d->n_train + d->n_validation + d->n_test + d->n_unlabeled
             : strcmp (split, "train") == 0 ? d->n_train
             : strcmp (split, "validation") == 0 ? d->n_validation
             : strcmp (split, "test") == 0 ? d->n_test : d->n_unlabeled;
  printf ("Wrote %" G_GINT64_FORMAT " examples of “%s” to %s\n", n, d->name, path);
  return finish_output ("export");
}
