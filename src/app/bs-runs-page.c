/* bs-runs-page.c: every run in the store; the selected one drawn from the
 * database alone (so a run of another process, or of before a crash, looks
 * the same), its settings and results; export, delete, and resume for a run
 * that stopped before its end. */
#include "config.h"

#include "bs-runs-page.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>

#include "bs-application.h"
#include "bs-job-runner.h"
#include "bs-run-view.h"
#include "bs-window.h"

/* how often a run that another process is training is drawn again */
#define POLL_SECONDS 2

struct _BsRunsPage
{
  GtkWidget parent_instance;

  GtkStack *stack;
  GtkPaned *paned;
  GtkListBox *run_list;
  GtkLabel *title_label;
  GtkButton *resume_button;
  GtkMenuButton *export_button;
  GtkButton *delete_button;
  BsRunView *run_view;
  AdwPreferencesGroup *params_group;

  GPtrArray *runs;       /* BsRun*, as listed */
  GPtrArray *param_rows; /* rows added to params_group */
  gint64 selected;       /* run id, 0: none */
  BsJobRunner *runner;   /* a resumed run */
  guint poll_id;
  gboolean refreshing;
};

G_DEFINE_FINAL_TYPE (BsRunsPage, bs_runs_page, GTK_TYPE_WIDGET)

GtkWidget *
bs_runs_page_new (void)
{
  return g_object_new (BS_TYPE_RUNS_PAGE, NULL);
}

static BsStore *
get_store (void)
{
  return bs_application_get_store (BS_APPLICATION (g_application_get_default ()));
}

static void
toast (BsRunsPage *self, const char *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  if (BS_IS_WINDOW (root))
    bs_window_add_toast (BS_WINDOW (root), message);
}

static const BsRun *
find_run (BsRunsPage *self, gint64 id)
{
  for (guint i = 0; self->runs != NULL && i < self->runs->len; i++)
    {
      const BsRun *r = g_ptr_array_index (self->runs, i);
      if (r->id == id)
        return r;
    }
  return NULL;
}

static const char *
status_words (const char *status)
{
  if (g_strcmp0 (status, "running") == 0)
    return _("running");
  if (g_strcmp0 (status, "finished") == 0)
    return _("finished");
  if (g_strcmp0 (status, "cancelled") == 0)
    return _("cancelled");
  if (g_strcmp0 (status, "failed") == 0)
    return _("failed");
  if (g_strcmp0 (status, "interrupted") == 0)
    return _("interrupted");
  return status;
}

static const char *
kind_words (const char *kind)
{
  if (g_strcmp0 (kind, "fine-tune") == 0)
    return _("Fine-tuning");
  if (g_strcmp0 (kind, "distill") == 0)
    return _("Distillation");
  if (g_strcmp0 (kind, "evaluate") == 0)
    return _("Evaluation");
  if (g_strcmp0 (kind, "pretrain") == 0)
    return _("Pretraining");
  return kind;
}

/* The test accuracy (else validation) of a run, or NaN. */
static double
run_accuracy (BsStore *store, gint64 run_id)
{
  g_autoptr (GPtrArray) evals = bs_store_list_evaluations (store, run_id, NULL);
  double accuracy = NAN;
  for (guint i = 0; evals != NULL && i < evals->len; i++)
    {
      const BsEvaluationRecord *e = g_ptr_array_index (evals, i);
      if (g_strcmp0 (e->split, "test") == 0 || isnan (accuracy))
        accuracy = e->accuracy;
    }
  return accuracy;
}

static GtkWidget *
make_row (BsStore *store, const BsRun *r)
{
  g_autoptr (BsDataset) dataset = r->dataset_id > 0 ? bs_store_get_dataset (store, r->dataset_id, NULL) : NULL;
  /* Translators: a run's number, what it did and on which dataset, e.g. 3 · Fine-tuning · imdb */
  g_autofree char *title = g_strdup_printf (_("%" G_GINT64_FORMAT " · %s · %s"), r->id, kind_words (r->kind),
                                            dataset != NULL ? dataset->name : _("no dataset"));
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (r->started);
  g_autofree char *started = g_date_time_format (when, "%x %R");
  double accuracy = run_accuracy (store, r->id);
  g_autofree char *subtitle = NULL;
  if (!isnan (accuracy))
    /* Translators: a run's status, when it started, and its accuracy */
    subtitle = g_strdup_printf (_("%s · %s · %.1f%% right"), status_words (r->status), started, 100 * accuracy);
  else
    subtitle = g_strdup_printf ("%s · %s", status_words (r->status), started);
  GtkWidget *row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  return row;
}

static gboolean
can_resume (const BsRun *r)
{
  if (r == NULL || r->output_path == NULL
      || (g_strcmp0 (r->kind, "fine-tune") != 0 && g_strcmp0 (r->kind, "distill") != 0))
    return FALSE;
  if (g_strcmp0 (r->status, "interrupted") != 0 && g_strcmp0 (r->status, "cancelled") != 0
      && g_strcmp0 (r->status, "failed") != 0)
    return FALSE;
  g_autofree char *checkpoint = g_build_filename (r->output_path, "checkpoint", NULL);
  g_autofree char *old = g_build_filename (r->output_path, "checkpoint.old", NULL);
  return g_file_test (checkpoint, G_FILE_TEST_IS_DIR) || g_file_test (old, G_FILE_TEST_IS_DIR);
}

static void
show_params (BsRunsPage *self, const BsRun *r)
{
  for (guint i = 0; i < self->param_rows->len; i++)
    adw_preferences_group_remove (self->params_group, g_ptr_array_index (self->param_rows, i));
  g_ptr_array_set_size (self->param_rows, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (r->params_json == NULL || !json_parser_load_from_data (parser, r->params_json, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;
  json_object_iter_init_ordered (&iter, json_node_get_object (json_parser_get_root (parser)));
  while (json_object_iter_next_ordered (&iter, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value))
        continue;
      g_autofree char *text = NULL;
      if (json_node_get_value_type (value) == G_TYPE_STRING)
        text = g_strdup (json_node_get_string (value));
      else
        text = json_to_string (value, FALSE);
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), key);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), text);
      gtk_widget_add_css_class (row, "property");
      adw_preferences_group_add (self->params_group, row);
      g_ptr_array_add (self->param_rows, row);
    }
}

static void
show_run (BsRunsPage *self, gint64 id)
{
  self->selected = id;
  const BsRun *r = find_run (self, id);
  BsStore *store = get_store ();
  if (r == NULL || store == NULL)
    return;
  g_autofree char *title = g_strdup_printf (_("Run %" G_GINT64_FORMAT ": %s, %s"), r->id, kind_words (r->kind),
                                            status_words (r->status));
  gtk_label_set_label (self->title_label, title);
  gboolean resuming = bs_job_runner_get_running (self->runner) && bs_job_runner_get_run_id (self->runner) == id;
  gtk_widget_set_visible (GTK_WIDGET (self->resume_button), can_resume (r) && !bs_job_runner_get_running (self->runner));
  if (!resuming)
    {
      g_autoptr (GError) error = NULL;
      if (!bs_run_view_load_run (self->run_view, store, id, &error))
        toast (self, error->message);
      g_autofree char *where = r->output_path != NULL && g_strcmp0 (r->status, "finished") == 0
                                   ? g_strdup_printf (_("The model is in %s"), r->output_path)
                                   : g_strdup (status_words (r->status));
      bs_run_view_set_status (self->run_view, r->message != NULL ? r->message : where);
    }
  show_params (self, r);
}

static void
on_row_selected (GtkListBox *list, GtkListBoxRow *row, BsRunsPage *self)
{
  if (row == NULL || self->refreshing)
    return;
  int index = gtk_list_box_row_get_index (row);
  if (index >= 0 && (guint) index < self->runs->len)
    show_run (self, ((const BsRun *) g_ptr_array_index (self->runs, index))->id);
}

static void
refresh (BsRunsPage *self)
{
  BsStore *store = get_store ();
  if (store == NULL)
    return;
  g_autoptr (GError) error = NULL;
  /* runs whose process died since the app started */
  bs_store_mark_interrupted (store, NULL);
  g_autoptr (GPtrArray) runs = bs_store_list_runs (store, &error);
  if (runs == NULL)
    {
      toast (self, error->message);
      return;
    }
  g_clear_pointer (&self->runs, g_ptr_array_unref);
  self->runs = g_steal_pointer (&runs);

  self->refreshing = TRUE;
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->run_list))) != NULL)
    gtk_list_box_remove (self->run_list, child);
  GtkListBoxRow *keep = NULL;
  for (guint i = 0; i < self->runs->len; i++)
    {
      const BsRun *r = g_ptr_array_index (self->runs, i);
      gtk_list_box_append (self->run_list, make_row (store, r));
      if (r->id == self->selected)
        keep = gtk_list_box_get_row_at_index (self->run_list, (int) i);
    }
  self->refreshing = FALSE;
  gtk_stack_set_visible_child_name (self->stack, self->runs->len > 0 ? "runs" : "empty");
  if (self->runs->len == 0)
    return;
  if (keep == NULL)
    keep = gtk_list_box_get_row_at_index (self->run_list, 0);
  gtk_list_box_select_row (self->run_list, keep);
  show_run (self, ((const BsRun *) g_ptr_array_index (self->runs, gtk_list_box_row_get_index (keep)))->id);
}

/* A run another process trains is followed from the database. */
static gboolean
poll_running (gpointer data)
{
  BsRunsPage *self = data;
  const BsRun *r = find_run (self, self->selected);
  gboolean ours = bs_job_runner_get_running (self->runner);
  if (r != NULL && g_strcmp0 (r->status, "running") == 0 && !ours)
    refresh (self);
  return G_SOURCE_CONTINUE;
}

static void
on_map (BsRunsPage *self)
{
  refresh (self);
  if (self->poll_id == 0)
    self->poll_id = g_timeout_add_seconds (POLL_SECONDS, poll_running, self);
}

static void
on_unmap (BsRunsPage *self)
{
  g_clear_handle_id (&self->poll_id, g_source_remove);
}

static void
on_progress (BsJobRunner *runner, const BsJobProgress *progress, BsRunsPage *self)
{
  if (self->selected == bs_job_runner_get_run_id (runner))
    bs_run_view_add_progress (self->run_view, progress);
}

static void
on_finished (BsJobRunner *runner, const BsTrainResult *result, const GError *error, BsRunsPage *self)
{
  toast (self, error == NULL ? _("The resumed run finished") : error->message);
  refresh (self);
}

static void
on_resume (GtkButton *button, BsRunsPage *self)
{
  const BsRun *r = find_run (self, self->selected);
  if (r == NULL)
    return;
  g_autoptr (GError) error = NULL;
  /* the run goes on from its checkpoint: its charts so far stay */
  BsApplication *app = BS_APPLICATION (g_application_get_default ());
  if (!bs_job_runner_resume (self->runner, bs_application_get_database_path (app), r->id, &error))
    {
      toast (self, error->message);
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->resume_button), FALSE);
  bs_run_view_set_status (self->run_view, _("Resuming from the checkpoint…"));
}

static void
on_delete_response (AdwMessageDialog *dialog, const char *response, BsRunsPage *self)
{
  if (g_strcmp0 (response, "delete") != 0)
    return;
  g_autoptr (GError) error = NULL;
  BsStore *store = get_store ();
  if (store == NULL || !bs_store_delete_run (store, self->selected, &error))
    toast (self, error != NULL ? error->message : _("The database is not open"));
  self->selected = 0;
  refresh (self);
}

static void
on_delete (GtkButton *button, BsRunsPage *self)
{
  const BsRun *r = find_run (self, self->selected);
  if (r == NULL)
    return;
  if (g_strcmp0 (r->status, "running") == 0)
    {
      toast (self, _("A running run cannot be deleted"));
      return;
    }
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *body = g_strdup_printf (_("Run %" G_GINT64_FORMAT " and its metrics will be removed from the "
                                             "database. Its model folder stays on disk."),
                                           r->id);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (root), _("Delete the Run?"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_delete_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

typedef enum
{
  EXPORT_METRICS,
  EXPORT_PNG,
  EXPORT_SVG,
} ExportKind;

static void
on_export_chosen (GtkNativeDialog *dialog, int response, BsRunsPage *self)
{
  ExportKind kind = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "kind"));
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr (GError) error = NULL;
      BsStore *store = get_store ();
      gboolean ok = kind == EXPORT_METRICS ? store != NULL && bs_store_export_metrics_csv (store, self->selected, path,
                                                                                          &error)
                                           : bs_run_view_export_chart (self->run_view, path, &error);
      if (ok)
        {
          g_autofree char *name = g_file_get_basename (file);
          g_autofree char *message = g_strdup_printf (_("Saved %s"), name);
          toast (self, message);
        }
      else
        toast (self, error != NULL ? error->message : _("The database is not open"));
    }
  g_object_unref (dialog);
}

static void
export (BsRunsPage *self, ExportKind kind)
{
  static const char *const extensions[] = { "csv", "png", "svg" };
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (_("Export"), GTK_WINDOW (root),
                                                              GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  g_autofree char *name = g_strdup_printf ("run-%" G_GINT64_FORMAT "%s.%s", self->selected,
                                           kind == EXPORT_METRICS ? "-metrics" : "-loss", extensions[kind]);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  g_object_set_data (G_OBJECT (dialog), "kind", GINT_TO_POINTER (kind));
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
export_metrics (GtkWidget *widget, const char *action, GVariant *parameter)
{
  export (BS_RUNS_PAGE (widget), EXPORT_METRICS);
}

static void
export_png (GtkWidget *widget, const char *action, GVariant *parameter)
{
  export (BS_RUNS_PAGE (widget), EXPORT_PNG);
}

static void
export_svg (GtkWidget *widget, const char *action, GVariant *parameter)
{
  export (BS_RUNS_PAGE (widget), EXPORT_SVG);
}

static void
bs_runs_page_dispose (GObject *object)
{
  BsRunsPage *self = BS_RUNS_PAGE (object);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  if (self->runner != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->runner, self);
      bs_job_runner_cancel (self->runner);
      g_clear_object (&self->runner);
    }
  g_clear_pointer (&self->runs, g_ptr_array_unref);
  g_clear_pointer (&self->param_rows, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (object), BS_TYPE_RUNS_PAGE);
  G_OBJECT_CLASS (bs_runs_page_parent_class)->dispose (object);
}

static void
bs_runs_page_class_init (BsRunsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bs_runs_page_dispose;

  g_type_ensure (BS_TYPE_RUN_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/bertstudio/BertStudio/ui/bs-runs-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BsRunsPage, stack);
  gtk_widget_class_bind_template_child (widget_class, BsRunsPage, paned);
  gtk_widget_class_bind_template_child (widget_class, BsRunsPage, run_list);
  gtk_widget_class_bind_template_child (widget_class, BsRunsPage, title_label);
  gtk_widget_class_bind_template_child (widget_class, BsRunsPage, resume_button);
  gtk_widget_class_bind_template_child (widget_class, BsRunsPage, export_button);
  gtk_widget_class_bind_template_child (widget_class, BsRunsPage, delete_button);
  gtk_widget_class_bind_template_child (widget_class, BsRunsPage, run_view);
  gtk_widget_class_bind_template_child (widget_class, BsRunsPage, params_group);
  gtk_widget_class_install_action (widget_class, "runs.export-metrics", NULL, export_metrics);
  gtk_widget_class_install_action (widget_class, "runs.export-png", NULL, export_png);
  gtk_widget_class_install_action (widget_class, "runs.export-svg", NULL, export_svg);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
bs_runs_page_init (BsRunsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->param_rows = g_ptr_array_new ();
  self->runner = bs_job_runner_new ();
  g_signal_connect (self->runner, "progress", G_CALLBACK (on_progress), self);
  g_signal_connect (self->runner, "finished", G_CALLBACK (on_finished), self);
  g_signal_connect (self->run_list, "row-selected", G_CALLBACK (on_row_selected), self);
  g_signal_connect (self->resume_button, "clicked", G_CALLBACK (on_resume), self);
  g_signal_connect (self->delete_button, "clicked", G_CALLBACK (on_delete), self);
  g_signal_connect_swapped (self, "map", G_CALLBACK (on_map), self);
  g_signal_connect_swapped (self, "unmap", G_CALLBACK (on_unmap), self);
}
