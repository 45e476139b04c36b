/* mel-song-item.c — a MelSong as a GObject.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "mel-app-private.h"
#include "mel-song-item.h"

struct _MelSongItem
{
  GObject parent_instance;

  MelSong *song;
  char *title;
  char *collection;
  char *key;
  char *mode;
  char *meter;
  char *place;
  char *search_text; /* case-folded title, id and region */
  guint n_bars;
  guint n_notes;
};

G_DEFINE_FINAL_TYPE (MelSongItem, mel_song_item, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_TITLE,
  PROP_ID,
  PROP_COLLECTION,
  PROP_REGION,
  PROP_PLACE,
  PROP_KEY,
  PROP_MODE,
  PROP_METER,
  PROP_BARS,
  PROP_NOTES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mel_song_item_finalize (GObject *object)
{
  MelSongItem *self = MEL_SONG_ITEM (object);

  g_clear_pointer (&self->song, mel_song_unref);
  g_free (self->title);
  g_free (self->collection);
  g_free (self->key);
  g_free (self->mode);
  g_free (self->meter);
  g_free (self->place);
  g_free (self->search_text);

  G_OBJECT_CLASS (mel_song_item_parent_class)->finalize (object);
}

static void
mel_song_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MelSongItem *self = MEL_SONG_ITEM (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_ID:
      g_value_set_string (value, self->song->id);
      break;
    case PROP_COLLECTION:
      g_value_set_string (value, self->collection);
      break;
    case PROP_REGION:
      g_value_set_string (value, mel_song_item_get_region (self));
      break;
    case PROP_PLACE:
      g_value_set_string (value, self->place);
      break;
    case PROP_KEY:
      g_value_set_string (value, self->key);
      break;
    case PROP_MODE:
      g_value_set_string (value, self->mode);
      break;
    case PROP_METER:
      g_value_set_string (value, self->meter);
      break;
    case PROP_BARS:
      g_value_set_uint (value, self->n_bars);
      break;
    case PROP_NOTES:
      g_value_set_uint (value, self->n_notes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mel_song_item_class_init (MelSongItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = mel_song_item_finalize;
  object_class->get_property = mel_song_item_get_property;

  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL, flags);
  properties[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  properties[PROP_COLLECTION] = g_param_spec_string ("collection", NULL, NULL, NULL, flags);
  properties[PROP_REGION] = g_param_spec_string ("region", NULL, NULL, NULL, flags);
  properties[PROP_PLACE] = g_param_spec_string ("place", NULL, NULL, NULL, flags);
  properties[PROP_KEY] = g_param_spec_string ("key", NULL, NULL, NULL, flags);
  properties[PROP_MODE] = g_param_spec_string ("mode", NULL, NULL, NULL, flags);
  properties[PROP_METER] = g_param_spec_string ("meter", NULL, NULL, NULL, flags);
  properties[PROP_BARS] = g_param_spec_uint ("bars", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_NOTES] = g_param_spec_uint ("notes", NULL, NULL, 0, G_MAXUINT, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mel_song_item_init (MelSongItem *self)
{
}

static char *
describe_key (const MelKey *key)
{
  g_autofree char *tonic = NULL;

  if (mel_pitch_step_index (key->tonic_step) < 0)
    return g_strdup ("—");
  tonic = _mel_tonic_name (key->tonic_step, key->tonic_alter, key->mode == MEL_MODE_MINOR);
  switch (key->mode)
    {
    case MEL_MODE_MAJOR:
      /* Translators: a major key; %s is the tonic (context "tonic"), e.g. "G major" */
      return g_strdup_printf (_("%s major"), tonic);
    case MEL_MODE_MINOR:
      /* Translators: a minor key; %s is the tonic in lower case, e.g. "d minor" */
      return g_strdup_printf (_("%s minor"), tonic);
    case MEL_MODE_UNKNOWN:
    default:
      return g_steal_pointer (&tonic);
    }
}

static char *
describe_meter (const MelMeter *meter)
{
  if (meter == NULL)
    return g_strdup ("—");
  if (meter->irregular)
    return g_strdup (_("irregular"));
  return g_strdup_printf ("%d/%d", meter->numerator, meter->denominator);
}

static char *
collection_of (const MelSong *song)
{
  g_autofree char *dir = NULL;

  if (song->path == NULL)
    return g_strdup ("");
  dir = g_path_get_dirname (song->path);
  return g_path_get_basename (dir);
}

/* The most specific part of an ESAC region ("Europa, Mitteleuropa,
 * Deutschland" → "Deutschland"), short enough for a list column. */
static char *
place_of (const char *region)
{
  const char *comma;

  if (region == NULL)
    return g_strdup ("");
  comma = strrchr (region, ',');
  return g_strstrip (g_strdup (comma != NULL ? comma + 1 : region));
}

MelSongItem *
mel_song_item_new (MelSong *song)
{
  MelSongItem *self;
  const MelKey *key;
  g_autofree char *joined = NULL;

  g_return_val_if_fail (song != NULL, NULL);

  self = g_object_new (MEL_TYPE_SONG_ITEM, NULL);
  self->song = mel_song_ref (song);
  self->title = g_strdup (song->title != NULL && song->title[0] != '\0' ? song->title : song->id);
  self->collection = collection_of (song);
  key = song->keys->len > 0 ? &g_array_index (song->keys, MelKey, 0) : NULL;
  self->key = key != NULL ? describe_key (key) : g_strdup ("—");
  self->mode = g_strdup (key == NULL ? ""
                         : key->mode == MEL_MODE_MAJOR ? "major"
                         : key->mode == MEL_MODE_MINOR ? "minor" : "");
  self->meter = describe_meter (song->meters->len > 0 ? &g_array_index (song->meters, MelMeter, 0)
                                                      : NULL);
  self->place = place_of (song->region);
  self->n_bars = song->bars->len;
  self->n_notes = mel_song_get_n_notes (song);
  joined = g_strjoin ("\n", self->title, song->id, song->region ? song->region : "", NULL);
  self->search_text = g_utf8_casefold (joined, -1);
  return self;
}

MelSong *
mel_song_item_get_song (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), NULL);
  return self->song;
}

const char *
mel_song_item_get_title (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), NULL);
  return self->title;
}

const char *
mel_song_item_get_id (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), NULL);
  return self->song->id;
}

const char *
mel_song_item_get_collection (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), NULL);
  return self->collection;
}

const char *
mel_song_item_get_region (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), NULL);
  return self->song->region != NULL ? self->song->region : "";
}

const char *
mel_song_item_get_place (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), NULL);
  return self->place;
}

const char *
mel_song_item_get_key (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), NULL);
  return self->key;
}

const char *
mel_song_item_get_mode (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), NULL);
  return self->mode;
}

const char *
mel_song_item_get_meter (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), NULL);
  return self->meter;
}

guint
mel_song_item_get_n_bars (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), 0);
  return self->n_bars;
}

guint
mel_song_item_get_n_notes (MelSongItem *self)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), 0);
  return self->n_notes;
}

gboolean
mel_song_item_matches (MelSongItem *self, const char *needle)
{
  g_return_val_if_fail (MEL_IS_SONG_ITEM (self), FALSE);
  return needle == NULL || needle[0] == '\0' || strstr (self->search_text, needle) != NULL;
}
