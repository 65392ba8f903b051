/* bs-run-view.c */
#include "config.h"

#include "bs-run-view.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <math.h>

#include "bs-chart.h"

struct _BsRunView
{
  GtkWidget parent_instance;

  GtkWidget *content;
  GtkLabel *status_label;
  GtkProgressBar *progress_bar;
  GtkScale *smoothing_scale;
  GtkCheckButton *raw_check;
  BsChart *loss_chart;
  BsChart *accuracy_chart;
  BsChart *lr_chart;
  GtkRevealer *comparison_revealer;
  GtkGrid *comparison_grid;
  GtkRevealer *evaluation_revealer;
  GtkLabel *evaluation_title;
  GtkGrid *class_grid;
  GtkGrid *confusion_grid;

  BsChartSeries *train_loss, *validation_loss;
  BsChartSeries *train_accuracy, *validation_accuracy;
  BsChartSeries *lr;
  GSettings *settings;
  gint64 last_status; /* when the status line last changed, µs */
};

/* The status line and progress bar change at most this often: each change
 * of the wrapping label lays the page out again. */
#define STATUS_INTERVAL_US 250000

G_DEFINE_FINAL_TYPE (BsRunView, bs_run_view, GTK_TYPE_WIDGET)

GtkWidget *
bs_run_view_new (void)
{
  return g_object_new (BS_TYPE_RUN_VIEW, NULL);
}

void
bs_run_view_set_status (BsRunView *self, const char *status)
{
  g_return_if_fail (BS_IS_RUN_VIEW (self));
  gtk_label_set_label (self->status_label, status);
}

void
bs_run_view_clear (BsRunView *self)
{
  g_return_if_fail (BS_IS_RUN_VIEW (self));
  bs_chart_series_clear (self->train_loss);
  bs_chart_series_clear (self->validation_loss);
  bs_chart_series_clear (self->train_accuracy);
  bs_chart_series_clear (self->validation_accuracy);
  bs_chart_series_clear (self->lr);
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  gtk_revealer_set_reveal_child (self->evaluation_revealer, FALSE);
  gtk_revealer_set_reveal_child (self->comparison_revealer, FALSE);
}

void
bs_run_view_add_progress (BsRunView *self, const BsJobProgress *p)
{
  g_return_if_fail (BS_IS_RUN_VIEW (self));
  g_autofree char *eta = bs_job_format_duration (p->eta_s);
  if (g_strcmp0 (p->phase, "train") == 0)
    {
      bs_chart_series_append (self->train_loss, (double) p->step, p->loss);
      bs_chart_series_append (self->train_accuracy, (double) p->step, p->accuracy);
      bs_chart_series_append (self->lr, (double) p->step, p->lr);
      gint64 now = g_get_monotonic_time ();
      if (now - self->last_status < STATUS_INTERVAL_US && p->step != p->total_steps)
        return;
      self->last_status = now;
      if (p->total_steps > 0)
        gtk_progress_bar_set_fraction (self->progress_bar, (double) p->step / p->total_steps);
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), TRUE);
      g_autofree char *status = NULL;
      if (eta != NULL)
        /* Translators: epoch 1 of 3, batch 120 of 704, training speed, time left */
        status = g_strdup_printf (_("Epoch %d of %d · batch %" PRId64 " of %" PRId64
                                    " · %.0f examples/s · %s left"),
                                  p->epoch, p->n_epochs, p->step, p->total_steps, p->examples_per_s, eta);
      else
        status = g_strdup_printf (_("Epoch %d of %d · batch %" PRId64 " of %" PRId64),
                                  p->epoch, p->n_epochs, p->step, p->total_steps);
      gtk_label_set_label (self->status_label, status);
    }
  else if (g_strcmp0 (p->phase, "validation") == 0 && p->total == 0)
    {
      /* a validation result at this step: a point on the charts */
      bs_chart_series_append (self->validation_loss, (double) p->step, p->loss);
      bs_chart_series_append (self->validation_accuracy, (double) p->step, p->accuracy);
    }
  else if (p->total > 0)
    {
      g_autofree char *status = NULL;
      if (g_strcmp0 (p->phase, "test") == 0)
        status = g_strdup_printf (_("Evaluating on the test texts… %" PRId64 " of %" PRId64),
                                  p->done, p->total);
      else
        status = g_strdup_printf (_("Validating… %" PRId64 " of %" PRId64), p->done, p->total);
      gtk_label_set_label (self->status_label, status);
    }
  else if (g_strcmp0 (p->phase, "checkpoint") == 0)
    gtk_label_set_label (self->status_label, _("Saving a checkpoint…"));
  else if (g_strcmp0 (p->phase, "saving") == 0)
    gtk_label_set_label (self->status_label, _("Saving the model…"));
}

static GtkWidget *
cell (const char *text, gboolean heading, gboolean numeric)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), numeric ? 1.0f : 0.0f);
  if (heading)
    gtk_widget_add_css_class (label, "heading");
  if (numeric)
    gtk_widget_add_css_class (label, "numeric");
  return label;
}

static void
clear_grid (GtkGrid *grid)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (grid))) != NULL)
    gtk_grid_remove (grid, child);
}

static gboolean
show_evaluation (BsRunView *self, const BsEvaluationRecord *e, GError **error)
{
  g_autoptr (JsonParser) per_class = json_parser_new ();
  g_autoptr (JsonParser) confusion = json_parser_new ();
  if (!json_parser_load_from_data (per_class, e->per_class_json ? e->per_class_json : "[]", -1, error)
      || !json_parser_load_from_data (confusion, e->confusion_json ? e->confusion_json : "[]", -1, error))
    return FALSE;
  JsonNode *classes_node = json_parser_get_root (per_class);
  JsonNode *confusion_node = json_parser_get_root (confusion);
  if (!JSON_NODE_HOLDS_ARRAY (classes_node) || !JSON_NODE_HOLDS_ARRAY (confusion_node))
    return TRUE; /* nothing to show */
  JsonArray *classes = json_node_get_array (classes_node);
  JsonArray *rows = json_node_get_array (confusion_node);

  g_autofree char *title = g_strdup_printf (g_strcmp0 (e->split, "test") == 0
                                                ? _("Test accuracy %.1f%% on %" PRId64 " texts")
                                                : _("Validation accuracy %.1f%% on %" PRId64 " texts"),
                                            100.0 * e->accuracy, e->n_examples);
  gtk_label_set_label (self->evaluation_title, title);

  clear_grid (self->class_grid);
  const char *headings[] = { N_("Class"), N_("Precision"), N_("Recall"), N_("F1"), N_("Texts") };
  for (guint k = 0; k < G_N_ELEMENTS (headings); k++)
    gtk_grid_attach (self->class_grid, cell (_(headings[k]), TRUE, k > 0), (int) k, 0, 1, 1);
  guint n = json_array_get_length (classes);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *c = json_array_get_object_element (classes, i);
      if (c == NULL)
        continue;
      char buf[4][32];
      g_snprintf (buf[0], 32, "%.3f", json_object_get_double_member_with_default (c, "precision", NAN));
      g_snprintf (buf[1], 32, "%.3f", json_object_get_double_member_with_default (c, "recall", NAN));
      g_snprintf (buf[2], 32, "%.3f", json_object_get_double_member_with_default (c, "f1", NAN));
      g_snprintf (buf[3], 32, "%" G_GINT64_FORMAT, json_object_get_int_member_with_default (c, "support", 0));
      gtk_grid_attach (self->class_grid, cell (json_object_get_string_member_with_default (c, "label", "?"), FALSE,
                                               FALSE), 0, (int) i + 1, 1, 1);
      for (int k = 0; k < 4; k++)
        gtk_grid_attach (self->class_grid, cell (buf[k], FALSE, TRUE), k + 1, (int) i + 1, 1, 1);
    }

  /* rows: the true class; columns: what the model said */
  clear_grid (self->confusion_grid);
  gtk_grid_attach (self->confusion_grid, cell (_("True ↓ / predicted →"), TRUE, FALSE), 0, 0, 1, 1);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *c = json_array_get_object_element (classes, i);
      const char *name = c != NULL ? json_object_get_string_member_with_default (c, "label", "?") : "?";
      gtk_grid_attach (self->confusion_grid, cell (name, TRUE, TRUE), (int) i + 1, 0, 1, 1);
      gtk_grid_attach (self->confusion_grid, cell (name, TRUE, FALSE), 0, (int) i + 1, 1, 1);
      JsonArray *row = i < json_array_get_length (rows) ? json_array_get_array_element (rows, i) : NULL;
      for (guint k = 0; row != NULL && k < json_array_get_length (row); k++)
        {
          char buf[32];
          g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, json_array_get_int_element (row, k));
          GtkWidget *label = cell (buf, FALSE, TRUE);
          if (i == k)
            gtk_widget_add_css_class (label, "success");
          gtk_grid_attach (self->confusion_grid, label, (int) k + 1, (int) i + 1, 1, 1);
        }
    }
  gtk_revealer_set_reveal_child (self->evaluation_revealer, TRUE);
  return TRUE;
}

void
bs_run_view_show_comparison (BsRunView *self, const BsModelInfo *teacher, const BsModelInfo *student,
                             const BsTrainResult *r)
{
  g_return_if_fail (BS_IS_RUN_VIEW (self));
  clear_grid (self->comparison_grid);
  gtk_grid_attach (self->comparison_grid, cell (_("Teacher"), TRUE, TRUE), 1, 0, 1, 1);
  gtk_grid_attach (self->comparison_grid, cell (_("Student"), TRUE, TRUE), 2, 0, 1, 1);
  char t[5][64] = { { 0 } }, s[5][64] = { { 0 } };
  g_snprintf (t[0], 64, "%.2f%%", 100 * r->teacher_test_accuracy);
  g_snprintf (s[0], 64, "%.2f%%", 100 * r->test_accuracy);
  if (teacher != NULL)
    {
      g_snprintf (t[1], 64, "%.1fM", teacher->n_params / 1e6);
      g_snprintf (t[2], 64, "%.1f MB", teacher->size_bytes / 1e6);
    }
  if (student != NULL)
    {
      g_snprintf (s[1], 64, "%.1fM", student->n_params / 1e6);
      g_snprintf (s[2], 64, "%.1f MB", student->size_bytes / 1e6);
    }
  g_snprintf (t[3], 64, "%.1f ms", r->teacher_latency_ms);
  g_snprintf (s[3], 64, "%.1f ms", r->latency_ms);
  g_strlcpy (t[4], "1×", 64);
  g_snprintf (s[4], 64, "%.1f×", r->teacher_latency_ms / r->latency_ms);
  const char *rows[] = { N_("Test accuracy"), N_("Parameters"), N_("Size on disk"), N_("Time a text"),
                         N_("Speed") };
  for (int i = 0; i < 5; i++)
    {
      gtk_grid_attach (self->comparison_grid, cell (_(rows[i]), TRUE, FALSE), 0, i + 1, 1, 1);
      gtk_grid_attach (self->comparison_grid, cell (t[i], FALSE, TRUE), 1, i + 1, 1, 1);
      gtk_grid_attach (self->comparison_grid, cell (s[i], FALSE, TRUE), 2, i + 1, 1, 1);
    }
  gtk_revealer_set_reveal_child (self->comparison_revealer, TRUE);
}

gboolean
bs_run_view_load_evaluation (BsRunView *self, BsStore *store, gint64 run_id, GError **error)
{
  g_return_val_if_fail (BS_IS_RUN_VIEW (self), FALSE);
  g_autoptr (GPtrArray) evals = bs_store_list_evaluations (store, run_id, error);
  if (evals == NULL)
    return FALSE;
  const BsEvaluationRecord *best = NULL;
  for (guint i = 0; i < evals->len; i++)
    {
      const BsEvaluationRecord *e = g_ptr_array_index (evals, i);
      /* the test split's if there is one, else the latest validation */
      if (best == NULL || g_strcmp0 (e->split, "test") == 0 || g_strcmp0 (best->split, "test") != 0)
        best = e;
    }
  if (best == NULL)
    {
      gtk_revealer_set_reveal_child (self->evaluation_revealer, FALSE);
      return TRUE;
    }
  return show_evaluation (self, best, error);
}

gboolean
bs_run_view_load_run (BsRunView *self, BsStore *store, gint64 run_id, GError **error)
{
  g_return_val_if_fail (BS_IS_RUN_VIEW (self), FALSE);
  bs_run_view_clear (self);
  g_autoptr (GArray) rows = bs_store_get_metrics (store, run_id, NULL, 0, error);
  if (rows == NULL)
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      const BsMetric *m = &g_array_index (rows, BsMetric, i);
      gboolean train = g_strcmp0 (m->split, "train") == 0;
      if (!isnan (m->loss))
        bs_chart_series_append (train ? self->train_loss : self->validation_loss, (double) m->step, m->loss);
      if (!isnan (m->accuracy))
        bs_chart_series_append (train ? self->train_accuracy : self->validation_accuracy, (double) m->step,
                                m->accuracy);
      if (train && !isnan (m->lr))
        bs_chart_series_append (self->lr, (double) m->step, m->lr);
    }
  /* a past run: no progress to show */
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  return bs_run_view_load_evaluation (self, store, run_id, error);
}

gboolean
bs_run_view_export_chart (BsRunView *self, const char *path, GError **error)
{
  g_return_val_if_fail (BS_IS_RUN_VIEW (self), FALSE);
  if (g_str_has_suffix (path, ".svg"))
    return bs_chart_export_svg (self->loss_chart, path, 1200, 500, error);
  return bs_chart_export_png (self->loss_chart, path, 1200, 500, error);
}

static BsChartSeries *
add_series (BsChart *chart, const char *name, BsChartColor color, BsChartStyle style)
{
  BsChartSeries *series = bs_chart_series_new (name, color, style);
  bs_chart_add_series (chart, series);
  return series;
}

static void
bs_run_view_dispose (GObject *object)
{
  BsRunView *self = BS_RUN_VIEW (object);
  g_clear_object (&self->train_loss);
  g_clear_object (&self->validation_loss);
  g_clear_object (&self->train_accuracy);
  g_clear_object (&self->validation_accuracy);
  g_clear_object (&self->lr);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (object), BS_TYPE_RUN_VIEW);
  G_OBJECT_CLASS (bs_run_view_parent_class)->dispose (object);
}

static void
bs_run_view_class_init (BsRunViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = bs_run_view_dispose;

  g_type_ensure (BS_TYPE_CHART);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/bertstudio/BertStudio/ui/bs-run-view.ui");
  gtk_widget_class_bind_template_child (widget_class, BsRunView, content);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, status_label);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, smoothing_scale);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, raw_check);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, loss_chart);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, accuracy_chart);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, lr_chart);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, comparison_revealer);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, comparison_grid);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, evaluation_revealer);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, evaluation_title);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, class_grid);
  gtk_widget_class_bind_template_child (widget_class, BsRunView, confusion_grid);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
bind_chart (BsRunView *self, BsChart *chart)
{
  g_object_bind_property (gtk_range_get_adjustment (GTK_RANGE (self->smoothing_scale)), "value", chart, "smoothing",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->raw_check, "active", chart, "show-raw", G_BINDING_SYNC_CREATE);
}

static void
bs_run_view_init (BsRunView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  bs_chart_set_title (self->loss_chart, _("Loss"));
  bs_chart_set_title (self->accuracy_chart, _("Accuracy"));
  bs_chart_set_title (self->lr_chart, _("Learning rate"));
  bs_chart_set_log_y (self->lr_chart, TRUE);
  self->train_loss = add_series (self->loss_chart, _("Training loss"), BS_CHART_COLOR_BLUE, BS_CHART_STYLE_LINE);
  self->validation_loss = add_series (self->loss_chart, _("Validation loss"), BS_CHART_COLOR_ORANGE,
                                      BS_CHART_STYLE_POINTS);
  self->train_accuracy = add_series (self->accuracy_chart, _("Training accuracy"), BS_CHART_COLOR_GREEN,
                                     BS_CHART_STYLE_LINE);
  self->validation_accuracy = add_series (self->accuracy_chart, _("Validation accuracy"), BS_CHART_COLOR_ORANGE,
                                          BS_CHART_STYLE_POINTS);
  self->lr = add_series (self->lr_chart, _("Learning rate"), BS_CHART_COLOR_PURPLE, BS_CHART_STYLE_LINE);

  bind_chart (self, self->loss_chart);
  bind_chart (self, self->accuracy_chart);
  /* the learning rate is smooth by itself */
  bs_chart_set_raw_only (self->lr_chart, TRUE);

  self->settings = g_settings_new (APPLICATION_ID);
  g_settings_bind (self->settings, "smoothing", gtk_range_get_adjustment (GTK_RANGE (self->smoothing_scale)), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "show-raw", self->raw_check, "active", G_SETTINGS_BIND_DEFAULT);
}
