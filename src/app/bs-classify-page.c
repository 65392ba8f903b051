/* bs-classify-page.c: the Classify page: a text, the predicted label and
 * each class's probability; whole files classified to CSV.
 *
 * For now an empty state from the template; the page is filled in later. */
#include "config.h"

#include "bs-classify-page.h"

struct _BsClassifyPage
{
  GtkWidget parent_instance;

  AdwStatusPage *status_page;
};

G_DEFINE_FINAL_TYPE (BsClassifyPage, bs_classify_page, GTK_TYPE_WIDGET)

GtkWidget *
bs_classify_page_new (void)
{
  return g_object_new (BS_TYPE_CLASSIFY_PAGE, NULL);
}

static void
bs_classify_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), BS_TYPE_CLASSIFY_PAGE);

  G_OBJECT_CLASS (bs_classify_page_parent_class)->dispose (object);
}

static void
bs_classify_page_class_init (BsClassifyPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bs_classify_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/bertstudio/BertStudio/ui/bs-classify-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BsClassifyPage, status_page);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
bs_classify_page_init (BsClassifyPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
