/* bs-runs-page.c: the Runs page: every past run from the store with its
 * charts, parameters and results; export, delete, resume.
 *
 * For now an empty state from the template; the page is filled in later. */
#include "config.h"

#include "bs-runs-page.h"

struct _BsRunsPage
{
  GtkWidget parent_instance;

  AdwStatusPage *status_page;
};

G_DEFINE_FINAL_TYPE (BsRunsPage, bs_runs_page, GTK_TYPE_WIDGET)

GtkWidget *
bs_runs_page_new (void)
{
  return g_object_new (BS_TYPE_RUNS_PAGE, NULL);
}

static void
bs_runs_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), BS_TYPE_RUNS_PAGE);

  G_OBJECT_CLASS (bs_runs_page_parent_class)->dispose (object);
}

static void
bs_runs_page_class_init (BsRunsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bs_runs_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/bertstudio/BertStudio/ui/bs-runs-page.ui");
  gtk_widget_class_bind_template_child (widget_class, BsRunsPage, status_page);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
bs_runs_page_init (BsRunsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
