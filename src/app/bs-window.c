/* bs-window.c: the main window.
 *
 * The pages sit in an AdwViewStack; in a wide window the header bar's
 * AdwViewSwitcherTitle shows them as buttons, and when it is too narrow for
 * them (about 600 px) the switcher bar at the bottom takes over — its
 * "reveal" is bound to the title's "title-visible" in the template, the
 * libadwaita 1.2 way (GtkBreakpoint came later).
 *
 * win.page (a GPropertyAction on the stack's visible-child-name) switches
 * pages: win.page::data … win.page::runs, Alt+1…5.  The size, the maximized
 * state and the page are saved to GSettings when the window closes; the
 * next window opens on that page, and the first one ever on Classify, with
 * the model that ships with the app ready to try (on Data without one). */
#include "config.h"

#include <glib/gi18n.h>

#include "bs-classify-page.h"
#include "bs-data-page.h"
#include "bs-default-model.h"
#include "bs-distill-page.h"
#include "bs-runs-page.h"
#include "bs-train-page.h"
#include "bs-window.h"

struct _BsWindow
{
  AdwApplicationWindow parent_instance;

  GSettings *settings;

  /* template children */
  AdwViewSwitcherTitle *switcher_title;
  AdwViewSwitcherBar *switcher_bar;
  GtkMenuButton *primary_menu_button;
  AdwToastOverlay *toast_overlay;
  AdwViewStack *stack;
  BsTrainPage *train_page;
  BsDistillPage *distill_page;
  gboolean closing; /* the user chose to stop the jobs and close */
};

G_DEFINE_FINAL_TYPE (BsWindow, bs_window, ADW_TYPE_APPLICATION_WINDOW)

BsWindow *
bs_window_new (BsApplication *application)
{
  return g_object_new (BS_TYPE_WINDOW,
                       "application", application,
                       NULL);
}

void
bs_window_add_toast (BsWindow *self,
                     const char *message)
{
  g_autofree char *escaped = NULL;

  g_return_if_fail (BS_IS_WINDOW (self));
  g_return_if_fail (message != NULL);

  /* a toast's title is markup in libadwaita 1.2, and messages hold file
   * names and parser errors ("<data>:1:38: …") */
  escaped = g_markup_escape_text (message, -1);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (escaped));
}

static void
save_window_state (BsWindow *self)
{
  int width, height;

  /* the default size is the unmaximized size, even while maximized */
  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_delay (self->settings);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
  g_settings_set_string (self->settings, "last-page", adw_view_stack_get_visible_child_name (self->stack));
  g_settings_apply (self->settings);
}

static void
restore_window_state (BsWindow *self)
{
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
restore_page (BsWindow *self)
{
  g_autofree char *page = g_settings_get_string (self->settings, "last-page");

  if (page[0] == '\0')
    {
      /* the first start: something to try at once, else the first step */
      g_autofree char *model = bs_default_model_dir ();

      g_free (page);
      page = g_strdup (model != NULL ? "classify" : "data");
    }
  /* a page of another version is none of these */
  if (adw_view_stack_get_child_by_name (self->stack, page) != NULL)
    adw_view_stack_set_visible_child_name (self->stack, page);
}

static void
on_close_response (AdwMessageDialog *dialog, const char *response, BsWindow *self)
{
  if (g_strcmp0 (response, "stop") != 0)
    return;
  /* the jobs stop after their batch and keep a checkpoint; the application
   * stays alive (held by the job runners) until they have */
  bs_train_page_cancel (self->train_page);
  bs_distill_page_cancel (self->distill_page);
  self->closing = TRUE;
  gtk_window_close (GTK_WINDOW (self));
}

static gboolean
bs_window_close_request (GtkWindow *window)
{
  BsWindow *self = BS_WINDOW (window);
  gboolean busy = bs_train_page_get_running (self->train_page) || bs_distill_page_get_running (self->distill_page);
  if (busy && !self->closing)
    {
      GtkWidget *dialog = adw_message_dialog_new (window, _("Stop Training?"),
                                                  _("The run stops after its current batch and keeps a checkpoint: "
                                                    "it can be resumed later from the Runs page."));
      adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Keep Training"), "stop",
                                        _("_Stop and Close"), NULL);
      adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "stop", ADW_RESPONSE_DESTRUCTIVE);
      adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
      adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
      g_signal_connect (dialog, "response", G_CALLBACK (on_close_response), self);
      gtk_window_present (GTK_WINDOW (dialog));
      return TRUE;
    }
  save_window_state (self);

  return GTK_WINDOW_CLASS (bs_window_parent_class)->close_request (window);
}

static void
bs_window_dispose (GObject *object)
{
  BsWindow *self = BS_WINDOW (object);

  /* once an action has run, GTK 4.8 keeps the window's action group after
   * the window; this action holds the stack, and so every page */
  g_action_map_remove_action (G_ACTION_MAP (self), "page");
  gtk_widget_dispose_template (GTK_WIDGET (self), BS_TYPE_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (bs_window_parent_class)->dispose (object);
}

static void
bs_window_class_init (BsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = bs_window_dispose;
  window_class->close_request = bs_window_close_request;

  /* the pages' types, for the template */
  g_type_ensure (BS_TYPE_DATA_PAGE);
  g_type_ensure (BS_TYPE_TRAIN_PAGE);
  g_type_ensure (BS_TYPE_DISTILL_PAGE);
  g_type_ensure (BS_TYPE_CLASSIFY_PAGE);
  g_type_ensure (BS_TYPE_RUNS_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/bertstudio/BertStudio/ui/bs-window.ui");
  gtk_widget_class_bind_template_child (widget_class, BsWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, BsWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, BsWindow, primary_menu_button);
  gtk_widget_class_bind_template_child (widget_class, BsWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, BsWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, BsWindow, train_page);
  gtk_widget_class_bind_template_child (widget_class, BsWindow, distill_page);
}

static void
bs_window_init (BsWindow *self)
{
  g_autoptr(GPropertyAction) page_action = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  page_action = g_property_action_new ("page", self->stack, "visible-child-name");
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (page_action));

  self->settings = g_settings_new (APPLICATION_ID);
  restore_window_state (self);
  restore_page (self);
}
