/* bs-cli-common.c */
#include "config.h"

#include "bs-cli-common.h"

#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bs-checkpoint.h"
#include "bs-config.h"
#include "bs-default-model.h"
#include "bs-import.h"
#include "bs-model-card.h"
#include "bs-safetensors.h"
#include "bs-store.h"
#include "bs-tokenizer.h"

int
bs_cli_exit_status (const GError *error)
{
  if (error == NULL)
    return BS_EXIT_OK;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return BS_EXIT_CANCELLED;
  if (error->domain == BS_JOB_ERROR)
    return error->code == BS_JOB_ERROR_FAILED ? BS_EXIT_FAILURE : BS_EXIT_BAD_INPUT;
  if (error->domain == BS_STORE_ERROR)
    return error->code == BS_STORE_ERROR_NOT_FOUND || error->code == BS_STORE_ERROR_EXISTS
                   || error->code == BS_STORE_ERROR_INVALID || error->code == BS_STORE_ERROR_VERSION
               ? BS_EXIT_BAD_INPUT
               : BS_EXIT_FAILURE;
  if (error->domain == BS_CHECKPOINT_ERROR)
    return error->code == BS_CHECKPOINT_ERROR_IO ? BS_EXIT_FAILURE : BS_EXIT_BAD_INPUT;
  if (error->domain == BS_CONFIG_ERROR || error->domain == BS_SAFETENSORS_ERROR || error->domain == BS_IMPORT_ERROR
      || error->domain == BS_TOKENIZER_ERROR || error->domain == BS_MODEL_CARD_ERROR || error->domain == G_OPTION_ERROR)
    return BS_EXIT_BAD_INPUT;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)
      || g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return BS_EXIT_BAD_INPUT;
  return BS_EXIT_FAILURE;
}

int
bs_cli_report (const char *command, const GError *error)
{
  bs_cli_end_progress ();
  fprintf (stderr, "bert-studio-cli %s: %s\n", command, error->message);
  return bs_cli_exit_status (error);
}

gboolean
bs_cli_parse_options (GOptionContext *context, const char *command, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  if (g_option_context_parse (context, argc, argv, &error))
    return TRUE;
  fprintf (stderr, "bert-studio-cli %s: %s\n", command, error->message);
  /* Translators: %s is a command such as train; keep 'bert-studio-cli %s --help' as it is */
  fprintf (stderr, _("Run 'bert-studio-cli %s --help' for its options."), command);
  fprintf (stderr, "\n");
  return FALSE;
}

char *
bs_cli_model_or_default (const char *given, gboolean *is_default, GError **error)
{
  *is_default = given == NULL;
  if (given != NULL)
    return g_strdup (given);
  g_autoptr (GError) why = NULL;
  char *dir = bs_default_model_find (&why);
  if (dir == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 /* Translators: %s says why there is no default model, e.g. “No default model is installed: …
                    has no config.json”; keep --model as it is */
                 _("%s; give a model with --model"), why->message);
  return dir;
}

char *
bs_cli_model_name (const char *dir)
{
  g_autoptr (BsModelCard) card = bs_model_card_load_from_dir (dir, NULL);
  if (card != NULL)
    return g_strdup (card->name);
  g_autofree char *trimmed = g_strdup (dir);
  gsize n = strlen (trimmed);
  while (n > 1 && G_IS_DIR_SEPARATOR (trimmed[n - 1]))
    trimmed[--n] = '\0';
  char *name = g_path_get_basename (trimmed);
  if (strcmp (name, G_DIR_SEPARATOR_S) == 0 || strcmp (name, ".") == 0)
    {
      g_free (name);
      g_autofree char *cwd = g_get_current_dir ();
      name = g_path_get_basename (cwd);
    }
  return name;
}

typedef struct
{
  BsCliJobFunc func;
  gpointer data;
  GCancellable *cancellable;
  GError *error;
  gboolean ok;
  GMainLoop *loop;
} Running;

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static gpointer
run_job (gpointer data)
{
  Running *r = data;
  r->ok = r->func (r->data, r->cancellable, &r->error);
  /* a source, not g_main_context_invoke: before the main thread runs the
   * loop, invoke would run quit_loop here at once and the quit be lost */
  g_autoptr (GSource) source = g_idle_source_new ();
  g_source_set_callback (source, quit_loop, r->loop, NULL);
  g_source_attach (source, NULL);
  return NULL;
}

static gboolean
on_signal (gpointer data)
{
  Running *r = data;
  if (!g_cancellable_is_cancelled (r->cancellable))
    {
      bs_cli_end_progress ();
      /* Translators: shown when Ctrl+C (or SIGTERM) stops a job */
      fprintf (stderr, "%s\n", _("Stopping after this batch… (again to wait)"));
      g_cancellable_cancel (r->cancellable);
    }
  return G_SOURCE_CONTINUE;
}

gboolean
bs_cli_run_cancellable (BsCliJobFunc func, gpointer data, GError **error)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Running r = { func, data, cancellable, NULL, FALSE, loop };
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &r);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &r);
  GThread *thread = g_thread_new ("job", run_job, &r);
  g_main_loop_run (loop);
  g_thread_join (thread);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  bs_cli_end_progress ();
  if (!r.ok)
    g_propagate_error (error, r.error);
  return r.ok;
}

static gboolean progress_shown;

void
bs_cli_print_progress (const BsJobProgress *p, gpointer user_data)
{
  static gint64 last;
  if (!isatty (STDERR_FILENO))
    return;
  gint64 now = g_get_monotonic_time ();
  gboolean phase_end = g_strcmp0 (p->phase, "done") == 0 || g_strcmp0 (p->phase, "checkpoint") == 0;
  if (now - last < 200000 && !phase_end) /* five lines a second at most */
    return;
  last = now;
  g_autofree char *known = bs_job_format_duration (p->eta_s);
  const char *eta = known != NULL ? known : "?";
  fputs ("\r\033[K", stderr);
  if (p->total_steps > 0 && g_strcmp0 (p->phase, "train") == 0)
    fprintf (stderr,
             /* Translators: a progress line: the phase (train; not translated), epoch and step out of their totals,
                the loss, the accuracy (acc), the learning rate (lr), examples a second (ex/s) and the estimated time
                left (ETA, such as 1:05); keep it short */
             _("%s  epoch %d/%d  step %" PRId64 "/%" PRId64 "  loss %.4f  acc %.3f  lr %.2e  %.1f ex/s  ETA %s"),
             p->phase, p->epoch, p->n_epochs, p->step, p->total_steps, p->loss, p->accuracy, p->lr,
             p->examples_per_s, eta);
  else if (p->total > 0)
    /* Translators: a progress line: the phase (validation or test; not translated), examples done out of the
       total, the accuracy (acc) and the estimated time left (ETA, such as 1:05) */
    fprintf (stderr, _("%s  %" PRId64 "/%" PRId64 "  acc %.3f  ETA %s"), p->phase, p->done, p->total, p->accuracy,
             eta);
  else
    fprintf (stderr, "%s…", p->phase);
  progress_shown = TRUE;
}

void
bs_cli_end_progress (void)
{
  if (progress_shown)
    fprintf (stderr, "\n");
  progress_shown = FALSE;
}
