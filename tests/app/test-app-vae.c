/* test-app-vae.c — the Generate view's additions for VAE and LSTM +
 * attention runs, on tiny runs trained from the UI: sampling from the
 * prior, the interpolation slider, and the attention map.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>

#include <adwaita.h>

#include "app-test-util.h"
#include "mel-attention-map.h"
#include "mel-generate-view.h"
#include "mel-sample-row.h"
#include "mel-score-view.h"

static char *data_dir;

static gboolean
samples_ready (gpointer user_data)
{
  MelGenerateView *view = user_data;
  return !mel_generate_view_get_busy (view) && mel_generate_view_get_n_samples (view) > 0;
}

static gboolean
interpolation_ready (gpointer user_data)
{
  MelGenerateView *view = user_data;
  return !mel_generate_view_get_busy (view) && mel_generate_view_get_n_interpolation_steps (view) > 0;
}

/* Trains a run of @kind for a few steps from the Train view. */
static MelRun *
train_tiny (MelWindow *window, MelModelKind kind)
{
  MelTrainView *train = MEL_TRAIN_VIEW (mel_window_get_view (window, "train"));
  GListStore *runs = mel_window_get_runs (window);
  g_autoptr(MelRun) run = NULL;
  MelRunConfig config;

  g_assert_true (app_test_wait_for (app_test_corpus_loaded, window, 10));
  app_test_tiny_config (train, 12);
  mel_train_view_get_config (train, &config);
  config.model.kind = kind;
  config.model.latent_size = 8;
  config.model.segment_steps = 32;
  mel_train_view_set_config (train, &config);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (train), "train.start", NULL));
  run = g_list_model_get_item (G_LIST_MODEL (runs), 0);
  g_assert_cmpint (mel_run_get_config (run)->model.kind, ==, kind);
  g_assert_true (app_test_wait_for (app_test_run_done, run, 120));
  g_assert_cmpint (mel_run_get_status (run), ==, MEL_RUN_FINISHED);
  return run; /* the list keeps it alive */
}

static double
song_length (const MelSong *song)
{
  const MelEvent *last;

  if (song->events->len == 0)
    return 0.0;
  last = &g_array_index (song->events, MelEvent, song->events->len - 1);
  return mel_rational_to_double (mel_rational_add (last->onset, last->duration));
}

/* The two longest songs of the corpus (long enough for a segment). */
static void
two_long_songs (MelWindow *window, const char **a, const char **b)
{
  MelCorpus *corpus = mel_corpus_store_get_corpus (mel_window_get_corpus_store (window));
  MelSong *first = NULL, *second = NULL;

  for (guint i = 0; i < corpus->songs->len; i++)
    {
      MelSong *song = corpus->songs->pdata[i];

      if (first == NULL || song_length (song) > song_length (first))
        {
          second = first;
          first = song;
        }
      else if (second == NULL || song_length (song) > song_length (second))
        second = song;
    }
  g_assert_nonnull (second);
  *a = first->id;
  *b = second->id;
}

static gboolean
score_laid_out (gpointer user_data)
{
  GtkWidget *score = mel_sample_row_get_score_view (user_data);
  return mel_score_view_get_layout (MEL_SCORE_VIEW (score)) != NULL;
}

static void
test_vae_prior_and_interpolation (void)
{
  MelApplication *app;
  MelWindow *window = app_test_start (&app);
  MelGenerateView *view = MEL_GENERATE_VIEW (mel_window_get_view (window, "generate"));
  const char *song_a, *song_b;
  MelSampleRow *first_row, *row;
  MelRun *run;

  gtk_window_present (GTK_WINDOW (window));
  run = train_tiny (window, MEL_MODEL_VAE);
  mel_window_show_view (window, "generate");
  mel_generate_view_select_run (view, run);
  g_assert_true (mel_generate_view_get_selected_run (view) == run);

  /* Sample from the prior: segment-long melodies as scores. */
  mel_generate_view_set_sampling (view, 1.0, 0, 4, 3);
  mel_generate_view_set_random_seed (view, 5);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "generate.sample-prior", NULL));
  g_assert_true (app_test_wait_for (samples_ready, view, 60));
  g_assert_cmpuint (mel_generate_view_get_n_samples (view), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      MelSong *song = mel_sample_row_get_song (mel_generate_view_get_sample (view, i));
      g_assert_cmpuint (song->events->len, >, 0);
      /* 32 sixteenths: two bars of 4/4, at most. */
      g_assert_cmpfloat (song_length (song), <=, 8.0 + 1e-9);
    }
  /* The attention map is for attention models only. */
  g_assert_null (mel_generate_view_get_attention_map (view, 0));

  /* Interpolate between two corpus songs; the slider picks the step. */
  two_long_songs (window, &song_a, &song_b);
  mel_generate_view_set_interpolation (view, song_a, song_b, 5);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "generate.interpolate", NULL));
  g_assert_true (app_test_wait_for (interpolation_ready, view, 60));
  g_assert_cmpuint (mel_generate_view_get_n_interpolation_steps (view), ==, 5);
  first_row = mel_generate_view_get_interpolation_row (view);
  g_assert_nonnull (first_row);
  g_assert_nonnull (g_strstr_len (mel_sample_row_get_song (first_row)->title, -1, song_a));
  mel_generate_view_set_interpolation_step (view, 4);
  row = mel_generate_view_get_interpolation_row (view);
  g_assert_true (row != first_row);
  g_assert_nonnull (g_strstr_len (mel_sample_row_get_song (row)->title, -1, song_b));
  g_assert_cmpuint (mel_sample_row_get_song (row)->events->len, >, 0);
  mel_generate_view_set_interpolation_step (view, 2);
  row = mel_generate_view_get_interpolation_row (view);
  g_assert_nonnull (g_strstr_len (mel_sample_row_get_song (row)->title, -1, "3"));
  /* The step's score is laid out once the stack shows it. */
  g_assert_true (app_test_wait_for (score_laid_out, row, 20));

  /* An unknown song is an error dialog, not a crash, and nothing runs. */
  mel_generate_view_set_interpolation (view, "no-such-song", song_b, 3);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "generate.interpolate", NULL));
  g_assert_false (mel_generate_view_get_busy (view));
  g_assert_cmpuint (mel_generate_view_get_n_interpolation_steps (view), ==, 5);
  app_test_stop (app, window);
}

static void
test_attention_map (void)
{
  MelApplication *app;
  MelWindow *window = app_test_start (&app);
  MelGenerateView *view = MEL_GENERATE_VIEW (mel_window_get_view (window, "generate"));
  MelAttentionMap *map;
  MelRun *run;
  guint n;

  gtk_window_present (GTK_WINDOW (window));
  run = train_tiny (window, MEL_MODEL_LSTM_ATTN);
  mel_window_show_view (window, "generate");
  mel_generate_view_select_run (view, run);
  mel_generate_view_set_seed (view, NULL, "67 _ 65 _ 64 _ _ _");
  mel_generate_view_set_sampling (view, 1.0, 0, 2, 1);
  mel_generate_view_set_random_seed (view, 3);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "generate.run", NULL));
  g_assert_true (app_test_wait_for (samples_ready, view, 60));

  map = MEL_ATTENTION_MAP (mel_generate_view_get_attention_map (view, 0));
  g_assert_nonnull (map);
  g_assert_cmpuint (mel_attention_map_get_n_heads (map), ==, mel_run_get_config (run)->model.n_heads);
  n = mel_attention_map_get_n_steps (map);
  g_assert_cmpuint (n, >=, 8); /* the seed at least */
  /* Causal weights: every row sums to 1 and never looks ahead, per head
   * and in the mean. */
  for (int head = -1; head < (int) mel_attention_map_get_n_heads (map); head++)
    {
      mel_attention_map_set_head (map, head);
      g_assert_cmpint (mel_attention_map_get_head (map), ==, head);
      for (guint t = 0; t < n; t++)
        {
          double sum = 0.0;
          for (guint s = 0; s < n; s++)
            {
              double w = mel_attention_map_get_weight (map, t, s);
              g_assert_true (w >= 0.0);
              if (s > t)
                g_assert_cmpfloat (w, ==, 0.0);
              sum += w;
            }
          g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-3);
        }
    }
  /* Selecting a step colours the notes; out of range clears. */
  mel_attention_map_set_selected_step (map, (int) n - 1);
  g_assert_cmpint (mel_attention_map_get_selected_step (map), ==, (int) n - 1);
  mel_attention_map_set_selected_step (map, (int) n + 5);
  g_assert_cmpint (mel_attention_map_get_selected_step (map), ==, -1);
  {
    /* Drawn under a score on one line, the columns follow its notes. */
    MelSampleRow *row = mel_generate_view_get_sample (view, 0);
    MelEngraveLayout *layout;
    guint n_systems = 0;

    g_assert_true (app_test_wait_for (score_laid_out, row, 20));
    app_test_spin (0.2); /* draw the map once */
    g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (map)));
    layout = mel_score_view_get_layout (MEL_SCORE_VIEW (mel_sample_row_get_score_view (row)));
    mel_engrave_layout_get_systems (layout, &n_systems);
    g_test_message ("score on %u system(s), map aligned: %d", n_systems,
                    mel_attention_map_get_aligned (map));
    g_assert_cmpint (mel_attention_map_get_aligned (map), ==, n_systems == 1);
  }
  app_test_stop (app, window);
}

int
main (int argc, char *argv[])
{
  int status;

  data_dir = app_test_isolate ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/mel/app/vae/prior-and-interpolation", test_vae_prior_and_interpolation);
  g_test_add_func ("/mel/app/attention/map", test_attention_map);
  status = g_test_run ();
  app_test_remove_tree (data_dir);
  g_free (data_dir);
  return status;
}
