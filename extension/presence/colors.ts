/**
 * One colour per participant, the same in every window (derived from the user id), readable on
 * light and dark themes. Eight hues, spread so that two or three people rarely share one.
 */
const PALETTE = ['#e5534b', '#2f81f7', '#3fb950', '#d29922', '#a371f7', '#db61a2', '#39c5cf', '#f0883e'];

export function colorFor(userId: string): string {
  let hash = 2166136261;
  for (let i = 0; i < userId.length; i++) hash = Math.imul(hash ^ userId.charCodeAt(i), 16777619);
  return PALETTE[(hash >>> 0) % PALETTE.length]!;
}

/** The colour with an alpha channel (selection backgrounds). */
export function withAlpha(color: string, alpha: number): string {
  return `${color}${Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0')}`;
}
