/**
 * What the browser remembers between visits, in `localStorage`: the theme, whether the file panel
 * is open, and a draft per chat (`new` for the chat not created yet). Storage that throws (private
 * mode, quota) is treated as empty: a preference is never worth an error.
 */

export type Theme = 'system' | 'light' | 'dark';

const THEME_KEY = 'pulp.theme';
const FILES_KEY = 'pulp.files-open';
const DRAFT_PREFIX = 'pulp.draft.';
/** The draft of the chat that is created by its first message. */
export const NEW_CHAT_DRAFT = 'new';

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Storage full or disabled: the preference lasts for this page only.
  }
}

export function loadTheme(): Theme {
  const theme = read(THEME_KEY);
  return theme === 'light' || theme === 'dark' ? theme : 'system';
}

/** Applies the theme to the page (`<html data-theme>`) and remembers it. */
export function applyTheme(theme: Theme, remember = true): void {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  if (remember) write(THEME_KEY, theme === 'system' ? null : theme);
}

/** Whether the file panel is open; by default it is on wide screens and not on narrow ones. */
export function loadFilesOpen(narrow: boolean): boolean {
  const saved = read(FILES_KEY);
  return saved === null ? !narrow : saved === 'true';
}

export function saveFilesOpen(open: boolean): void {
  write(FILES_KEY, String(open));
}

export function loadDraft(chat: string): string {
  return read(DRAFT_PREFIX + chat) ?? '';
}

/** Saves a draft; an empty one is removed. */
export function saveDraft(chat: string, text: string): void {
  write(DRAFT_PREFIX + chat, text.trim() === '' ? null : text);
}
