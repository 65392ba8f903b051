/* bs-cli-common.h: what the subcommands share: exit statuses, error
 * reports, progress lines, and running a job so that Ctrl+C cancels it. */
#pragma once

#include <gio/gio.h>

#include "bs-job.h"

G_BEGIN_DECLS

/* Exit statuses: scripts tell bad input (fix the command or the file) from
 * a failure (try again, report a bug) and from a cancel. */
enum
{
  BS_EXIT_OK = 0,
  BS_EXIT_FAILURE = 1,
  BS_EXIT_BAD_INPUT = 2,
  BS_EXIT_CANCELLED = 130,
};

int bs_cli_exit_status (const GError *error);
/* Prints "bert-studio-cli COMMAND: message" and returns the exit status. */
int bs_cli_report (const char *command,
                   const GError *error);
/* Parses options; on an error prints it with the usage hint. */
gboolean bs_cli_parse_options (GOptionContext *context,
                               const char *command,
                               int *argc,
                               char ***argv);

typedef gboolean (*BsCliJobFunc) (gpointer data,
                                  GCancellable *cancellable,
                                  GError **error);
/* Runs func on a worker thread; SIGINT or SIGTERM cancels it (the job then
 * stops within a batch, keeping a checkpoint). */
gboolean bs_cli_run_cancellable (BsCliJobFunc func,
                                 gpointer data,
                                 GError **error);

/* The model folder given, or else the default model's (*is_default set);
 * NULL with an error telling to give --model when there is none. */
char *bs_cli_model_or_default (const char *given,
                               gboolean *is_default,
                               GError **error);
/* What a model is called: its card's name, else its folder's ("model" for
 * "/"). */
char *bs_cli_model_name (const char *dir);

/* A BsJobProgressFunc: one updating line on standard error when it is a
 * terminal, nothing otherwise. */
void bs_cli_print_progress (const BsJobProgress *progress,
                            gpointer user_data);
void bs_cli_end_progress (void);

G_END_DECLS
