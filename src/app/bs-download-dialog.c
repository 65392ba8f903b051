/* bs-download-dialog.c: the download runs on a thread of its own (it can
 * take minutes); its progress comes back to the main context. Closing the
 * dialog cancels it; the partial files stay, so the next try resumes. */
#include "config.h"

#include "bs-download-dialog.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "bs-hub.h"
#include "bs-post.h"

struct _BsDownloadDialog
{
  AdwWindow parent_instance;

  GtkButton *cancel_button;
  GtkButton *download_button;
  AdwEntryRow *repo_row;
  AdwPreferencesGroup *suggestions_group;
  GtkProgressBar *progress_bar;
  GtkLabel *status_label;

  char *db_path;
  GCancellable *cancellable; /* while downloading */
};

G_DEFINE_FINAL_TYPE (BsDownloadDialog, bs_download_dialog, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_DOWNLOADED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const struct
{
  const char *repo;
  const char *what;
} suggestions[] = {
  { "distilbert-base-uncased", N_("DistilBERT, lower-cased English, 66M parameters, 268 MB: fast") },
  { "bert-base-uncased", N_("BERT, lower-cased English, 110M parameters, 440 MB: the classic") },
  { "bert-base-cased", N_("BERT, English as written, 110M parameters, 436 MB") },
};

/* A progress report travelling to the main thread. */
typedef struct
{
  BsDownloadDialog *dialog;
  BsHubProgress progress;
  char *file;
  BsHubResult result;
  GError *error;
  gboolean finished;
} Message;

static void
message_free (gpointer data)
{
  Message *m = data;
  g_object_unref (m->dialog);
  g_free (m->file);
  bs_hub_result_clear (&m->result);
  g_clear_error (&m->error);
  g_free (m);
}

static void
set_busy (BsDownloadDialog *self, gboolean busy)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->download_button), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->repo_row), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->suggestions_group), !busy);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), busy);
}

static gboolean
deliver (gpointer data)
{
  Message *m = data;
  BsDownloadDialog *self = m->dialog;
  if (!m->finished)
    {
      const BsHubProgress *p = &m->progress;
      if (p->total_bytes > 0)
        gtk_progress_bar_set_fraction (self->progress_bar, (double) p->done_bytes / p->total_bytes);
      else
        gtk_progress_bar_pulse (self->progress_bar);
      g_autofree char *text = NULL;
      if (p->phase == BS_HUB_PHASE_DOWNLOADING && m->file != NULL && !isnan (p->bytes_per_s))
        /* Translators: a file name, megabytes done, megabytes in all, and the speed */
        text = g_strdup_printf (_("%s: %.1f of %.1f MB at %.1f MB/s"), m->file, p->done_bytes / 1e6,
                                MAX (p->total_bytes, 0) / 1e6, p->bytes_per_s / 1e6);
      else if (p->phase == BS_HUB_PHASE_VERIFYING)
        text = g_strdup (_("Checking that the model loads…"));
      else if (p->phase == BS_HUB_PHASE_MERGING)
        text = g_strdup (_("Joining the checkpoint's parts…"));
      else
        text = g_strdup (_("Asking the hub for the files…"));
      gtk_label_set_label (self->status_label, text);
      return G_SOURCE_REMOVE;
    }

  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  if (m->error == NULL)
    {
      g_signal_emit (self, signals[SIGNAL_DOWNLOADED], 0, m->result.path);
      gtk_window_close (GTK_WINDOW (self));
    }
  else if (!g_error_matches (m->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gtk_label_set_label (self->status_label, m->error->message);
  return G_SOURCE_REMOVE;
}

static void
post (Message *m)
{
  bs_post_to_context (NULL, G_PRIORITY_DEFAULT, deliver, m, message_free);
}

static void
on_progress (const BsHubProgress *progress, gpointer user_data)
{
  Message *m = g_new0 (Message, 1);
  m->dialog = g_object_ref (user_data);
  m->progress = *progress;
  m->file = g_strdup (progress->file);
  post (m);
}

typedef struct
{
  BsDownloadDialog *dialog;
  char *repo;
  char *db_path;
  GCancellable *cancellable;
} Job;

static gpointer
run_download (gpointer data)
{
  Job *job = data;
  Message *m = g_new0 (Message, 1);
  m->dialog = job->dialog; /* the job's reference passes on */
  m->finished = TRUE;
  BsHubOptions options = { .repo = job->repo, .db_path = job->db_path };
  bs_hub_download (&options, on_progress, job->dialog, job->cancellable, &m->result, &m->error);
  post (m);
  g_free (job->repo);
  g_free (job->db_path);
  g_object_unref (job->cancellable);
  g_free (job);
  return NULL;
}

static void
on_download (GtkButton *button, BsDownloadDialog *self)
{
  const char *repo = gtk_editable_get_text (GTK_EDITABLE (self->repo_row));
  g_autoptr (GError) error = NULL;
  if (!bs_hub_check_repo_id (repo, &error))
    {
      gtk_label_set_label (self->status_label, error->message);
      return;
    }
  self->cancellable = g_cancellable_new ();
  Job *job = g_new0 (Job, 1);
  job->dialog = g_object_ref (self);
  job->repo = g_strdup (repo);
  job->db_path = g_strdup (self->db_path);
  job->cancellable = g_object_ref (self->cancellable);
  set_busy (self, TRUE);
  gtk_label_set_label (self->status_label, _("Asking the hub for the files…"));
  g_thread_unref (g_thread_new ("bs-download", run_download, job));
}

static void
on_cancel (GtkButton *button, BsDownloadDialog *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

static gboolean
bs_download_dialog_close_request (GtkWindow *window)
{
  BsDownloadDialog *self = BS_DOWNLOAD_DIALOG (window);
  /* the partial files stay: the next try resumes them */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  return GTK_WINDOW_CLASS (bs_download_dialog_parent_class)->close_request (window);
}

static void
on_suggestion (AdwActionRow *row, BsDownloadDialog *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->repo_row), adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)));
}

BsDownloadDialog *
bs_download_dialog_new (GtkWindow *parent, const char *db_path)
{
  BsDownloadDialog *self = g_object_new (BS_TYPE_DOWNLOAD_DIALOG, "transient-for", parent, NULL);
  self->db_path = g_strdup (db_path);
  return self;
}

static void
bs_download_dialog_finalize (GObject *object)
{
  BsDownloadDialog *self = BS_DOWNLOAD_DIALOG (object);
  g_free (self->db_path);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (bs_download_dialog_parent_class)->finalize (object);
}

static void
bs_download_dialog_class_init (BsDownloadDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->finalize = bs_download_dialog_finalize;
  window_class->close_request = bs_download_dialog_close_request;

  signals[SIGNAL_DOWNLOADED] = g_signal_new ("downloaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                             NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/bertstudio/BertStudio/ui/bs-download-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, BsDownloadDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, BsDownloadDialog, download_button);
  gtk_widget_class_bind_template_child (widget_class, BsDownloadDialog, repo_row);
  gtk_widget_class_bind_template_child (widget_class, BsDownloadDialog, suggestions_group);
  gtk_widget_class_bind_template_child (widget_class, BsDownloadDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BsDownloadDialog, status_label);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
bs_download_dialog_init (BsDownloadDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  for (gsize i = 0; i < G_N_ELEMENTS (suggestions); i++)
    {
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), suggestions[i].repo);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _(suggestions[i].what));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_signal_connect (row, "activated", G_CALLBACK (on_suggestion), self);
      adw_preferences_group_add (self->suggestions_group, row);
    }
  gtk_editable_set_text (GTK_EDITABLE (self->repo_row), suggestions[0].repo);
  g_signal_connect (self->download_button, "clicked", G_CALLBACK (on_download), self);
  g_signal_connect (self->cancel_button, "clicked", G_CALLBACK (on_cancel), self);
}
