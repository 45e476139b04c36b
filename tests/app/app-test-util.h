/* app-test-util.h — what the GUI tests share: a private data folder, the
 * application started without D-Bus uniqueness, and waiting on the main
 * loop for a condition with a timeout.
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "mel-application.h"
#include "mel-corpus-view.h"
#include "mel-window.h"

/* Under AddressSanitizer: GTK's start-up leaves two allocations LeakSanitizer
 * reports, neither ours: Mesa's EGL probe in gtk_init() (its driver is
 * unloaded again, so the stack needs slow unwinding to be recognised), and
 * GLib's first quark block, which GLib drops on purpose when the table
 * grows (allocated by its constructor).  These hooks are only called by
 * the sanitizer runtime. */
const char *__asan_default_options (void);
const char *__lsan_default_suppressions (void);

const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

const char *
__lsan_default_suppressions (void)
{
  return "leak:libEGL_mesa\nleak:_dl_init\n";
}

/* Runs are written below XDG_DATA_HOME: point it at a fresh folder so the
 * tests never touch the user's data.  Call before anything else. */
static inline char *
app_test_isolate (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("melodist-app-test-XXXXXX", &error);

  g_assert_no_error (error);
  g_setenv ("XDG_DATA_HOME", dir, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  return dir;
}

/* Deletes @path and everything below it. */
static inline void
app_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          app_test_remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

typedef gboolean (*AppTestCondition) (gpointer user_data);

/* Iterates the default main context until @condition holds or @timeout_s
 * seconds pass; returns whether it held. */
static inline gboolean
app_test_wait_for (AppTestCondition condition, gpointer user_data, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  while (!condition (user_data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

/* Spins the main loop for @seconds (lets the window draw). */
static inline void
app_test_spin (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* Starts the application (registered, not unique) and returns its window. */
static inline MelWindow *
app_test_start (MelApplication **app_out)
{
  g_autoptr(GError) error = NULL;
  MelApplication *app = mel_application_new (G_APPLICATION_NON_UNIQUE);
  GtkWindow *window;

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = gtk_application_get_active_window (GTK_APPLICATION (app));
  g_assert_true (MEL_IS_WINDOW (window));
  *app_out = app;
  return MEL_WINDOW (window);
}

static inline gboolean
app_test_widget_mapped (gpointer user_data)
{
  return gtk_widget_get_mapped (user_data);
}

static inline gboolean
app_test_corpus_loaded (gpointer user_data)
{
  MelCorpusStore *store = mel_window_get_corpus_store (user_data);
  return mel_corpus_store_get_corpus (store) != NULL && !mel_corpus_store_get_loading (store);
}

/* Closes the window and lets the application finish its business. */
static inline void
app_test_stop (MelApplication *app, MelWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_spin (0.05);
  g_application_quit (G_APPLICATION (app));
  g_object_unref (app);
}

#include "mel-run.h"
#include "mel-train-view.h"

static inline gboolean
app_test_run_done (gpointer user_data)
{
  MelRun *run = user_data;
  return !mel_run_is_active (run) && mel_run_get_status (run) != MEL_RUN_NEW
         && !mel_run_is_saving (run);
}

/* A model small enough to train in a second or two on the embedded songs. */
static inline void
app_test_tiny_config (MelTrainView *view, guint64 max_steps)
{
  MelRunConfig config;

  mel_train_view_get_config (view, &config);
  config.model.kind = MEL_MODEL_GRU;
  config.model.embed_dim = 8;
  config.model.hidden_size = 16;
  config.model.n_layers = 1;
  config.train.epochs = 1000; /* the step limit ends the run */
  config.train.batch_size = 8;
  config.train.window = 32;
  config.train.max_steps = max_steps;
  config.train.patience = 0; /* no early stop: the step limit decides */
  config.train.n_threads = 1;
  config.train.learning_rate = 0.01f;
  mel_train_view_set_config (view, &config);
}

/* Starts a tiny run from the Train view (as the Start button does) and
 * returns it (owned by the window's run list). */
static inline MelRun *
app_test_start_tiny_run (MelWindow *window, guint64 max_steps)
{
  MelTrainView *view = MEL_TRAIN_VIEW (mel_window_get_view (window, "train"));
  GListStore *runs = mel_window_get_runs (window);
  guint before = g_list_model_get_n_items (G_LIST_MODEL (runs));
  g_autoptr(MelRun) run = NULL;

  g_assert_true (app_test_wait_for (app_test_corpus_loaded, window, 10));
  app_test_tiny_config (view, max_steps);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "train.start", NULL));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (runs)), ==, before + 1);
  run = g_list_model_get_item (G_LIST_MODEL (runs), 0);
  g_assert_true (mel_run_is_active (run));
  return run; /* the list keeps it alive */
}
