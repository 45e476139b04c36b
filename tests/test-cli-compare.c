/* test-cli-compare.c — `melodist-cli compare` end to end: a tiny GRU and
 * an n-gram trained on the embedded corpus, compared with the baseline;
 * the JSON parsed, the HTML report well-formed with its plots.
 *
 * SPDX-License-Identifier: MIT
 */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#if __has_include(<libxml/HTMLparser.h>)
#include <libxml/HTMLparser.h>
#define HAVE_LIBXML 1
#endif

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

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_remove (child);
    }
  g_rmdir (path);
}

static guint
count (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_compare (void)
{
  g_autofree char *dir = g_dir_make_tmp ("mel-cli-compare-XXXXXX", NULL);
  g_autofree char *gru = g_build_filename (dir, "gru.ckpt", NULL);
  g_autofree char *ngram = g_build_filename (dir, "ngram.ckpt", NULL);
  g_autofree char *html = g_build_filename (dir, "report.html", NULL);
  g_autofree char *out = NULL, *err = NULL, *text = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *baseline, *counted;
  JsonArray *runs;

  g_assert_cmpint (run_cli (&out, &err, "train", "--hidden", "16", "--embed", "8", "--layers", "1", "--window", "16",
                            "--batch", "4", "--max-steps", "5", "--epochs", "1", "-o", gru, NULL),
                   ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "train", "--model", "ngram", "--order", "6", "-o", ngram, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "order-6 n-gram"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli (&out, &err, "compare", gru, ngram, "--samples", "4", "--steps", "64", "--folds", "3",
                            "--baseline-order", "6", "--cv-runs", "--json", "--html", html, NULL),
                   ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  runs = json_object_get_array_member (root, "runs");
  g_assert_cmpuint (json_array_get_length (runs), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (runs, 0), "kind"), ==, "gru");
  counted = json_array_get_object_element (runs, 1);
  baseline = json_array_get_object_element (runs, 2);
  g_assert_true (json_object_get_boolean_member (baseline, "baseline"));
  g_assert_cmpstr (json_object_get_string_member (baseline, "kind"), ==, "ngram");
  /* The same order counted on the same split: the same figures. */
  {
    JsonObject *a = json_object_get_object_member (counted, "test");
    JsonObject *b = json_object_get_object_member (baseline, "test");
    double bits = json_object_get_double_member (b, "pitch_bits_per_note");

    g_assert_cmpint (json_object_get_int_member (a, "symbols"), ==, json_object_get_int_member (b, "symbols"));
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (a, "pitch_bits_per_note"), bits, 1e-9);
    g_assert_true (bits > 0 && bits < 6);
  }
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (baseline, "memorisation")), <=, 4);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (root, "baseline_cross_validation"),
                                               "folds"),
                   ==, 3);
  /* --cv-runs: the GRU's configuration retrained on every fold (5 steps each). */
  {
    JsonObject *cv = json_object_get_object_member (json_array_get_object_element (runs, 0), "cross_validation");
    JsonObject *pooled = json_object_get_object_member (cv, "pooled");

    g_assert_cmpint (json_object_get_int_member (cv, "folds"), ==, 3);
    g_assert_cmpint (json_object_get_int_member (pooled, "symbols"), >, 0);
    g_assert_true (json_object_get_double_member (pooled, "bits_per_symbol") > 0);
  }
  g_assert_true (json_object_has_member (json_object_get_object_member (json_object_get_object_member (counted, "samples"),
                                                                        "histograms"),
                                         "pitch-class"));

  g_assert_true (g_file_get_contents (html, &text, NULL, &error));
  g_assert_no_error (error);
  /* One loss plot and one histogram per statistic. */
  g_assert_cmpuint (count (text, "<svg "), ==, 1 + 7);
  g_assert_cmpuint (count (text, "<svg "), ==, count (text, "</svg>"));
  g_assert_nonnull (strstr (text, "</html>"));
#ifdef HAVE_LIBXML
  {
    htmlDocPtr doc = htmlReadMemory (text, (int) strlen (text), html, "utf-8",
                                     HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    xmlNodePtr node;

    g_assert_nonnull (doc);
    node = xmlDocGetRootElement (doc);
    g_assert_nonnull (node);
    g_assert_cmpstr ((const char *) node->name, ==, "html");
    xmlFreeDoc (doc);
  }
  {
    /* Strict: the report parses as XML too (every tag closed). */
    g_autoptr(GString) xml = g_string_new (text);
    xmlDocPtr doc;

    g_string_replace (xml, "<!DOCTYPE html>", "", 1);
    g_string_replace (xml, "<br>", "<br/>", 0);
    g_string_replace (xml, "<meta charset=\"utf-8\">", "<meta charset=\"utf-8\"/>", 1);
    doc = xmlReadMemory (xml->str, (int) xml->len, "report.xml", "utf-8", XML_PARSE_NONET | XML_PARSE_NOERROR);
    g_assert_nonnull (doc);
    xmlFreeDoc (doc);
  }
#endif

  /* A bad option fails cleanly. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "compare", "--folds", "1", NULL), !=, 0);
  remove_tree (dir);
}

/* --stm and --cv-validate: "+ STM" figures next to the plain ones, on the
 * test split and in the cross-validation, and fold training that stops on
 * an inner validation fold. */
static void
test_compare_stm (void)
{
  g_autofree char *dir = g_dir_make_tmp ("mel-cli-compare-XXXXXX", NULL);
  g_autofree char *gru = g_build_filename (dir, "gru.ckpt", NULL);
  g_autofree char *html = g_build_filename (dir, "report.html", NULL);
  g_autofree char *out = NULL, *err = NULL, *text = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *run, *test, *stm, *cv, *config;

  g_assert_cmpint (run_cli (&out, &err, "train", "--hidden", "16", "--embed", "8", "--layers", "1", "--window", "16",
                            "--batch", "4", "--max-steps", "6", "--epochs", "2", "-o", gru, NULL),
                   ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "compare", gru, "--samples", "0", "--folds", "3", "--baseline-order", "5",
                            "--cv-runs", "--cv-validate", "--stm", "--stm-weight", "0.3", "--json", NULL),
                   ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  config = json_object_get_object_member (root, "short_term_model");
  g_assert_nonnull (config);
  g_assert_cmpstr (json_object_get_string_member (config, "combination"), ==, "arithmetic");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (config, "weight"), 0.3, 1e-12);
  g_assert_true (json_object_get_boolean_member (root, "cross_validation_inner_validation"));
  for (guint i = 0; i < 2; i++)
    {
      run = json_array_get_object_element (json_object_get_array_member (root, "runs"), i);
      test = json_object_get_object_member (run, "test");
      stm = json_object_get_object_member (test, "stm");
      g_assert_nonnull (stm);
      g_assert_true (json_object_get_double_member (stm, "pitch_bits_per_note") > 0);
      cv = json_object_get_object_member (run, "cross_validation");
      g_assert_true (json_object_get_double_member (cv, "stm_pitch_bits_fold_mean") > 0);
      g_assert_true (json_object_has_member (json_object_get_object_member (cv, "pooled"), "stm"));
      /* The GRU trains on each fold (at most its two epochs); the n-gram counts. */
      if (i == 0)
        g_assert_cmpint (json_object_get_int_member (cv, "epochs_run_min"), >=, 1);
      g_assert_cmpint (json_object_get_int_member (cv, "epochs_run_max"), <=, i == 0 ? 2 : 0);
    }

  /* The table has its "+ STM" rows; bad STM options fail cleanly. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "compare", gru, "--samples", "0", "--stm", "--html", html, NULL), ==, 0);
  g_assert_cmpuint (count (out, " + STM "), ==, 2);
  g_assert_true (g_file_get_contents (html, &text, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count (text, " + STM</td>"), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "compare", gru, "--stm", "--stm-escape", "x", NULL), !=, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (&out, &err, "compare", gru, "--stm", "--stm-weight", "2", NULL), !=, 0);
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mel/cli-compare/end-to-end", test_compare);
  g_test_add_func ("/mel/cli-compare/stm", test_compare_stm);
  return g_test_run ();
}
