/* test-cli-train.c — `melodist-cli train`, `generate` and `eval` end to end.
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "mel-checkpoint.h"
#include "mel-kern.h"

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("mel-cli-train-XXXXXX", NULL);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->dir);
  g_free (f->dir);
}

/* Runs melodist-cli with @args (NULL-terminated); returns its exit status. */
static int
run_cli (char **out, char **err, const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  const char *build = g_getenv ("MELODIST_BUILD_DIR");
  int status = -1;
  va_list args;

  g_assert_nonnull (build);
  g_ptr_array_add (argv, g_build_filename (build, "src", "cli", "melodist-cli", NULL));
  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status,
                               &error));
  g_assert_no_error (error);
  if (err != NULL)
    g_test_message ("stderr: %s", *err);
  return g_spawn_check_wait_status (status, NULL) ? 0 : (WIFEXITED (status) ? WEXITSTATUS (status) : -1);
}

static JsonObject *
parse_object (JsonParser *parser, const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

/* Two pitch symbols the model knows, as a seed melody "P _ Q _". */
static char *
seed_melody (const char *checkpoint)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCheckpoint) ckpt = mel_checkpoint_load (checkpoint, &error);
  const char *pitches[2] = { NULL, NULL };
  guint found = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < ckpt->vocab->size && found < 2; i++)
    if (ckpt->vocab->kinds[i] == MEL_SYMBOL_PITCH)
      pitches[found++] = ckpt->vocab->symbols[i];
  g_assert_cmpuint (found, >=, 1);
  return g_strdup_printf ("%s _ %s _", pitches[0], pitches[found - 1]);
}

static void
test_embedded (Fixture *f, gconstpointer data)
{
  g_autofree char *ckpt = g_build_filename (f->dir, "run.ckpt", NULL);
  g_autofree char *best = g_build_filename (f->dir, "run.best.ckpt", NULL);
  g_autofree char *out_krn = g_build_filename (f->dir, "out.krn", NULL);
  g_autofree char *out1 = g_build_filename (f->dir, "out-1.krn", NULL);
  g_autofree char *out2 = g_build_filename (f->dir, "out-2.krn", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *seed = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *obj;

  g_assert_cmpint (run_cli (&out, &err, "train", "--hidden", "16", "--layers", "1", "--embed", "8", "--window",
                            "16", "--batch", "4", "--max-steps", "5", "--seed", "3", "-o", ckpt, NULL),
                   ==, 0);
  g_assert_true (g_file_test (ckpt, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (best, G_FILE_TEST_IS_REGULAR));
  g_assert_nonnull (strstr (out, "after 5 steps"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* generate: two samples → out-1.krn, out-2.krn, both readable kern. */
  seed = seed_melody (ckpt);
  g_assert_cmpint (run_cli (&out, &err, "generate", ckpt, "--seed-melody", seed, "--steps", "32", "--samples", "2",
                            "--temperature", "0.9", "--top-k", "5", "--rng-seed", "7", "-o", out_krn, NULL),
                   ==, 0);
  g_assert_true (g_str_has_prefix (out, "generated-1: "));
  g_assert_nonnull (strstr (out, "\ngenerated-2: "));
  g_assert_true (g_str_has_prefix (out + strlen ("generated-1: "), seed));
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(MelSong) song = mel_kern_read_file (i == 0 ? out1 : out2, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (mel_song_get_n_events (song), >=, 2);
    }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* eval --json on the training split (never empty) and the test split. */
  g_assert_cmpint (run_cli (&out, &err, "eval", ckpt, "--split", "train", "--json", NULL), ==, 0);
  obj = parse_object (parser, out);
  g_assert_cmpstr (json_object_get_string_member (obj, "split"), ==, "train");
  g_assert_cmpint (json_object_get_int_member (obj, "symbols"), >, 0);
  g_assert_cmpfloat (json_object_get_double_member (obj, "bits_per_symbol"), >, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (obj, "bits_per_symbol"), <, 10.0);
  g_assert_cmpfloat (json_object_get_double_member (obj, "accuracy"), >=, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (obj, "accuracy"), <=, 1.0);
  g_assert_true (json_object_has_member (obj, "pitch_bits_per_note"));
  g_assert_true (json_object_has_member (obj, "onset_accuracy"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (&out, &err, "eval", ckpt, "--json", NULL), ==, 0);
  obj = parse_object (parser, out);
  g_assert_cmpstr (json_object_get_string_member (obj, "split"), ==, "test");
  if (json_object_get_int_member (obj, "symbols") > 0)
    g_assert_cmpfloat (json_object_get_double_member (obj, "bits_per_symbol"), >, 0.0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The table form mentions that holds dominate. */
  g_assert_cmpint (run_cli (&out, &err, "eval", ckpt, "--split", "train", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "bits per symbol"));
  g_assert_nonnull (strstr (out, "Holds"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* --stm adds the model + short-term model figures: the plain ones are
   * unchanged, the combined ones a proper score of the same symbols. */
  g_assert_cmpint (run_cli (&out, &err, "eval", ckpt, "--split", "train", "--json", "--stm", NULL), ==, 0);
  obj = parse_object (parser, out);
  g_assert_true (json_object_has_member (obj, "with_stm"));
  {
    JsonObject *stm = json_object_get_object_member (obj, "with_stm");
    double plain = json_object_get_double_member (obj, "bits_per_symbol");
    double combined = json_object_get_double_member (stm, "bits_per_symbol");

    g_assert_cmpfloat (plain, >, 0.0);
    g_assert_cmpfloat (combined, >, 0.0);
    g_assert_cmpfloat (combined, <, 10.0);
    g_assert_cmpfloat (json_object_get_double_member (stm, "pitch_bits_per_note"), >, 0.0);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "eval", ckpt, "--split", "train", "--stm", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "short-term model"));
}

/* A small corpus of our own melodies (not from any collection). */
static void
write_corpus (const char *dir)
{
  static const char *const bodies[] = {
    "4c\n4d\n4e\n4f\n=\n2g\n2g\n=\n4a\n4a\n4g\n4e\n=\n1c\n",
    "4g\n8e\n8e\n4f\n4d\n=\n4c\n4e\n2g\n=\n4g\n8e\n8e\n4f\n4d\n=\n1c\n",
    "2e\n4d\n4c\n=\n2d\n4e\n4f\n=\n4g\n4f\n4e\n4d\n=\n1c\n",
    "4c\n4c\n4g\n4g\n=\n4a\n4a\n2g\n=\n4f\n4f\n4e\n4e\n=\n4d\n4d\n2c\n",
    "8c\n8d\n8e\n8f\n4g\n4g\n=\n8a\n8a\n8a\n8a\n2g\n=\n4f\n4e\n4d\n4r\n=\n1c\n",
    "4e\n4g\n4c\n4e\n=\n4d\n4f\n2b-\n=\n4a\n4f\n4d\n4b-\n=\n1c\n",
  };

  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/song%02u.krn", dir, i);
      g_autofree char *text = g_strdup_printf ("!!!OTL: Test tune %u\n**kern\n*M4/4\n*k[]\n*C:\n=1\n%s==\n*-\n", i,
                                               bodies[i % G_N_ELEMENTS (bodies)]);
      /* Vary the second half so the songs are not exact duplicates. */
      g_autofree char *varied = i >= G_N_ELEMENTS (bodies) ? g_strdelimit (g_strdup (text), "a", 'b') : g_strdup (text);

      g_assert_true (g_file_set_contents (path, varied, -1, NULL));
    }
}

static void
test_corpus_dir_and_resume (Fixture *f, gconstpointer data)
{
  g_autofree char *corpus = g_build_filename (f->dir, "corpus", NULL);
  g_autofree char *ckpt = g_build_filename (f->dir, "r.ckpt", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCheckpoint) loaded = NULL;

  g_assert_cmpint (g_mkdir (corpus, 0755), ==, 0);
  write_corpus (corpus);
  g_assert_cmpint (run_cli (&out, &err, "train", "--corpus", corpus, "--transpose", "none", "--hidden", "12",
                            "--layers", "1", "--embed", "6", "--window", "16", "--batch", "2", "--max-steps", "3",
                            "-o", ckpt, NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, "after 3 steps"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* --resume with a higher limit continues the same run. */
  g_assert_cmpint (run_cli (&out, &err, "train", "--resume", ckpt, "--max-steps", "7", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "after 7 steps"));
  loaded = mel_checkpoint_load (ckpt, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->state.step, ==, 7);
  g_assert_nonnull (strstr (loaded->preprocessing, "\"transpose\":\"none\""));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Greedy generation is deterministic. */
  {
    g_autofree char *again = NULL;

    g_assert_cmpint (run_cli (&out, &err, "generate", ckpt, "-T", "0", "--bars", "2", NULL), ==, 0);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (run_cli (&again, &err, "generate", ckpt, "-T", "0", "--bars", "2", NULL), ==, 0);
    g_assert_cmpstr (out, ==, again);
  }
}

static void
test_errors (Fixture *f, gconstpointer data)
{
  g_autofree char *bad = g_build_filename (f->dir, "bad.ckpt", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_true (g_file_set_contents (bad, "MELCKPT\0garbage", 15, NULL));
  g_assert_cmpint (run_cli (&out, &err, "eval", bad, NULL), !=, 0);
  g_assert_nonnull (strstr (err, "checkpoint"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (&out, &err, "generate", bad, NULL), !=, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (&out, &err, "train", "--epochs", "1", NULL), !=, 0);
  g_assert_nonnull (strstr (err, "-o"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (&out, &err, "train", "--model", "transformer", "-o", bad, NULL), !=, 0);
  g_assert_nonnull (strstr (err, "transformer"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/mel/cli-train/embedded", Fixture, NULL, fixture_setup, test_embedded, fixture_teardown);
  g_test_add ("/mel/cli-train/corpus-dir-and-resume", Fixture, NULL, fixture_setup, test_corpus_dir_and_resume,
              fixture_teardown);
  g_test_add ("/mel/cli-train/errors", Fixture, NULL, fixture_setup, test_errors, fixture_teardown);
  return g_test_run ();
}
