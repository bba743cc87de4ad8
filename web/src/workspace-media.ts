/**
 * Images and documents of the open chat's workspace, shown inside the transcript: thumbnails
 * of the images a tool wrote (click to enlarge), Markdown images whose source is a workspace
 * path, and search sources that open their file. Every byte comes through the authenticated
 * files API as a blob URL; nothing outside the session's `input/` and `output/` is ever loaded.
 */
import type { ApiClient } from './api.js';
import { h } from './dom.js';

const IMAGE = /\.(png|jpe?g|gif|webp)$/i;
/** `output/plot.png`, `./output/plot.png`, `/workspace/output/plot.png`, `sandbox:/output/plot.png`. */
const WORKSPACE_PATH = /^(?:sandbox:)?(?:\/workspace\/|\.\/|\/)?((?:input|output)\/[^?#]+)$/;
/** Files larger than this are not shown in the page (they stay downloads). */
const MAX_IMAGE_BYTES = 50 * 1024 * 1024;

interface Binding {
  api: ApiClient;
  sessionId: () => string | null;
}

let binding: Binding | undefined;

/** Called once by the chat app: the files API and the open chat. */
export function bindWorkspaceMedia(api: ApiClient, sessionId: () => string | null): void {
  binding = { api, sessionId };
}

/** The workspace path (`output/a.png`) a Markdown image or link names, or undefined for anything else. */
export function workspacePathOf(src: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(src.trim());
  } catch {
    return undefined;
  }
  const path = WORKSPACE_PATH.exec(decoded)?.[1];
  if (!path || path.split('/').some((s) => s === '..' || s === '.' || s === '')) return undefined;
  return path;
}

/** Types a blob URL may keep: a blob URL runs in this page's origin, so HTML or SVG never may. */
const SHOWN_AS_IS = /^(application\/pdf|image\/(png|jpeg|gif|webp)|text\/plain)(;|$)/;

async function blobUrl(path: string): Promise<string> {
  const id = binding?.sessionId();
  if (!binding || !id) throw new Error('no chat is open');
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  const res = await binding.api.send(`/sessions/${encodeURIComponent(id)}/files/${encoded}`, { method: 'GET' });
  const blob = await res.blob();
  if (blob.size > MAX_IMAGE_BYTES) throw new Error('too large to show');
  return URL.createObjectURL(SHOWN_AS_IS.test(blob.type) ? blob : new Blob([blob], { type: 'text/plain;charset=utf-8' }));
}

/** Shows an image full size in a dialog that closes on click or Escape. */
function enlarge(src: string, alt: string): void {
  const dialog = h('dialog', { class: 'image-viewer', 'data-testid': 'image-viewer' }, h('img', { src, alt }));
  dialog.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

/** Loads `img` from the workspace path in its `data-workspace-path`; click enlarges it. */
function hydrate(img: HTMLImageElement): void {
  const path = img.dataset.workspacePath;
  if (!path || img.dataset.loading) return;
  img.dataset.loading = 'true';
  blobUrl(path).then(
    (url) => {
      img.src = url;
      img.addEventListener('click', () => enlarge(url, img.alt));
    },
    () => img.replaceWith(h('span', { class: 'image-missing' }, `[image ${path} not available]`)),
  );
}

/** Loads every workspace image in freshly rendered Markdown. */
export function hydrateWorkspaceImages(root: HTMLElement): void {
  for (const img of root.querySelectorAll<HTMLImageElement>('img[data-workspace-path]')) hydrate(img);
}

/** Thumbnails of the images among `paths` (workspace paths), or null when there are none. */
export function thumbnails(paths: readonly string[]): HTMLElement | null {
  const images = [...new Set(paths.filter((p) => IMAGE.test(p) && workspacePathOf(p) !== undefined))];
  if (images.length === 0) return null;
  const strip = h('div', { class: 'tool-images', 'data-testid': 'tool-images' });
  for (const path of images) {
    const img = h('img', { class: 'thumbnail', alt: path.split('/').pop() ?? path, title: `${path} (click to enlarge)`, 'data-workspace-path': path, 'data-testid': 'tool-image' });
    strip.append(img);
    hydrate(img);
  }
  return strip;
}

/** Opens a workspace file in a new tab (PDFs at their page). */
export function openWorkspaceFile(path: string, page?: number | null): void {
  // Opened at once (a popup blocker allows it during the click), filled when the file arrives.
  const tab = window.open('', '_blank');
  blobUrl(path).then(
    (url) => {
      if (tab) tab.location.href = page ? `${url}#page=${page}` : url;
    },
    () => tab?.close(),
  );
}
