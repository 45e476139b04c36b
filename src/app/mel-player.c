/* mel-player.c — render in a worker, play with GtkMediaFile.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "mel-player.h"
#include "mel-synth.h"

#define POSITION_INTERVAL_MS 33

struct _MelPlayer
{
  GObject parent_instance;

  MelPlayerState state;
  MelSong *song;
  double tempo;
  char *soundfont;
  int program;

  GCancellable *cancellable; /* of the running render */
  GtkMediaStream *stream;
  char *wav_path;           /* temporary file being played */
  guint position_source;
  double position;
};

G_DEFINE_FINAL_TYPE (MelPlayer, mel_player, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STATE,
  PROP_POSITION,
  N_PROPS
};

enum
{
  SIGNAL_ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

gboolean
mel_player_render_wav (MelSong *song, double tempo, const char *soundfont, int program,
                       const char *path, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (song != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  {
    MelSynthOptions options;

    mel_synth_options_init (&options);
    options.soundfont = soundfont; /* NULL or "": the synth looks one up */
    options.tempo = tempo;
    options.program = CLAMP (program, 0, 127);
    return mel_synth_render_file (song, &options, path, MEL_SAMPLE_FORMAT_PCM16, cancellable,
                                  error);
  }
}

static void
set_state (MelPlayer *self, MelPlayerState state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
set_position (MelPlayer *self, double position)
{
  if (self->position == position)
    return;
  self->position = position;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POSITION]);
}

static void
release_playback (MelPlayer *self)
{
  g_clear_handle_id (&self->position_source, g_source_remove);
  if (self->stream != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->stream, self);
      gtk_media_stream_pause (self->stream);
      g_clear_object (&self->stream);
    }
  if (self->wav_path != NULL)
    {
      g_unlink (self->wav_path);
      g_clear_pointer (&self->wav_path, g_free);
    }
}

void
mel_player_stop (MelPlayer *self)
{
  g_return_if_fail (MEL_IS_PLAYER (self));

  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }
  release_playback (self);
  g_clear_pointer (&self->song, mel_song_unref);
  set_position (self, -1.0);
  set_state (self, MEL_PLAYER_IDLE);
}

static gboolean
update_position_cb (gpointer user_data)
{
  MelPlayer *self = user_data;
  gint64 timestamp = gtk_media_stream_get_timestamp (self->stream);

  set_position (self, timestamp / (double) G_USEC_PER_SEC * self->tempo / 60.0);
  return G_SOURCE_CONTINUE;
}

static void
stream_ended_cb (GtkMediaStream *stream, GParamSpec *pspec, MelPlayer *self)
{
  if (gtk_media_stream_get_ended (stream))
    mel_player_stop (self);
}

static void
stream_error_cb (GtkMediaStream *stream, GParamSpec *pspec, MelPlayer *self)
{
  const GError *error = gtk_media_stream_get_error (stream);

  if (error == NULL)
    return;
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
  mel_player_stop (self);
}

typedef struct
{
  MelSong *song;
  double tempo;
  char *soundfont;
  int program;
  char *path;
} RenderJob;

static void
render_job_free (RenderJob *job)
{
  g_clear_pointer (&job->song, mel_song_unref);
  g_free (job->soundfont);
  if (job->path != NULL)
    g_unlink (job->path); /* still set only when nobody took the file */
  g_free (job->path);
  g_free (job);
}

static void
render_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  RenderJob *job = task_data;
  g_autoptr(GError) error = NULL;

  if (!mel_player_render_wav (job->song, job->tempo, job->soundfont, job->program, job->path,
                              cancellable, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
render_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MelPlayer *self = MEL_PLAYER (source);
  GTask *task = G_TASK (result);
  RenderJob *job = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (task, &error))
    {
      if (g_task_get_cancellable (task) == self->cancellable)
        {
          g_clear_object (&self->cancellable);
          mel_player_stop (self);
          g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
        }
      return;
    }
  if (g_task_get_cancellable (task) != self->cancellable)
    return; /* a newer request took over */
  g_clear_object (&self->cancellable);

  self->wav_path = g_steal_pointer (&job->path);
  self->stream = gtk_media_file_new_for_filename (self->wav_path);
  g_signal_connect_object (self->stream, "notify::ended", G_CALLBACK (stream_ended_cb), self, 0);
  g_signal_connect_object (self->stream, "notify::error", G_CALLBACK (stream_error_cb), self, 0);
  gtk_media_stream_play (self->stream);
  self->position_source = g_timeout_add (POSITION_INTERVAL_MS, update_position_cb, self);
  set_position (self, 0.0);
  set_state (self, MEL_PLAYER_PLAYING);
}

void
mel_player_play (MelPlayer *self, MelSong *song, double tempo)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  RenderJob *job;
  int fd;

  g_return_if_fail (MEL_IS_PLAYER (self));
  g_return_if_fail (song != NULL);
  g_return_if_fail (tempo > 0);

  mel_player_stop (self);

  job = g_new0 (RenderJob, 1);
  fd = g_file_open_tmp ("melodist-XXXXXX.wav", &job->path, &error);
  if (fd < 0)
    {
      render_job_free (job);
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
      return;
    }
  g_close (fd, NULL);
  job->song = mel_song_ref (song);
  job->tempo = tempo;
  job->soundfont = g_strdup (self->soundfont);
  job->program = self->program;

  self->song = mel_song_ref (song);
  self->tempo = tempo;
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, render_done_cb, NULL);
  g_task_set_source_tag (task, mel_player_play);
  g_task_set_task_data (task, job, (GDestroyNotify) render_job_free);
  g_task_run_in_thread (task, render_worker);
  set_state (self, MEL_PLAYER_RENDERING);
}

void
mel_player_set_soundfont (MelPlayer *self, const char *soundfont)
{
  g_return_if_fail (MEL_IS_PLAYER (self));
  g_free (self->soundfont);
  self->soundfont = g_strdup (soundfont);
}

void
mel_player_set_program (MelPlayer *self, int program)
{
  g_return_if_fail (MEL_IS_PLAYER (self));
  self->program = CLAMP (program, 0, 127);
}

MelPlayerState
mel_player_get_state (MelPlayer *self)
{
  g_return_val_if_fail (MEL_IS_PLAYER (self), MEL_PLAYER_IDLE);
  return self->state;
}

MelSong *
mel_player_get_song (MelPlayer *self)
{
  g_return_val_if_fail (MEL_IS_PLAYER (self), NULL);
  return self->song;
}

double
mel_player_get_position (MelPlayer *self)
{
  g_return_val_if_fail (MEL_IS_PLAYER (self), -1.0);
  return self->position;
}

static void
mel_player_dispose (GObject *object)
{
  MelPlayer *self = MEL_PLAYER (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  release_playback (self);
  G_OBJECT_CLASS (mel_player_parent_class)->dispose (object);
}

static void
mel_player_finalize (GObject *object)
{
  MelPlayer *self = MEL_PLAYER (object);

  g_clear_pointer (&self->song, mel_song_unref);
  g_free (self->soundfont);
  G_OBJECT_CLASS (mel_player_parent_class)->finalize (object);
}

static void
mel_player_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MelPlayer *self = MEL_PLAYER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_POSITION:
      g_value_set_double (value, self->position);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_player_class_init (MelPlayerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mel_player_dispose;
  object_class->finalize = mel_player_finalize;
  object_class->get_property = mel_player_get_property;

  /* A MelPlayerState. */
  properties[PROP_STATE] = g_param_spec_int ("state", NULL, NULL, MEL_PLAYER_IDLE,
                                             MEL_PLAYER_PLAYING, MEL_PLAYER_IDLE,
                                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_POSITION] = g_param_spec_double ("position", NULL, NULL, -1.0, G_MAXDOUBLE, -1.0,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* MelPlayer::error (GError *error): rendering or playback failed. */
  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
mel_player_init (MelPlayer *self)
{
  self->position = -1.0;
  self->program = 73; /* General MIDI flute, until the settings say otherwise */
}

MelPlayer *
mel_player_new (void)
{
  return g_object_new (MEL_TYPE_PLAYER, NULL);
}
