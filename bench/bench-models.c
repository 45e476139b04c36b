/* bench-models.c — training and sampling speed of the LSTM + attention
 * model and of the VAE against the PyTorch reference
 * (/work/shared/bench/torch_ref.py --model lstm / --model vae), measured in
 * the same run and interleaved, round by round.
 *
 * Shapes (as torch_ref.py): vocab 40, embedding 64, batch 64, sequence 64,
 * Adam.  lstm-attn: LSTM 1 × 256 + causal 4-head attention (ours adds the
 * layer norm after the residual).  vae: hidden 256, latent 32, 64-step
 * segments, 1 decoder layer (our encoder is a bidirectional GRU of 2 × 128;
 * torch's a unidirectional GRU of 256: the same encoding width).  One step
 * = zero_grad + forward + cross-entropy (+ KL) + backward + Adam over the
 * flat parameter buffer.
 *
 * Configurations:
 *   ours 1     1 thread
 *   ours 2     2 threads, our batch split, single-threaded OpenBLAS; its
 *              sampling uses the model's helper thread (mel-blas.h)
 *   torch 1    torch 1 thread, OpenBLAS 1
 *   torch 2p   torch 2 threads, OpenBLAS 2, OMP_WAIT_POLICY=PASSIVE
 *   torch 1+2  torch 1 thread, OpenBLAS 2
 *
 * Ours also report tokens per CPU-second (process CPU time over the timed
 * steps), which other load on the machine distorts less than wall time.
 * --ours-1 --no-torch times only ours (training at 1 thread, sampling at 1
 * and 2 threads, median and best of --sample-reps).
 *
 * SPDX-License-Identifier: MIT
 */
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mel-blas.h"
#include "mel-layers.h"
#include "mel-model.h"

#define VOCAB 40
#define BATCH 64
#define SEQ 64
#define SAMPLE_STEPS 256

static int opt_rounds = 3;
static int opt_steps = 30;
static int opt_warmup = 5;
static int opt_sample_reps = 5;
static double last_sample_best = NAN;
static char *opt_model = NULL;
static MelModelKind kind;
static gboolean opt_no_torch = FALSE;
static gboolean opt_ours_only_1 = FALSE;
static char *opt_python = NULL;
static char *opt_torch_ref = NULL;

typedef struct
{
  const char *name;
  GArray *tok_per_s; /* double per round */
  GArray *sample_ms;
} Series;

static Series *
series_new (const char *name)
{
  Series *s = g_new0 (Series, 1);

  s->name = name;
  s->tok_per_s = g_array_new (FALSE, FALSE, sizeof (double));
  s->sample_ms = g_array_new (FALSE, FALSE, sizeof (double));
  return s;
}

static void
series_free (Series *s)
{
  g_array_unref (s->tok_per_s);
  g_array_unref (s->sample_ms);
  g_free (s);
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
best (GArray *values)
{
  double b = 0.0;

  for (guint i = 0; i < values->len; i++)
    b = MAX (b, g_array_index (values, double, i));
  return b;
}

static double
median (GArray *values)
{
  g_autoptr(GArray) sorted = NULL;
  guint n = values->len;

  if (n == 0)
    return NAN;
  sorted = g_array_copy (values);
  g_array_sort (sorted, cmp_double);
  return n % 2 ? g_array_index (sorted, double, n / 2)
               : 0.5 * (g_array_index (sorted, double, n / 2 - 1)
                        + g_array_index (sorted, double, n / 2));
}

/* ---- ours ----------------------------------------------------------------- */

typedef struct
{
  MelModel *model;
  gint32 *data;     /* 16 batches of [BATCH × (SEQ+1)] */
  gint32 *inputs;   /* [BATCH × SEQ] */
  gint32 *targets;
  float *dlogits;
  float *m, *v;
  int t;
} Ours;

/* A seeded first-order Markov chain, like torch_ref.py's data (the speed
 * does not depend on it, the loss curve does). */
static void
make_data (gint32 *data, gsize n_rows)
{
  MelRng rng;
  float trans[VOCAB][VOCAB];

  mel_rng_init (&rng, 1234);
  for (int i = 0; i < VOCAB; i++)
    {
      float sum = 0.0f;

      for (int j = 0; j < VOCAB; j++)
        sum += trans[i][j] = powf (mel_rng_uniform (&rng), 4.0f);
      for (int j = 0; j < VOCAB; j++)
        trans[i][j] /= sum;
    }
  for (gsize r = 0; r < n_rows; r++)
    {
      gint32 prev = 0;

      data[r * (SEQ + 1)] = 0;
      for (int t = 1; t <= SEQ; t++)
        {
          float u = mel_rng_uniform (&rng), c = 0.0f;
          int j = 0;

          for (; j < VOCAB - 1; j++)
            if ((c += trans[prev][j]) > u)
              break;
          data[r * (SEQ + 1) + t] = prev = j;
        }
    }
}

static void
ours_init (Ours *o)
{
  MelModelConfig config;
  g_autoptr(GError) error = NULL;
  gsize n;

  mel_model_config_init (&config, kind, VOCAB);
  config.n_layers = 1;
  config.segment_steps = SEQ;
  o->model = mel_model_new (&config, 0, &error);
  g_assert_no_error (error);
  n = mel_model_get_n_params (o->model);
  o->data = g_new (gint32, 16 * BATCH * (SEQ + 1));
  make_data (o->data, 16 * BATCH);
  o->inputs = g_new (gint32, BATCH * SEQ);
  o->targets = g_new (gint32, BATCH * SEQ);
  o->dlogits = g_new (float, BATCH * SEQ * VOCAB);
  o->m = g_new0 (float, n);
  o->v = g_new0 (float, n);
}

static void
ours_clear (Ours *o)
{
  mel_model_free (o->model);
  g_free (o->data);
  g_free (o->inputs);
  g_free (o->targets);
  g_free (o->dlogits);
  g_free (o->m);
  g_free (o->v);
}

static void
adam_update (Ours *o)
{
  gsize n = mel_model_get_n_params (o->model);
  float *restrict p = mel_model_get_params (o->model);
  const float *restrict g = mel_model_get_grads (o->model);
  float *restrict m = o->m, *restrict v = o->v;
  const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  float c1, c2;

  o->t++;
  c1 = 1.0f / (1.0f - powf (b1, (float) o->t));
  c2 = 1.0f / (1.0f - powf (b2, (float) o->t));
  for (gsize i = 0; i < n; i++)
    {
      m[i] = b1 * m[i] + (1.0f - b1) * g[i];
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      p[i] -= lr * (m[i] * c1) / (sqrtf (v[i] * c2) + eps);
    }
}

static double
ours_step (Ours *o, int i)
{
  const gint32 *batch = o->data + (gsize) (i % 16) * BATCH * (SEQ + 1);
  const float *logits;
  gsize n = BATCH * SEQ;
  double loss;

  gboolean vae = kind == MEL_MODEL_VAE;

  /* The LM predicts token t+1 from 0…t; the VAE reconstructs the 64
   * tokens after BOS (as torch_ref.py). */
  for (int b = 0; b < BATCH; b++)
    {
      memcpy (o->inputs + b * SEQ, batch + b * (SEQ + 1) + (vae ? 1 : 0), SEQ * sizeof (gint32));
      memcpy (o->targets + b * SEQ, batch + b * (SEQ + 1) + 1, SEQ * sizeof (gint32));
    }
  mel_model_zero_grad (o->model);
  mel_model_set_rng_seed (o->model, (guint64) i);
  logits = mel_model_forward (o->model, o->inputs, BATCH, SEQ);
  loss = mel_cross_entropy_forward (logits, o->targets, n, VOCAB, NULL) / (double) n;
  if (vae) /* per sequence, as torch_ref.py: Σ_t CE + KL */
    loss = loss * SEQ + mel_model_get_aux_loss (o->model);
  memset (o->dlogits, 0, n * VOCAB * sizeof (float));
  mel_cross_entropy_backward (o->dlogits, logits, o->targets, n, VOCAB, 1.0f / (float) n);
  mel_model_backward (o->model, o->dlogits, 1.0f / SEQ);
  adam_update (o);
  return loss;
}

/* Tokens per second over opt_steps steps after opt_warmup, for a fresh
 * model (so every configuration starts from the same state). */
/* Tokens per CPU-second of the last ours_train (all threads of the
 * process): less distorted by other load on the machine than wall time. */
static double last_tok_per_cpu_s = NAN;

static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static double
ours_train (guint n_threads, guint blas_threads, double *loss_first, double *loss_last)
{
  Ours o = { 0 };
  gint64 t0 = 0;
  double loss = 0.0, cpu0 = 0.0;

  ours_init (&o);
  mel_model_set_n_threads (o.model, n_threads);
  mel_blas_set_backend_threads (blas_threads);
  for (int i = 0; i < opt_warmup + opt_steps; i++)
    {
      if (i == opt_warmup)
        {
          t0 = g_get_monotonic_time ();
          cpu0 = cpu_seconds ();
        }
      loss = ours_step (&o, i);
      if (i == 0 && loss_first != NULL)
        *loss_first = loss;
    }
  if (loss_last != NULL)
    *loss_last = loss;
  {
    double seconds = (double) (g_get_monotonic_time () - t0) / 1e6;

    last_tok_per_cpu_s = (double) opt_steps * BATCH * SEQ / (cpu_seconds () - cpu0);
    mel_blas_set_backend_threads (1);
    ours_clear (&o);
    return (double) opt_steps * BATCH * SEQ / seconds;
  }
}

static double
best_low (GArray *values)
{
  double b = INFINITY;

  for (guint i = 0; i < values->len; i++)
    b = MIN (b, g_array_index (values, double, i));
  return b;
}

/* Median of opt_sample_reps samplings of 256 symbols at batch 1
 * (multinomial from the softmax, like torch_ref.py), in milliseconds, with
 * the model set to @n_threads; the best goes to last_sample_best. */
static double
ours_sample (guint n_threads)
{
  Ours o = { 0 };
  GArray *times = g_array_new (FALSE, FALSE, sizeof (double));
  MelRng rng;
  float logits[VOCAB], probs[VOCAB];
  double result;
  guint checksum = 0;

  ours_init (&o);
  mel_model_set_training (o.model, FALSE);
  mel_model_set_n_threads (o.model, n_threads);
  mel_rng_init (&rng, 0);
  for (int rep = 0; rep <= opt_sample_reps; rep++)
    {
      gint64 t0 = g_get_monotonic_time ();
      float z[32];
      g_autoptr(MelModelState) state = NULL;

      /* The VAE decodes from z ~ N(0, I) (ignored by the LM). */
      mel_rng_fill_normal (&rng, z, G_N_ELEMENTS (z), 1.0f);
      state = mel_model_state_new (o.model, z);
      gint32 symbol = 0;

      for (int t = 0; t < SAMPLE_STEPS; t++)
        {
          float u, c = 0.0f;

          mel_model_state_step (state, symbol, logits);
          mel_softmax (probs, logits, VOCAB, 1.0f);
          u = mel_rng_uniform (&rng);
          for (symbol = 0; symbol < VOCAB - 1; symbol++)
            if ((c += probs[symbol]) > u)
              break;
          checksum += (guint) symbol;
        }
      if (rep > 0) /* the first is the warm-up */
        {
          double ms = (double) (g_get_monotonic_time () - t0) / 1e3;

          g_array_append_val (times, ms);
        }
    }
  g_assert_cmpuint (checksum, >, 0);
  result = median (times);
  last_sample_best = best_low (times);
  g_array_unref (times);
  ours_clear (&o);
  return result;
}

/* ---- torch ---------------------------------------------------------------- */

/* Runs torch_ref.py for one configuration; returns tokens/s (NAN on error)
 * and, when asked, its sampling time. */
static double
torch_train (int torch_threads, int blas_threads, gboolean passive, gboolean sample,
             double *sample_ms)
{
  g_autofree char *steps = g_strdup_printf ("%d", opt_steps);
  g_autofree char *warmup = g_strdup_printf ("%d", opt_warmup);
  g_autofree char *threads = g_strdup_printf ("%d", torch_threads);
  g_autofree char *ob = g_strdup_printf ("%d", blas_threads);
  const char *argv[] = { opt_python, opt_torch_ref, "--model",
                         kind == MEL_MODEL_VAE ? "vae" : "lstm", "--threads", threads,
                         "--openblas-threads", ob, "--steps", steps, "--warmup", warmup,
                         "--json", "--no-peak", sample ? NULL : "--no-sample", NULL };
  g_auto(GStrv) envp = g_get_environ ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *last_line;
  JsonObject *obj;
  int status = 0;

  envp = g_environ_unsetenv (envp, "OPENBLAS_NUM_THREADS");
  envp = g_environ_unsetenv (envp, "OMP_NUM_THREADS");
  if (passive)
    envp = g_environ_setenv (envp, "OMP_WAIT_POLICY", "PASSIVE", TRUE);
  else
    envp = g_environ_unsetenv (envp, "OMP_WAIT_POLICY");
  if (!g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                     &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("torch_ref.py failed: %s\n%s", error->message, err ? err : "");
      return NAN;
    }
  g_strchomp (out);
  last_line = strrchr (out, '\n') ? strrchr (out, '\n') + 1 : out;
  if (!json_parser_load_from_data (parser, last_line, -1, &error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_printerr ("torch_ref.py printed no JSON: %s\n", error ? error->message : last_line);
      return NAN;
    }
  obj = json_node_get_object (json_parser_get_root (parser));
  if (sample_ms != NULL)
    *sample_ms = json_object_get_double_member_with_default (obj, "sample_ms_median", NAN);
  return json_object_get_double_member_with_default (obj, "tok_per_s", NAN);
}

static void
record (Series *s, double tok_per_s, double sample_ms, double tok_per_cpu_s)
{
  g_array_append_val (s->tok_per_s, tok_per_s);
  if (!isnan (sample_ms))
    g_array_append_val (s->sample_ms, sample_ms);
  printf ("  %-10s %9.0f tok/s", s->name, tok_per_s);
  if (!isnan (tok_per_cpu_s))
    printf (" (%6.0f tok/CPU-s)", tok_per_cpu_s);
  if (!isnan (sample_ms))
    printf ("   sample %d: %6.2f ms", SAMPLE_STEPS, sample_ms);
  printf ("\n");
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &opt_rounds, "Interleaved rounds (default 3)", "N" },
    { "steps", 's', 0, G_OPTION_ARG_INT, &opt_steps, "Timed steps per run (default 30)", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &opt_warmup, "Warm-up steps (default 5)", "N" },
    { "sample-reps", 0, 0, G_OPTION_ARG_INT, &opt_sample_reps,
      "Timed samplings per measurement (default 5)", "N" },
    { "model", 'm', 0, G_OPTION_ARG_STRING, &opt_model, "lstm-attn (default) or vae", "KIND" },
    { "no-torch", 0, 0, G_OPTION_ARG_NONE, &opt_no_torch, "Skip the PyTorch reference", NULL },
    { "ours-1", 0, 0, G_OPTION_ARG_NONE, &opt_ours_only_1,
      "Only our 1-thread training, for profiling", NULL },
    { "python", 0, 0, G_OPTION_ARG_FILENAME, &opt_python, "Python (default /usr/bin/python3)",
      "PATH" },
    { "torch-ref", 0, 0, G_OPTION_ARG_FILENAME, &opt_torch_ref,
      "torch_ref.py (default ../shared/bench/torch_ref.py of the source tree)", "PATH" },
    { NULL }
  };
  g_autoptr(GOptionContext) context
    = g_option_context_new ("— LSTM+attention / VAE training speed vs PyTorch");
  g_autoptr(GError) error = NULL;
  Series *ours1, *ours2, *torch1, *torch2p, *torch12;
  double t1, t2, o1, o2, loss_first = 0.0, loss_last = 0.0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (opt_rounds < 1 || opt_steps < 1 || opt_warmup < 0)
    {
      g_printerr ("rounds and steps must be positive\n");
      return 2;
    }
  if (opt_model == NULL)
    opt_model = g_strdup ("lstm-attn");
  if (!mel_model_kind_from_string (opt_model, &kind)
      || (kind != MEL_MODEL_LSTM_ATTN && kind != MEL_MODEL_VAE))
    {
      g_printerr ("--model must be lstm-attn or vae\n");
      return 2;
    }
  if (opt_python == NULL)
    opt_python = g_strdup ("/usr/bin/python3");
  if (opt_torch_ref == NULL)
    opt_torch_ref = g_build_filename (MELODIST_SOURCE_ROOT, "..", "shared", "bench",
                                      "torch_ref.py", NULL);
  if (!opt_no_torch && !g_file_test (opt_torch_ref, G_FILE_TEST_EXISTS))
    {
      g_printerr ("%s not found; use --torch-ref or --no-torch\n", opt_torch_ref);
      return 2;
    }
  mel_blas_init ();

  if (opt_ours_only_1)
    {
      double tps = ours_train (1, 1, &loss_first, &loss_last);

      printf ("ours 1 thread: %.0f tok/s, %.0f tok/CPU-s (loss %.3f -> %.3f)\n", tps,
              last_tok_per_cpu_s, loss_first, loss_last);
      if (kind == MEL_MODEL_LSTM_ATTN)
        {
          double ms = ours_sample (1);

          printf ("ours sample %d, 1 thread: median %.2f ms, best %.2f ms\n", SAMPLE_STEPS, ms,
                  last_sample_best);
          ms = ours_sample (2);
          printf ("ours sample %d, 2 threads: median %.2f ms, best %.2f ms\n", SAMPLE_STEPS, ms,
                  last_sample_best);
        }
      g_free (opt_python);
      g_free (opt_torch_ref);
      g_free (opt_model);
      return 0;
    }

  ours1 = series_new ("ours 1");
  ours2 = series_new ("ours 2");
  torch1 = series_new ("torch 1");
  torch2p = series_new ("torch 2p");
  torch12 = series_new ("torch 1+2");

  printf ("%s: vocab %d, embedding 64, hidden 256, batch %d x sequence %d = %d tokens/step, "
          "%d timed steps after %d warm-up, %d rounds\n", opt_model, VOCAB, BATCH, SEQ,
          BATCH * SEQ, opt_steps, opt_warmup, opt_rounds);
  for (int round = 1; round <= opt_rounds; round++)
    {
      double sample_torch = NAN, tps;

      printf ("round %d\n", round);
      tps = ours_train (1, 1, &loss_first, &loss_last);
      record (ours1, tps, ours_sample (1), last_tok_per_cpu_s);
      if (!opt_no_torch)
        {
          tps = torch_train (1, 1, FALSE, TRUE, &sample_torch);
          record (torch1, tps, sample_torch, NAN);
        }
      tps = ours_train (2, 1, NULL, NULL);
      record (ours2, tps, kind == MEL_MODEL_LSTM_ATTN ? ours_sample (2) : NAN,
              last_tok_per_cpu_s);
      if (!opt_no_torch)
        {
          record (torch2p, torch_train (2, 2, TRUE, FALSE, NULL), NAN, NAN);
          record (torch12, torch_train (1, 2, FALSE, FALSE, NULL), NAN, NAN);
        }
    }

  printf ("\nmedian (best) over %d rounds, tokens/s:\n", opt_rounds);
  o1 = median (ours1->tok_per_s);
  o2 = median (ours2->tok_per_s);
  printf ("  ours  1 thread          %9.0f (%6.0f)  loss %.3f -> %.3f\n", o1,
          best (ours1->tok_per_s), loss_first, loss_last);
  printf ("  ours  2 threads (split) %9.0f (%6.0f)  %.2fx our 1 thread\n", o2,
          best (ours2->tok_per_s), o2 / o1);
  if (!opt_no_torch)
    {
      t1 = median (torch1->tok_per_s);
      t2 = MAX (median (torch2p->tok_per_s), median (torch12->tok_per_s));
      printf ("  torch 1 thread          %9.0f (%6.0f)\n", t1, best (torch1->tok_per_s));
      printf ("  torch 2p                %9.0f (%6.0f)\n", median (torch2p->tok_per_s),
              best (torch2p->tok_per_s));
      printf ("  torch 1+2               %9.0f (%6.0f)\n", median (torch12->tok_per_s),
              best (torch12->tok_per_s));
      printf ("sampling %d steps, batch 1 (median): ours %.2f ms, torch %.1f ms (%.1fx faster)\n",
              SAMPLE_STEPS, median (ours1->sample_ms), median (torch1->sample_ms),
              median (torch1->sample_ms) / median (ours1->sample_ms));
      if (ours2->sample_ms->len > 0)
        printf ("sampling with 2 threads (median): ours %.2f ms\n", median (ours2->sample_ms));
      printf ("ratio 1 thread:  ours / torch 1 thread            = %.2fx (target >= 1.5x)\n",
              o1 / t1);
      printf ("ratio 2 threads: ours / torch's best 2-thread cfg = %.2fx (target >= 2x)\n",
              o2 / t2);
      printf ("ratio of bests:  1 thread %.2fx, 2 threads %.2fx\n",
              best (ours1->tok_per_s) / best (torch1->tok_per_s),
              best (ours2->tok_per_s)
                / MAX (best (torch2p->tok_per_s), best (torch12->tok_per_s)));
    }
  else
    {
      printf ("sampling %d steps, batch 1 (median): ours %.2f ms\n", SAMPLE_STEPS,
              median (ours1->sample_ms));
      if (ours2->sample_ms->len > 0)
        printf ("sampling with 2 threads (median): ours %.2f ms\n", median (ours2->sample_ms));
    }

  series_free (ours1);
  series_free (ours2);
  series_free (torch1);
  series_free (torch2p);
  series_free (torch12);
  g_free (opt_python);
  g_free (opt_torch_ref);
  g_free (opt_model);
  return 0;
}
