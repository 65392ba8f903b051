/* bs-train-page.c: choose what to train and how, start and cancel the job,
 * watch it in a BsRunView. The Distill page is the same page in its other
 * kind: a teacher, a student, a temperature and an alpha. */
#include "config.h"

#include "bs-train-page.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "bs-application.h"
#include "bs-download-dialog.h"
#include "bs-job-runner.h"
#include "bs-run-view.h"
#include "bs-window.h"

struct _BsTrainPage
{
  GtkWidget parent_instance;

  AdwFlap *flap;
  AdwPreferencesGroup *what_group;
  AdwComboRow *model_row;
  AdwComboRow *student_row;
  AdwComboRow *dataset_row;
  AdwPreferencesGroup *pretrain_group;
  GtkSwitch *pretrain_switch;
  AdwActionRow *pretrain_epochs_row;
  GtkSpinButton *pretrain_epochs_spin;
  GtkButton *add_model_button;
  GtkButton *download_model_button;
  GtkButton *remove_model_button;
  GtkSpinButton *max_length_spin;
  GtkSpinButton *batch_size_spin;
  GtkSpinButton *lr_spin;
  GtkSpinButton *epochs_spin;
  AdwActionRow *temperature_row;
  AdwActionRow *alpha_row;
  GtkSpinButton *temperature_spin;
  GtkSpinButton *alpha_spin;
  GtkSpinButton *gamma_spin;
  GtkSpinButton *warmup_spin;
  GtkSpinButton *weight_decay_spin;
  GtkSpinButton *validate_spin;
  GtkSpinButton *seed_spin;
  GtkButton *start_button;
  GtkButton *cancel_button;
  BsRunView *run_view;

  BsTrainKind kind;
  BsJobRunner *runner;
  GSettings *settings;
  GPtrArray *model_paths;   /* parallel to model_row's list */
  GPtrArray *dataset_names; /* parallel to dataset_row's list */
  char *teacher_dir;        /* of the running distillation */
  BsTrainParams *then_fine_tune; /* while pretraining first: the fine-tuning to start after */
};

G_DEFINE_FINAL_TYPE (BsTrainPage, bs_train_page, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_KIND,
  PROP_RUNNING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GtkWidget *
bs_train_page_new (BsTrainKind kind)
{
  return g_object_new (BS_TYPE_TRAIN_PAGE, "kind", kind, NULL);
}

gboolean
bs_train_page_get_running (BsTrainPage *self)
{
  g_return_val_if_fail (BS_IS_TRAIN_PAGE (self), FALSE);
  return bs_job_runner_get_running (self->runner);
}

void
bs_train_page_cancel (BsTrainPage *self)
{
  g_return_if_fail (BS_IS_TRAIN_PAGE (self));
  bs_job_runner_cancel (self->runner);
}

static BsApplication *
get_application (BsTrainPage *self)
{
  return BS_APPLICATION (g_application_get_default ());
}

static void
toast (BsTrainPage *self, const char *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  if (BS_IS_WINDOW (root))
    bs_window_add_toast (BS_WINDOW (root), message);
}

/* Fills a combo row with names, keeping the selection on `keep` when it is
 * still there. */
static void
fill_row (AdwComboRow *row, GPtrArray *names, const char *keep)
{
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  guint selected = GTK_INVALID_LIST_POSITION;
  for (guint i = 0; i < names->len; i++)
    {
      gtk_string_list_append (list, g_ptr_array_index (names, i));
      if (keep != NULL && g_strcmp0 (keep, g_ptr_array_index (names, i)) == 0)
        selected = i;
    }
  adw_combo_row_set_model (row, G_LIST_MODEL (list));
  if (selected != GTK_INVALID_LIST_POSITION)
    adw_combo_row_set_selected (row, selected);
}

static const char *
selected_path (BsTrainPage *self, AdwComboRow *row, guint offset)
{
  guint i = adw_combo_row_get_selected (row);
  if (i == GTK_INVALID_LIST_POSITION || i < offset || i - offset >= self->model_paths->len)
    return NULL;
  return g_ptr_array_index (self->model_paths, i - offset);
}

/* The models and datasets may have changed on other pages: read them again
 * whenever the page is shown. */
static void
refresh_lists (BsTrainPage *self)
{
  BsStore *store = bs_application_get_store (get_application (self));
  if (store == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) models = bs_store_list_models (store, &error);
  g_autoptr (GPtrArray) datasets = bs_store_list_datasets (store, &error);
  if (models == NULL || datasets == NULL)
    {
      toast (self, error->message);
      return;
    }
  g_autofree char *model_keep = g_settings_get_string (self->settings, "last-model");
  g_autofree char *dataset_keep = g_settings_get_string (self->settings, "last-dataset");
  g_autoptr (GPtrArray) model_names = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_set_size (self->model_paths, 0);
  const char *keep_name = NULL;
  for (guint i = 0; i < models->len; i++)
    {
      const BsModelInfo *m = g_ptr_array_index (models, i);
      g_autofree char *params = g_strdup_printf ("%.1fM", m->n_params / 1e6);
      g_autofree char *size = g_format_size ((guint64) m->size_bytes);
      /* Translators: a model's name, its architecture, its parameters and its size on disk,
       * e.g. imdb (bert, 4.4M, 17.8 MB) */
      char *name = g_strdup_printf (_("%s (%s, %s, %s)"), m->name, m->architecture, params, size);
      if (g_strcmp0 (m->path, model_keep) == 0)
        keep_name = name;
      g_ptr_array_add (model_names, name);
      g_ptr_array_add (self->model_paths, g_strdup (m->path));
    }
  fill_row (self->model_row, model_names, keep_name);

  /* a student from the teacher first, then any model */
  g_autoptr (GPtrArray) students = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (students, g_strdup (_("From the teacher (half its layers)")));
  for (guint i = 0; i < model_names->len; i++)
    g_ptr_array_add (students, g_strdup (g_ptr_array_index (model_names, i)));
  fill_row (self->student_row, students, NULL);

  g_ptr_array_set_size (self->dataset_names, 0);
  for (guint i = 0; i < datasets->len; i++)
    {
      const BsDataset *d = g_ptr_array_index (datasets, i);
      g_ptr_array_add (self->dataset_names, g_strdup (d->name));
    }
  fill_row (self->dataset_row, self->dataset_names, dataset_keep);
}

static void
set_running (BsTrainPage *self, gboolean running)
{
  gtk_widget_set_visible (GTK_WIDGET (self->start_button), !running);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->what_group), !running);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

static void
on_progress (BsJobRunner *runner, const BsJobProgress *progress, BsTrainPage *self)
{
  bs_run_view_add_progress (self->run_view, progress);
}

/* After pretraining on the dataset's texts, fine-tunes what it made. */
static gboolean
start_fine_tuning_after_pretraining (BsTrainPage *self, const BsTrainResult *result, GError **error)
{
  g_autoptr (BsTrainParams) p = g_steal_pointer (&self->then_fine_tune);
  BsStore *store = bs_application_get_store (get_application (self));
  g_autoptr (BsRun) pretraining = store != NULL ? bs_store_get_run (store, result->run_id, error) : NULL;
  if (pretraining == NULL)
    return FALSE;
  g_free (p->model_dir);
  p->model_dir = g_strdup (pretraining->output_path);
  if (!bs_job_runner_start (self->runner, p, error))
    return FALSE;
  bs_run_view_clear (self->run_view);
  g_autofree char *message = NULL;
  if (!isnan (result->validation_accuracy))
    /* Translators: %.1f%% is a percentage, such as 41.5% */
    message = g_strdup_printf (_("Pretraining finished, %.1f%% of the hidden words guessed; now learning the labels…"),
                               100.0 * result->validation_accuracy);
  else
    message = g_strdup (_("Pretraining finished; now learning the labels…"));
  bs_run_view_set_status (self->run_view, message);
  set_running (self, TRUE);
  return TRUE;
}

static void
on_finished (BsJobRunner *runner, const BsTrainResult *result, const GError *error, BsTrainPage *self)
{
  set_running (self, FALSE);
  BsStore *store = bs_application_get_store (get_application (self));
  if (error == NULL && self->then_fine_tune != NULL)
    {
      g_autoptr (GError) chain_error = NULL;
      if (!start_fine_tuning_after_pretraining (self, result, &chain_error))
        {
          bs_run_view_set_status (self->run_view, chain_error->message);
          toast (self, chain_error->message);
        }
      return;
    }
  /* a pretraining that did not finish leaves the fine-tuning undone */
  g_clear_pointer (&self->then_fine_tune, bs_train_params_free);
  if (error == NULL)
    {
      g_autofree char *message = NULL;
      if (!isnan (result->test_accuracy))
        message = g_strdup_printf (_("Training finished: %.1f%% of the test texts right"),
                                   100.0 * result->test_accuracy);
      else
        message = g_strdup (_("Training finished"));
      bs_run_view_set_status (self->run_view, message);
      toast (self, message);
      g_autoptr (GError) load_error = NULL;
      if (store != NULL && !bs_run_view_load_evaluation (self->run_view, store, result->run_id, &load_error))
        toast (self, load_error->message);
      if (store != NULL && !isnan (result->teacher_test_accuracy))
        {
          g_autoptr (BsRun) run = bs_store_get_run (store, result->run_id, NULL);
          g_autoptr (BsModelInfo) teacher = run != NULL ? bs_store_find_model (store, run->teacher_path, NULL) : NULL;
          g_autoptr (BsModelInfo) student = run != NULL ? bs_store_find_model (store, run->output_path, NULL) : NULL;
          bs_run_view_show_comparison (self->run_view, teacher, student, result);
        }
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      const char *message = _("Training cancelled; it can be resumed from the Runs page");
      bs_run_view_set_status (self->run_view, message);
      toast (self, message);
    }
  else
    {
      bs_run_view_set_status (self->run_view, error->message);
      toast (self, error->message);
    }
}

static char *
default_output_dir (BsTrainKind kind, const char *dataset)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *name = g_strdup_printf ("%s-%s-%s", dataset, bs_train_kind_to_string (kind), stamp);
  /* a dataset name may hold anything: keep the folder name plain */
  g_strdelimit (name, "/\\: ", '_');
  return g_build_filename (g_get_user_data_dir (), "bert-studio", "models", name, NULL);
}

static void
on_start (GtkButton *button, BsTrainPage *self)
{
  BsApplication *app = get_application (self);
  const char *model = selected_path (self, self->model_row, 0);
  guint dataset_index = adw_combo_row_get_selected (self->dataset_row);
  if (model == NULL || dataset_index == GTK_INVALID_LIST_POSITION || dataset_index >= self->dataset_names->len)
    {
      toast (self, self->kind == BS_TRAIN_DISTILL ? _("Choose a teacher and a dataset first")
                                                  : _("Choose a base model and a dataset first"));
      return;
    }
  const char *dataset = g_ptr_array_index (self->dataset_names, dataset_index);

  g_auto (BsTrainParams) p = { 0 };
  bs_train_params_init (&p, self->kind);
  p.db_path = g_strdup (bs_application_get_database_path (app));
  p.dataset = g_strdup (dataset);
  if (self->kind == BS_TRAIN_DISTILL)
    {
      p.teacher_dir = g_strdup (model);
      const char *student = selected_path (self, self->student_row, 1);
      p.model_dir = g_strdup (student);
    }
  else
    p.model_dir = g_strdup (model);
  p.output_dir = default_output_dir (self->kind, dataset);
  p.max_length = gtk_spin_button_get_value_as_int (self->max_length_spin);
  p.batch_size = gtk_spin_button_get_value_as_int (self->batch_size_spin);
  p.lr = gtk_spin_button_get_value (self->lr_spin);
  p.epochs = gtk_spin_button_get_value_as_int (self->epochs_spin);
  p.gamma = gtk_spin_button_get_value (self->gamma_spin);
  p.warmup_steps = gtk_spin_button_get_value_as_int (self->warmup_spin);
  p.weight_decay = gtk_spin_button_get_value (self->weight_decay_spin);
  p.validate_every = gtk_spin_button_get_value_as_int (self->validate_spin);
  p.seed = (guint64) gtk_spin_button_get_value_as_int (self->seed_spin);
  p.temperature = gtk_spin_button_get_value (self->temperature_spin);
  p.alpha = gtk_spin_button_get_value (self->alpha_spin);

  g_settings_set_string (self->settings, "last-model", model);
  g_settings_set_string (self->settings, "last-dataset", dataset);
  g_autoptr (GError) error = NULL;
  bs_run_view_clear (self->run_view);
  bs_run_view_set_status (self->run_view, _("Reading the texts…"));
  if (self->kind == BS_TRAIN_FINE_TUNE && gtk_switch_get_active (self->pretrain_switch))
    {
      /* the same texts and sizes, masked-word prediction's own rate and schedule */
      g_auto (BsTrainParams) pre = { 0 };
      bs_train_params_init (&pre, BS_TRAIN_PRETRAIN);
      pre.db_path = g_strdup (p.db_path);
      pre.dataset = g_strdup (p.dataset);
      pre.model_dir = g_strdup (p.model_dir);
      pre.output_dir = default_output_dir (BS_TRAIN_PRETRAIN, dataset);
      pre.max_length = p.max_length;
      pre.batch_size = p.batch_size;
      pre.epochs = gtk_spin_button_get_value_as_int (self->pretrain_epochs_spin);
      pre.validate_every = p.validate_every;
      pre.seed = p.seed;
      if (!bs_job_runner_start (self->runner, &pre, &error))
        {
          toast (self, error->message);
          return;
        }
      g_clear_pointer (&self->then_fine_tune, bs_train_params_free);
      self->then_fine_tune = bs_train_params_copy (&p);
      bs_run_view_set_status (self->run_view, _("Pretraining on the dataset’s texts…"));
    }
  else if (!bs_job_runner_start (self->runner, &p, &error))
    {
      toast (self, error->message);
      return;
    }
  set_running (self, TRUE);
  /* in a narrow window, the charts come to the front */
  if (adw_flap_get_folded (self->flap))
    adw_flap_set_reveal_flap (self->flap, FALSE);
}

static void
on_cancel (GtkButton *button, BsTrainPage *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), FALSE);
  bs_run_view_set_status (self->run_view, _("Stopping after this batch…"));
  bs_job_runner_cancel (self->runner);
}

static void
on_folder_chosen (GtkNativeDialog *dialog, int response, BsTrainPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (folder);
      BsStore *store = bs_application_get_store (get_application (self));
      g_autoptr (GError) error = NULL;
      /* registering reads config.json only: the weights load when used */
      if (store == NULL || bs_store_register_model_folder (store, path, "folder", 0, &error) == 0)
        toast (self, error != NULL ? error->message : _("The database is not open"));
      else
        {
          g_settings_set_string (self->settings, "last-model", path);
          refresh_lists (self);
        }
    }
  g_object_unref (dialog);
}

static void
on_add_model (GtkButton *button, BsTrainPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (_("Add a Model Folder"), GTK_WINDOW (root),
                                                              GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Add"),
                                                              _("_Cancel"));
  g_signal_connect (dialog, "response", G_CALLBACK (on_folder_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_downloaded (BsDownloadDialog *dialog, const char *folder, BsTrainPage *self)
{
  g_settings_set_string (self->settings, "last-model", folder);
  refresh_lists (self);
  toast (self, _("The model is downloaded and ready"));
}

static void
on_download_model (GtkButton *button, BsTrainPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  BsDownloadDialog *dialog = bs_download_dialog_new (GTK_WINDOW (root),
                                                     bs_application_get_database_path (get_application (self)));
  g_signal_connect_object (dialog, "downloaded", G_CALLBACK (on_downloaded), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_remove_response (AdwMessageDialog *dialog, const char *response, BsTrainPage *self)
{
  if (g_strcmp0 (response, "remove") != 0)
    return;
  const char *path = selected_path (self, self->model_row, 0);
  BsStore *store = bs_application_get_store (get_application (self));
  g_autoptr (GError) error = NULL;
  g_autoptr (BsModelInfo) info = store != NULL && path != NULL ? bs_store_find_model (store, path, &error) : NULL;
  if (info == NULL || !bs_store_delete_model (store, info->id, &error))
    toast (self, error != NULL ? error->message : _("The database is not open"));
  refresh_lists (self);
}

static void
on_remove_model (GtkButton *button, BsTrainPage *self)
{
  const char *path = selected_path (self, self->model_row, 0);
  if (path == NULL)
    return;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *body = g_strdup_printf (_("%s leaves the list of models; the folder itself stays on disk."), path);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (root), _("Remove the Model?"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_remove_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
bs_train_page_constructed (GObject *object)
{
  BsTrainPage *self = BS_TRAIN_PAGE (object);
  G_OBJECT_CLASS (bs_train_page_parent_class)->constructed (object);
  gboolean distill = self->kind == BS_TRAIN_DISTILL;
  gtk_widget_set_visible (GTK_WIDGET (self->student_row), distill);
  gtk_widget_set_visible (GTK_WIDGET (self->temperature_row), distill);
  gtk_widget_set_visible (GTK_WIDGET (self->alpha_row), distill);
  gtk_widget_set_visible (GTK_WIDGET (self->pretrain_group), self->kind == BS_TRAIN_FINE_TUNE);
  if (distill)
    {
      adw_preferences_group_set_title (self->what_group, _("What to Distil"));
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->model_row), _("Teacher"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->model_row), _("A fine-tuned model to learn from"));
      gtk_button_set_label (self->start_button, _("_Start Distilling"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->start_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Start Distilling"), -1);
      g_settings_bind (self->settings, "temperature", self->temperature_spin, "value", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "alpha", self->alpha_spin, "value", G_SETTINGS_BIND_DEFAULT);
    }
}

static void
bs_train_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BsTrainPage *self = BS_TRAIN_PAGE (object);
  switch (prop_id)
    {
    case PROP_KIND:
      g_value_set_int (value, self->kind);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, bs_train_page_get_running (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_train_page_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BsTrainPage *self = BS_TRAIN_PAGE (object);
  switch (prop_id)
    {
    case PROP_KIND:
      self->kind = (BsTrainKind) g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bs_train_page_dispose (GObject *object)
{
  BsTrainPage *self = BS_TRAIN_PAGE (object);
  if (self->runner != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->runner, self);
      /* a job still running keeps the runner alive until it stops */
      bs_job_runner_cancel (self->runner);
      g_clear_object (&self->runner);
    }
  g_clear_object (&self->settings);
  g_clear_pointer (&self->model_paths, g_ptr_array_unref);
  g_clear_pointer (&self->dataset_names, g_ptr_array_unref);
  g_clear_pointer (&self->teacher_dir, g_free);
  g_clear_pointer (&self->then_fine_tune, bs_train_params_free);
  gtk_widget_dispose_template (GTK_WIDGET (object), BS_TYPE_TRAIN_PAGE);
  G_OBJECT_CLASS (bs_train_page_parent_class)->dispose (object);
}

static void
bs_train_page_class_init (BsTrainPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = bs_train_page_constructed;
  object_class->dispose = bs_train_page_dispose;
  object_class->get_property = bs_train_page_get_property;
  object_class->set_property = bs_train_page_set_property;

  properties[PROP_KIND] = g_param_spec_int ("kind", NULL, NULL, BS_TRAIN_FINE_TUNE, BS_TRAIN_DISTILL,
                                            BS_TRAIN_FINE_TUNE,
                                            G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (BS_TYPE_RUN_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/bertstudio/BertStudio/ui/bs-train-page.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, BsTrainPage, name)
  CHILD (flap);
  CHILD (what_group);
  CHILD (model_row);
  CHILD (student_row);
  CHILD (dataset_row);
  CHILD (pretrain_group);
  CHILD (pretrain_switch);
  CHILD (pretrain_epochs_row);
  CHILD (pretrain_epochs_spin);
  CHILD (add_model_button);
  CHILD (download_model_button);
  CHILD (remove_model_button);
  CHILD (max_length_spin);
  CHILD (batch_size_spin);
  CHILD (lr_spin);
  CHILD (epochs_spin);
  CHILD (temperature_row);
  CHILD (alpha_row);
  CHILD (temperature_spin);
  CHILD (alpha_spin);
  CHILD (gamma_spin);
  CHILD (warmup_spin);
  CHILD (weight_decay_spin);
  CHILD (validate_spin);
  CHILD (seed_spin);
  CHILD (start_button);
  CHILD (cancel_button);
  CHILD (run_view);
#undef CHILD
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
bs_train_page_init (BsTrainPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->model_paths = g_ptr_array_new_with_free_func (g_free);
  self->dataset_names = g_ptr_array_new_with_free_func (g_free);
  self->settings = g_settings_new (APPLICATION_ID);
  self->runner = bs_job_runner_new ();
  g_signal_connect (self->runner, "progress", G_CALLBACK (on_progress), self);
  g_signal_connect (self->runner, "finished", G_CALLBACK (on_finished), self);
  g_signal_connect (self->start_button, "clicked", G_CALLBACK (on_start), self);
  g_signal_connect (self->cancel_button, "clicked", G_CALLBACK (on_cancel), self);
  g_signal_connect (self->add_model_button, "clicked", G_CALLBACK (on_add_model), self);
  g_signal_connect (self->download_model_button, "clicked", G_CALLBACK (on_download_model), self);
  g_signal_connect (self->remove_model_button, "clicked", G_CALLBACK (on_remove_model), self);
  g_signal_connect_swapped (self, "map", G_CALLBACK (refresh_lists), self);

  g_settings_bind (self->settings, "max-length", self->max_length_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "batch-size", self->batch_size_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "learning-rate", self->lr_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "epochs", self->epochs_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "pretrain-first", self->pretrain_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "pretrain-epochs", self->pretrain_epochs_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_object_bind_property (self->pretrain_switch, "active", self->pretrain_epochs_row, "sensitive",
                          G_BINDING_SYNC_CREATE);
}
