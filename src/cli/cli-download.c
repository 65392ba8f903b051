/* cli-download.c: bert-studio-cli download, a model from the Hugging Face hub
 * into the registry. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "bs-cli-common.h"
#include "bs-cli.h"
#include "bs-hub.h"
#include "bs-json.h"

typedef struct
{
  BsHubOptions options;
  BsHubResult result;
  gboolean line_shown; /* a progress line waits for its end */
  gint64 last_us;
} DownloadCommand;

static void
format_eta (char *buf, gsize size, double seconds)
{
  if (!isfinite (seconds) || seconds < 0)
    g_strlcpy (buf, "?", size);
  else if (seconds >= 3600)
    g_snprintf (buf, size, "%d:%02d:%02d", (int) seconds / 3600, (int) seconds / 60 % 60, (int) seconds % 60);
  else
    g_snprintf (buf, size, "%d:%02d", (int) seconds / 60, (int) seconds % 60);
}

static void
end_line (DownloadCommand *d)
{
  if (d->line_shown)
    fputs ("\n", stderr);
  d->line_shown = FALSE;
}

/* One updating line on standard error when it is a terminal, as
 * bs_cli_print_progress does for the jobs. */
static void
print_progress (const BsHubProgress *p, gpointer user_data)
{
  DownloadCommand *d = user_data;
  if (!isatty (STDERR_FILENO))
    return;
  gint64 now = g_get_monotonic_time ();
  if (now - d->last_us < 200000 && p->phase == BS_HUB_PHASE_DOWNLOADING && p->file_done != p->file_total)
    return;
  d->last_us = now;
  fputs ("\r\033[K", stderr);
  switch (p->phase)
    {
    case BS_HUB_PHASE_RESOLVING:
      fprintf (stderr, "%s", _("Looking up the repository…"));
      break;
    case BS_HUB_PHASE_DOWNLOADING:
      {
        g_autofree char *done = g_format_size ((guint64) MAX (p->done_bytes, 0));
        g_autofree char *total = p->total_bytes > 0 ? g_format_size ((guint64) p->total_bytes) : g_strdup ("?");
        g_autofree char *rate = isfinite (p->bytes_per_s) ? g_format_size ((guint64) p->bytes_per_s) : g_strdup ("?");
        char eta[32];
        format_eta (eta, sizeof eta, p->eta_s);
        int percent = p->total_bytes > 0 ? (int) (100 * p->done_bytes / p->total_bytes) : 0;
        fprintf (stderr,
                 /* Translators: a progress line: a file name, the bytes done and in all (such as “12.5 MB /
                    440.5 MB”), the percentage, the rate (such as “11.2 MB”, a second) and the estimated time left
                    (ETA, such as 1:05); keep it short */
                 _("%s  %s / %s  %d%%  %s/s  ETA %s"), p->file != NULL ? p->file : "", done, total, percent, rate,
                 eta);
        break;
      }
    /* whole lines: what loading the model logs comes after them */
    case BS_HUB_PHASE_MERGING:
      /* Translators: keep model.safetensors as it is */
      fprintf (stderr, "%s\n", _("Joining the shards into one model.safetensors…"));
      d->line_shown = FALSE;
      return;
    case BS_HUB_PHASE_VERIFYING:
      fprintf (stderr, "%s\n", _("Checking that the model loads…"));
      d->line_shown = FALSE;
      return;
    case BS_HUB_PHASE_DONE:
      fputs ("\r\033[K", stderr);
      d->line_shown = FALSE;
      return;
    }
  d->line_shown = TRUE;
}

static gboolean
run_download (gpointer data, GCancellable *cancellable, GError **error)
{
  DownloadCommand *d = data;
  return bs_hub_download (&d->options, print_progress, d, cancellable, &d->result, error);
}

static int
download_exit_status (const GError *error)
{
  if (error->domain == BS_HUB_ERROR)
    switch ((BsHubError) error->code)
      {
      case BS_HUB_ERROR_INVALID:
      case BS_HUB_ERROR_NOT_FOUND:
      case BS_HUB_ERROR_AUTH:
      case BS_HUB_ERROR_UNSUPPORTED:
      case BS_HUB_ERROR_EXISTS:
        return BS_EXIT_BAD_INPUT;
      default:
        return BS_EXIT_FAILURE;
      }
  return bs_cli_exit_status (error);
}

static void
print_result_json (const DownloadCommand *d)
{
  const BsHubResult *r = &d->result;
  g_autoptr (GString) s = g_string_new (NULL);
  g_string_append_printf (s, "{\"model\": %" G_GINT64_FORMAT ", \"path\": ", r->model_id);
  bs_json_append_string (s, r->path);
  g_string_append (s, ", \"repo\": ");
  bs_json_append_string (s, d->options.repo);
  g_string_append (s, ", \"revision\": ");
  bs_json_append_string (s, d->options.revision != NULL ? d->options.revision : "main");
  g_string_append (s, ", \"commit\": ");
  if (r->commit != NULL)
    bs_json_append_string (s, r->commit);
  else
    g_string_append (s, "null");
  g_string_append_printf (s, ", \"size_bytes\": %" G_GINT64_FORMAT ", \"downloaded_bytes\": %" G_GINT64_FORMAT
                          ", \"resumed_bytes\": %" G_GINT64_FORMAT ", \"shards\": %u}",
                          r->size_bytes, r->downloaded_bytes, r->resumed_bytes, r->n_shards);
  printf ("%s\n", s->str);
}

int
bs_cli_download (int argc, char **argv)
{
  g_autofree char *revision = NULL, *output = NULL, *endpoint = NULL, *token = NULL, *db = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "revision", 'r', 0, G_OPTION_ARG_STRING, &revision, N_("A branch, tag or commit (default main)"),
      /* Translators: in --help, stands for a branch, tag or commit name */
      N_("REV") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("The model folder to create (default: one named after the repository in the user's data folder)"),
      /* Translators: in --help, stands for the folder the user names */
      N_("DIR") },
    { "endpoint", 0, 0, G_OPTION_ARG_STRING, &endpoint,
      /* Translators: keep HF_ENDPOINT and https://huggingface.co as they are */
      N_("The hub's address (default: $HF_ENDPOINT, else https://huggingface.co)"),
      /* Translators: in --help, stands for a web address */
      N_("URL") },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token,
      /* Translators: keep HF_TOKEN as it is */
      N_("An access token for gated or private repositories (default: $HF_TOKEN, which other users cannot see "
         "in the process list)"),
      /* Translators: in --help, stands for an access token */
      N_("TOKEN") },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, N_("The database (default: the user's)"),
      /* Translators: in --help, stands for the file the user names */
      N_("PATH") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL },
  };
  /* Translators: in --help's usage line, stands for a hub repository such as bert-base-uncased */
  g_autoptr (GOptionContext) context = g_option_context_new (N_("REPO"));
  g_option_context_set_summary (context,
                                N_("Download a BERT or DistilBERT model from the Hugging Face hub, such as "
                                   "bert-base-uncased or distilbert/distilbert-base-uncased, check it and add it to "
                                   "the model registry. Ctrl+C stops it; running it again continues where it "
                                   "stopped."));
  /* the entries' domain, then that of the usage line and summary */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!bs_cli_parse_options (context, "download", &argc, &argv))
    return BS_EXIT_BAD_INPUT;
  if (argc != 2)
    {
      /* Translators: keep REPO as it is: it is the usage line's name for the repository */
      fprintf (stderr, "bert-studio-cli download: %s\n", _("one repository (REPO) is needed"));
      return BS_EXIT_BAD_INPUT;
    }
  g_autoptr (GError) error = NULL;
  /* before the worker thread: a job that ends at once can leave
   * bs_cli_run_cancellable's main loop waiting */
  if (!bs_hub_check_repo_id (argv[1], &error))
    {
      bs_cli_report ("download", error);
      return BS_EXIT_BAD_INPUT;
    }
  DownloadCommand d = {
    .options = {
      .repo = argv[1],
      .revision = revision,
      .endpoint = endpoint,
      .token = token,
      .output_dir = output,
      .db_path = db,
    },
  };
  gboolean ok = bs_cli_run_cancellable (run_download, &d, &error);
  end_line (&d);
  if (!ok)
    {
      bs_cli_report ("download", error);
      return download_exit_status (error);
    }
  if (json)
    print_result_json (&d);
  else
    {
      g_autofree char *size = g_format_size ((guint64) d.result.size_bytes);
      /* Translators: a hub repository, a folder, a size such as “440.5 MB”, then the model's number in the
         registry */
      printf (_("%s: downloaded to %s (%s), model %" PRId64 " in the registry"), argv[1], d.result.path,
              size, d.result.model_id);
      printf ("\n");
    }
  bs_hub_result_clear (&d.result);
  return BS_EXIT_OK;
}
