/* cli-data.c: the dataset subcommands of bert-studio-cli — import, datasets,
 * stats and export.  Exit status 0: done; 2: bad usage or bad input (a
 * malformed file, an unknown dataset); 1: any other failure. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
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
  fprintf (stderr, "bert-studio-cli %s: %s\n", command, message);
  /* Translators: %s is a command such as import; keep 'bert-studio-cli %s --help' as it is */
  fprintf (stderr, _("Run 'bert-studio-cli %s --help' for its options."), command);
  fprintf (stderr, "\n");
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
      fprintf (stderr, "bert-studio-cli %s: %s\n", command, _("could not write standard output"));
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
  fputs ("\r", stderr);
  if (fraction >= 0)
    /* Translators: a progress line: rows imported so far, and the share of the file read (such as 40%) */
    fprintf (stderr, g_dngettext (GETTEXT_PACKAGE, "importing: %" PRId64 " row (%.0f%%)",
                                  "importing: %" PRId64 " rows (%.0f%%)", (gulong) n_rows),
             n_rows, 100 * fraction);
  else
    /* Translators: a progress line: rows imported so far */
    fprintf (stderr, g_dngettext (GETTEXT_PACKAGE, "importing: %" PRId64 " row", "importing: %" PRId64 " rows",
                                  (gulong) n_rows),
             n_rows);
  fputs ("\033[K", stderr);
  fflush (stderr);
}

int
bs_cli_import (int argc, char **argv)
{
  g_autofree char *db = NULL, *name = NULL, *format_name = NULL, *label_column = NULL, *split = NULL;
  g_autofree char *append_to = NULL, *label_names = NULL;
  g_auto (GStrv) text_columns = NULL;
  gboolean no_header = FALSE, skip_bad_rows = FALSE, json = FALSE;
  double validation_ratio = 0;
  gint64 seed = 0;
  /* GOption translates the texts marked N_() here (domains set below). */
  const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db,
      /* Translators: keep $BERT_STUDIO_DB as it is: it is an environment variable */
      N_("The database (default: $BERT_STUDIO_DB, else the user data folder)"),
      /* Translators: in --help, stands for the file the user names */
      N_("PATH") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("The dataset's name (default: the file's name)"),
      /* Translators: in --help, stands for the name the user gives */
      N_("NAME") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_name,
      /* Translators: keep csv, tsv, jsonl and folder as they are: they are the values the user types */
      N_("csv, tsv, jsonl or folder (default: from the name or content)"),
      /* Translators: in --help, stands for csv, tsv, jsonl or folder */
      N_("FORMAT") },
    { "text-column", 0, 0, G_OPTION_ARG_STRING_ARRAY, &text_columns,
      /* Translators: keep text, review and sentence as they are: they are column names looked for */
      N_("The text column or field; repeat to join several with a space (default: text, review, sentence, …)"),
      /* Translators: in --help, stands for a column's name or number */
      N_("C") },
    { "label-column", 0, 0, G_OPTION_ARG_STRING, &label_column,
      /* Translators: keep label, sentiment and class as they are: they are column names looked for */
      N_("The label column or field (default: label, sentiment, class, …)"), N_("C") },
    { "label-names", 0, 0, G_OPTION_ARG_STRING, &label_names,
      N_("Name the classes, comma-separated; labels 0, 1, … in the file then mean these"),
      /* Translators: in --help, stands for names such as neg,pos */
      N_("A,B") },
    { "no-header", 0, 0, G_OPTION_ARG_NONE, &no_header,
      N_("CSV/TSV: the first row is data; columns are numbers from 1"), NULL },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split,
      /* Translators: keep train, validation, test and unlabeled as they are: they are the values the user types */
      N_("train (default), validation, test or unlabeled; a folder: only that split"),
      /* Translators: in --help, stands for a split: train, validation, test or unlabeled */
      N_("S") },
    { "validation-ratio", 0, 0, G_OPTION_ARG_DOUBLE, &validation_ratio,
      N_("Move this share of the train examples, per label, to validation (default 0)"),
      /* Translators: in --help, stands for a ratio such as 0.1 */
      N_("R") },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, N_("Seed of the validation split (default 0)"),
      /* Translators: in --help, stands for the number the user gives */
      N_("N") },
    { "skip-bad-rows", 0, 0, G_OPTION_ARG_NONE, &skip_bad_rows,
      N_("Skip malformed rows and list them instead of failing"), NULL },
    { "append-to", 0, 0, G_OPTION_ARG_STRING, &append_to,
      N_("Add the rows to this dataset (name or id), e.g. its test split"),
      /* Translators: in --help, stands for a dataset's name or id */
      N_("DATASET") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL },
  };
  /* Translators: in --help's usage line; FILE stands for the file the user names */
  g_autoptr (GOptionContext) context = g_option_context_new (N_("FILE - import a dataset"));
  g_option_context_set_summary (context,
    /* Translators: keep the file and folder names (train/pos and so on) as they are */
    N_("Imports a CSV or TSV file with a header, a JSON Lines file, or an aclImdb-style folder\n"
       "(train/pos/*.txt, train/neg/*.txt, test/…, train/unsup/) — each may be gzip'd — into\n"
       "the database as one dataset, in one transaction: a failed import leaves nothing behind."));
  g_option_context_set_description (context,
    /* Translators: keep the example command as it is */
    N_("Labels may be names or numbers; -1 or an empty label is unlabeled. Errors name the\n"
       "file and line.  Exit status: 0 done, 2 bad input or usage, 1 other failure.\n\n"
       "Example (AG News, no header: class, title, description):\n"
       "  bert-studio-cli import test.csv.gz --name agnews --no-header --label-column 1 \\\n"
       "      --text-column 2 --text-column 3 --split test"));
  /* the entries' domain, then that of the usage line, summary and description */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  int status = parse_options (context, "import", &argc, &argv);
  if (status >= 0)
    return status;
  if (argc != 2)
    /* Translators: FILE as in --help */
    return usage_error ("import", argc < 2 ? _("FILE is required") : _("only one FILE at a time"));

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
  g_auto (GStrv) names = label_names != NULL ? g_strsplit (label_names, ",", -1) : NULL;
  options.label_names = (const char *const *) names;
  if (format_name != NULL && !bs_import_format_from_string (format_name, &options.format))
    /* Translators: keep --format, csv, tsv, jsonl and folder as they are */
    return usage_error ("import", _("--format must be csv, tsv, jsonl or folder"));
  if (!(validation_ratio >= 0 && validation_ratio < 1))
    /* Translators: keep --validation-ratio as it is */
    return usage_error ("import", _("--validation-ratio must be at least 0 and below 1"));
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
    {
      /* Translators: %s is where a bad row is and what is wrong with it */
      fprintf (stderr, _("skipped %s"), (const char *) g_ptr_array_index (result.skipped, i));
      fprintf (stderr, "\n");
    }
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
      if (append_to != NULL)
        /* Translators: a number of rows, a dataset's name and id, and seconds */
        printf (g_dngettext (GETTEXT_PACKAGE, "Added %" PRId64 " row into dataset “%s” (id %" PRId64 ") in %.2f s",
                             "Added %" PRId64 " rows into dataset “%s” (id %" PRId64 ") in %.2f s",
                             (gulong) result.n_rows),
                result.n_rows, d->name, d->id, seconds);
      else
        printf (g_dngettext (GETTEXT_PACKAGE,
                             /* Translators: a number of rows, a dataset's name and id, and seconds */
                             "Imported %" PRId64 " row into dataset “%s” (id %" PRId64 ") in %.2f s",
                             "Imported %" PRId64 " rows into dataset “%s” (id %" PRId64 ") in %.2f s",
                             (gulong) result.n_rows),
                result.n_rows, d->name, d->id, seconds);
      printf ("\n  ");
      /* Translators: %s is a list of label names, or (none) */
      printf (_("labels: %s"), labels[0] != '\0' ? labels : _("(none)"));
      printf ("\n  ");
      /* Translators: the examples in each split; keep train, validation, test and unlabeled as they are */
      printf (_("train %" PRId64 ", validation %" PRId64 ", test %" PRId64 ", unlabeled %" PRId64), d->n_train,
              d->n_validation, d->n_test, d->n_unlabeled);
      printf ("\n");
      if (result.n_skipped > 0)
        {
          printf ("  ");
          printf (g_dngettext (GETTEXT_PACKAGE, "skipped %" PRId64 " bad row (listed on standard error)",
                               "skipped %" PRId64 " bad rows (listed on standard error)", (gulong) result.n_skipped),
                  result.n_skipped);
          printf ("\n");
        }
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
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, N_("The database (default: $BERT_STUDIO_DB, else the user data folder)"),
      N_("PATH") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print a JSON array"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (N_("- list the datasets"));
  g_option_context_set_summary (context, N_("Lists the datasets: id, name, labels and the examples of each split."));
  /* the entries' domain, then that of the usage line and summary */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  int status = parse_options (context, "datasets", &argc, &argv);
  if (status >= 0)
    return status;
  if (argc > 1)
    return usage_error ("datasets", _("no arguments expected"));

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
    {
      /* Translators: %s is the database file; keep 'bert-studio-cli import FILE' as it is, but for FILE */
      printf (_("No datasets in %s; add one with 'bert-studio-cli import FILE'."), bs_store_get_path (store));
      printf ("\n");
    }
  else
    {
      /* Translators: the column headings of the list of datasets, each as wide as its column at most: ID 4
         characters, NAME and LABELS 24, TRAIN 8, VALIDATION 10, TEST 8, UNLABELED 9 */
      printf ("%4s  %-24s %-24s %8s %10s %8s %9s  %s\n", C_("datasets", "ID"), C_("datasets", "NAME"),
              C_("datasets", "LABELS"), C_("datasets", "TRAIN"), C_("datasets", "VALIDATION"), C_("datasets", "TEST"),
              C_("datasets", "UNLABELED"), C_("datasets", "CREATED"));
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
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, N_("The database (default: $BERT_STUDIO_DB, else the user data folder)"),
      N_("PATH") },
    { "vocab", 0, 0, G_OPTION_ARG_FILENAME, &vocab,
      /* Translators: keep vocab.txt as it is: it is a file name */
      N_("The vocabulary: vocab.txt, or a model folder"),
      /* Translators: in --help, stands for the file the user names */
      N_("FILE") },
    { "cased", 0, 0, G_OPTION_ARG_NONE, &cased,
      /* Translators: keep vocab.txt as it is: it is a file name */
      N_("Do not lower-case (for a vocab.txt; a folder says itself)"), NULL },
    { "max-length", 0, 0, G_OPTION_ARG_INT, &max_length,
      N_("Report the share of texts this many tokens keep whole (default 128)"), N_("N") },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, N_("Only this split (default: all)"), N_("S") },
    { "bins", 0, 0, G_OPTION_ARG_INT, &bins, N_("At most this many histogram bins (default 16)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the statistics as JSON"), NULL },
    { NULL },
  };
  /* Translators: in --help's usage line; DATASET stands for a dataset's name or id */
  g_autoptr (GOptionContext) context = g_option_context_new (N_("DATASET - token lengths and label balance"));
  g_option_context_set_summary (context,
    /* Translators: keep [CLS], [SEP] and --max-length as they are; DATASET as in the usage line */
    N_("Counts the WordPiece tokens of every text of DATASET (a name or an id), with [CLS]\n"
       "and [SEP], and shows their percentiles, a histogram and the share of texts that fit\n"
       "in --max-length tokens; then the examples per split and label. Counts are cached in\n"
       "the database per vocabulary."));
  /* the entries' domain, then that of the usage line and summary */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  int status = parse_options (context, "stats", &argc, &argv);
  if (status >= 0)
    return status;
  if (argc != 2)
    /* Translators: DATASET as in --help */
    return usage_error ("stats", argc < 2 ? _("DATASET is required") : _("only one DATASET"));
  if (vocab == NULL)
    /* Translators: keep --vocab as it is; FILE as in --help */
    return usage_error ("stats", _("--vocab FILE is required"));
  if (max_length < 2 || bins < 1)
    /* Translators: keep --max-length and --bins as they are */
    return usage_error ("stats",
                        max_length < 2 ? _("--max-length must be at least 2") : _("--bins must be at least 1"));
  if (split != NULL && !bs_store_is_split (split))
    /* Translators: keep --split, train, validation, test and unlabeled as they are */
    return usage_error ("stats", _("--split must be train, validation, test or unlabeled"));

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
    fputs (_("counting tokens…"), stderr);
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
      /* Translators: a dataset's name and id, a split (train, validation, test or unlabeled: not translated) or
         “all splits”, and a number of texts */
      g_string_append_printf (out, g_dngettext (GETTEXT_PACKAGE, "Dataset “%s” (id %" PRId64 "), %s: %zu text",
                                                "Dataset “%s” (id %" PRId64 "), %s: %zu texts", stats->n_texts),
                              d->name, d->id, split != NULL ? split : _("all splits"), stats->n_texts);
      g_string_append_c (out, '\n');
      g_string_append_printf (out,
                              /* Translators: keep [CLS] and [SEP] as they are; %s is “lower-cased” or
                                 “cased” */
                              _("Tokens per text, [CLS] and [SEP] included (%s): min %d, mean %.1f, max %d"),
                              bs_tokenizer_get_lower_case (tokenizer) ? _("lower-cased") : _("cased"),
                              stats->min, stats->mean, stats->max);
      g_string_append_c (out, '\n');
      /* Translators: the token counts that 50%, 90%, 95% and 99% of the texts stay within */
      g_string_append_printf (out, _("Percentiles: 50%% %d, 90%% %d, 95%% %d, 99%% %d"), stats->p50, stats->p90,
                              stats->p95, stats->p99);
      g_string_append_c (out, '\n');
      /* Translators: keep max_length as it is; a number of tokens, a percentage, and two numbers of texts */
      g_string_append_printf (out, _("max_length %d keeps %.1f%% of the texts whole (%zu of %zu)"), max_length,
                              100 * stats->fraction_within, stats->n_within, stats->n_texts);
      g_string_append_c (out, '\n');
      gint64 peak = 1;
      for (guint i = 0; i < stats->n_bins; i++)
        peak = MAX (peak, stats->bins[i]);
      /* Translators: the heading of a histogram whose rows give a range of token counts, then a number of texts */
      g_string_append (out, _("Histogram (tokens: texts):"));
      g_string_append_c (out, '\n');
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
      g_string_append (out, _("Examples per split and label:"));
      g_string_append_c (out, '\n');
      for (guint i = 0; i < counts->len; i++)
        {
          const BsLabelCount *c = &g_array_index (counts, BsLabelCount, i);
          const char *label = label_name (d, c->label);
          g_string_append_printf (out, "  %-10s %-20s %8" G_GINT64_FORMAT "\n", c->split,
                                  label != NULL ? label : _("(unlabeled)"), c->count);
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
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, N_("The database (default: $BERT_STUDIO_DB, else the user data folder)"),
      N_("PATH") },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, N_("Only this split (default: all, with a split column)"), N_("S") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_name,
      /* Translators: keep csv and jsonl as they are: they are the values the user types; FILE as in --help */
      N_("csv or jsonl (default: from FILE's extension, else csv)"),
      /* Translators: in --help, stands for csv or jsonl */
      N_("FORMAT") },
    { NULL },
  };
  /* Translators: in --help's usage line; DATASET stands for a dataset's name or id, FILE for the file written */
  g_autoptr (GOptionContext) context = g_option_context_new (N_("DATASET FILE - write a dataset to a file"));
  g_option_context_set_summary (context,
    /* Translators: keep text, label, split and RFC 4180 as they are; DATASET and FILE as in the usage line */
    N_("Writes the examples of DATASET (a name or an id) to FILE as CSV (text,label[,split];\n"
       "RFC 4180) or JSON Lines ({\"text\", \"label\"[, \"split\"]}), with label names.  The file\n"
       "is replaced atomically."));
  /* the entries' domain, then that of the usage line and summary */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  int status = parse_options (context, "export", &argc, &argv);
  if (status >= 0)
    return status;
  if (argc != 3)
    /* Translators: DATASET and FILE as in --help */
    return usage_error ("export", _("DATASET and FILE are required"));
  if (split != NULL && !bs_store_is_split (split))
    /* Translators: keep --split, train, validation, test and unlabeled as they are */
    return usage_error ("export", _("--split must be train, validation, test or unlabeled"));
  BsExportFormat format;
  const char *path = argv[2];
  if (format_name != NULL)
    {
      if (g_ascii_strcasecmp (format_name, "csv") == 0)
        format = BS_EXPORT_CSV;
      else if (g_ascii_strcasecmp (format_name, "jsonl") == 0)
        format = BS_EXPORT_JSONL;
      else
        /* Translators: keep --format, csv and jsonl as they are */
        return usage_error ("export", _("--format must be csv or jsonl"));
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
  /* Translators: a number of examples, a dataset's name and a file path */
  printf (g_dngettext (GETTEXT_PACKAGE, "Wrote %" PRId64 " example of “%s” to %s",
                       "Wrote %" PRId64 " examples of “%s” to %s", (gulong) n),
          n, d->name, path);
  printf ("\n");
  return finish_output ("export");
}
