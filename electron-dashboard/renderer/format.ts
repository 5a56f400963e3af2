/** Numbers with their units, the way the panels show them. Pure: tested in test/dashboard/format.test.ts. */

const DASH = '–';

export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${unit === 0 ? scaled : scaled.toFixed(scaled < 10 ? 1 : 0)} ${units[unit]}`;
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

export function percent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined) return DASH;
  return `${value.toFixed(digits)} %`;
}

/** A ratio (0..1) as a percentage. */
export function ratio(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : percent(value * 100, 2);
}

export function perSecond(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} /s`;
}

export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : Math.round(value).toLocaleString('en-US');
}

/** A duration in seconds, coarsely: `42 s`, `7 min`, `3 h 12 min`, `2 d 4 h`. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return DASH;
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}
