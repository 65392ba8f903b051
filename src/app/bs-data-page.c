/* bs-data-page.c: the Data page: importing datasets, previewing their
 * examples, their class balance and their text lengths in tokens, the
 * validation split, export and delete; the list of datasets in the store.
 *
 * Everything that reads or writes examples runs on a BsStoreTask (a thread
 * with its own connection): an IMDB-sized dataset is 30 MB of text, and a
 * frame must not wait for it.  Only the list of datasets (counts from an
 * index) is read on the main thread, as the Train page does.  Each request
 * carries a serial number, so that the answer for a dataset no longer shown
 * is dropped. */
#include "config.h"

#include "bs-data-page.h"
#include "bs-data-page-private.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "bs-application.h"
#include "bs-dataset-stats.h"
#include "bs-import-dialog.h"
#include "bs-store-task.h"
#include "bs-token-histogram.h"
#include "bs-tokenizer.h"
#include "bs-window.h"

/* The preview's rows: enough to get a feel, few enough to load at once. */
#define MAX_PREVIEW 500
#define PREVIEW_CHARS 240
/* The token histogram's bins as the store counts them (the widget rebins). */
#define STATS_BINS 64
/* Progress reports of an import, at most this often. */
#define PROGRESS_INTERVAL_US (100 * 1000)

/* ---- a preview row ---- */

#define BS_TYPE_EXAMPLE_ITEM (bs_example_item_get_type ())
G_DECLARE_FINAL_TYPE (BsExampleItem, bs_example_item, BS, EXAMPLE_ITEM, GObject)

struct _BsExampleItem
{
  GObject parent_instance;
  char *text;
  char *label;
  const char *split;
};

G_DEFINE_FINAL_TYPE (BsExampleItem, bs_example_item, G_TYPE_OBJECT)

static void
bs_example_item_finalize (GObject *object)
{
  BsExampleItem *self = BS_EXAMPLE_ITEM (object);

  g_free (self->text);
  g_free (self->label);
  G_OBJECT_CLASS (bs_example_item_parent_class)->finalize (object);
}

static void
bs_example_item_class_init (BsExampleItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bs_example_item_finalize;
}

static void
bs_example_item_init (BsExampleItem *self)
{
}

const char *
bs_example_item_get_text (GObject *item)
{
  g_return_val_if_fail (BS_IS_EXAMPLE_ITEM (item), NULL);
  return BS_EXAMPLE_ITEM (item)->text;
}

const char *
bs_example_item_get_label (GObject *item)
{
  g_return_val_if_fail (BS_IS_EXAMPLE_ITEM (item), NULL);
  return BS_EXAMPLE_ITEM (item)->label;
}

const char *
bs_example_item_get_split (GObject *item)
{
  g_return_val_if_fail (BS_IS_EXAMPLE_ITEM (item), NULL);
  return BS_EXAMPLE_ITEM (item)->split;
}

/* ---- the page ---- */

struct _BsDataPage
{
  GtkWidget parent_instance;

  /* template children */
  GtkRevealer *import_revealer;
  GtkStack *import_stack;
  GtkLabel *import_label;
  GtkProgressBar *import_progress;
  GtkButton *import_cancel_button;
  GtkImage *message_icon;
  GtkLabel *message_label;
  GtkButton *message_close_button;
  GtkStack *stack;
  AdwLeaflet *leaflet;
  GtkWidget *sidebar;
  GtkWidget *content;
  GtkListBox *dataset_list;
  GtkButton *back_button;
  GtkLabel *title_label;
  GtkLabel *source_label;
  GtkScrolledWindow *details_scroller;
  GtkBox *splits_box;
  AdwPreferencesGroup *balance_group;
  GtkListBox *balance_list;
  GtkStack *tokens_stack;
  GtkLabel *keep_label;
  BsTokenHistogram *histogram;
  GtkLabel *lengths_label;
  GtkSpinner *tokens_spinner;
  GtkLabel *tokens_status_label;
  GtkButton *train_page_button;
  GtkSpinButton *max_length_spin;
  AdwSplitButton *import_button;
  AdwPreferencesGroup *split_group;
  GtkButton *split_apply_button;
  GtkSpinButton *split_share_spin;
  GtkSpinButton *split_seed_spin;
  AdwPreferencesGroup *examples_group;
  GtkColumnView *examples_view;

  GSettings *settings;
  GListStore *examples;      /* BsExampleItem */
  GPtrArray *datasets;       /* BsDataset*, in the list's order */
  gint64 selected_id;        /* 0: none */
  char *stats_model;         /* the model the histogram was counted with */
  GtkWindow *action_window;  /* where win.import-dataset was added */

  guint details_serial;
  GCancellable *details_cancellable;
  guint stats_serial;
  GCancellable *stats_cancellable;
  GCancellable *import_cancellable;
  GCancellable *peek_cancellable;
  guint busy;                /* split, export and delete tasks running */
  gboolean importing;
  gboolean disposed;
};

G_DEFINE_FINAL_TYPE (BsDataPage, bs_data_page, GTK_TYPE_WIDGET)

GtkWidget *
bs_data_page_new (void)
{
  return g_object_new (BS_TYPE_DATA_PAGE, NULL);
}

static BsApplication *
get_application (void)
{
  GApplication *app = g_application_get_default ();

  return BS_IS_APPLICATION (app) ? BS_APPLICATION (app) : NULL;
}

static BsStore *
get_store (void)
{
  BsApplication *app = get_application ();

  return app != NULL ? bs_application_get_store (app) : NULL;
}

static const char *
get_database_path (void)
{
  BsApplication *app = get_application ();

  return app != NULL ? bs_application_get_database_path (app) : NULL;
}

static void
toast (BsDataPage *self,
       const char *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (BS_IS_WINDOW (root))
    bs_window_add_toast (BS_WINDOW (root), message);
}

static char *
format_count (gint64 n)
{
  return g_strdup_printf ("%'" G_GINT64_FORMAT, n);
}

static char *
format_percent (double fraction)
{
  double percent = 100.0 * fraction;

  /* never "100%" for a share that leaves some out, nor "0%" for one that has some */
  if (percent > 0 && percent < 1)
    return g_strdup ("<1%");
  if (percent > 99 && percent < 100)
    return g_strdup_printf ("%.1f%%", floor (percent * 10) / 10);
  return g_strdup_printf ("%.0f%%", percent);
}

/* What a split is called on the page. */
static const char *
split_title (const char *split)
{
  if (g_strcmp0 (split, "train") == 0)
    return _("Training");
  if (g_strcmp0 (split, "validation") == 0)
    return _("Validation");
  if (g_strcmp0 (split, "test") == 0)
    return _("Test");
  return _("Unlabeled");
}

static const BsDataset *
find_dataset (BsDataPage *self,
              gint64 id)
{
  for (guint i = 0; self->datasets != NULL && i < self->datasets->len; i++)
    {
      const BsDataset *d = g_ptr_array_index (self->datasets, i);
      if (d->id == id)
        return d;
    }
  return NULL;
}

static gint64
split_count (const BsDataset *d,
             const char *split)
{
  if (g_strcmp0 (split, "train") == 0)
    return d->n_train;
  if (g_strcmp0 (split, "validation") == 0)
    return d->n_validation;
  if (g_strcmp0 (split, "test") == 0)
    return d->n_test;
  return d->n_unlabeled;
}

/* "22,500 training · 2,500 validation", the splits that have examples. */
static char *
describe_counts (const BsDataset *d)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (bs_store_splits); i++)
    {
      gint64 n = split_count (d, bs_store_splits[i]);
      g_autofree char *count = NULL;

      if (n == 0)
        continue;
      count = format_count (n);
      if (out->len > 0)
        g_string_append (out, " · ");
      /* Translators: a number of examples and the split they are in, e.g. 22,500 training */
      g_string_append_printf (out, C_("examples in a split", "%s %s"), count, split_title (bs_store_splits[i]));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void update_actions (BsDataPage *self);
static void load_details (BsDataPage *self);
static void load_stats (BsDataPage *self);

/* ---- the message bar: an import's progress or its error ---- */

static void
show_message (BsDataPage *self,
              const char *message,
              gboolean error)
{
  gtk_label_set_label (self->message_label, message);
  gtk_image_set_from_icon_name (self->message_icon, error ? "dialog-error-symbolic" : "dialog-information-symbolic");
  if (error)
    gtk_widget_add_css_class (GTK_WIDGET (self->message_icon), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->message_icon), "error");
  gtk_stack_set_visible_child_name (self->import_stack, "message");
  gtk_revealer_set_reveal_child (self->import_revealer, TRUE);
}

static void
hide_message (BsDataPage *self)
{
  gtk_revealer_set_reveal_child (self->import_revealer, FALSE);
  gtk_label_set_label (self->message_label, "");
}

const char *
bs_data_page_get_message (BsDataPage *self)
{
  g_return_val_if_fail (BS_IS_DATA_PAGE (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->import_revealer)
      || g_strcmp0 (gtk_stack_get_visible_child_name (self->import_stack), "message") != 0)
    return NULL;
  return gtk_label_get_label (self->message_label);
}

/* ---- the list of datasets ---- */

static GtkWidget *
make_dataset_row (const BsDataset *d)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *name = gtk_label_new (d->name);
  g_autofree char *counts = describe_counts (d);
  GtkWidget *counts_label = gtk_label_new (counts[0] != '\0' ? counts : _("No examples"));
  g_autofree char *labels = NULL;
  GtkWidget *labels_label;

  if (d->labels != NULL && d->labels[0] != NULL)
    {
      g_autofree char *names = g_strjoinv (", ", d->labels);
      /* Translators: the label names of a dataset, e.g. Labels: neg, pos */
      labels = g_strdup_printf (_("Labels: %s"), names);
    }
  else
    labels = g_strdup (_("No labels"));
  labels_label = gtk_label_new (labels);

  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (name, "heading");
  for (GtkWidget *l = counts_label; l != NULL; l = l == counts_label ? labels_label : NULL)
    {
      gtk_label_set_xalign (GTK_LABEL (l), 0);
      gtk_label_set_wrap (GTK_LABEL (l), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (l), PANGO_WRAP_WORD_CHAR);
      gtk_widget_add_css_class (l, "caption");
      gtk_widget_add_css_class (l, "dim-label");
    }
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), counts_label);
  gtk_box_append (GTK_BOX (box), labels_label);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  {
    g_autofree char *description = g_strdup_printf ("%s; %s", gtk_label_get_label (GTK_LABEL (counts_label)), labels);
    gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, d->name,
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description, -1);
  }
  return row;
}

static gboolean
same_dataset (const BsDataset *a,
              const BsDataset *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  if (a->id != b->id || g_strcmp0 (a->name, b->name) != 0 || a->n_train != b->n_train
      || a->n_validation != b->n_validation || a->n_test != b->n_test || a->n_unlabeled != b->n_unlabeled)
    return FALSE;
  if ((a->labels == NULL) != (b->labels == NULL))
    return FALSE;
  return a->labels == NULL || g_strv_equal ((const char *const *) a->labels, (const char *const *) b->labels);
}

static BsDataset *
copy_dataset (const BsDataset *d)
{
  BsDataset *copy;

  if (d == NULL)
    return NULL;
  copy = g_new0 (BsDataset, 1);
  *copy = *d;
  copy->name = g_strdup (d->name);
  copy->source = g_strdup (d->source);
  copy->labels = g_strdupv (d->labels);
  return copy;
}

static void
clear_details (BsDataPage *self)
{
  GtkWidget *child;

  g_cancellable_cancel (self->details_cancellable);
  g_cancellable_cancel (self->stats_cancellable);
  self->details_serial++;
  self->stats_serial++;
  g_list_store_remove_all (self->examples);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->balance_list))) != NULL)
    gtk_list_box_remove (self->balance_list, child);
  bs_token_histogram_set_stats (self->histogram, NULL);
}

/* The cards with the examples of each split. */
static void
show_split_counts (BsDataPage *self,
                   const BsDataset *d)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->splits_box))) != NULL)
    gtk_box_remove (self->splits_box, child);
  for (guint i = 0; i < G_N_ELEMENTS (bs_store_splits); i++)
    {
      gint64 n = split_count (d, bs_store_splits[i]);
      g_autofree char *count = NULL;
      g_autofree char *description = NULL;
      GtkWidget *card, *number, *caption;

      /* empty splits only where they would hold something: a labeled
       * dataset without a test split says so, an unlabeled one has no use
       * for any */
      if (n == 0 && (g_strcmp0 (bs_store_splits[i], "unlabeled") == 0 || d->labels == NULL || d->labels[0] == NULL))
        continue;
      count = format_count (n);
      card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      number = gtk_label_new (count);
      caption = gtk_label_new (split_title (bs_store_splits[i]));
      gtk_widget_add_css_class (card, "card");
      gtk_widget_set_margin_top (number, 12);
      gtk_widget_set_margin_bottom (caption, 12);
      gtk_widget_set_margin_start (number, 6);
      gtk_widget_set_margin_end (number, 6);
      gtk_label_set_ellipsize (GTK_LABEL (number), PANGO_ELLIPSIZE_END);
      gtk_label_set_ellipsize (GTK_LABEL (caption), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (number, "title-3");
      gtk_widget_add_css_class (number, "numeric");
      gtk_widget_add_css_class (caption, "caption");
      gtk_widget_add_css_class (caption, "dim-label");
      gtk_box_append (GTK_BOX (card), number);
      gtk_box_append (GTK_BOX (card), caption);
      /* Translators: a split and its number of examples, e.g. Training: 22,500 examples */
      description = g_strdup_printf (_("%s: %s examples"), split_title (bs_store_splits[i]), count);
      gtk_accessible_update_property (GTK_ACCESSIBLE (card), GTK_ACCESSIBLE_PROPERTY_LABEL, description, -1);
      gtk_box_append (self->splits_box, card);
    }
}

/* Shows dataset id (0: none): what the list knows at once, the rest from
 * worker threads. */
static void
show_dataset (BsDataPage *self,
              gint64 id,
              gboolean force)
{
  const BsDataset *d = find_dataset (self, id);
  gboolean changed = id != self->selected_id;

  if (d == NULL)
    {
      self->selected_id = 0;
      clear_details (self);
      gtk_label_set_label (self->title_label, "");
      gtk_label_set_label (self->source_label, "");
      update_actions (self);
      return;
    }
  self->selected_id = id;
  gtk_label_set_label (self->title_label, d->name);
  /* the file's name; the whole path in the tooltip */
  if (d->source != NULL)
    {
      g_autofree char *base = g_path_get_basename (d->source);
      /* Translators: where a dataset was imported from: a file's or folder's name */
      g_autofree char *from = g_strdup_printf (_("Imported from %s"), base);
      gtk_label_set_label (self->source_label, from);
    }
  else
    gtk_label_set_label (self->source_label, "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->source_label), d->source);
  show_split_counts (self, d);
  /* nothing to split without labels */
  gtk_widget_set_visible (GTK_WIDGET (self->split_group), d->labels != NULL && d->labels[0] != NULL);
  {
    /* the share the dataset has now, as a starting point */
    gint64 pool = d->n_train + d->n_validation;
    gtk_spin_button_set_value (self->split_share_spin, pool > 0 ? round (100.0 * d->n_validation / pool) : 0);
  }
  update_actions (self);
  if (changed)
    gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->details_scroller), 0);
  if (changed || force)
    {
      clear_details (self);
      load_details (self);
      load_stats (self);
    }
}

/* Reads the list again (others may have changed it: the CLI, a training
 * run); keeps the selection, or selects select_id (0: keep).  The details
 * are read again when the dataset shown has changed, or when force (a new
 * split moves examples without changing the counts). */
static void
refresh_datasets (BsDataPage *self,
                  gint64 select_id,
                  gboolean force)
{
  BsStore *store = get_store ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (BsDataset) before = NULL;
  g_autofree char *last = NULL;
  GtkWidget *child;
  gint64 keep = select_id > 0 ? select_id : self->selected_id;
  GtkListBoxRow *selected_row = NULL;

  if (store == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "no-store");
      return;
    }
  list = bs_store_list_datasets (store, &error);
  if (list == NULL)
    {
      toast (self, error->message);
      return;
    }

  before = copy_dataset (find_dataset (self, self->selected_id));
  g_clear_pointer (&self->datasets, g_ptr_array_unref);
  self->datasets = g_steal_pointer (&list);

  /* the selection is set again below: no row-selected in between */
  g_signal_handlers_block_matched (self->dataset_list, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->dataset_list))) != NULL)
    gtk_list_box_remove (self->dataset_list, child);

  if (keep == 0 || find_dataset (self, keep) == NULL)
    {
      last = g_settings_get_string (self->settings, "last-dataset");
      keep = 0;
      for (guint i = 0; i < self->datasets->len; i++)
        {
          const BsDataset *d = g_ptr_array_index (self->datasets, i);
          if (g_strcmp0 (d->name, last) == 0)
            keep = d->id;
        }
      if (keep == 0 && self->datasets->len > 0)
        keep = ((const BsDataset *) g_ptr_array_index (self->datasets, 0))->id;
    }
  for (guint i = 0; i < self->datasets->len; i++)
    {
      const BsDataset *d = g_ptr_array_index (self->datasets, i);
      GtkWidget *row = make_dataset_row (d);

      gtk_list_box_append (self->dataset_list, row);
      if (d->id == keep)
        selected_row = GTK_LIST_BOX_ROW (row);
    }
  gtk_list_box_select_row (self->dataset_list, selected_row);
  g_signal_handlers_unblock_matched (self->dataset_list, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);

  gtk_stack_set_visible_child_name (self->stack, self->datasets->len > 0 ? "datasets" : "empty");
  show_dataset (self, keep, force || !same_dataset (before, find_dataset (self, keep)));
}

static void
on_row_selected (GtkListBox *list,
                 GtkListBoxRow *row,
                 BsDataPage *self)
{
  int i = row != NULL ? gtk_list_box_row_get_index (row) : -1;
  const BsDataset *d = i >= 0 && (guint) i < self->datasets->len ? g_ptr_array_index (self->datasets, i) : NULL;

  if (d == NULL)
    return;
  g_settings_set_string (self->settings, "last-dataset", d->name);
  show_dataset (self, d->id, FALSE);
}

static void
on_row_activated (GtkListBox *list,
                  GtkListBoxRow *row,
                  BsDataPage *self)
{
  /* narrow: the list and the details take turns */
  adw_leaflet_set_visible_child (self->leaflet, self->content);
}

static void
on_back_clicked (GtkButton *button,
                 BsDataPage *self)
{
  adw_leaflet_set_visible_child (self->leaflet, self->sidebar);
}

GPtrArray *
bs_data_page_get_datasets (BsDataPage *self)
{
  g_return_val_if_fail (BS_IS_DATA_PAGE (self), NULL);
  return self->datasets;
}

gint64
bs_data_page_get_selected (BsDataPage *self)
{
  g_return_val_if_fail (BS_IS_DATA_PAGE (self), 0);
  return self->selected_id;
}

void
bs_data_page_select (BsDataPage *self,
                     gint64 dataset_id)
{
  g_return_if_fail (BS_IS_DATA_PAGE (self));

  for (guint i = 0; self->datasets != NULL && i < self->datasets->len; i++)
    if (((const BsDataset *) g_ptr_array_index (self->datasets, i))->id == dataset_id)
      gtk_list_box_select_row (self->dataset_list, gtk_list_box_get_row_at_index (self->dataset_list, (int) i));
}

gboolean
bs_data_page_get_loading (BsDataPage *self)
{
  g_return_val_if_fail (BS_IS_DATA_PAGE (self), FALSE);
  return self->details_cancellable != NULL || self->stats_cancellable != NULL;
}

static void
update_actions (BsDataPage *self)
{
  gboolean ready = self->selected_id > 0 && self->busy == 0;
  const BsDataset *d = find_dataset (self, self->selected_id);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "data.export", ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "data.delete", ready);
  gtk_widget_set_sensitive (GTK_WIDGET (self->split_apply_button),
                            ready && d != NULL && d->n_train + d->n_validation > 0);
}

/* ---- details: counts per label and the preview ---- */

typedef struct
{
  char *text;
  int label;
  const char *split;
  gint64 id;
} PreviewRow;

typedef struct
{
  gint64 id;
  guint serial;
  BsDataset *dataset;
  GArray *label_counts;  /* BsLabelCount */
  GArray *preview;       /* PreviewRow, by id */
} DetailsData;

static void
preview_row_clear (gpointer data)
{
  g_free (((PreviewRow *) data)->text);
}

static void
details_data_free (gpointer data)
{
  DetailsData *d = data;

  g_clear_pointer (&d->dataset, bs_dataset_free);
  g_clear_pointer (&d->label_counts, g_array_unref);
  g_clear_pointer (&d->preview, g_array_unref);
  g_free (d);
}

/* One line, at most max_chars characters: a row of the preview. */
static char *
one_line (const char *text,
          guint max_chars)
{
  g_autoptr (GString) out = g_string_sized_new (MIN (strlen (text), (gsize) max_chars * 2) + 4);
  guint n = 0;
  const char *p;

  for (p = text; *p != '\0' && n < max_chars; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);
      if (g_unichar_isspace (c))
        {
          if (out->len > 0 && out->str[out->len - 1] != ' ')
            g_string_append_c (out, ' ');
        }
      else
        g_string_append_unichar (out, c);
    }
  if (*p != '\0')
    g_string_append (out, "…");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gint
compare_preview_rows (gconstpointer a,
                      gconstpointer b)
{
  const PreviewRow *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* On the worker: the counts per label, and a preview spread evenly over the
 * dataset (the first rows of an aclImdb folder are all one label). */
static gboolean
details_work (BsStoreTask *task,
              BsStore *store,
              gpointer data,
              GCancellable *cancellable,
              GError **error)
{
  DetailsData *d = data;
  gint64 total;

  d->dataset = bs_store_get_dataset (store, d->id, error);
  if (d->dataset == NULL)
    return FALSE;
  d->label_counts = bs_dataset_label_counts (store, d->id, error);
  if (d->label_counts == NULL)
    return FALSE;

  d->preview = g_array_new (FALSE, TRUE, sizeof (PreviewRow));
  g_array_set_clear_func (d->preview, preview_row_clear);
  total = d->dataset->n_train + d->dataset->n_validation + d->dataset->n_test + d->dataset->n_unlabeled;
  for (guint s = 0; s < G_N_ELEMENTS (bs_store_splits); s++)
    {
      g_autoptr (BsExamples) examples = NULL;
      gsize n, k;

      if (split_count (d->dataset, bs_store_splits[s]) == 0)
        continue;
      examples = bs_store_load_examples (store, d->id, bs_store_splits[s], error);
      if (examples == NULL)
        return FALSE;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      n = examples->n;
      k = total <= MAX_PREVIEW ? n : MAX (1, (gsize) llround ((double) MAX_PREVIEW * n / total));
      k = MIN (k, n);
      for (gsize j = 0; j < k; j++)
        {
          gsize i = j * n / k;
          PreviewRow row = {
            .text = one_line (examples->texts[i], PREVIEW_CHARS),
            .label = examples->labels[i],
            .split = bs_store_splits[s],
            .id = examples->ids[i],
          };
          g_array_append_val (d->preview, row);
        }
    }
  g_array_sort (d->preview, compare_preview_rows);
  return TRUE;
}

static const char *
label_name (const BsDataset *d,
            int label)
{
  if (label < 0 || d->labels == NULL || (guint) label >= g_strv_length (d->labels))
    return "";
  return d->labels[label];
}

static void
show_balance (BsDataPage *self,
              const BsDataset *d,
              GArray *counts)
{
  guint n_labels = d->labels != NULL ? g_strv_length (d->labels) : 0;
  g_autofree gint64 *totals = g_new0 (gint64, MAX (n_labels, 1));
  gint64 labeled = 0, largest = 0, smallest = G_MAXINT64;
  g_autoptr (GString) description = g_string_new (NULL);

  for (guint i = 0; i < counts->len; i++)
    {
      const BsLabelCount *c = &g_array_index (counts, BsLabelCount, i);
      if (c->label >= 0 && (guint) c->label < n_labels)
        totals[c->label] += c->count, labeled += c->count;
    }
  for (guint l = 0; l < n_labels; l++)
    largest = MAX (largest, totals[l]), smallest = MIN (smallest, totals[l]);

  for (guint l = 0; l < n_labels; l++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *bar = gtk_level_bar_new_for_interval (0, MAX (largest, 1));
      g_autofree char *count = format_count (totals[l]);
      g_autofree char *percent = format_percent (labeled > 0 ? (double) totals[l] / labeled : 0);
      g_autofree char *text = NULL;
      g_autofree char *bar_name = NULL;
      g_autoptr (GString) per_split = g_string_new (NULL);
      GtkWidget *count_label;

      for (guint i = 0; i < counts->len; i++)
        {
          const BsLabelCount *c = &g_array_index (counts, BsLabelCount, i);
          g_autofree char *n = NULL;
          if (c->label != (int) l || c->count == 0)
            continue;
          n = format_count (c->count);
          if (per_split->len > 0)
            g_string_append (per_split, " · ");
          g_string_append_printf (per_split, C_("examples in a split", "%s %s"), n, split_title (c->split));
        }

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), d->labels[l]);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), per_split->str);

      gtk_level_bar_set_mode (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_MODE_CONTINUOUS);
      /* one colour: a small class is not a warning of its own */
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_LOW);
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_HIGH);
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_FULL);
      gtk_level_bar_set_value (GTK_LEVEL_BAR (bar), (double) totals[l]);
      gtk_widget_set_size_request (bar, 96, -1);
      gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
      /* Translators: %s is a class name; the bar shows how many examples it has */
      bar_name = g_strdup_printf (_("Examples of %s"), d->labels[l]);
      gtk_accessible_update_property (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_PROPERTY_LABEL, bar_name, -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), bar);

      /* Translators: a number of examples and its share of all, e.g. 12,500 (50%) */
      text = g_strdup_printf (_("%s (%s)"), count, percent);
      count_label = gtk_label_new (text);
      gtk_label_set_xalign (GTK_LABEL (count_label), 1);
      gtk_label_set_width_chars (GTK_LABEL (count_label), 12);
      gtk_widget_add_css_class (count_label, "numeric");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), count_label);
      gtk_list_box_append (self->balance_list, row);
    }

  if (n_labels == 0)
    g_string_append (description, _("The dataset has no labels: it can be used for pretraining, not for classifying"));
  else
    {
      g_autofree char *n = format_count (labeled);
      g_string_append_printf (description,
                              g_dngettext (GETTEXT_PACKAGE, "%s labeled example in %u class",
                                           "%s labeled examples in %u classes", (gulong) labeled),
                              n, n_labels);
      if (smallest > 0 && largest >= 3 * smallest)
        g_string_append_printf (description, " — %s",
                                /* Translators: a warning after the number of examples per class */
                                _("unbalanced: accuracy alone can look good while the small classes are missed"));
      else if (smallest == 0 && largest > 0)
        g_string_append_printf (description, " — %s", _("some classes have no examples"));
    }
  if (d->n_unlabeled > 0 && n_labels > 0)
    {
      g_autofree char *n = format_count (d->n_unlabeled);
      g_string_append (description, "; ");
      g_string_append_printf (description,
                              g_dngettext (GETTEXT_PACKAGE, "%s more without a label",
                                           "%s more without labels", (gulong) d->n_unlabeled),
                              n);
    }
  adw_preferences_group_set_description (self->balance_group, description->str);
  gtk_widget_set_visible (GTK_WIDGET (self->balance_list), n_labels > 0);
}

static void
details_done (GObject *owner,
              gpointer data,
              const GError *error)
{
  BsDataPage *self = BS_DATA_PAGE (owner);
  DetailsData *d = data;
  g_autoptr (GPtrArray) items = NULL;
  gint64 total;

  if (self->disposed || d->serial != self->details_serial)
    return;
  g_clear_object (&self->details_cancellable);
  if (error != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, error->message);
      return;
    }

  show_balance (self, d->dataset, d->label_counts);

  items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < d->preview->len; i++)
    {
      PreviewRow *row = &g_array_index (d->preview, PreviewRow, i);
      BsExampleItem *item = g_object_new (BS_TYPE_EXAMPLE_ITEM, NULL);

      item->text = g_steal_pointer (&row->text);
      item->label = g_strdup (label_name (d->dataset, row->label));
      item->split = row->split;
      g_ptr_array_add (items, item);
    }
  g_list_store_splice (self->examples, 0, g_list_model_get_n_items (G_LIST_MODEL (self->examples)), items->pdata,
                       items->len);

  total = d->dataset->n_train + d->dataset->n_validation + d->dataset->n_test + d->dataset->n_unlabeled;
  if ((gint64) items->len < total)
    {
      g_autofree char *shown = format_count (items->len);
      g_autofree char *all = format_count (total);
      g_autofree char *description = NULL;
      /* Translators: how many examples the preview shows of how many, e.g. 500 of 25,000 examples, evenly spread */
      description = g_strdup_printf (_("%s of %s examples, evenly spread"), shown, all);
      adw_preferences_group_set_description (self->examples_group, description);
    }
  else
    adw_preferences_group_set_description (self->examples_group, NULL);
}

static void
load_details (BsDataPage *self)
{
  DetailsData *d;

  if (self->selected_id == 0)
    return;
  g_cancellable_cancel (self->details_cancellable);
  g_clear_object (&self->details_cancellable);
  self->details_cancellable = g_cancellable_new ();

  d = g_new0 (DetailsData, 1);
  d->id = self->selected_id;
  d->serial = ++self->details_serial;
  bs_store_task_run (G_OBJECT (self), get_database_path (), details_work, details_done, d, details_data_free,
                     self->details_cancellable);
}

/* ---- token lengths ---- */

typedef struct
{
  gint64 id;
  guint serial;
  char *model_dir;
  int max_length;
  BsTokenStats *stats;
} StatsData;

static void
stats_data_free (gpointer data)
{
  StatsData *d = data;

  g_free (d->model_dir);
  g_clear_pointer (&d->stats, bs_token_stats_free);
  g_free (d);
}

/* On the worker: the first time the texts are tokenized (on the parallel
 * pool); the counts are cached in the database for the next. */
static gboolean
stats_work (BsStoreTask *task,
            BsStore *store,
            gpointer data,
            GCancellable *cancellable,
            GError **error)
{
  StatsData *d = data;
  g_autoptr (BsTokenizer) tokenizer = bs_tokenizer_new_from_model_dir (d->model_dir, error);

  if (tokenizer == NULL)
    return FALSE;
  d->stats = bs_dataset_token_stats (store, d->id, NULL, tokenizer, d->max_length, STATS_BINS, cancellable, error);
  return d->stats != NULL;
}

static void
show_tokens_status (BsDataPage *self,
                    const char *status,
                    gboolean working,
                    gboolean offer_train_page)
{
  gtk_label_set_label (self->tokens_status_label, status);
  gtk_spinner_set_spinning (self->tokens_spinner, working);
  gtk_widget_set_visible (GTK_WIDGET (self->tokens_spinner), working);
  gtk_widget_set_visible (GTK_WIDGET (self->train_page_button), offer_train_page);
  gtk_stack_set_visible_child_name (self->tokens_stack, "status");
}

/* The sentences under the histogram, for this max_length. */
static void
update_token_captions (BsDataPage *self)
{
  const BsTokenStats *stats = bs_token_histogram_get_stats (self->histogram);
  int max_length = gtk_spin_button_get_value_as_int (self->max_length_spin);
  g_autofree char *keep = NULL;
  g_autofree char *percent = NULL;
  g_autofree char *lengths = NULL;
  g_autofree char *model = NULL;
  g_autofree char *description = NULL;

  bs_token_histogram_set_max_length (self->histogram, max_length);
  if (stats == NULL)
    return;
  percent = format_percent (bs_token_stats_fraction_within (stats, max_length));
  /* Translators: a max length in tokens and the share of texts no longer than that, e.g. 128 tokens keep 11% of
     the texts whole */
  keep = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d token keeps %s of the texts whole",
                                       "%d tokens keep %s of the texts whole", (gulong) max_length),
                          max_length, percent);
  gtk_label_set_label (self->keep_label, keep);

  model = self->stats_model != NULL ? g_path_get_basename (self->stats_model) : g_strdup ("");
  /* Translators: token counts of a dataset's texts: the median, the 90th percentile and the longest; then the
     model whose vocabulary counted them */
  lengths = g_strdup_printf (_("Half the texts have up to %d tokens, 90%% up to %d, the longest %d; counted with "
                               "the vocabulary of %s"),
                             bs_token_stats_percentile (stats, 50), bs_token_stats_percentile (stats, 90),
                             stats->max, model);
  gtk_label_set_label (self->lengths_label, lengths);

  description = g_strdup_printf ("%s. %s", keep, lengths);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->histogram), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);
}

static void
stats_done (GObject *owner,
            gpointer data,
            const GError *error)
{
  BsDataPage *self = BS_DATA_PAGE (owner);
  StatsData *d = data;

  if (self->disposed || d->serial != self->stats_serial)
    return;
  g_clear_object (&self->stats_cancellable);
  if (error != NULL)
    {
      g_autofree char *message = NULL;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Translators: %s says why, e.g. that a file is missing */
      message = g_strdup_printf (_("Could not count the tokens with the model chosen on the Train page: %s"),
                                 error->message);
      show_tokens_status (self, message, FALSE, TRUE);
      return;
    }
  g_free (self->stats_model);
  self->stats_model = g_strdup (d->model_dir);
  bs_token_histogram_set_stats (self->histogram, g_steal_pointer (&d->stats));
  update_token_captions (self);
  gtk_stack_set_visible_child_name (self->tokens_stack, "chart");
}

static void
load_stats (BsDataPage *self)
{
  g_autofree char *model = g_settings_get_string (self->settings, "last-model");
  StatsData *d;

  g_cancellable_cancel (self->stats_cancellable);
  g_clear_object (&self->stats_cancellable);
  self->stats_serial++;
  if (self->selected_id == 0)
    return;
  if (model[0] == '\0')
    {
      bs_token_histogram_set_stats (self->histogram, NULL);
      show_tokens_status (self, _("Choose a model on the Train page to see how long the texts are in its tokens"),
                          FALSE, TRUE);
      return;
    }
  show_tokens_status (self, _("Counting the tokens of each text…"), TRUE, FALSE);
  self->stats_cancellable = g_cancellable_new ();
  d = g_new0 (StatsData, 1);
  d->id = self->selected_id;
  d->serial = self->stats_serial;
  d->model_dir = g_steal_pointer (&model);
  d->max_length = gtk_spin_button_get_value_as_int (self->max_length_spin);
  bs_store_task_run (G_OBJECT (self), get_database_path (), stats_work, stats_done, d, stats_data_free,
                     self->stats_cancellable);
}

static void
on_last_model_changed (GSettings *settings,
                       const char *key,
                       BsDataPage *self)
{
  load_stats (self);
}

BsTokenHistogram *
bs_data_page_get_histogram (BsDataPage *self)
{
  g_return_val_if_fail (BS_IS_DATA_PAGE (self), NULL);
  return self->histogram;
}

const char *
bs_data_page_get_tokens_state (BsDataPage *self,
                               const char **status)
{
  g_return_val_if_fail (BS_IS_DATA_PAGE (self), NULL);

  if (status != NULL)
    *status = gtk_label_get_label (self->tokens_status_label);
  return gtk_stack_get_visible_child_name (self->tokens_stack);
}

GListModel *
bs_data_page_get_examples (BsDataPage *self)
{
  g_return_val_if_fail (BS_IS_DATA_PAGE (self), NULL);
  return G_LIST_MODEL (self->examples);
}

GtkListBox *
bs_data_page_get_balance_list (BsDataPage *self)
{
  g_return_val_if_fail (BS_IS_DATA_PAGE (self), NULL);
  return self->balance_list;
}

/* ---- importing ---- */

typedef struct
{
  BsImportRequest *request;
  BsImportResult result;
  BsStoreTask *task;      /* while the import runs, for its reports */
  gint64 last_report;     /* monotonic µs */
  char *dataset_name;
} ImportData;

typedef struct
{
  gint64 n_rows;
  double fraction;
} ImportProgress;

static void
import_data_free (gpointer data)
{
  ImportData *d = data;

  bs_import_request_free (d->request);
  bs_import_result_clear (&d->result);
  g_free (d->dataset_name);
  g_free (d);
}

static void
deliver_import_progress (GObject *owner,
                         gpointer report)
{
  BsDataPage *self = BS_DATA_PAGE (owner);
  ImportProgress *p = report;
  g_autofree char *count = format_count (p->n_rows);
  g_autofree char *text = NULL;

  if (self->disposed || !self->importing)
    return;
  if (p->fraction >= 0)
    gtk_progress_bar_set_fraction (self->import_progress, p->fraction);
  else
    gtk_progress_bar_pulse (self->import_progress);
  /* Translators: how many examples have been read so far */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s example read", "%s examples read", (gulong) p->n_rows),
                          count);
  gtk_progress_bar_set_text (self->import_progress, text);
  gtk_progress_bar_set_show_text (self->import_progress, TRUE);
}

/* On the worker, from the importer. */
static void
on_import_progress (gint64 n_rows,
                    double fraction,
                    gpointer user_data)
{
  ImportData *d = user_data;
  gint64 now = g_get_monotonic_time ();
  ImportProgress *p;

  if (now - d->last_report < PROGRESS_INTERVAL_US && fraction < 1.0)
    return;
  d->last_report = now;
  p = g_new (ImportProgress, 1);
  p->n_rows = n_rows;
  p->fraction = fraction;
  bs_store_task_report (d->task, deliver_import_progress, p, g_free);
}

static gboolean
import_work (BsStoreTask *task,
             BsStore *store,
             gpointer data,
             GCancellable *cancellable,
             GError **error)
{
  ImportData *d = data;
  const BsImportRequest *r = d->request;
  BsImportOptions options = {
    .format = r->format,
    .name = r->name,
    .label_column = r->label_column,
    .text_columns = (const char *const *) r->text_columns,
    .split = r->split,
    .no_header = r->no_header,
    .skip_bad_rows = r->skip_bad_rows,
    .validation_ratio = r->validation_ratio,
    .seed = r->seed,
    .label_names = (const char *const *) r->label_names,
    .progress = on_import_progress,
    .progress_data = d,
  };
  gboolean ok;

  d->task = task;
  if (r->append_to > 0)
    ok = bs_import_append (store, r->append_to, r->path, &options, &d->result, cancellable, error);
  else
    ok = bs_import (store, r->path, &options, &d->result, cancellable, error);
  d->task = NULL;
  if (ok)
    {
      g_autoptr (BsDataset) dataset = bs_store_get_dataset (store, d->result.dataset_id, NULL);
      d->dataset_name = dataset != NULL ? g_strdup (dataset->name) : NULL;
    }
  return ok;
}

/* The message with the file's full path cut to its name: a toast is short. */
static char *
shorten_paths (const char *message,
               const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  g_auto (GStrv) parts = NULL;

  if (path == NULL || path[0] == '\0' || strstr (message, path) == NULL)
    return g_strdup (message);
  parts = g_strsplit (message, path, -1);
  return g_strjoinv (base, parts);
}

static void
import_done (GObject *owner,
             gpointer data,
             const GError *error)
{
  BsDataPage *self = BS_DATA_PAGE (owner);
  ImportData *d = data;
  gboolean append = d->request->append_to > 0;

  self->importing = FALSE;
  g_clear_object (&self->import_cancellable);
  if (self->disposed)
    return;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "data.import", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "data.import-folder", TRUE);

  if (error != NULL)
    {
      g_autofree char *short_message = shorten_paths (error->message, d->request->path);
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          hide_message (self);
          toast (self, _("Import cancelled: nothing was added"));
          return;
        }
      /* the whole message stays on the page; the toast says it briefly */
      /* Translators: %s says what was wrong, with the file and line */
      text = g_strdup_printf (_("Nothing was imported. %s"), error->message);
      show_message (self, text, TRUE);
      g_clear_pointer (&text, g_free);
      /* Translators: %s says what was wrong, with the file and line */
      text = g_strdup_printf (_("Import failed: %s"), short_message);
      toast (self, text);
      return;
    }

  {
    g_autofree char *count = format_count (d->result.n_rows);
    g_autofree char *text = NULL;

    if (append)
      /* Translators: a number of examples and a dataset's name */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Added %s test example to “%s”",
                                           "Added %s test examples to “%s”", (gulong) d->result.n_rows),
                              count, d->dataset_name != NULL ? d->dataset_name : "");
    else
      /* Translators: a dataset's name and its number of examples */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Imported “%s”: %s example",
                                           "Imported “%s”: %s examples", (gulong) d->result.n_rows),
                              d->dataset_name != NULL ? d->dataset_name : "", count);
    toast (self, text);
  }

  if (d->result.n_skipped > 0)
    {
      g_autoptr (GString) text = g_string_new (NULL);
      g_autofree char *count = format_count (d->result.n_skipped);

      /* Translators: the number of rows that could not be read and were left out */
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%s row was skipped:", "%s rows were skipped:",
                                                 (gulong) d->result.n_skipped),
                              count);
      for (guint i = 0; d->result.skipped != NULL && i < MIN (d->result.skipped->len, 5); i++)
        g_string_append_printf (text, "\n%s", (const char *) g_ptr_array_index (d->result.skipped, i));
      if (d->result.n_skipped > 5)
        g_string_append (text, "\n…");
      show_message (self, text->str, FALSE);
    }
  else
    hide_message (self);

  refresh_datasets (self, d->result.dataset_id, FALSE);
}

gboolean
bs_data_page_import (BsDataPage *self,
                     const BsImportRequest *request)
{
  ImportData *d;
  g_autofree char *base = NULL;
  g_autofree char *label = NULL;

  g_return_val_if_fail (BS_IS_DATA_PAGE (self), FALSE);
  g_return_val_if_fail (request != NULL && request->path != NULL, FALSE);

  if (self->importing)
    {
      toast (self, _("An import is running: wait for it to finish, or cancel it"));
      return FALSE;
    }
  if (get_database_path () == NULL)
    {
      toast (self, _("The database is not open"));
      return FALSE;
    }

  self->importing = TRUE;
  self->import_cancellable = g_cancellable_new ();
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "data.import", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "data.import-folder", FALSE);

  base = g_path_get_basename (request->path);
  /* Translators: %s is a file's name */
  label = g_strdup_printf (_("Importing %s…"), base);
  gtk_label_set_label (self->import_label, label);
  gtk_progress_bar_set_fraction (self->import_progress, 0);
  gtk_progress_bar_set_show_text (self->import_progress, FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->import_cancel_button), TRUE);
  gtk_stack_set_visible_child_name (self->import_stack, "progress");
  gtk_revealer_set_reveal_child (self->import_revealer, TRUE);

  d = g_new0 (ImportData, 1);
  d->request = bs_import_request_copy (request);
  bs_store_task_run (G_OBJECT (self), get_database_path (), import_work, import_done, d, import_data_free,
                     self->import_cancellable);
  return TRUE;
}

gboolean
bs_data_page_get_importing (BsDataPage *self)
{
  g_return_val_if_fail (BS_IS_DATA_PAGE (self), FALSE);
  return self->importing;
}

static void
on_import_cancel (GtkButton *button,
                  BsDataPage *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (button), FALSE);
  gtk_label_set_label (self->import_label, _("Cancelling…"));
  g_cancellable_cancel (self->import_cancellable);
}

static void
on_message_close (GtkButton *button,
                  BsDataPage *self)
{
  hide_message (self);
}

static void
on_dialog_import (BsImportDialog *dialog,
                  const BsImportRequest *request,
                  BsDataPage *self)
{
  bs_data_page_import (self, request);
}

static void
on_peeked (GObject *source,
           GAsyncResult *result,
           gpointer user_data)
{
  g_autoptr (BsDataPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BsImportPeek) peek = bs_import_peek_finish (result, &error);
  GtkRoot *root;
  BsImportDialog *dialog;

  if (self->disposed || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->peek_cancellable);
  if (peek == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Nothing was imported. %s"), error->message);
      show_message (self, text, TRUE);
      return;
    }
  hide_message (self);
  root = gtk_widget_get_root (GTK_WIDGET (self));
  dialog = bs_import_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, peek, self->datasets);
  g_signal_connect_object (dialog, "import", G_CALLBACK (on_dialog_import), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The step between choosing a file and importing it. */
static void
open_import_dialog (BsDataPage *self,
                    const char *path)
{
  if (self->importing)
    {
      toast (self, _("An import is running: wait for it to finish, or cancel it"));
      return;
    }
  g_cancellable_cancel (self->peek_cancellable);
  g_clear_object (&self->peek_cancellable);
  self->peek_cancellable = g_cancellable_new ();
  bs_import_peek_async (path, self->peek_cancellable, on_peeked, g_object_ref (self));
}

static void
on_import_chosen (GtkNativeDialog *chooser,
                  int response,
                  BsDataPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path == NULL)
        toast (self, _("Only files on this computer can be imported"));
      else
        open_import_dialog (self, path);
    }
  g_object_unref (chooser);
}

static void
choose_import (BsDataPage *self,
               gboolean folder)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (folder ? _("Import a Folder of Text Files") : _("Import a Dataset"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         folder ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER : GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (!folder)
    {
      g_autoptr (GtkFileFilter) data = gtk_file_filter_new ();
      g_autoptr (GtkFileFilter) all = gtk_file_filter_new ();
      static const char *const patterns[] = {
        "*.csv", "*.tsv", "*.tab", "*.jsonl", "*.ndjson", "*.json", "*.txt",
        "*.csv.gz", "*.tsv.gz", "*.tab.gz", "*.jsonl.gz", "*.ndjson.gz", "*.json.gz", "*.txt.gz",
      };

      gtk_file_filter_set_name (data, _("Datasets (CSV, TSV, JSON Lines)"));
      for (guint i = 0; i < G_N_ELEMENTS (patterns); i++)
        gtk_file_filter_add_suffix (data, patterns[i] + 2);
      gtk_file_filter_set_name (all, _("All Files"));
      gtk_file_filter_add_pattern (all, "*");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), data);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), all);
    }
  g_signal_connect_object (chooser, "response", G_CALLBACK (on_import_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
import_action (GtkWidget *widget,
               const char *action_name,
               GVariant *parameter)
{
  choose_import (BS_DATA_PAGE (widget), FALSE);
}

static void
import_folder_action (GtkWidget *widget,
                      const char *action_name,
                      GVariant *parameter)
{
  choose_import (BS_DATA_PAGE (widget), TRUE);
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue *value,
         double x,
         double y,
         BsDataPage *self)
{
  GFile *file = NULL;
  g_autofree char *path = NULL;

  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *files = gdk_file_list_get_files (g_value_get_boxed (value));
      file = files != NULL ? files->data : NULL;
      if (files != NULL && files->next != NULL)
        toast (self, _("One file at a time: importing the first"));
      g_slist_free (files);
    }
  else if (G_VALUE_HOLDS (value, G_TYPE_FILE))
    file = g_value_get_object (value);
  if (file == NULL)
    return FALSE;
  path = g_file_get_path (file);
  if (path == NULL)
    {
      toast (self, _("Only files on this computer can be imported"));
      return FALSE;
    }
  open_import_dialog (self, path);
  return TRUE;
}

/* ---- the validation split ---- */

typedef struct
{
  gint64 id;
  double ratio;
  guint64 seed;
  gint64 n_validation;
} SplitData;

static gboolean
split_work (BsStoreTask *task,
            BsStore *store,
            gpointer data,
            GCancellable *cancellable,
            GError **error)
{
  SplitData *d = data;
  g_autoptr (BsDataset) dataset = NULL;

  if (!bs_store_split_validation (store, d->id, d->ratio, d->seed, error))
    return FALSE;
  dataset = bs_store_get_dataset (store, d->id, error);
  if (dataset == NULL)
    return FALSE;
  d->n_validation = dataset->n_validation;
  return TRUE;
}

static void
split_done (GObject *owner,
            gpointer data,
            const GError *error)
{
  BsDataPage *self = BS_DATA_PAGE (owner);
  SplitData *d = data;
  g_autofree char *count = format_count (d->n_validation);
  g_autofree char *text = NULL;

  self->busy--;
  if (self->disposed)
    return;
  update_actions (self);
  if (error != NULL)
    {
      toast (self, error->message);
      return;
    }
  /* Translators: the number of examples now in the validation split */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s example set aside for validation",
                                       "%s examples set aside for validation", (gulong) d->n_validation),
                          count);
  toast (self, text);
  refresh_datasets (self, d->id, TRUE);
}

static void
on_split_apply (GtkButton *button,
                BsDataPage *self)
{
  SplitData *d;

  if (self->selected_id == 0 || self->busy > 0)
    return;
  d = g_new0 (SplitData, 1);
  d->id = self->selected_id;
  d->ratio = gtk_spin_button_get_value (self->split_share_spin) / 100.0;
  d->seed = (guint64) gtk_spin_button_get_value (self->split_seed_spin);
  self->busy++;
  update_actions (self);
  bs_store_task_run (G_OBJECT (self), get_database_path (), split_work, split_done, d, g_free, NULL);
}

/* ---- export ---- */

typedef struct
{
  gint64 id;
  char *path;
  BsExportFormat format;
} ExportData;

static void
export_data_free (gpointer data)
{
  ExportData *d = data;

  g_free (d->path);
  g_free (d);
}

static gboolean
export_work (BsStoreTask *task,
             BsStore *store,
             gpointer data,
             GCancellable *cancellable,
             GError **error)
{
  ExportData *d = data;

  return bs_store_export_dataset (store, d->id, NULL, d->path, d->format, error);
}

static void
export_done (GObject *owner,
             gpointer data,
             const GError *error)
{
  BsDataPage *self = BS_DATA_PAGE (owner);
  ExportData *d = data;
  g_autofree char *base = g_path_get_basename (d->path);
  g_autofree char *text = NULL;

  self->busy--;
  if (self->disposed)
    return;
  update_actions (self);
  if (error != NULL)
    {
      toast (self, error->message);
      return;
    }
  /* Translators: %s is a file's name */
  text = g_strdup_printf (_("Exported to %s"), base);
  toast (self, text);
}

void
bs_data_page_export (BsDataPage *self,
                     const char *path,
                     BsExportFormat format)
{
  ExportData *d;

  g_return_if_fail (BS_IS_DATA_PAGE (self));
  g_return_if_fail (path != NULL);

  if (self->selected_id == 0)
    return;
  d = g_new0 (ExportData, 1);
  d->id = self->selected_id;
  d->path = g_strdup (path);
  d->format = format;
  self->busy++;
  update_actions (self);
  bs_store_task_run (G_OBJECT (self), get_database_path (), export_work, export_done, d, export_data_free, NULL);
}

static gboolean
is_jsonl_name (const char *path)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  return g_str_has_suffix (lower, ".jsonl") || g_str_has_suffix (lower, ".ndjson")
         || g_str_has_suffix (lower, ".json");
}

static void
on_export_chosen (GtkNativeDialog *chooser,
                  int response,
                  BsDataPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      GtkFileFilter *filter = gtk_file_chooser_get_filter (GTK_FILE_CHOOSER (chooser));
      gboolean jsonl;

      if (path == NULL)
        {
          toast (self, _("Only files on this computer can be written"));
          g_object_unref (chooser);
          return;
        }
      /* the name says the format; without an extension, the filter chosen */
      jsonl = is_jsonl_name (path)
              || (!g_str_has_suffix (path, ".csv") && filter != NULL
                  && g_strcmp0 (g_object_get_data (G_OBJECT (filter), "format"), "jsonl") == 0);
      bs_data_page_export (self, path, jsonl ? BS_EXPORT_JSONL : BS_EXPORT_CSV);
    }
  g_object_unref (chooser);
}

static void
export_action (GtkWidget *widget,
               const char *action_name,
               GVariant *parameter)
{
  BsDataPage *self = BS_DATA_PAGE (widget);
  const BsDataset *d = find_dataset (self, self->selected_id);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *chooser;
  g_autoptr (GtkFileFilter) csv = gtk_file_filter_new ();
  g_autoptr (GtkFileFilter) jsonl = gtk_file_filter_new ();
  g_autofree char *name = NULL;

  if (d == NULL)
    return;
  chooser = gtk_file_chooser_native_new (_("Export the Dataset"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_filter_set_name (csv, _("CSV (text, label, split)"));
  gtk_file_filter_add_suffix (csv, "csv");
  g_object_set_data (G_OBJECT (csv), "format", (gpointer) "csv");
  gtk_file_filter_set_name (jsonl, _("JSON Lines"));
  gtk_file_filter_add_suffix (jsonl, "jsonl");
  g_object_set_data (G_OBJECT (jsonl), "format", (gpointer) "jsonl");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), csv);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), jsonl);

  name = g_strdup_printf ("%s.csv", d->name);
  /* a dataset name may hold anything: keep the file name plain */
  g_strdelimit (name, "/\\:", '_');
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_signal_connect_object (chooser, "response", G_CALLBACK (on_export_chosen), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ---- delete ---- */

typedef struct
{
  gint64 id;
  char *name;
} DeleteData;

static void
delete_data_free (gpointer data)
{
  DeleteData *d = data;

  g_free (d->name);
  g_free (d);
}

static gboolean
delete_work (BsStoreTask *task,
             BsStore *store,
             gpointer data,
             GCancellable *cancellable,
             GError **error)
{
  DeleteData *d = data;

  return bs_store_delete_dataset (store, d->id, error);
}

static void
delete_done (GObject *owner,
             gpointer data,
             const GError *error)
{
  BsDataPage *self = BS_DATA_PAGE (owner);
  DeleteData *d = data;
  g_autofree char *text = NULL;

  self->busy--;
  if (self->disposed)
    return;
  update_actions (self);
  if (error != NULL)
    {
      toast (self, error->message);
      return;
    }
  /* Translators: %s is a dataset's name */
  text = g_strdup_printf (_("Deleted “%s”"), d->name);
  toast (self, text);
  if (self->selected_id == d->id)
    show_dataset (self, 0, FALSE);
  refresh_datasets (self, 0, FALSE);
}

void
bs_data_page_delete (BsDataPage *self,
                     gint64 dataset_id)
{
  const BsDataset *dataset;
  DeleteData *d;

  g_return_if_fail (BS_IS_DATA_PAGE (self));

  dataset = find_dataset (self, dataset_id);
  if (dataset == NULL)
    return;
  d = g_new0 (DeleteData, 1);
  d->id = dataset_id;
  d->name = g_strdup (dataset->name);
  self->busy++;
  update_actions (self);
  bs_store_task_run (G_OBJECT (self), get_database_path (), delete_work, delete_done, d, delete_data_free, NULL);
}

static void
on_delete_response (AdwMessageDialog *dialog,
                    const char *response,
                    BsDataPage *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (dialog), "dataset-id"));

  if (g_strcmp0 (response, "delete") == 0)
    bs_data_page_delete (self, id);
}

static void
delete_action (GtkWidget *widget,
               const char *action_name,
               GVariant *parameter)
{
  BsDataPage *self = BS_DATA_PAGE (widget);
  const BsDataset *d = find_dataset (self, self->selected_id);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  g_autofree char *count = NULL;
  GtkWidget *dialog;

  if (d == NULL)
    return;
  count = format_count (d->n_train + d->n_validation + d->n_test + d->n_unlabeled);
  /* Translators: %s is a dataset's name */
  heading = g_strdup_printf (_("Delete “%s”?"), d->name);
  /* Translators: %s is a number of examples */
  body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "Its %s example is removed from the database. The file it came from, and "
                                       "the models and runs trained on it, are kept.",
                                       "Its %s examples are removed from the database. The file they came from, "
                                       "and the models and runs trained on them, are kept.",
                                       (gulong) (d->n_train + d->n_validation + d->n_test + d->n_unlabeled)),
                          count);
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading, body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "dataset-id", GSIZE_TO_POINTER ((gsize) d->id));
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_delete_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- the preview's columns ---- */

enum
{
  COLUMN_TEXT,
  COLUMN_LABEL,
  COLUMN_SPLIT,
};

static void
setup_cell (GtkSignalListItemFactory *factory,
            GtkListItem *item,
            gpointer column)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_single_line_mode (GTK_LABEL (label), TRUE);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  if (GPOINTER_TO_INT (column) == COLUMN_TEXT)
    gtk_label_set_width_chars (GTK_LABEL (label), 20);
  gtk_list_item_set_child (item, label);
}

static void
bind_cell (GtkSignalListItemFactory *factory,
           GtkListItem *item,
           gpointer column)
{
  BsExampleItem *example = gtk_list_item_get_item (item);
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (item));

  switch (GPOINTER_TO_INT (column))
    {
    case COLUMN_TEXT:
      gtk_label_set_label (label, example->text);
      break;
    case COLUMN_LABEL:
      gtk_label_set_label (label, example->label);
      break;
    case COLUMN_SPLIT:
    default:
      gtk_label_set_label (label, split_title (example->split));
      break;
    }
}

static void
add_column (BsDataPage *self,
            const char *title,
            int column,
            gboolean expand)
{
  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  g_autoptr (GtkColumnViewColumn) view_column = NULL;

  g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), GINT_TO_POINTER (column));
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), GINT_TO_POINTER (column));
  view_column = gtk_column_view_column_new (title, g_steal_pointer (&factory));
  gtk_column_view_column_set_expand (view_column, expand);
  gtk_column_view_column_set_resizable (view_column, TRUE);
  gtk_column_view_append_column (self->examples_view, view_column);
}

/* ---- Ctrl+I, from anywhere in the window ---- */

static void
on_window_import (GSimpleAction *action,
                  GVariant *parameter,
                  BsDataPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.page", "s", "data");
  if (!self->importing)
    choose_import (self, FALSE);
  else
    toast (self, _("An import is running: wait for it to finish, or cancel it"));
}

static void
bs_data_page_root (GtkWidget *widget)
{
  BsDataPage *self = BS_DATA_PAGE (widget);
  GtkRoot *root;

  GTK_WIDGET_CLASS (bs_data_page_parent_class)->root (widget);

  root = gtk_widget_get_root (widget);
  if (GTK_IS_APPLICATION_WINDOW (root) && self->action_window == NULL)
    {
      g_autoptr (GSimpleAction) action = g_simple_action_new ("import-dataset", NULL);
      GApplication *app = g_application_get_default ();

      g_signal_connect_object (action, "activate", G_CALLBACK (on_window_import), self, 0);
      g_action_map_add_action (G_ACTION_MAP (root), G_ACTION (action));
      self->action_window = GTK_WINDOW (root);
      if (GTK_IS_APPLICATION (app))
        {
          g_auto (GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app),
                                                                         "win.import-dataset");
          static const char *const import_accels[] = { "<Control>i", NULL };
          if (accels == NULL || accels[0] == NULL)
            gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.import-dataset", import_accels);
        }
    }
}

static void
bs_data_page_unroot (GtkWidget *widget)
{
  BsDataPage *self = BS_DATA_PAGE (widget);

  if (self->action_window != NULL)
    {
      g_action_map_remove_action (G_ACTION_MAP (self->action_window), "import-dataset");
      self->action_window = NULL;
    }
  GTK_WIDGET_CLASS (bs_data_page_parent_class)->unroot (widget);
}

/* ---- the class ---- */

static void
on_max_length_changed (BsDataPage *self)
{
  update_token_captions (self);
}

static void
bs_data_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (bs_data_page_parent_class)->map (widget);
  refresh_datasets (BS_DATA_PAGE (widget), 0, FALSE);
}

static void
bs_data_page_dispose (GObject *object)
{
  BsDataPage *self = BS_DATA_PAGE (object);

  /* tasks still running report to nobody: their done callbacks see this */
  self->disposed = TRUE;
  g_cancellable_cancel (self->details_cancellable);
  g_cancellable_cancel (self->stats_cancellable);
  g_cancellable_cancel (self->import_cancellable);
  g_cancellable_cancel (self->peek_cancellable);
  g_clear_object (&self->details_cancellable);
  g_clear_object (&self->stats_cancellable);
  g_clear_object (&self->import_cancellable);
  g_clear_object (&self->peek_cancellable);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);

  gtk_widget_dispose_template (GTK_WIDGET (object), BS_TYPE_DATA_PAGE);
  /* the template's top box has no id, so dispose_template leaves it */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL;)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (bs_data_page_parent_class)->dispose (object);
}

static void
bs_data_page_finalize (GObject *object)
{
  BsDataPage *self = BS_DATA_PAGE (object);

  g_clear_object (&self->examples);
  g_clear_pointer (&self->datasets, g_ptr_array_unref);
  g_clear_pointer (&self->stats_model, g_free);

  G_OBJECT_CLASS (bs_data_page_parent_class)->finalize (object);
}

static void
bs_data_page_class_init (BsDataPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bs_data_page_dispose;
  object_class->finalize = bs_data_page_finalize;
  widget_class->map = bs_data_page_map;
  widget_class->root = bs_data_page_root;
  widget_class->unroot = bs_data_page_unroot;

  g_type_ensure (BS_TYPE_TOKEN_HISTOGRAM);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/bertstudio/BertStudio/ui/bs-data-page.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, BsDataPage, name)
  CHILD (import_revealer);
  CHILD (import_stack);
  CHILD (import_label);
  CHILD (import_progress);
  CHILD (import_cancel_button);
  CHILD (message_icon);
  CHILD (message_label);
  CHILD (message_close_button);
  CHILD (stack);
  CHILD (leaflet);
  CHILD (sidebar);
  CHILD (content);
  CHILD (dataset_list);
  CHILD (back_button);
  CHILD (title_label);
  CHILD (source_label);
  CHILD (details_scroller);
  CHILD (splits_box);
  CHILD (balance_group);
  CHILD (balance_list);
  CHILD (tokens_stack);
  CHILD (keep_label);
  CHILD (histogram);
  CHILD (lengths_label);
  CHILD (tokens_spinner);
  CHILD (tokens_status_label);
  CHILD (train_page_button);
  CHILD (max_length_spin);
  CHILD (import_button);
  CHILD (split_group);
  CHILD (split_apply_button);
  CHILD (split_share_spin);
  CHILD (split_seed_spin);
  CHILD (examples_group);
  CHILD (examples_view);
#undef CHILD
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);

  gtk_widget_class_install_action (widget_class, "data.import", NULL, import_action);
  gtk_widget_class_install_action (widget_class, "data.import-folder", NULL, import_folder_action);
  gtk_widget_class_install_action (widget_class, "data.export", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "data.delete", NULL, delete_action);
}

static void
bs_data_page_init (BsDataPage *self)
{
  GtkDropTarget *drop;
  GType drop_types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE };

  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (APPLICATION_ID);
  self->examples = g_list_store_new (BS_TYPE_EXAMPLE_ITEM);
  self->datasets = g_ptr_array_new_with_free_func ((GDestroyNotify) bs_dataset_free);

  {
    g_autoptr (GtkNoSelection) selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->examples)));
    gtk_column_view_set_model (self->examples_view, GTK_SELECTION_MODEL (selection));
  }
  add_column (self, _("Text"), COLUMN_TEXT, TRUE);
  add_column (self, _("Label"), COLUMN_LABEL, FALSE);
  add_column (self, _("Split"), COLUMN_SPLIT, FALSE);

  /* the split button's halves are buttons of their own: the arrow has no
   * name in libadwaita 1.2, and the main one would read the underscore */
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->import_button)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_MENU_BUTTON (child))
        gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                        _("More Ways to Import"), -1);
      else if (GTK_IS_BUTTON (child))
        gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Import…"), -1);
    }

  g_signal_connect (self->dataset_list, "row-selected", G_CALLBACK (on_row_selected), self);
  g_signal_connect (self->dataset_list, "row-activated", G_CALLBACK (on_row_activated), self);
  g_signal_connect (self->back_button, "clicked", G_CALLBACK (on_back_clicked), self);
  g_signal_connect (self->import_cancel_button, "clicked", G_CALLBACK (on_import_cancel), self);
  g_signal_connect (self->message_close_button, "clicked", G_CALLBACK (on_message_close), self);
  g_signal_connect (self->split_apply_button, "clicked", G_CALLBACK (on_split_apply), self);

  g_settings_bind (self->settings, "max-length", self->max_length_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_swapped (self->max_length_spin, "notify::value", G_CALLBACK (on_max_length_changed), self);
  g_signal_connect (self->settings, "changed::last-model", G_CALLBACK (on_last_model_changed), self);
  bs_token_histogram_set_max_length (self->histogram, gtk_spin_button_get_value_as_int (self->max_length_spin));

  drop = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (drop, drop_types, G_N_ELEMENTS (drop_types));
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  update_actions (self);
  refresh_datasets (self, 0, FALSE);
}
