/* bs-classify-page.c: the Classify page: a text, the predicted label and
 * each class's probability; whole files classified to CSV; the selected
 * model served over HTTP.
 *
 * The models are the registry's, newest first, and the model that ships
 * with the app (bs-default-model.h) last: the one shown until the user has
 * a model of their own or chooses another. A model folder with a card
 * (model_card.json) has it shown under the chooser.
 *
 * Everything slow runs on a thread of its own and reports back through the
 * main context: loading a model (seconds for BERT-base), classifying,
 * reading and classifying a file, writing the predictions, and starting and
 * stopping the server (bs_server_stop waits for the requests in flight).
 * A worker holds a reference to the model it uses, so choosing another
 * model meanwhile frees nothing under it; its result is dropped when a
 * newer request has superseded it, or when the page is gone. */
#include "config.h"

#include "bs-classify-page.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "bs-application.h"
#include "bs-atomic-file.h"
#include "bs-classifier.h"
#include "bs-default-model.h"
#include "bs-model-card.h"
#include "bs-server.h"
#include "bs-window.h"
#include "bs-post.h"

/* the server's address: loopback only, so nothing outside this computer
 * reaches a model the user shares */
#define SERVER_HOST "127.0.0.1"

/* texts classified together from a file: sorted by length, so that a batch
 * pads little */
#define FILE_BATCH 16

/* ---- a loaded model, shared with the workers ---- */

typedef struct
{
  gatomicrefcount ref;
  char *path;
  BsClassifier *classifier;
  BsModelCard *card; /* or NULL */
} Model;

static Model *
model_ref (Model *model)
{
  g_atomic_ref_count_inc (&model->ref);
  return model;
}

static void
model_unref (Model *model)
{
  if (!g_atomic_ref_count_dec (&model->ref))
    return;
  g_free (model->path);
  bs_classifier_free (model->classifier);
  bs_model_card_free (model->card);
  g_free (model);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Model, model_unref)

/* ---- the predictions of a file, shared with the saving worker ---- */

typedef struct
{
  gatomicrefcount ref;
  char *name;       /* the file's name, for the default name to save as */
  GPtrArray *texts; /* char* */
  GStrv labels;
  int n_labels;
  float *probabilities; /* texts->len × n_labels */
} Predictions;

static Predictions *
predictions_ref (Predictions *p)
{
  g_atomic_ref_count_inc (&p->ref);
  return p;
}

static void
predictions_unref (Predictions *p)
{
  if (!g_atomic_ref_count_dec (&p->ref))
    return;
  g_free (p->name);
  g_clear_pointer (&p->texts, g_ptr_array_unref);
  g_strfreev (p->labels);
  g_free (p->probabilities);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Predictions, predictions_unref)

typedef enum
{
  SERVER_OFF,
  SERVER_STARTING,
  SERVER_ON,
  SERVER_STOPPING,
} ServerState;

struct _BsClassifyPage
{
  GtkWidget parent_instance;

  /* template children */
  GtkStack *stack;
  AdwComboRow *model_row;
  GtkSpinner *load_spinner;
  GtkWidget *card_box;
  GtkLabel *card_name_label;
  GtkWidget *card_badge_label;
  GtkLabel *card_description_label;
  GtkBox *card_facts_box;
  GtkTextView *text_view;
  GtkLabel *placeholder_label;
  GtkWidget *classify_button;
  GtkWidget *result_box;
  GtkLabel *label_label;
  GtkLabel *time_label;
  GtkGrid *bars_grid;
  GtkWidget *file_button;
  GtkWidget *file_list;
  AdwActionRow *file_row;
  GtkProgressBar *file_progress;
  GtkWidget *file_cancel_button;
  GtkWidget *save_button;
  GtkSpinner *server_spinner;
  GtkSwitch *server_switch;
  GtkWidget *port_row;
  GtkSpinButton *port_spin;
  AdwActionRow *address_row;
  GtkLabel *address_label;

  GSettings *settings;
  gboolean disposed;
  GPtrArray *model_paths; /* parallel to model_row's list */
  GPtrArray *model_names; /* the registry's names, for the server */
  char *default_path;     /* the model that ships with the app, or NULL */
  gboolean refreshing;    /* filling model_row: its selection is not the user's */

  /* the selected model, once loaded */
  char *selected_path;
  Model *model;
  gboolean loading;
  guint load_serial;
  gboolean classify_pending; /* Classify pressed while the model loads */
  guint classify_serial;

  /* a file */
  GCancellable *file_cancellable; /* while classifying one */
  Predictions *predictions;       /* of the last one classified */
  gboolean saving;

  /* the server */
  ServerState server_state;
  BsServer *server; /* SERVER_ON */
  char *server_path;
  char *server_uri;
  gboolean syncing_switch; /* the switch follows the server, not the user */
};

G_DEFINE_FINAL_TYPE (BsClassifyPage, bs_classify_page, GTK_TYPE_WIDGET)

static void start_server (BsClassifyPage *self);
static void stop_server (BsClassifyPage *self);

GtkWidget *
bs_classify_page_new (void)
{
  return g_object_new (BS_TYPE_CLASSIFY_PAGE, NULL);
}

static void
toast (BsClassifyPage *self, const char *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  if (BS_IS_WINDOW (root))
    bs_window_add_toast (BS_WINDOW (root), message);
}

/* ---- work on a thread of its own ---- */

typedef void (*WorkFunc) (gpointer data);
/* On the main thread; self is NULL when the page is gone. */
typedef void (*DoneFunc) (BsClassifyPage *self, gpointer data);

typedef struct
{
  GWeakRef page;
  GMainContext *context;
  WorkFunc work;
  DoneFunc done;
  gpointer data;
  GDestroyNotify free_data;
} Work;

static gboolean
work_done (gpointer user_data)
{
  Work *w = user_data;
  g_autoptr (BsClassifyPage) self = g_weak_ref_get (&w->page);
  if (w->done != NULL)
    w->done (self != NULL && !self->disposed ? self : NULL, w->data);
  return G_SOURCE_REMOVE;
}

static void
work_free (gpointer user_data)
{
  Work *w = user_data;
  g_weak_ref_clear (&w->page);
  g_main_context_unref (w->context);
  if (w->free_data != NULL)
    w->free_data (w->data);
  g_free (w);
}

static gpointer
work_thread (gpointer user_data)
{
  Work *w = user_data;
  w->work (w->data);
  bs_post_to_context (w->context, G_PRIORITY_DEFAULT, work_done, w, work_free);
  return NULL;
}

/* A GThread rather than GTask's small shared pool: a load or a file may
 * take minutes. */
static void
run_in_thread (BsClassifyPage *self, const char *name, WorkFunc work, DoneFunc done, gpointer data,
               GDestroyNotify free_data)
{
  Work *w = g_new0 (Work, 1);
  g_weak_ref_init (&w->page, self);
  w->context = g_main_context_ref_thread_default ();
  w->work = work;
  w->done = done;
  w->data = data;
  w->free_data = free_data;
  g_thread_unref (g_thread_new (name, work_thread, w));
}

/* ---- the state of the controls ---- */

/* Anything but white space; without copying a long text at each key. */
static gboolean
has_text (BsClassifyPage *self)
{
  GtkTextIter iter;
  gtk_text_buffer_get_start_iter (gtk_text_view_get_buffer (self->text_view), &iter);
  while (!gtk_text_iter_is_end (&iter) && g_unichar_isspace (gtk_text_iter_get_char (&iter)))
    gtk_text_iter_forward_char (&iter);
  return !gtk_text_iter_is_end (&iter);
}

static void
update_actions (BsClassifyPage *self)
{
  gboolean file_running = self->file_cancellable != NULL;
  GtkWidget *widget = GTK_WIDGET (self);
  gtk_widget_action_set_enabled (widget, "classify.run", self->selected_path != NULL && has_text (self));
  gtk_widget_action_set_enabled (widget, "classify.classify-file", self->model != NULL && !file_running);
  gtk_widget_action_set_enabled (widget, "classify.cancel-file", file_running);
  gtk_widget_action_set_enabled (widget, "classify.save-predictions", self->predictions != NULL && !self->saving);
  gtk_widget_action_set_enabled (widget, "classify.copy-address", self->server_uri != NULL);
  gtk_widget_action_set_enabled (widget, "classify.open-address", self->server_uri != NULL);
}

static void
update_server_controls (BsClassifyPage *self)
{
  gboolean busy = self->server_state == SERVER_STARTING || self->server_state == SERVER_STOPPING;
  gboolean on = self->server_state == SERVER_ON;
  gtk_widget_set_visible (GTK_WIDGET (self->server_spinner), busy);
  gtk_spinner_set_spinning (self->server_spinner, busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->server_switch), !busy && (self->selected_path != NULL || on));
  gtk_widget_set_sensitive (GTK_WIDGET (self->port_spin), self->server_state == SERVER_OFF);
  /* the address, which holds the port, in the port's place */
  gtk_widget_set_visible (self->port_row, !on);
  gtk_widget_set_visible (GTK_WIDGET (self->address_row), on);
  gtk_label_set_text (self->address_label, on ? self->server_uri : "");

  /* the handle moves at once, the state (the colour) once the server
   * answers; GTK 4.8's set_state moves the handle too, hence the second
   * set_active */
  self->syncing_switch = TRUE;
  gboolean active = self->server_state == SERVER_STARTING || on;
  gtk_switch_set_active (self->server_switch, active);
  gtk_switch_set_state (self->server_switch, on);
  gtk_switch_set_active (self->server_switch, active);
  self->syncing_switch = FALSE;
  update_actions (self);
}

/* ---- loading the selected model ---- */

typedef struct
{
  guint serial;
  char *path;
  Model *model;
  GError *error;
} LoadData;

static void
load_data_free (gpointer data)
{
  LoadData *d = data;
  g_free (d->path);
  g_clear_pointer (&d->model, model_unref);
  g_clear_error (&d->error);
  g_free (d);
}

static void
load_work (gpointer data)
{
  LoadData *d = data;
  /* max_length 0: as long as the model reads, at most 512 tokens; a batch
   * is padded to its longest text, so short texts stay fast */
  BsClassifier *classifier = bs_classifier_load (d->path, 0, &d->error);
  if (classifier == NULL)
    return;
  d->model = g_new0 (Model, 1);
  g_atomic_ref_count_init (&d->model->ref);
  d->model->path = g_strdup (d->path);
  d->model->classifier = classifier;
  /* the classifier read it already, and would have failed on a bad one */
  d->model->card = bs_model_card_load_from_dir (d->path, NULL);
}

static void start_classify (BsClassifyPage *self);

static void
set_loading (BsClassifyPage *self, gboolean loading)
{
  self->loading = loading;
  gtk_widget_set_visible (GTK_WIDGET (self->load_spinner), loading);
  gtk_spinner_set_spinning (self->load_spinner, loading);
}

/* A fact is its name over its value: GTK 4.8 gave a wrapped value beside
 * its name (in a grid or a box) the height of one unwrapped line, and the
 * card's last rows fell out of it. */
static void
add_fact (BsClassifyPage *self, const char *name, const char *value)
{
  GtkWidget *fact = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *name_label = gtk_label_new (name);
  gtk_label_set_xalign (GTK_LABEL (name_label), 0);
  gtk_label_set_yalign (GTK_LABEL (name_label), 0);
  gtk_widget_add_css_class (name_label, "dim-label");
  gtk_widget_add_css_class (name_label, "caption");
  GtkWidget *value_label = gtk_label_new (value);
  gtk_label_set_xalign (GTK_LABEL (value_label), 0);
  gtk_label_set_wrap (GTK_LABEL (value_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (value_label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (value_label), TRUE);
  gtk_box_append (GTK_BOX (fact), name_label);
  gtk_box_append (GTK_BOX (fact), value_label);
  gtk_box_append (self->card_facts_box, fact);
}

/* The card of the loaded model, or none. */
static void
show_card (BsClassifyPage *self, const Model *model)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->card_facts_box))) != NULL)
    gtk_box_remove (self->card_facts_box, child);
  const BsModelCard *card = model != NULL ? model->card : NULL;
  gtk_widget_set_visible (self->card_box, card != NULL);
  if (card == NULL)
    return;
  gtk_label_set_text (self->card_name_label, card->name);
  gtk_widget_set_visible (self->card_badge_label, g_strcmp0 (model->path, self->default_path) == 0);
  gtk_label_set_text (self->card_description_label, card->description != NULL ? card->description : "");
  gtk_widget_set_visible (GTK_WIDGET (self->card_description_label), card->description != NULL);
  if (card->trained_on != NULL)
    add_fact (self, _("Trained on"), card->trained_on);
  if (!isnan (card->test_accuracy))
    {
      g_autofree char *accuracy = NULL;
      if (card->test_examples > 0)
        accuracy = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                 /* Translators: a percentage and a number of texts the model
                                                    had not seen in training */
                                                 "%.1f%% right on %'" PRId64 " test text",
                                                 "%.1f%% right on %'" PRId64 " test texts",
                                                 (gulong) card->test_examples),
                                    100.0 * card->test_accuracy, card->test_examples);
      else
        /* Translators: a percentage */
        accuracy = g_strdup_printf (_("%.1f%% right on the test texts"), 100.0 * card->test_accuracy);
      add_fact (self, _("Accuracy"), accuracy);
    }
  if (card->max_length > 0 || card->has_truncation)
    {
      const BsClassifier *c = model->classifier;
      guint n = bs_classifier_get_max_length (c);
      g_autofree char *reads
          = bs_classifier_get_truncation (c) == BS_TRUNCATE_HEAD_TAIL
                ? g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                /* Translators: %u is a number of tokens (word pieces) */
                                                "%u token of a text, from its start and its end",
                                                "%u tokens of a text, from its start and its end", n),
                                   n)
                : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                /* Translators: %u is a number of tokens (word pieces) */
                                                "The first %u token of a text", "The first %u tokens of a text", n),
                                   n);
      /* Translators: how much of a text the model reads */
      add_fact (self, _("Reads"), reads);
    }
  if (card->license != NULL)
    add_fact (self, _("License"), card->license);
}

static void
load_done (BsClassifyPage *self, gpointer data)
{
  LoadData *d = data;
  if (self == NULL || d->serial != self->load_serial)
    return;
  set_loading (self, FALSE);
  if (d->error != NULL)
    {
      self->classify_pending = FALSE;
      g_autofree char *message = NULL;
      /* it is not the user's: say whose it is */
      if (g_strcmp0 (d->path, self->default_path) == 0)
        /* Translators: %s says what is wrong, e.g. that a file is missing */
        message = g_strdup_printf (_("The model that comes with BERT Studio could not be loaded: %s"),
                                   d->error->message);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->model_row), message != NULL ? message : d->error->message);
      toast (self, message != NULL ? message : d->error->message);
      update_actions (self);
      return;
    }
  self->model = g_steal_pointer (&d->model);
  show_card (self, self->model);
  const BsClassifier *c = self->model->classifier;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  for (int k = 0; k < bs_classifier_get_n_labels (c); k++)
    g_strv_builder_add (builder, bs_classifier_get_label (c, k));
  g_auto (GStrv) labels = g_strv_builder_end (builder);
  g_autofree char *joined = g_strjoinv (", ", labels);
  /* Translators: %s lists the classes a model tells apart, e.g. neg, pos */
  g_autofree char *subtitle = g_strdup_printf (_("Labels: %s"), joined);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->model_row), subtitle);
  update_actions (self);
  if (self->classify_pending)
    {
      self->classify_pending = FALSE;
      start_classify (self);
    }
}

static void
load_model (BsClassifyPage *self)
{
  LoadData *d = g_new0 (LoadData, 1);
  d->serial = ++self->load_serial;
  d->path = g_strdup (self->selected_path);
  set_loading (self, TRUE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->model_row), _("Loading…"));
  run_in_thread (self, "bs-load-model", load_work, load_done, d, load_data_free);
}

/* Makes path the selected model: loads it, and serves it instead when the
 * server is on. */
static void
select_model (BsClassifyPage *self, const char *path)
{
  if (g_strcmp0 (path, self->selected_path) == 0)
    return;
  g_free (self->selected_path);
  self->selected_path = g_strdup (path);
  g_clear_pointer (&self->model, model_unref);
  self->classify_pending = FALSE;
  self->classify_serial++; /* a result of the previous model is stale */
  gtk_widget_set_visible (self->result_box, FALSE);
  show_card (self, NULL);
  if (path != NULL)
    load_model (self);
  else
    {
      self->load_serial++;
      set_loading (self, FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->model_row), NULL);
    }
  if (self->server_state == SERVER_ON)
    stop_server (self); /* and start again with the new model */
  update_server_controls (self);
}

static const char *
row_path (BsClassifyPage *self)
{
  guint i = adw_combo_row_get_selected (self->model_row);
  if (i == GTK_INVALID_LIST_POSITION || i >= self->model_paths->len)
    return NULL;
  return g_ptr_array_index (self->model_paths, i);
}

static void
on_model_selected (BsClassifyPage *self)
{
  if (self->refreshing)
    return;
  const char *path = row_path (self);
  if (path != NULL)
    g_settings_set_string (self->settings, "classify-model", path);
  select_model (self, path);
}

/* The combo row's own items stop at 20 characters; model names are often
 * longer (imdb-fine-tune-20260101-120000). */
static void
setup_model_item (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
  gtk_list_item_set_child (item, label);
}

static void
bind_model_item (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkStringObject *name = gtk_list_item_get_item (item);
  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), gtk_string_object_get_string (name));
}

static int
newest_first (gconstpointer a, gconstpointer b)
{
  const BsModelInfo *x = *(BsModelInfo *const *) a, *y = *(BsModelInfo *const *) b;
  if (x->created != y->created)
    return x->created < y->created ? 1 : -1;
  return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

static gboolean
has_model_files (const char *path)
{
  g_autofree char *config = g_build_filename (path, "config.json", NULL);
  return g_file_test (config, G_FILE_TEST_IS_REGULAR);
}

/* Models come and go on other pages: read the registry whenever the page
 * is shown. */
static void
refresh_models (BsClassifyPage *self)
{
  BsApplication *app = BS_APPLICATION (g_application_get_default ());
  BsStore *store = app != NULL ? bs_application_get_store (app) : NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) models = store != NULL ? bs_store_list_models (store, &error) : NULL;
  if (error != NULL)
    toast (self, error->message);

  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  g_ptr_array_set_size (self->model_paths, 0);
  g_ptr_array_set_size (self->model_names, 0);
  g_free (self->default_path);
  self->default_path = bs_default_model_dir ();
  const BsModelInfo *default_info = NULL;
  if (models != NULL)
    {
      g_ptr_array_sort (models, newest_first);
      for (guint i = 0; i < models->len; i++)
        {
          const BsModelInfo *m = g_ptr_array_index (models, i);
          if (g_strcmp0 (m->path, self->default_path) == 0)
            {
              default_info = m;
              continue;
            }
          /* a default model of before (startup forgets them) */
          if (g_strcmp0 (m->source, BS_MODEL_SOURCE_DEFAULT) == 0)
            continue;
          /* a pretrained masked-word model does not classify until fine-tuned */
          if (g_strcmp0 (m->source, "pretrain") == 0)
            continue;
          g_autofree char *base = g_path_get_basename (m->path);
          const char *name = m->name != NULL && *m->name != '\0' ? m->name : base;
          g_autofree char *params = g_strdup_printf ("%.1fM", m->n_params / 1e6);
          /* Translators: a model's name, its architecture and its size, e.g. imdb (bert, 4.4M) */
          g_autofree char *item = g_strdup_printf (_("%s (%s, %s)"), name, m->architecture, params);
          gtk_string_list_append (list, item);
          g_ptr_array_add (self->model_paths, g_strdup (m->path));
          g_ptr_array_add (self->model_names, g_strdup (name));
        }
    }
  /* the model that ships with the app, last; offered even when the user
   * removed it from the registry (it comes back there at the next start) */
  guint n_own = self->model_paths->len;
  if (self->default_path != NULL)
    {
      g_autoptr (BsModelCard) card = default_info == NULL ? bs_model_card_load_from_dir (self->default_path, NULL)
                                                          : NULL;
      g_autofree char *base = g_path_get_basename (self->default_path);
      const char *name = default_info != NULL ? default_info->name : card != NULL ? card->name : base;
      g_autofree char *item = NULL;
      if (default_info != NULL)
        {
          g_autofree char *params = g_strdup_printf ("%.1fM", default_info->n_params / 1e6);
          /* Translators: the name of the model that comes with BERT Studio, its architecture and its size,
             e.g. IMDB sentiment (built in, bert, 4.8M) */
          item = g_strdup_printf (_("%s (built in, %s, %s)"), name, default_info->architecture, params);
        }
      else
        /* Translators: the name of the model that comes with BERT Studio */
        item = g_strdup_printf (_("%s (built in)"), name);
      gtk_string_list_append (list, item);
      g_ptr_array_add (self->model_paths, g_strdup (self->default_path));
      g_ptr_array_add (self->model_names, g_strdup (name));
    }

  /* keep the model in use; else the one chosen last, while its folder is
   * there; else the newest of the user's own; else the one that ships */
  g_autofree char *chosen = g_settings_get_string (self->settings, "classify-model");
  guint selected = GTK_INVALID_LIST_POSITION, in_use = GTK_INVALID_LIST_POSITION;
  for (guint i = 0; i < self->model_paths->len; i++)
    {
      const char *path = g_ptr_array_index (self->model_paths, i);
      if (g_strcmp0 (path, self->selected_path) == 0)
        in_use = i;
      if (g_strcmp0 (path, chosen) == 0 && has_model_files (path))
        selected = i;
    }
  for (guint i = 0; selected == GTK_INVALID_LIST_POSITION && i < n_own; i++)
    if (has_model_files (g_ptr_array_index (self->model_paths, i)))
      selected = i;
  if (selected == GTK_INVALID_LIST_POSITION && self->model_paths->len > 0)
    /* the default; or, with only folders that are gone, the newest, to say so */
    selected = self->default_path != NULL ? n_own : 0;
  if (in_use != GTK_INVALID_LIST_POSITION)
    selected = in_use;
  self->refreshing = TRUE;
  adw_combo_row_set_model (self->model_row, G_LIST_MODEL (list));
  adw_combo_row_set_selected (self->model_row, selected);
  self->refreshing = FALSE;

  gtk_stack_set_visible_child_name (self->stack, self->model_paths->len > 0 ? "classify" : "empty");
  select_model (self, row_path (self));
}

/* ---- classifying the text in the box ---- */

typedef struct
{
  guint serial;
  Model *model;
  char *text;
  float *probabilities;
  gint64 elapsed_us;
  GError *error;
} PredictData;

static void
predict_data_free (gpointer data)
{
  PredictData *d = data;
  g_clear_pointer (&d->model, model_unref);
  g_free (d->text);
  g_free (d->probabilities);
  g_clear_error (&d->error);
  g_free (d);
}

static void
predict_work (gpointer data)
{
  PredictData *d = data;
  const char *texts[] = { d->text };
  d->probabilities = g_new0 (float, bs_classifier_get_n_labels (d->model->classifier));
  gint64 start = g_get_monotonic_time ();
  if (!bs_classifier_predict (d->model->classifier, texts, 1, d->probabilities, &d->error))
    g_clear_pointer (&d->probabilities, g_free);
  d->elapsed_us = g_get_monotonic_time () - start;
}

static char *
format_elapsed (gint64 us)
{
  if (us < 1000)
    return g_strdup (_("in less than 1 ms"));
  if (us < 10 * G_USEC_PER_SEC)
    /* Translators: how long classifying took, in milliseconds */
    return g_strdup_printf (_("in %d ms"), (int) ((us + 500) / 1000));
  /* Translators: how long classifying took, in seconds */
  return g_strdup_printf (_("in %.1f s"), us / 1e6);
}

static void
show_result (BsClassifyPage *self, const BsClassifier *c, const float *probabilities, gint64 elapsed_us)
{
  int n = bs_classifier_get_n_labels (c), best = 0;
  for (int k = 1; k < n; k++)
    if (probabilities[k] > probabilities[best])
      best = k;
  gtk_label_set_text (self->label_label, bs_classifier_get_label (c, best));
  g_autofree char *elapsed = format_elapsed (elapsed_us);
  gtk_label_set_text (self->time_label, elapsed);

  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->bars_grid))) != NULL)
    gtk_grid_remove (self->bars_grid, child);
  for (int k = 0; k < n; k++)
    {
      const char *label = bs_classifier_get_label (c, k);
      GtkWidget *name = gtk_label_new (label);
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
      gtk_label_set_max_width_chars (GTK_LABEL (name), 24);
      if (k == best)
        gtk_widget_add_css_class (name, "heading");

      GtkWidget *bar = gtk_progress_bar_new ();
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (bar), probabilities[k]);
      gtk_widget_set_hexpand (bar, TRUE);
      gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
      /* Translators: the accessible name of the bar showing a class's probability */
      g_autofree char *bar_name = g_strdup_printf (_("Probability of %s"), label);
      gtk_accessible_update_property (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_PROPERTY_LABEL, bar_name, -1);

      /* Translators: a probability as a percentage, e.g. 97.5% */
      g_autofree char *percent_text = g_strdup_printf (_("%.1f%%"), 100.0 * probabilities[k]);
      GtkWidget *percent = gtk_label_new (percent_text);
      gtk_label_set_xalign (GTK_LABEL (percent), 1);
      gtk_label_set_width_chars (GTK_LABEL (percent), 6);
      gtk_widget_add_css_class (percent, "numeric");
      if (k == best)
        gtk_widget_add_css_class (percent, "heading");

      gtk_grid_attach (self->bars_grid, name, 0, k, 1, 1);
      gtk_grid_attach (self->bars_grid, bar, 1, k, 1, 1);
      gtk_grid_attach (self->bars_grid, percent, 2, k, 1, 1);
    }
  gtk_widget_set_visible (self->result_box, TRUE);
}

static void
predict_done (BsClassifyPage *self, gpointer data)
{
  PredictData *d = data;
  if (self == NULL || d->serial != self->classify_serial)
    return;
  if (d->error != NULL)
    toast (self, d->error->message);
  else
    show_result (self, d->model->classifier, d->probabilities, d->elapsed_us);
}

static void
start_classify (BsClassifyPage *self)
{
  if (self->model == NULL)
    {
      /* the model is loading, or failed to: classify once it is there */
      self->classify_pending = TRUE;
      if (!self->loading && self->selected_path != NULL)
        load_model (self);
      return;
    }
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  PredictData *d = g_new0 (PredictData, 1);
  d->serial = ++self->classify_serial;
  d->model = model_ref (self->model);
  d->text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  run_in_thread (self, "bs-classify", predict_work, predict_done, d, predict_data_free);
}

static void
classify_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  BsClassifyPage *self = BS_CLASSIFY_PAGE (widget);
  if (has_text (self))
    start_classify (self);
}

static void
on_text_changed (BsClassifyPage *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_widget_set_visible (GTK_WIDGET (self->placeholder_label), gtk_text_buffer_get_char_count (buffer) == 0);
  update_actions (self);
}

/* ---- reading a file of texts ---- */

static void
set_bad_file (GError **error, const char *name, guint line, const char *what)
{
  /* Translators: a file's name, a line number and what is wrong there */
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s, line %u: %s"), name, line, what);
}

/* One text a line; blank lines are no texts. */
static gboolean
read_lines (const char *data, const char *name, GPtrArray *texts, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      gsize len = strlen (line);
      if (len > 0 && line[len - 1] == '\r')
        line[len - 1] = '\0';
      const char *c = line;
      while (g_ascii_isspace (*c))
        c++;
      if (*c != '\0')
        g_ptr_array_add (texts, g_strdup (line));
    }
  return TRUE;
}

/* One RFC 4180 record from *pos: fields appended to fields; *line counts
 * the line breaks passed. FALSE at the end of the data. */
static gboolean
csv_record (const char **pos, const char *name, guint *line, GPtrArray *fields, GError **error)
{
  const char *p = *pos;
  if (*p == '\0')
    return FALSE;
  guint start_line = *line;
  for (;;)
    {
      GString *field = g_string_new (NULL);
      if (*p == '"')
        {
          p++;
          for (;;)
            {
              if (*p == '\0')
                {
                  g_string_free (field, TRUE);
                  set_bad_file (error, name, start_line, _("a quoted field is not closed"));
                  return FALSE;
                }
              if (*p == '"' && p[1] == '"')
                g_string_append_c (field, '"'), p += 2;
              else if (*p == '"')
                {
                  p++;
                  break;
                }
              else if (*p == '\r' && p[1] == '\n')
                g_string_append_c (field, '\n'), p += 2, (*line)++;
              else
                {
                  if (*p == '\n')
                    (*line)++;
                  g_string_append_c (field, *p++);
                }
            }
          if (*p != ',' && *p != '\n' && *p != '\r' && *p != '\0')
            {
              g_string_free (field, TRUE);
              set_bad_file (error, name, *line, _("a quoted field goes on after its closing quote"));
              return FALSE;
            }
        }
      else
        while (*p != ',' && *p != '\n' && *p != '\0' && !(*p == '\r' && p[1] == '\n'))
          g_string_append_c (field, *p++);
      g_ptr_array_add (fields, g_string_free (field, FALSE));
      if (*p == ',')
        {
          p++;
          continue;
        }
      if (*p == '\r')
        p++;
      if (*p == '\n')
        p++, (*line)++;
      break;
    }
  *pos = p;
  return TRUE;
}

static gboolean
read_csv (const char *data, const char *name, GPtrArray *texts, GError **error)
{
  static const char *const text_columns[] = { "text", "review", "sentence" };
  const char *p = data;
  guint line = 1;
  g_autoptr (GPtrArray) header = g_ptr_array_new_with_free_func (g_free);
  if (!csv_record (&p, name, &line, header, error))
    {
      if (error != NULL && *error == NULL)
        set_bad_file (error, name, 1, _("the file is empty"));
      return FALSE;
    }
  guint column = G_MAXUINT;
  for (guint i = 0; i < header->len && column == G_MAXUINT; i++)
    {
      g_autofree char *title = g_strstrip (g_strdup (g_ptr_array_index (header, i)));
      for (guint j = 0; j < G_N_ELEMENTS (text_columns); j++)
        if (g_ascii_strcasecmp (title, text_columns[j]) == 0)
          column = i;
    }
  if (column == G_MAXUINT)
    {
      set_bad_file (error, name, 1, _("the header names no column text, review or sentence"));
      return FALSE;
    }
  for (;;)
    {
      g_autoptr (GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
      guint record_line = line;
      GError *record_error = NULL;
      if (!csv_record (&p, name, &line, fields, &record_error))
        {
          if (record_error == NULL)
            return TRUE;
          g_propagate_error (error, record_error);
          return FALSE;
        }
      /* a blank line is no record */
      if (fields->len == 1 && *(char *) g_ptr_array_index (fields, 0) == '\0')
        continue;
      if (column >= fields->len)
        {
          set_bad_file (error, name, record_line, _("the row is shorter than the header"));
          return FALSE;
        }
      g_ptr_array_add (texts, g_steal_pointer (&fields->pdata[column]));
    }
}

static gboolean
read_jsonl (const char *data, const char *name, GPtrArray *texts, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (data, "\n", -1);
  g_autoptr (JsonParser) parser = json_parser_new ();
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (*g_strstrip (lines[i]) == '\0')
        continue;
      g_autoptr (GError) json_error = NULL;
      if (!json_parser_load_from_data (parser, lines[i], -1, &json_error))
        {
          set_bad_file (error, name, i + 1, json_error->message);
          return FALSE;
        }
      JsonNode *root = json_parser_get_root (parser);
      JsonNode *text = JSON_NODE_HOLDS_OBJECT (root) ? json_object_get_member (json_node_get_object (root), "text")
                                                     : NULL;
      if (text == NULL || json_node_get_value_type (text) != G_TYPE_STRING)
        {
          set_bad_file (error, name, i + 1, _("no “text” field holding a string"));
          return FALSE;
        }
      g_ptr_array_add (texts, g_strdup (json_node_get_string (text)));
    }
  return TRUE;
}

static GPtrArray *
read_texts (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize length = 0;
  if (!g_file_get_contents (path, &data, &length, error))
    return NULL;
  g_autofree char *name = g_path_get_basename (path);
  const char *end = NULL;
  if (!g_utf8_validate_len (data, length, &end))
    {
      guint line = 1;
      for (const char *c = data; c < end; c++)
        line += *c == '\n';
      set_bad_file (error, name, line, _("the text is not UTF-8"));
      return NULL;
    }
  const char *text = g_str_has_prefix (data, "\xEF\xBB\xBF") ? data + 3 : data;

  g_autofree char *lower = g_ascii_strdown (name, -1);
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  gboolean ok;
  if (g_str_has_suffix (lower, ".csv"))
    ok = read_csv (text, name, texts, error);
  else if (g_str_has_suffix (lower, ".jsonl") || g_str_has_suffix (lower, ".ndjson"))
    ok = read_jsonl (text, name, texts, error);
  else
    ok = read_lines (text, name, texts, error);
  if (!ok)
    return NULL;
  if (texts->len == 0)
    {
      /* Translators: %s is a file's name */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s holds no texts"), name);
      return NULL;
    }
  return g_steal_pointer (&texts);
}

/* ---- classifying a file ---- */

/* Shared by the worker with its progress reports, which all end on the
 * main thread: the last reference is dropped there. */
typedef struct
{
  gatomicrefcount ref;
  Model *model;
  char *path;
  GCancellable *cancellable;
  GWeakRef page; /* for the progress */
  GMainContext *context;
  gint64 last_report;
  Predictions *predictions;
  GError *error;
} FileData;

static void
file_data_unref (gpointer data)
{
  FileData *d = data;
  if (!g_atomic_ref_count_dec (&d->ref))
    return;
  g_clear_pointer (&d->model, model_unref);
  g_free (d->path);
  g_clear_object (&d->cancellable);
  g_weak_ref_clear (&d->page);
  g_main_context_unref (d->context);
  g_clear_pointer (&d->predictions, predictions_unref);
  g_clear_error (&d->error);
  g_free (d);
}

typedef struct
{
  FileData *job;
  guint done, total;
  double fraction;
} FileProgress;

static void
file_progress_free (gpointer data)
{
  FileProgress *p = data;
  file_data_unref (p->job);
  g_free (p);
}

static gboolean
deliver_file_progress (gpointer data)
{
  FileProgress *p = data;
  g_autoptr (BsClassifyPage) self = g_weak_ref_get (&p->job->page);
  if (self == NULL || self->disposed || self->file_cancellable != p->job->cancellable)
    return G_SOURCE_REMOVE;
  gtk_progress_bar_set_fraction (self->file_progress, p->fraction);
  /* Translators: progress through a file, e.g. Classified 120 of 1000 texts */
  g_autofree char *subtitle = g_strdup_printf (_("Classified %u of %u texts"), p->done, p->total);
  adw_action_row_set_subtitle (self->file_row, subtitle);
  return G_SOURCE_REMOVE;
}

/* On the worker: at most ten reports a second reach the main thread.
 * fraction: of the bytes, since the texts go shortest first. */
static void
report_file_progress (FileData *d, guint done, guint total, double fraction)
{
  gint64 now = g_get_monotonic_time ();
  if (done < total && now - d->last_report < G_USEC_PER_SEC / 10)
    return;
  d->last_report = now;
  FileProgress *p = g_new0 (FileProgress, 1);
  g_atomic_ref_count_inc (&d->ref);
  p->job = d;
  p->done = done;
  p->total = total;
  p->fraction = fraction;
  bs_post_to_context (d->context, G_PRIORITY_DEFAULT, deliver_file_progress, p, file_progress_free);
}

static int
by_length (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const gsize *lengths = user_data;
  guint i = *(const guint *) a, j = *(const guint *) b;
  if (lengths[i] != lengths[j])
    return lengths[i] < lengths[j] ? -1 : 1;
  return i < j ? -1 : i > j;
}

static void
file_work (gpointer data)
{
  FileData *d = data;
  g_autoptr (GPtrArray) texts = read_texts (d->path, &d->error);
  if (texts == NULL)
    return;
  BsClassifier *c = d->model->classifier;
  int n_labels = bs_classifier_get_n_labels (c);
  guint n = texts->len;
  g_autofree float *probabilities = g_new0 (float, (gsize) n * n_labels);

  /* in batches of texts of about the same length, so that little is padding */
  g_autofree gsize *lengths = g_new (gsize, n);
  g_autofree guint *order = g_new (guint, n);
  double total_bytes = 0, done_bytes = 0;
  for (guint i = 0; i < n; i++)
    {
      lengths[i] = strlen (g_ptr_array_index (texts, i));
      order[i] = i;
      total_bytes += lengths[i] + 1;
    }
  g_qsort_with_data (order, n, sizeof *order, by_length, lengths);

  report_file_progress (d, 0, n, 0);
  g_autofree float *out = g_new (float, (gsize) FILE_BATCH * n_labels);
  for (guint start = 0; start < n; start += FILE_BATCH)
    {
      if (g_cancellable_set_error_if_cancelled (d->cancellable, &d->error))
        return;
      guint count = MIN (FILE_BATCH, n - start);
      const char *batch[FILE_BATCH];
      for (guint i = 0; i < count; i++)
        batch[i] = g_ptr_array_index (texts, order[start + i]);
      if (!bs_classifier_predict (c, batch, count, out, &d->error))
        return;
      for (guint i = 0; i < count; i++)
        {
          memcpy (probabilities + (gsize) order[start + i] * n_labels, out + (gsize) i * n_labels,
                  n_labels * sizeof (float));
          done_bytes += lengths[order[start + i]] + 1;
        }
      report_file_progress (d, start + count, n, done_bytes / total_bytes);
    }

  Predictions *p = g_new0 (Predictions, 1);
  g_atomic_ref_count_init (&p->ref);
  p->name = g_path_get_basename (d->path);
  p->texts = g_steal_pointer (&texts);
  p->n_labels = n_labels;
  p->labels = g_new0 (char *, n_labels + 1);
  for (int k = 0; k < n_labels; k++)
    p->labels[k] = g_strdup (bs_classifier_get_label (c, k));
  p->probabilities = g_steal_pointer (&probabilities);
  d->predictions = p;
}

static void
set_file_running (BsClassifyPage *self, gboolean running)
{
  gtk_widget_set_visible (self->file_list, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->file_progress), running);
  gtk_widget_set_visible (self->file_cancel_button, running);
  gtk_widget_set_visible (self->save_button, !running && self->predictions != NULL);
}

static void
file_done (BsClassifyPage *self, gpointer data)
{
  FileData *d = data;
  if (self == NULL || self->file_cancellable != d->cancellable)
    return;
  g_clear_object (&self->file_cancellable);
  if (d->predictions != NULL)
    {
      g_clear_pointer (&self->predictions, predictions_unref);
      self->predictions = g_steal_pointer (&d->predictions);
      guint n = self->predictions->texts->len;
      g_autofree char *subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u text classified",
                                                                "%u texts classified", n), n);
      adw_action_row_set_subtitle (self->file_row, subtitle);
      toast (self, subtitle);
    }
  else if (g_error_matches (d->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    adw_action_row_set_subtitle (self->file_row, _("Cancelled"));
  else
    {
      adw_action_row_set_subtitle (self->file_row, d->error->message);
      toast (self, d->error->message);
    }
  set_file_running (self, FALSE);
  update_actions (self);
}

void
bs_classify_page_classify_file (BsClassifyPage *self, GFile *file)
{
  g_return_if_fail (BS_IS_CLASSIFY_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));
  if (self->file_cancellable != NULL)
    return;
  g_autofree char *path = g_file_get_path (file);
  if (self->model == NULL || path == NULL)
    {
      toast (self, self->model == NULL ? _("Choose a model first") : _("Only local files can be classified"));
      return;
    }
  FileData *d = g_new0 (FileData, 1);
  g_atomic_ref_count_init (&d->ref);
  d->model = model_ref (self->model);
  d->path = g_steal_pointer (&path);
  d->cancellable = g_cancellable_new ();
  g_weak_ref_init (&d->page, self);
  d->context = g_main_context_ref_thread_default ();
  self->file_cancellable = g_object_ref (d->cancellable);
  /* the row now names the new file */
  g_clear_pointer (&self->predictions, predictions_unref);

  g_autofree char *name = g_file_get_basename (file);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->file_row), name);
  adw_action_row_set_subtitle (self->file_row, _("Reading the file…"));
  gtk_progress_bar_set_fraction (self->file_progress, 0);
  set_file_running (self, TRUE);
  update_actions (self);
  run_in_thread (self, "bs-classify-file", file_work, file_done, d, file_data_unref);
}

static void
on_file_chosen (GtkNativeDialog *dialog, int response, BsClassifyPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      bs_classify_page_classify_file (self, file);
    }
  g_object_unref (dialog);
}

static void
classify_file_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  BsClassifyPage *self = BS_CLASSIFY_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (_("Classify a File"), GTK_WINDOW (root),
                                                              GTK_FILE_CHOOSER_ACTION_OPEN, _("_Classify"),
                                                              _("_Cancel"));
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Texts (.txt, .csv, .jsonl)"));
  gtk_file_filter_add_suffix (filter, "txt");
  gtk_file_filter_add_suffix (filter, "csv");
  gtk_file_filter_add_suffix (filter, "jsonl");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_autoptr (GtkFileFilter) all = gtk_file_filter_new ();
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), all);
  g_signal_connect (dialog, "response", G_CALLBACK (on_file_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
cancel_file_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  BsClassifyPage *self = BS_CLASSIFY_PAGE (widget);
  if (self->file_cancellable != NULL)
    {
      g_cancellable_cancel (self->file_cancellable);
      adw_action_row_set_subtitle (self->file_row, _("Cancelling…"));
      gtk_widget_action_set_enabled (widget, "classify.cancel-file", FALSE);
    }
}

/* ---- saving the predictions ---- */

typedef struct
{
  Predictions *predictions;
  char *path;
  GError *error;
} SaveData;

static void
save_data_free (gpointer data)
{
  SaveData *d = data;
  predictions_unref (d->predictions);
  g_free (d->path);
  g_clear_error (&d->error);
  g_free (d);
}

/* RFC 4180: quoted when it holds a comma, a quote or a line break. */
static void
append_csv_field (GString *out, const char *field)
{
  if (strpbrk (field, ",\"\r\n") == NULL)
    {
      g_string_append (out, field);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *c = field; *c != '\0'; c++)
    {
      if (*c == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *c);
    }
  g_string_append_c (out, '"');
}

static void
save_work (gpointer data)
{
  SaveData *d = data;
  const Predictions *p = d->predictions;
  g_autoptr (BsAtomicFile) file = bs_atomic_file_new (d->path, &d->error);
  if (file == NULL)
    return;
  g_autoptr (GString) out = g_string_new ("text,label");
  for (int k = 0; k < p->n_labels; k++)
    {
      g_string_append_c (out, ',');
      append_csv_field (out, p->labels[k]);
    }
  g_string_append (out, "\r\n");
  for (guint i = 0; i < p->texts->len; i++)
    {
      const float *probabilities = p->probabilities + (gsize) i * p->n_labels;
      int best = 0;
      for (int k = 1; k < p->n_labels; k++)
        if (probabilities[k] > probabilities[best])
          best = k;
      append_csv_field (out, g_ptr_array_index (p->texts, i));
      g_string_append_c (out, ',');
      append_csv_field (out, p->labels[best]);
      for (int k = 0; k < p->n_labels; k++)
        {
          char number[G_ASCII_DTOSTR_BUF_SIZE];
          /* g_ascii_: a decimal point whatever the locale */
          g_string_append_c (out, ',');
          g_string_append (out, g_ascii_formatd (number, sizeof number, "%.6f", probabilities[k]));
        }
      g_string_append (out, "\r\n");
      if (out->len >= 1 << 16)
        {
          if (!bs_atomic_file_write (file, out->str, out->len, &d->error))
            return;
          g_string_truncate (out, 0);
        }
    }
  if (!bs_atomic_file_write (file, out->str, out->len, &d->error))
    return;
  bs_atomic_file_commit (file, &d->error);
}

static void
save_done (BsClassifyPage *self, gpointer data)
{
  SaveData *d = data;
  if (self == NULL)
    return;
  self->saving = FALSE;
  update_actions (self);
  if (d->error != NULL)
    {
      toast (self, d->error->message);
      return;
    }
  g_autofree char *name = g_path_get_basename (d->path);
  /* Translators: %s is a file's name */
  g_autofree char *message = g_strdup_printf (_("Predictions saved to %s"), name);
  toast (self, message);
}

void
bs_classify_page_save_predictions (BsClassifyPage *self, GFile *file)
{
  g_return_if_fail (BS_IS_CLASSIFY_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));
  g_autofree char *path = g_file_get_path (file);
  if (self->predictions == NULL || self->saving || path == NULL)
    return;
  SaveData *d = g_new0 (SaveData, 1);
  d->predictions = predictions_ref (self->predictions);
  d->path = g_steal_pointer (&path);
  self->saving = TRUE;
  update_actions (self);
  run_in_thread (self, "bs-save-predictions", save_work, save_done, d, save_data_free);
}

static void
on_save_chosen (GtkNativeDialog *dialog, int response, BsClassifyPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      bs_classify_page_save_predictions (self, file);
    }
  g_object_unref (dialog);
}

static void
save_predictions_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  BsClassifyPage *self = BS_CLASSIFY_PAGE (widget);
  if (self->predictions == NULL)
    return;
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (_("Save Predictions As"), GTK_WINDOW (root),
                                                              GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"),
                                                              _("_Cancel"));
  /* reviews.txt → reviews-predictions.csv */
  g_autofree char *stem = g_strdup (self->predictions->name);
  char *dot = strrchr (stem, '.');
  if (dot != NULL && dot != stem)
    *dot = '\0';
  /* Translators: the name a file's predictions are saved as by default; %s is the file's name without its extension */
  g_autofree char *suggested = g_strdup_printf (_("%s-predictions.csv"), stem);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), suggested);
  g_signal_connect (dialog, "response", G_CALLBACK (on_save_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* ---- the server ---- */

typedef struct
{
  char *path;
  char *name;
  guint port;
  BsServer *server;
  char *uri;
  GError *error;
} StartData;

static void
stop_detached (BsServer *server);

static void
start_data_free (gpointer data)
{
  StartData *d = data;
  g_free (d->path);
  g_free (d->name);
  /* a server started for a page that has gone */
  if (d->server != NULL)
    stop_detached (g_steal_pointer (&d->server));
  g_free (d->uri);
  g_clear_error (&d->error);
  g_free (d);
}

static void
start_work (gpointer data)
{
  StartData *d = data;
  /* a classifier of its own: the server changes its truncation per batch */
  BsClassifier *classifier = bs_classifier_load (d->path, 0, &d->error);
  if (classifier == NULL)
    return;
  BsServerOptions options;
  bs_server_options_init (&options);
  /* as the model card says, if the model has one */
  options.truncation = bs_classifier_get_truncation (classifier);
  options.host = g_strdup (SERVER_HOST);
  options.port = d->port;
  options.model_name = g_strdup (d->name);
  g_autoptr (BsServer) server = bs_server_new (classifier, &options);
  bs_server_options_clear (&options);
  if (!bs_server_start (server, &d->error))
    return;
  d->uri = g_strdup (bs_server_get_uri (server));
  d->server = g_steal_pointer (&server);
}

static void
start_done (BsClassifyPage *self, gpointer data)
{
  StartData *d = data;
  if (self == NULL)
    return; /* start_data_free stops the server */
  if (d->error != NULL)
    {
      self->server_state = SERVER_OFF;
      g_clear_pointer (&self->server_path, g_free);
      update_server_controls (self);
      if (g_error_matches (d->error, BS_SERVER_ERROR, BS_SERVER_ERROR_LISTEN))
        {
          /* Translators: %u is a port number */
          g_autofree char *message = g_strdup_printf (_("Port %u is in use by another program: choose another port"),
                                                      d->port);
          toast (self, message);
        }
      else
        toast (self, d->error->message);
      return;
    }
  self->server = g_steal_pointer (&d->server);
  self->server_uri = g_steal_pointer (&d->uri);
  self->server_state = SERVER_ON;
  update_server_controls (self);
  /* the user chose another model while it started, or the window closed */
  if (self->server_path == NULL || g_strcmp0 (self->server_path, self->selected_path) != 0)
    stop_server (self);
}

static const char *
model_name (BsClassifyPage *self, const char *path)
{
  for (guint i = 0; i < self->model_paths->len; i++)
    if (g_strcmp0 (g_ptr_array_index (self->model_paths, i), path) == 0)
      return g_ptr_array_index (self->model_names, i);
  return "model";
}

static void
start_server (BsClassifyPage *self)
{
  if (self->selected_path == NULL)
    return;
  StartData *d = g_new0 (StartData, 1);
  d->path = g_strdup (self->selected_path);
  d->name = g_strdup (model_name (self, self->selected_path));
  d->port = (guint) gtk_spin_button_get_value_as_int (self->port_spin);
  g_free (self->server_path);
  self->server_path = g_strdup (self->selected_path);
  self->server_state = SERVER_STARTING;
  update_server_controls (self);
  run_in_thread (self, "bs-server-start", start_work, start_done, d, start_data_free);
}

typedef struct
{
  BsServer *server;
} StopData;

static void
stop_data_free (gpointer data)
{
  StopData *d = data;
  g_assert (d->server == NULL);
  if (g_application_get_default () != NULL)
    g_application_release (g_application_get_default ());
  g_free (d);
}

static void
stop_work (gpointer data)
{
  StopData *d = data;
  /* blocks until the requests in flight are answered */
  bs_server_stop (d->server);
  g_clear_object (&d->server);
}

static void
stop_done (BsClassifyPage *self, gpointer data)
{
  if (self == NULL)
    return;
  self->server_state = SERVER_OFF;
  update_server_controls (self);
  /* stopped to serve another model: the switch is still on */
  if (self->server_path != NULL && self->selected_path != NULL)
    start_server (self);
  else
    g_clear_pointer (&self->server_path, g_free);
}

/* Stops server on a thread; self NULL: for no page (it has gone). */
static void
stop_in_thread (BsClassifyPage *self, BsServer *server)
{
  StopData *d = g_new0 (StopData, 1);
  d->server = server;
  /* the process waits for the connections to close */
  if (g_application_get_default () != NULL)
    g_application_hold (g_application_get_default ());
  if (self != NULL)
    run_in_thread (self, "bs-server-stop", stop_work, stop_done, d, stop_data_free);
  else
    {
      Work *w = g_new0 (Work, 1);
      g_weak_ref_init (&w->page, NULL);
      w->context = g_main_context_ref_thread_default ();
      w->work = stop_work;
      w->data = d;
      w->free_data = stop_data_free;
      g_thread_unref (g_thread_new ("bs-server-stop", work_thread, w));
    }
}

static void
stop_detached (BsServer *server)
{
  stop_in_thread (NULL, server);
}

/* Stops the server; it starts again with the selected model if the user
 * still wants it (server_path set). */
static void
stop_server (BsClassifyPage *self)
{
  g_return_if_fail (self->server_state == SERVER_ON);
  self->server_state = SERVER_STOPPING;
  g_clear_pointer (&self->server_uri, g_free);
  update_server_controls (self);
  stop_in_thread (self, g_steal_pointer (&self->server));
}

static gboolean
on_switch_state_set (GtkSwitch *sw, gboolean state, BsClassifyPage *self)
{
  if (self->syncing_switch)
    return TRUE;
  if (state && self->server_state == SERVER_OFF)
    start_server (self);
  else if (!state && self->server_state == SERVER_ON)
    {
      g_clear_pointer (&self->server_path, g_free);
      stop_server (self);
    }
  else
    update_server_controls (self);
  /* the switch's state follows the server's: update_server_controls */
  return TRUE;
}

static void
copy_address_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  BsClassifyPage *self = BS_CLASSIFY_PAGE (widget);
  if (self->server_uri == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), self->server_uri);
  toast (self, _("Address copied"));
}

static void
open_address_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  BsClassifyPage *self = BS_CLASSIFY_PAGE (widget);
  if (self->server_uri == NULL)
    return;
  GtkRoot *root = gtk_widget_get_root (widget);
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, self->server_uri, GDK_CURRENT_TIME);
}

/* ---- GObject ---- */

/* The window is going: nobody is left to turn the server off, and a page
 * can outlive its window (whatever else holds it). */
static void
bs_classify_page_unrealize (GtkWidget *widget)
{
  BsClassifyPage *self = BS_CLASSIFY_PAGE (widget);
  /* a server still starting is stopped when it reports back */
  g_clear_pointer (&self->server_path, g_free);
  if (self->server_state == SERVER_ON)
    stop_server (self);
  if (self->file_cancellable != NULL)
    g_cancellable_cancel (self->file_cancellable);
  GTK_WIDGET_CLASS (bs_classify_page_parent_class)->unrealize (widget);
}

static void
bs_classify_page_dispose (GObject *object)
{
  BsClassifyPage *self = BS_CLASSIFY_PAGE (object);
  self->disposed = TRUE;
  if (self->file_cancellable != NULL)
    g_cancellable_cancel (self->file_cancellable);
  g_clear_object (&self->file_cancellable);
  /* a server still starting is stopped when it reports back */
  if (self->server != NULL)
    stop_detached (g_steal_pointer (&self->server));
  g_clear_object (&self->settings);
  g_clear_pointer (&self->model_paths, g_ptr_array_unref);
  g_clear_pointer (&self->model_names, g_ptr_array_unref);
  g_clear_pointer (&self->default_path, g_free);
  g_clear_pointer (&self->selected_path, g_free);
  g_clear_pointer (&self->model, model_unref);
  g_clear_pointer (&self->predictions, predictions_unref);
  g_clear_pointer (&self->server_path, g_free);
  g_clear_pointer (&self->server_uri, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (object), BS_TYPE_CLASSIFY_PAGE);
  G_OBJECT_CLASS (bs_classify_page_parent_class)->dispose (object);
}

static void
bs_classify_page_class_init (BsClassifyPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bs_classify_page_dispose;
  widget_class->unrealize = bs_classify_page_unrealize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/bertstudio/BertStudio/ui/bs-classify-page.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, BsClassifyPage, name)
  CHILD (stack);
  CHILD (model_row);
  CHILD (load_spinner);
  CHILD (card_box);
  CHILD (card_name_label);
  CHILD (card_badge_label);
  CHILD (card_description_label);
  CHILD (card_facts_box);
  CHILD (text_view);
  CHILD (placeholder_label);
  CHILD (classify_button);
  CHILD (result_box);
  CHILD (label_label);
  CHILD (time_label);
  CHILD (bars_grid);
  CHILD (file_button);
  CHILD (file_list);
  CHILD (file_row);
  CHILD (file_progress);
  CHILD (file_cancel_button);
  CHILD (save_button);
  CHILD (server_spinner);
  CHILD (server_switch);
  CHILD (port_row);
  CHILD (port_spin);
  CHILD (address_row);
  CHILD (address_label);
#undef CHILD

  gtk_widget_class_install_action (widget_class, "classify.run", NULL, classify_action);
  gtk_widget_class_install_action (widget_class, "classify.classify-file", NULL, classify_file_action);
  gtk_widget_class_install_action (widget_class, "classify.cancel-file", NULL, cancel_file_action);
  gtk_widget_class_install_action (widget_class, "classify.save-predictions", NULL, save_predictions_action);
  gtk_widget_class_install_action (widget_class, "classify.copy-address", NULL, copy_address_action);
  gtk_widget_class_install_action (widget_class, "classify.open-address", NULL, open_address_action);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
bs_classify_page_init (BsClassifyPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->settings = g_settings_new (APPLICATION_ID);
  self->model_paths = g_ptr_array_new_with_free_func (g_free);
  self->model_names = g_ptr_array_new_with_free_func (g_free);

  /* Ctrl+Enter in the text box; in the capture phase, since the text view
   * takes any Enter for a new line */
  GtkEventController *shortcuts = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_CAPTURE);
  const char *const triggers[] = { "<Control>Return", "<Control>KP_Enter" };
  for (guint i = 0; i < G_N_ELEMENTS (triggers); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                          gtk_shortcut_new (gtk_shortcut_trigger_parse_string (triggers[i]),
                                                            gtk_named_action_new ("classify.run")));
  gtk_widget_add_controller (GTK_WIDGET (self->text_view), shortcuts);

  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_model_item), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_model_item), NULL);
  adw_combo_row_set_factory (self->model_row, factory);

  g_settings_bind (self->settings, "server-port", self->port_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->text_view), "changed", G_CALLBACK (on_text_changed),
                            self);
  g_signal_connect_swapped (self->model_row, "notify::selected", G_CALLBACK (on_model_selected), self);
  g_signal_connect (self->server_switch, "state-set", G_CALLBACK (on_switch_state_set), self);
  g_signal_connect_swapped (self, "map", G_CALLBACK (refresh_models), self);
  update_server_controls (self);
}
