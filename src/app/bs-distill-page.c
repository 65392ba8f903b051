/* bs-distill-page.c: the Distill page: a teacher, a student and the
 * distillation settings; live charts, then teacher and student compared.
 *
 * The Train page in its distill kind does the work. */
#include "config.h"

#include "bs-distill-page.h"

#include "bs-train-page.h"

struct _BsDistillPage
{
  GtkWidget parent_instance;

  BsTrainPage *train_page;
};

G_DEFINE_FINAL_TYPE (BsDistillPage, bs_distill_page, GTK_TYPE_WIDGET)

GtkWidget *
bs_distill_page_new (void)
{
  return g_object_new (BS_TYPE_DISTILL_PAGE, NULL);
}

static void
bs_distill_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), BS_TYPE_DISTILL_PAGE);

  G_OBJECT_CLASS (bs_distill_page_parent_class)->dispose (object);
}

static void
bs_distill_page_class_init (BsDistillPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = bs_distill_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/bertstudio/BertStudio/ui/bs-distill-page.ui");
  g_type_ensure (BS_TYPE_TRAIN_PAGE);
  gtk_widget_class_bind_template_child (widget_class, BsDistillPage, train_page);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
bs_distill_page_init (BsDistillPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

gboolean
bs_distill_page_get_running (BsDistillPage *self)
{
  g_return_val_if_fail (BS_IS_DISTILL_PAGE (self), FALSE);
  return bs_train_page_get_running (self->train_page);
}

void
bs_distill_page_cancel (BsDistillPage *self)
{
  g_return_if_fail (BS_IS_DISTILL_PAGE (self));
  bs_train_page_cancel (self->train_page);
}
