/* bert-studio-cli: BERT Studio's jobs, headless. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "bs-cli.h"

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary; /* marked with N_() */
} BsCliCommand;

static const BsCliCommand commands[] = {
  { "import", bs_cli_import, N_("Import a CSV/TSV, JSON Lines or aclImdb-style folder as a dataset") },
  { "datasets", bs_cli_datasets, N_("List the datasets") },
  { "stats", bs_cli_stats, N_("Token lengths and label balance of a dataset") },
  { "export", bs_cli_export, N_("Write a dataset to CSV or JSON Lines") },
  { "tokenize", bs_cli_tokenize, N_("WordPiece token ids of JSON Lines texts read from standard input") },
  { "init-model", bs_cli_init_model, N_("Create a randomly initialised model folder of a given size") },
  { "train", bs_cli_train, N_("Fine-tune a model on a dataset") },
  { "distill", bs_cli_distill, N_("Distil a fine-tuned teacher into a smaller student") },
  { "pretrain", bs_cli_pretrain, N_("Pretrain a model on a dataset's texts, labelled or not, by predicting masked words") },
  { "resume", bs_cli_resume, N_("Continue an interrupted or cancelled run from its checkpoint") },
  { "eval", bs_cli_eval, N_("Evaluate a model on a dataset's split") },
  { "predict", bs_cli_predict, N_("Classify texts with a model") },
  { "serve", bs_cli_serve, N_("Serve a model over HTTP, with a page to try it") },
  { "runs", bs_cli_runs, N_("List the runs, or show one") },
  { "models", bs_cli_models, N_("List, add or remove models in the registry") },
  { "convert", bs_cli_convert, N_("Write a model folder with its weights in F16 (half the size), BF16 or F32") },
  { "download", bs_cli_download, N_("Download a BERT or DistilBERT model from the Hugging Face hub") },
};

static void
print_usage (FILE *out)
{
  /* Translators: COMMAND and OPTION stand for what the user types */
  fprintf (out, "%s\n\n", _("Usage: bert-studio-cli COMMAND [OPTION…]"));
  fprintf (out, "%s\n", _("Commands:"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
  /* Translators: keep 'bert-studio-cli COMMAND --help' as it is, but for COMMAND */
  fprintf (out, "\n%s\n", _("Run 'bert-studio-cli COMMAND --help' for a command's options."));
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* numbers in JSON and CSV output need the decimal point, whatever the
   * user's locale writes */
  setlocale (LC_NUMERIC, "C");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    {
      print_usage (stderr);
      return 2;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      print_usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("bert-studio-cli %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);

  fprintf (stderr, "bert-studio-cli: ");
  /* Translators: %s is what the user typed as the command */
  fprintf (stderr, _("unknown command '%s'"), argv[1]);
  fprintf (stderr, "\n\n");
  print_usage (stderr);
  return 2;
}
