/* cli-serve.c: bert-studio-cli serve, a model over HTTP until Ctrl+C. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bs-blas.h"
#include "bs-classifier.h"
#include "bs-cli-common.h"
#include "bs-cli.h"
#include "bs-server.h"

static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_CONTINUE;
}

static int
server_exit_status (const GError *error)
{
  if (error->domain == BS_SERVER_ERROR)
    return error->code == BS_SERVER_ERROR_LISTEN ? BS_EXIT_FAILURE : BS_EXIT_BAD_INPUT;
  return bs_cli_exit_status (error);
}

int
bs_cli_serve (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *host = NULL, *cors = NULL, *truncation = NULL;
  BsServerOptions o;
  bs_server_options_init (&o);
  int port = (int) o.port, max_batch = (int) o.max_batch, batch_wait_ms = (int) o.batch_wait_ms;
  int max_texts = (int) o.max_texts, timeout = (int) (o.request_timeout_ms / 1000), max_length = 0;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_dir,
      N_("The model folder (default: the model that comes with BERT Studio)"),
      /* Translators: in --help, stands for the folder the user names */
      N_("DIR") },
    { "host", 0, 0, G_OPTION_ARG_STRING, &host,
      /* Translators: keep 127.0.0.1 and 0.0.0.0 as they are */
      N_("The address to listen on (default 127.0.0.1, this computer only; 0.0.0.0: every network)"),
      /* Translators: in --help, stands for an IP address */
      N_("ADDRESS") },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, N_("The port (default 8000; 0: any free one)"),
      /* Translators: in --help, stands for the number the user gives */
      N_("N") },
    { "cors", 0, 0, G_OPTION_ARG_STRING, &cors,
      /* Translators: keep '*' as it is */
      N_("Let web pages from this origin call the server ('*': from anywhere; default: none)"),
      /* Translators: in --help, stands for a web origin such as https://example.com */
      N_("ORIGIN") },
    { "max-batch", 0, 0, G_OPTION_ARG_INT, &max_batch, N_("Texts classified together at most (default 32)"),
      N_("N") },
    { "batch-wait-ms", 0, 0, G_OPTION_ARG_INT, &batch_wait_ms,
      N_("How long a text waits for others to share its batch, in milliseconds (default 5)"), N_("N") },
    { "max-texts", 0, 0, G_OPTION_ARG_INT, &max_texts, N_("Texts in one request at most (default 256)"), N_("N") },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      N_("Seconds a client has to send a request or read an answer (default 30)"), N_("N") },
    { "max-length", 0, 0, G_OPTION_ARG_INT, &max_length, N_("Tokens per text at most (default: the model's)"),
      N_("N") },
    { "truncation", 0, 0, G_OPTION_ARG_STRING, &truncation,
      /* Translators: keep head and head+tail as they are: they are the values the user types */
      N_("head or head+tail (default: as the model card says, else head)"),
      /* Translators: in --help, stands for head or head+tail */
      N_("HOW") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                N_("Serve a model over HTTP until Ctrl+C: POST /predict with {\"text\": ...} or "
                                   "{\"texts\": [...]}, a page to try it at /, GET /health and GET /model."));
  /* the entries' domain, then that of the summary */
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!bs_cli_parse_options (context, "serve", &argc, &argv))
    return BS_EXIT_BAD_INPUT;

  g_autoptr (GError) error = NULL;
  BsTruncation how = BS_TRUNCATE_HEAD;
  gboolean is_default = FALSE;
  if (port < 0 || port > 65535)
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 /* Translators: %d is what the user gave for --port */
                 _("The port must be between 0 and 65535, not %d"), port);
  else if (max_batch < 1 || max_texts < 1 || timeout < 1 || batch_wait_ms < 0 || batch_wait_ms > 10000
           || max_length < 0)
    g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         /* Translators: keep the option names as they are */
                         _("--max-batch, --max-texts and --timeout must be at least 1, --batch-wait-ms between 0 "
                           "and 10000, --max-length 0 or more"));
  else if (truncation != NULL && !bs_truncation_from_string (truncation, &how))
    /* Translators: %s is what the user gave for --truncation */
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("Unknown truncation “%s”"), truncation);
  else if (model_dir == NULL)
    model_dir = bs_cli_model_or_default (NULL, &is_default, &error);
  if (error != NULL)
    return bs_cli_report ("serve", error);

  bs_blas_init ();
  g_autoptr (BsClassifier) classifier = bs_classifier_load (model_dir, (guint) max_length, &error);
  if (classifier == NULL)
    return bs_cli_report ("serve", error);
  /* the model card's way of cutting texts, unless the user chose */
  if (truncation == NULL)
    how = bs_classifier_get_truncation (classifier);

  o.host = g_steal_pointer (&host);
  o.port = (guint) port;
  o.cors_origin = g_steal_pointer (&cors);
  g_autofree char *name = bs_cli_model_name (model_dir);
  o.model_name = g_strdup (name);
  o.max_batch = (guint) max_batch;
  o.batch_wait_ms = (guint) batch_wait_ms;
  o.max_texts = (guint) max_texts;
  o.request_timeout_ms = (guint) timeout * 1000;
  o.truncation = how;
  g_autoptr (BsServer) server = bs_server_new (g_steal_pointer (&classifier), &o);
  bs_server_options_clear (&o);
  if (!bs_server_start (server, &error))
    {
      fprintf (stderr, "bert-studio-cli serve: %s\n", error->message);
      return server_exit_status (error);
    }

  const char *uri = bs_server_get_uri (server);
  g_autoptr (GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  g_autoptr (GInetAddress) address = parsed != NULL ? g_inet_address_new_from_string (g_uri_get_host (parsed)) : NULL;
  if (address != NULL && !g_inet_address_get_is_loopback (address))
    {
      fprintf (stderr, "bert-studio-cli serve: ");
      /* Translators: %s is the address the server listens on */
      fprintf (stderr, _("warning: listening on %s: anyone who can reach this computer over the network can use "
                         "the model, without a password"),
               g_uri_get_host (parsed));
      fprintf (stderr, "\n");
    }
  if (is_default)
    /* Translators: the name of the model that comes with BERT Studio, and the address it is served at */
    printf (_("Serving the default model, %s, at %s (Ctrl+C stops)"), name, uri);
  else
    /* Translators: the model's name and the address it is served at */
    printf (_("Serving %s at %s (Ctrl+C stops)"), name, uri);
  printf ("\n");
  fflush (stdout);

  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint sigint = g_unix_signal_add (SIGINT, on_signal, loop);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);

  /* answers the requests in flight, then closes */
  bs_server_stop (server);
  guint64 n_requests = bs_server_get_n_requests (server), n_batches = bs_server_get_n_batches (server);
  fprintf (stderr, g_dngettext (GETTEXT_PACKAGE,
                                /* Translators: a number of prediction requests, then of model calls */
                                "Stopped after %" G_GUINT64_FORMAT " prediction request in %" G_GUINT64_FORMAT
                                " batches",
                                "Stopped after %" G_GUINT64_FORMAT " prediction requests in %" G_GUINT64_FORMAT
                                " batches",
                                (gulong) n_requests),
           n_requests, n_batches);
  fprintf (stderr, "\n");
  return BS_EXIT_OK;
}
