/* bs-data-page.c: the Data page: importing datasets, previewing their
 * examples and their class balance, and the list of datasets in the store.
 *
 * For now an empty state from the template; the page is filled in later. */
#include "config.h"

#include "bs-data-page.h"

struct _BsDataPage
{
  GtkWidget parent_instance;

  AdwStatusPage *status_page;
};

G_DEFINE_FINAL_TYPE (BsDataPage, bs_data_page, GTK_TYPE_WIDGET)

GtkWidget *
bs_data_page_new (void)
{
  return g_object_new (BS_TYPE_DATA_PAGE, NULL);
}

static void
bs_data_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), BS_TYPE_DATA_PAGE);

  G_OBJECT_CLASS (bs_data_page_parent_class)->dispose (object);
}

static void
bs_data_page_class_init (BsDataPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bs_data_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/bertstudio/BertStudio/ui/bs-data-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BsDataPage, status_page);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
bs_data_page_init (BsDataPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
