/* mel-optim.c — Adam / AdamW, gradient clipping, learning-rate schedule.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mel-optim.h"

#include <math.h>
#include <string.h>

struct _MelOptimizer
{
  MelOptimConfig config;
  gsize n_params;
  guint64 step;
  float *m;
  float *v;
};

static const char *const optim_kind_names[] = { "adam", "adamw" };
static const char *const lr_decay_names[] = { "constant", "cosine", "step" };

const char *
mel_optim_kind_to_string (MelOptimKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (optim_kind_names), NULL);
  return optim_kind_names[kind];
}

gboolean
mel_optim_kind_from_string (const char *text, MelOptimKind *kind)
{
  g_return_val_if_fail (kind != NULL, FALSE);
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (optim_kind_names); i++)
    if (g_ascii_strcasecmp (text, optim_kind_names[i]) == 0)
      {
        *kind = (MelOptimKind) i;
        return TRUE;
      }
  return FALSE;
}

const char *
mel_lr_decay_to_string (MelLrDecay decay)
{
  g_return_val_if_fail ((guint) decay < G_N_ELEMENTS (lr_decay_names), NULL);
  return lr_decay_names[decay];
}

gboolean
mel_lr_decay_from_string (const char *text, MelLrDecay *decay)
{
  g_return_val_if_fail (decay != NULL, FALSE);
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (lr_decay_names); i++)
    if (g_ascii_strcasecmp (text, lr_decay_names[i]) == 0)
      {
        *decay = (MelLrDecay) i;
        return TRUE;
      }
  return FALSE;
}

void
mel_optim_config_init (MelOptimConfig *config, MelOptimKind kind)
{
  g_return_if_fail (config != NULL);
  memset (config, 0, sizeof *config);
  config->kind = kind;
  config->beta1 = 0.9f;
  config->beta2 = 0.999f;
  config->epsilon = 1e-8f;
  config->weight_decay = 0.0f;
  config->clip_norm = 1.0f;
}

void
mel_lr_schedule_init (MelLrSchedule *schedule, float peak)
{
  g_return_if_fail (schedule != NULL);
  memset (schedule, 0, sizeof *schedule);
  schedule->decay = MEL_LR_CONSTANT;
  schedule->peak = peak;
  schedule->min_ratio = 0.0f;
  schedule->gamma = 1.0f;
}

float
mel_lr_schedule_get (const MelLrSchedule *schedule, guint64 step)
{
  double peak, after;

  g_return_val_if_fail (schedule != NULL, 0.0f);
  peak = schedule->peak;
  /* Warm-up: the first update uses peak/warmup, the warmup-th the peak. */
  if (step < schedule->warmup_steps)
    return (float) (peak * (double) (step + 1) / (double) schedule->warmup_steps);
  after = (double) (step - schedule->warmup_steps);

  switch (schedule->decay)
    {
    case MEL_LR_COSINE:
      {
        double min_lr = peak * schedule->min_ratio;
        double progress;

        if (schedule->decay_steps == 0)
          return (float) peak;
        progress = MIN (after / (double) schedule->decay_steps, 1.0);
        return (float) (min_lr + 0.5 * (peak - min_lr) * (1.0 + cos (G_PI * progress)));
      }
    case MEL_LR_STEP:
      if (schedule->step_size == 0)
        return (float) peak;
      return (float) (peak * pow (schedule->gamma, floor (after / (double) schedule->step_size)));
    case MEL_LR_CONSTANT:
    default:
      return (float) peak;
    }
}

double
mel_grad_norm (const float *grads, gsize n)
{
  double sum = 0.0;

  g_return_val_if_fail (grads != NULL || n == 0, 0.0);
  for (gsize i = 0; i < n; i++)
    sum += (double) grads[i] * (double) grads[i];
  return sqrt (sum);
}

double
mel_clip_grad_norm (float *grads, gsize n, float max_norm)
{
  double norm = mel_grad_norm (grads, n);

  if (max_norm > 0.0f && isfinite (norm) && norm > max_norm)
    {
      float scale = (float) (max_norm / (norm + 1e-6));

      for (gsize i = 0; i < n; i++)
        grads[i] *= scale;
    }
  return norm;
}

MelOptimizer *
mel_optimizer_new (const MelOptimConfig *config, gsize n_params)
{
  MelOptimizer *optim;

  g_return_val_if_fail (config != NULL, NULL);
  optim = g_new0 (MelOptimizer, 1);
  optim->config = *config;
  optim->n_params = n_params;
  optim->m = g_new0 (float, MAX (n_params, 1));
  optim->v = g_new0 (float, MAX (n_params, 1));
  return optim;
}

void
mel_optimizer_free (MelOptimizer *optim)
{
  if (optim == NULL)
    return;
  g_free (optim->m);
  g_free (optim->v);
  g_free (optim);
}

const MelOptimConfig *
mel_optimizer_get_config (const MelOptimizer *optim)
{
  g_return_val_if_fail (optim != NULL, NULL);
  return &optim->config;
}

gsize
mel_optimizer_get_n_params (const MelOptimizer *optim)
{
  g_return_val_if_fail (optim != NULL, 0);
  return optim->n_params;
}

guint64
mel_optimizer_get_step (const MelOptimizer *optim)
{
  g_return_val_if_fail (optim != NULL, 0);
  return optim->step;
}

float *
mel_optimizer_get_m (MelOptimizer *optim)
{
  g_return_val_if_fail (optim != NULL, NULL);
  return optim->m;
}

float *
mel_optimizer_get_v (MelOptimizer *optim)
{
  g_return_val_if_fail (optim != NULL, NULL);
  return optim->v;
}

void
mel_optimizer_set_step (MelOptimizer *optim, guint64 step)
{
  g_return_if_fail (optim != NULL);
  optim->step = step;
}

gboolean
mel_optimizer_step (MelOptimizer *optim, float *params, float *grads, float lr, double *grad_norm)
{
  const MelOptimConfig *c;
  double norm;
  float beta1, beta2, eps, wd, bias1, bias2, decay;
  gboolean adamw;

  g_return_val_if_fail (optim != NULL, FALSE);
  g_return_val_if_fail (params != NULL && grads != NULL, FALSE);

  c = &optim->config;
  norm = mel_clip_grad_norm (grads, optim->n_params, c->clip_norm);
  if (grad_norm != NULL)
    *grad_norm = norm;
  if (!isfinite (norm))
    return FALSE;

  optim->step++;
  beta1 = c->beta1;
  beta2 = c->beta2;
  eps = c->epsilon;
  wd = c->weight_decay;
  adamw = c->kind == MEL_OPTIM_ADAMW;
  /* Bias corrections in double: for beta2 near 1 and small t, float
   * 1 - beta2^t loses most of its digits. */
  bias1 = (float) (1.0 - pow (beta1, (double) optim->step));
  bias2 = (float) (1.0 - pow (beta2, (double) optim->step));
  decay = adamw ? 1.0f - lr * wd : 1.0f;

  for (gsize i = 0; i < optim->n_params; i++)
    {
      float g = grads[i];
      float m, v, m_hat, v_hat;

      if (!adamw && wd != 0.0f)
        g += wd * params[i];
      m = beta1 * optim->m[i] + (1.0f - beta1) * g;
      v = beta2 * optim->v[i] + (1.0f - beta2) * g * g;
      optim->m[i] = m;
      optim->v[i] = v;
      m_hat = m / bias1;
      v_hat = v / bias2;
      params[i] = params[i] * decay - lr * m_hat / (sqrtf (v_hat) + eps);
    }
  return TRUE;
}
