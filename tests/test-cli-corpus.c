/* test-cli-corpus.c — `melodist-cli corpus …` run as a user would, checked
 * against what the libraries say about the same corpus.
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

#include "mel-corpus.h"
#include "mel-dataset.h"

static char *cli_path;

/* Runs melodist-cli with @args (NULL-terminated); returns the exit status. */
static int
run_cli (char **out, char **err, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *stdout_text = NULL, *stderr_text = NULL;
  int wait_status = 0;
  va_list args;

  g_ptr_array_add (argv, cli_path);
  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &stdout_text,
                               &stderr_text, &wait_status, &error));
  g_assert_no_error (error);
  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);
  if (err != NULL)
    *err = g_steal_pointer (&stderr_text);
  g_assert_true (WIFEXITED (wait_status));
  return WEXITSTATUS (wait_status);
}

static guint
count_lines (const char *text)
{
  guint n = 0;
  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

static JsonObject *
parse_json (JsonParser *parser, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  JsonNode *root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_node_get_object (root);
}

static void
test_usage (void)
{
  g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL, *err3 = NULL, *out4 = NULL;

  g_assert_cmpint (run_cli (&out, &err, "corpus", "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "stats"));
  g_assert_nonnull (strstr (out, "list"));
  g_assert_nonnull (strstr (out, "show"));
  g_assert_nonnull (strstr (out, "encode"));
  g_assert_cmpint (run_cli (&out2, &err2, "corpus", NULL), ==, 2);
  g_assert_cmpint (run_cli (NULL, &err3, "corpus", "frobnicate", NULL), ==, 2);
  g_assert_nonnull (strstr (err3, "frobnicate"));
  g_assert_cmpint (run_cli (&out4, NULL, "corpus", "encode", "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (out4, "--output"));
  g_assert_nonnull (strstr (out4, "--transpose"));

  /* option errors are usage errors */
  g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL;
  g_assert_cmpint (run_cli (NULL, &e1, "corpus", "stats", "--transpose", "sideways", NULL), ==, 2);
  g_assert_nonnull (strstr (e1, "sideways"));
  g_assert_cmpint (run_cli (NULL, &e2, "corpus", "stats", "--durations", "1/4,x", NULL), ==, 2);
  g_assert_cmpint (run_cli (NULL, &e3, "corpus", "stats", "--lowest", "90", NULL), ==, 2);
  g_assert_cmpint (run_cli (NULL, &e4, "corpus", "list", "--meter", "three", NULL), ==, 2);
  g_assert_cmpint (run_cli (NULL, &e5, "corpus", "list", "--key", "H", NULL), ==, 2);
}

static void
test_stats_embedded (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelCorpus) corpus = mel_corpus_load_embedded (&error);
  g_assert_no_error (error);
  MelPreprocessOptions options;
  mel_preprocess_options_init (&options);
  g_autoptr (MelDataset) dataset = mel_dataset_build (corpus->songs, &options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  g_autofree char *text = NULL, *err = NULL;
  g_assert_cmpint (run_cli (&text, &err, "corpus", "stats", NULL), ==, 0);
  g_assert_nonnull (strstr (text, "Corpus: embedded"));
  g_assert_nonnull (strstr (text, "songs accepted"));
  g_assert_nonnull (strstr (text, "vocabulary"));
  g_assert_nonnull (strstr (text, "train"));
  g_autofree char *songs_line = g_strdup_printf ("songs read             %u\n", corpus->songs->len);
  g_assert_nonnull (strstr (text, songs_line));

  /* JSON: the same numbers the library gives */
  g_autofree char *json = NULL;
  g_assert_cmpint (run_cli (&json, NULL, "corpus", "stats", "--json", NULL), ==, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root = parse_json (parser, json);
  JsonObject *c = json_object_get_object_member (root, "corpus");
  JsonObject *p = json_object_get_object_member (root, "preprocessing");
  JsonObject *splits = json_object_get_object_member (root, "splits");
  g_assert_cmpint (json_object_get_int_member (c, "songs"), ==, corpus->songs->len);
  g_assert_cmpint (json_object_get_int_member (c, "files"), ==, corpus->n_files);
  g_assert_cmpint (json_object_get_int_member (p, "symbols"), ==, dataset->ids->len);
  g_assert_cmpint (json_object_get_int_member (p, "melody_groups"), ==, dataset->n_groups);
  gint64 accepted = json_object_get_int_member (p, "accepted");
  g_assert_cmpint (accepted, ==, dataset->songs->len);
  gint64 in_splits = 0;
  for (int s = 0; s < MEL_N_SPLITS; s++)
    {
      JsonObject *split = json_object_get_object_member (splits, mel_split_to_string ((MelSplit) s));
      g_assert_cmpint (json_object_get_int_member (split, "songs"), ==,
                       mel_dataset_get_n_songs (dataset, (MelSplit) s));
      g_assert_cmpint (json_object_get_int_member (split, "windows"), ==,
                       mel_dataset_count_windows (dataset, (MelSplit) s, 64, 1));
      in_splits += json_object_get_int_member (split, "songs");
    }
  g_assert_cmpint (in_splits, ==, accepted);
  JsonArray *vocab = json_object_get_array_member (p, "vocabulary");
  g_assert_cmpuint (json_array_get_length (vocab), ==, dataset->vocabulary->len);
  g_assert_cmpstr (json_array_get_string_element (vocab, 0), ==, "/");
  g_assert_cmpstr (json_array_get_string_element (vocab, 1), ==, "_");
  g_assert_cmpstr (json_array_get_string_element (vocab, 2), ==, "r");

  /* augmentation shows up as transposed copies */
  g_autofree char *aug = NULL;
  g_assert_cmpint (run_cli (&aug, NULL, "corpus", "stats", "--json", "--transpose", "augment", NULL), ==, 0);
  g_autoptr (JsonParser) aug_parser = json_parser_new ();
  JsonObject *aug_p = json_object_get_object_member (parse_json (aug_parser, aug), "preprocessing");
  g_assert_cmpint (json_object_get_int_member (aug_p, "encoded_songs"), >, 5 * accepted);
}

static void
test_list (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelCorpus) corpus = mel_corpus_load_embedded (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (corpus->songs->len, >, 0);

  g_autofree char *all = NULL, *err = NULL;
  g_assert_cmpint (run_cli (&all, &err, "corpus", "list", NULL), ==, 0);
  g_assert_cmpuint (count_lines (all), ==, corpus->songs->len + 1); /* + header */

  /* --tsv: seven fields, untruncated, in corpus order */
  g_autofree char *tsv = NULL;
  g_assert_cmpint (run_cli (&tsv, NULL, "corpus", "list", "--tsv", NULL), ==, 0);
  g_auto (GStrv) lines = g_strsplit (tsv, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, corpus->songs->len + 1);
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      g_auto (GStrv) fields = g_strsplit (lines[i], "\t", -1);
      g_assert_cmpuint (g_strv_length (fields), ==, 7);
      g_assert_cmpstr (fields[0], ==, song->id);
      g_assert_cmpstr (fields[1], ==, song->title != NULL ? song->title : "");
      g_assert_cmpuint (g_ascii_strtoull (fields[6], NULL, 10), ==, mel_song_get_n_notes (song));
    }

  /* filters agree with the library */
  guint major = 0, three_four = 0;
  for (guint i = 0; i < corpus->songs->len; i++)
    {
      const MelSong *song = g_ptr_array_index (corpus->songs, i);
      const MelKey *key = mel_song_get_key_at (song, MEL_RATIONAL_ZERO);
      major += key != NULL && key->mode == MEL_MODE_MAJOR;
      for (guint m = 0; m < song->meters->len; m++)
        {
          const MelMeter *meter = &g_array_index (song->meters, MelMeter, m);
          if (meter->numerator == 3 && meter->denominator == 4)
            {
              three_four++;
              break;
            }
        }
    }
  g_autofree char *majors = NULL, *threes = NULL;
  g_assert_cmpint (run_cli (&majors, NULL, "corpus", "list", "--tsv", "--key", "major", NULL), ==, 0);
  g_assert_cmpuint (count_lines (majors), ==, major);
  g_assert_cmpint (run_cli (&threes, NULL, "corpus", "list", "--tsv", "--meter", "3/4", NULL), ==, 0);
  g_assert_cmpuint (count_lines (threes), ==, three_four);

  /* text filter: the first song's id, in other case */
  const MelSong *first = g_ptr_array_index (corpus->songs, 0);
  g_autofree char *needle = g_ascii_strdown (first->id, -1);
  g_autofree char *found = NULL;
  g_assert_cmpint (run_cli (&found, NULL, "corpus", "list", "--tsv", "--filter", needle, NULL), ==, 0);
  g_assert_cmpuint (count_lines (found), >=, 1);
  g_assert_nonnull (strstr (found, first->id));

  /* a key by name: the first song's key */
  const MelKey *key = mel_song_get_key_at (first, MEL_RATIONAL_ZERO);
  if (key != NULL && key->mode != MEL_MODE_UNKNOWN)
    {
      g_autofree char *name = g_strdup_printf ("%c%s %s", key->tonic_step,
                                               key->tonic_alter > 0 ? "#" : key->tonic_alter < 0 ? "b" : "",
                                               key->mode == MEL_MODE_MAJOR ? "major" : "minor");
      g_autofree char *by_key = NULL;
      g_assert_cmpint (run_cli (&by_key, NULL, "corpus", "list", "--tsv", "--key", name, NULL), ==, 0);
      g_assert_nonnull (strstr (by_key, first->id));
    }

  /* nothing matches */
  g_autofree char *none = NULL, *none_err = NULL;
  g_assert_cmpint (run_cli (&none, &none_err, "corpus", "list", "--filter", "no such song anywhere", NULL), ==, 0);
  g_assert_cmpuint (count_lines (none), ==, 1);
  g_assert_nonnull (strstr (none_err, "0 of"));
}

static void
test_show (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MelCorpus) corpus = mel_corpus_load_embedded (&error);
  g_assert_no_error (error);
  const MelSong *song = g_ptr_array_index (corpus->songs, 0);

  g_autofree char *out = NULL;
  g_assert_cmpint (run_cli (&out, NULL, "corpus", "show", song->id, NULL), ==, 0);
  g_assert_nonnull (strstr (out, song->id));
  if (song->title != NULL)
    g_assert_nonnull (strstr (out, song->title));
  g_assert_nonnull (strstr (out, "Encoding"));
  /* one table row per event */
  g_auto (GStrv) symbols = mel_song_encode (song, &error);
  g_assert_no_error (error);
  g_autofree char *encoding = g_strjoinv (" ", symbols);
  g_assert_nonnull (strstr (out, encoding));

  g_autofree char *err = NULL;
  g_assert_cmpint (run_cli (NULL, &err, "corpus", "show", "NO-SUCH-ID", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "NO-SUCH-ID"));
  g_autofree char *err2 = NULL;
  g_assert_cmpint (run_cli (NULL, &err2, "corpus", "show", NULL), ==, 2);
}

static void
test_encode (void)
{
  g_autofree char *dir = g_dir_make_tmp ("mel-cli-corpus-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "set.mds", NULL);
  g_autofree char *vocab = g_strconcat (path, ".vocab.json", NULL);
  g_autoptr (GError) error = NULL;

  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (run_cli (&out, &err, "corpus", "encode", "-o", path, "--transpose", "augment", "--seed", "7",
                            "--min-shift", "-2", "--max-shift", "2", "--valid", "0.2", NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, "wrote"));
  g_autoptr (MelDataset) dataset = mel_dataset_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (dataset->options.transpose, ==, MEL_TRANSPOSE_AUGMENT);
  g_assert_cmpuint (dataset->options.split_seed, ==, 7);
  g_assert_cmpint (dataset->options.min_shift, ==, -2);
  g_assert_cmpfloat (dataset->options.valid_fraction, ==, 0.2);
  g_auto (GStrv) symbols = mel_dataset_load_vocabulary (vocab, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (symbols), ==, dataset->vocabulary->len);

  /* the same as building in process */
  g_autoptr (MelCorpus) corpus = mel_corpus_load_embedded (&error);
  g_assert_no_error (error);
  g_autoptr (MelDataset) expected = mel_dataset_build (corpus->songs, &dataset->options, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (dataset->ids->len, ==, expected->ids->len);
  g_assert_cmpmem (dataset->ids->data, dataset->ids->len * 4, expected->ids->data, expected->ids->len * 4);

  /* errors: no -o, unwritable place (no file left), bad options */
  g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL;
  g_assert_cmpint (run_cli (NULL, &e1, "corpus", "encode", NULL), ==, 2);
  g_autofree char *nowhere = g_build_filename (dir, "missing", "set.mds", NULL);
  g_assert_cmpint (run_cli (NULL, &e2, "corpus", "encode", "-o", nowhere, NULL), ==, 1);
  g_assert_false (g_file_test (nowhere, G_FILE_TEST_EXISTS));
  g_assert_cmpint (run_cli (NULL, &e3, "corpus", "encode", "-o", path, "--valid", "0.7", "--test", "0.5", NULL), ==,
                   2);

  g_unlink (path);
  g_unlink (vocab);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* The whole German collection through the CLI, when it is present. */
static void
test_esac (void)
{
  const char *esac = g_getenv ("MELODIST_ESAC_DIR");
  g_autofree char *folder = esac != NULL ? g_build_filename (esac, "deutschl", NULL) : NULL;
  if (folder == NULL || !g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("MELODIST_ESAC_DIR/deutschl not found: the ESAC corpus is not installed");
      return;
    }

  g_autofree char *kinder = NULL;
  g_assert_cmpint (run_cli (&kinder, NULL, "corpus", "list", folder, "--tsv", "--collection", "kinder", NULL), ==, 0);
  g_assert_cmpuint (count_lines (kinder), ==, 213);

  g_autofree char *json = NULL;
  g_assert_cmpint (run_cli (&json, NULL, "corpus", "stats", folder, "--json", NULL), ==, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root = parse_json (parser, json);
  JsonObject *c = json_object_get_object_member (root, "corpus");
  JsonObject *p = json_object_get_object_member (root, "preprocessing");
  g_assert_cmpint (json_object_get_int_member (c, "files"), ==, 5365);
  g_assert_cmpint (json_object_get_int_member (c, "songs") + json_array_get_length (
                       json_object_get_array_member (c, "unreadable")), ==, 5365);
  /* see test-dataset's /mel/dataset/esac for why 4,902 and not 4,903 */
  g_assert_cmpint (json_object_get_int_member (c, "songs") - json_object_get_int_member (p, "filtered_by_duration"),
                   ==, 4902);

  g_autofree char *show = NULL;
  g_assert_cmpint (run_cli (&show, NULL, "corpus", "show", folder, "kindr001", NULL), ==, 0);
  g_assert_nonnull (strstr (show, "K0001"));
  g_assert_nonnull (strstr (show, "kinder/kindr001.krn"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  const char *build = g_getenv ("MELODIST_BUILD_DIR");
  cli_path = g_build_filename (build != NULL ? build : ".", "src", "cli", "melodist-cli", NULL);

  g_test_add_func ("/mel/cli-corpus/usage", test_usage);
  g_test_add_func ("/mel/cli-corpus/stats-embedded", test_stats_embedded);
  g_test_add_func ("/mel/cli-corpus/list", test_list);
  g_test_add_func ("/mel/cli-corpus/show", test_show);
  g_test_add_func ("/mel/cli-corpus/encode", test_encode);
  g_test_add_func ("/mel/cli-corpus/esac", test_esac);

  int status = g_test_run ();
  g_free (cli_path);
  return status;
}
