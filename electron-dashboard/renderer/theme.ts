/**
 * Light and dark: the system's preference unless the operator picked one (kept in localStorage:
 * a preference, not a secret). `data-theme` on <html> switches the CSS variables.
 */
const KEY = 'tandem-dashboard-theme';

export function applyTheme(theme = stored() ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')): void {
  document.documentElement.dataset.theme = theme;
}

export function toggleTheme(): void {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem(KEY, next);
  applyTheme(next);
}

function stored(): 'light' | 'dark' | undefined {
  const value = localStorage.getItem(KEY);
  return value === 'light' || value === 'dark' ? value : undefined;
}
