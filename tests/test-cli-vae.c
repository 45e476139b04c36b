/* test-cli-vae.c — `melodist-cli vae` end to end: a VAE trained for a few
 * steps on the embedded corpus, then encode, reconstruct, sample and
 * interpolate, with kern output read back; and the errors a user meets.
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "mel-corpus.h"
#include "mel-kern.h"

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
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out,
                               err, &status, &error));
  g_assert_no_error (error);
  if (err != NULL)
    g_test_message ("stderr: %s", *err);
  return g_spawn_check_wait_status (status, NULL) ? 0 : (WIFEXITED (status) ? WEXITSTATUS (status) : -1);
}

static void
assert_kern (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MelSong) song = mel_kern_read_file (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (song);
}

/* Lines "label: s1 s2 …" with @n symbols each. */
static guint
count_symbols (const char *out, const char *label)
{
  const char *line = strstr (out, label);
  g_autofree char *copy = NULL;
  g_auto(GStrv) tokens = NULL;
  guint n = 0;

  g_assert_nonnull (line);
  copy = g_strndup (line + strlen (label), strcspn (line + strlen (label), "\n"));
  tokens = g_strsplit (g_strstrip (copy), " ", -1);
  for (guint i = 0; tokens[i] != NULL; i++)
    n += tokens[i][0] != '\0';
  return n;
}

static void
test_vae_commands (void)
{
  g_autofree char *dir = g_dir_make_tmp ("mel-cli-vae-XXXXXX", NULL);
  g_autofree char *ckpt = g_build_filename (dir, "vae.ckpt", NULL);
  g_autofree char *gru_ckpt = g_build_filename (dir, "gru.ckpt", NULL);
  g_autofree char *rec = g_build_filename (dir, "rec.krn", NULL);
  g_autofree char *sample = g_build_filename (dir, "s.krn", NULL);
  g_autofree char *sample2 = g_build_filename (dir, "s-2.krn", NULL);
  g_autofree char *morph = g_build_filename (dir, "m.krn", NULL);
  g_autofree char *morph4 = g_build_filename (dir, "m-4.krn", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MelCorpus) corpus = mel_corpus_load_embedded (&error);
  const char *id_a, *id_b;
  char *out = NULL, *err = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (corpus->songs->len, >=, 2);
  id_a = ((MelSong *) corpus->songs->pdata[0])->id;
  id_b = ((MelSong *) corpus->songs->pdata[1])->id;

  g_assert_cmpint (run_cli (&out, &err, "train", "--model", "vae", "--hidden", "16", "--embed", "8",
                            "--latent", "4", "--segment-steps", "16", "--free-bits", "0.5",
                            "--kl-weight", "0.5", "--batch", "8", "--max-steps", "4", "-o", ckpt,
                            NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* eval prints the VAE's own figures */
  g_assert_cmpint (run_cli (&out, &err, "eval", ckpt, "--split", "valid", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "KL to the prior"));
  g_assert_nonnull (strstr (out, "accuracy, free running"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* compare says that a VAE's bits/symbol is a reconstruction, and gives
   * the comparable ELBO bound */
  g_assert_cmpint (run_cli (&out, &err, "compare", ckpt, "--samples", "2", "--steps", "32", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "not a prediction"));
  g_assert_nonnull (strstr (out, "ELBO bound"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (&out, &err, "vae", "encode", ckpt, "--song", id_a, NULL), ==, 0);
  g_assert_cmpuint (count_symbols (out, "mu:"), ==, 4);
  g_assert_cmpuint (count_symbols (out, "sigma:"), ==, 4);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (&out, &err, "vae", "reconstruct", ckpt, "--song", id_a, "-o", rec,
                            NULL), ==, 0);
  g_assert_cmpuint (count_symbols (out, "original:"), ==, 16);
  g_assert_cmpuint (count_symbols (out, "reconstruction:"), ==, 16);
  assert_kern (rec);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (&out, &err, "vae", "sample", ckpt, "-m", "2", "-T", "0.8", "-o",
                            sample, NULL), ==, 0);
  g_assert_cmpuint (count_symbols (out, "sample-2:"), ==, 16);
  assert_kern (sample2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (&out, &err, "vae", "interpolate", ckpt, "--song", id_a, "--song-b",
                            id_b, "--points", "4", "--slerp", "-o", morph, NULL), ==, 0);
  g_assert_cmpuint (count_symbols (out, "point-4:"), ==, 16);
  assert_kern (morph4);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Errors: unknown song, unknown command, not a VAE. */
  g_assert_cmpint (run_cli (&out, &err, "vae", "reconstruct", ckpt, "--song", "no-such-song",
                            NULL), ==, 1);
  g_assert_nonnull (strstr (err, "no-such-song"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "vae", "morph", ckpt, NULL), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "train", "--hidden", "8", "--layers", "1", "--embed", "4",
                            "--window", "16", "--batch", "4", "--max-steps", "1", "-o", gru_ckpt,
                            NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "vae", "sample", gru_ckpt, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "not a VAE"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/cli-vae/commands", test_vae_commands);
  return g_test_run ();
}
