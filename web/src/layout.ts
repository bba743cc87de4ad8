/**
 * The page's frame: the sidebar as a drawer on narrow screens (a menu button opens it, Escape, the
 * backdrop or opening a chat closes it), the collapsible file panel, and the theme switch
 * (system, light, dark; remembered).
 */
import { byId } from './dom.js';
import { applyTheme, loadFilesOpen, loadTheme, saveFilesOpen, type Theme } from './prefs.js';

/** Below this width the sidebar is a drawer and the file panel an overlay (matches styles.css). */
export const NARROW_QUERY = '(max-width: 48rem)';

export class Layout {
  readonly #menu = byId<HTMLButtonElement>('menu-button');
  readonly #sidebar = byId('sidebar');
  readonly #backdrop = byId('drawer-backdrop');
  readonly #filesToggle = byId<HTMLButtonElement>('files-toggle');
  readonly #files = byId('file-panel');
  readonly #narrow = window.matchMedia(NARROW_QUERY);

  constructor() {
    this.#menu.addEventListener('click', () => this.setDrawer(!this.drawerOpen));
    byId('drawer-close').addEventListener('click', () => this.setDrawer(false, true));
    this.#backdrop.addEventListener('click', () => {
      this.setDrawer(false);
      this.setFiles(false);
    });
    this.#filesToggle.addEventListener('click', () => this.setFiles(!this.filesOpen, true));
    byId('files-close').addEventListener('click', () => {
      this.setFiles(false, true);
      this.#filesToggle.focus();
    });
    this.#narrow.addEventListener('change', () => {
      // Turning into a phone-sized window: nothing covers the chat until asked for.
      if (this.narrow) {
        document.body.dataset.drawer = 'closed';
        this.setFiles(false);
      } else this.setFiles(loadFilesOpen(false));
    });
    this.setFiles(loadFilesOpen(this.#narrow.matches));

    const picker = byId<HTMLSelectElement>('theme-picker');
    picker.value = loadTheme();
    picker.addEventListener('change', () => applyTheme(picker.value as Theme));
  }

  get narrow(): boolean {
    return this.#narrow.matches;
  }

  get drawerOpen(): boolean {
    return document.body.dataset.drawer === 'open';
  }

  get filesOpen(): boolean {
    return !this.#files.classList.contains('collapsed');
  }

  /** Opens or closes the drawer (only meaningful on narrow screens); focus goes into it, and back to the menu button. */
  setDrawer(open: boolean, returnFocus = false): void {
    if (open) this.setFiles(false);
    document.body.dataset.drawer = open ? 'open' : 'closed';
    this.#apply();
    if (open && this.narrow) byId('new-session').focus();
    else if (returnFocus) this.#menu.focus();
  }

  setFiles(open: boolean, remember = false): void {
    this.#files.classList.toggle('collapsed', !open);
    this.#filesToggle.setAttribute('aria-expanded', String(open));
    if (open && this.narrow) document.body.dataset.drawer = 'closed';
    if (remember) saveFilesOpen(open);
    this.#apply();
  }

  /** Closes whatever overlays the chat on a narrow screen; true when something was open. */
  closeOverlays(): boolean {
    if (!this.narrow) return false;
    const wasOpen = this.drawerOpen || this.filesOpen;
    if (this.drawerOpen) this.setDrawer(false, true);
    if (this.filesOpen) this.setFiles(false);
    return wasOpen;
  }

  #apply(): void {
    const narrow = this.narrow;
    const drawer = narrow && this.drawerOpen;
    this.#menu.setAttribute('aria-expanded', String(drawer));
    // A closed drawer is out of the tab order and hidden from screen readers.
    this.#sidebar.inert = narrow && !drawer;
    this.#backdrop.hidden = !(drawer || (narrow && this.filesOpen));
    document.body.dataset.files = this.filesOpen ? 'open' : 'closed';
  }
}
