/**
 * The "Instructions" dialog of a chat: the chat's own system prompt (empty = Pulp's default), a
 * preset picker that applies a saved bundle (instructions, model, reasoning, MCP servers) to the
 * chat, and "Save as preset" for the chat's current settings. With no chat open, saving creates one.
 */
import { describeError, type ApiClient } from './api.js';
import { byId, ErrorBanner, h } from './dom.js';
import { PresetListSchema, PresetSchema, type Preset, type Session } from './protocol.js';

export const MAX_INSTRUCTIONS = 20_000;

export interface InstructionsActions {
  current(): Session | null;
  /** Applies settings to the open chat (PATCH), or creates a chat with them; false when it failed (the banner says why). */
  apply(settings: Record<string, unknown>, fromPreset: Preset | null): Promise<string | null>;
}

export class InstructionsPanel {
  readonly #dialog = byId<HTMLDialogElement>('instructions-dialog');
  readonly #text = byId<HTMLTextAreaElement>('instructions-text');
  readonly #count = byId('instructions-count');
  readonly #picker = byId<HTMLSelectElement>('preset-picker');
  readonly #presetName = byId<HTMLInputElement>('preset-name');
  readonly #live = byId('instructions-live');
  readonly #error = new ErrorBanner('instructions-error');
  #presets: Preset[] = [];

  constructor(
    private readonly api: ApiClient,
    private readonly actions: InstructionsActions,
  ) {
    byId('instructions-open').addEventListener('click', () => void this.open());
    byId('instructions-close').addEventListener('click', () => this.#dialog.close());
    this.#text.addEventListener('input', () => this.#counter());
    byId<HTMLFormElement>('instructions-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.#save();
    });
    byId('preset-apply').addEventListener('click', () => void this.#usePreset());
    byId<HTMLFormElement>('preset-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.#saveAsPreset();
    });
  }

  async open(): Promise<void> {
    this.#error.clear();
    this.#live.textContent = '';
    this.#text.value = this.actions.current()?.instructions ?? '';
    this.#counter();
    this.#dialog.showModal();
    this.#text.focus();
    await this.#loadPresets();
  }

  #counter(): void {
    this.#count.textContent = `${this.#text.value.length.toLocaleString()} / ${MAX_INSTRUCTIONS.toLocaleString()} characters`;
  }

  async #loadPresets(): Promise<void> {
    try {
      this.#presets = (await this.api.json('GET', '/presets', PresetListSchema)).presets;
    } catch (err) {
      this.#error.show(`Could not load your presets: ${describeError(err)}`);
      this.#presets = [];
    }
    // A preset chosen from the list shown while this one loaded stays chosen, if it still exists.
    const chosen = this.#picker.value;
    this.#picker.replaceChildren(
      h('option', { value: '' }, this.#presets.length === 0 ? 'No presets yet' : 'Choose a preset…'),
      ...this.#presets.map((p) => h('option', { value: p.id }, p.name)),
    );
    if (this.#presets.some((p) => p.id === chosen)) this.#picker.value = chosen;
  }

  async #save(): Promise<void> {
    this.#error.clear();
    const failure = await this.actions.apply({ instructions: this.#text.value }, null);
    if (failure) return this.#error.show(failure);
    this.#live.textContent = 'Instructions saved.';
    this.#dialog.close();
  }

  async #usePreset(): Promise<void> {
    this.#error.clear();
    const preset = this.#presets.find((p) => p.id === this.#picker.value);
    if (!preset) return this.#error.show('Choose a preset first.');
    const failure = await this.actions.apply(presetSettings(preset), preset);
    if (failure) return this.#error.show(failure);
    this.#text.value = preset.instructions;
    this.#counter();
    this.#live.textContent = `Preset "${preset.name}" applied to this chat.`;
  }

  async #saveAsPreset(): Promise<void> {
    this.#error.clear();
    const name = this.#presetName.value.trim();
    if (!name) return this.#error.show('Give the preset a name.');
    const session = this.actions.current();
    const body = {
      name,
      instructions: this.#text.value,
      ...(session ? { model: session.model, reasoning_effort: session.reasoning_effort, mcp_config: session.mcp_config } : {}),
    };
    try {
      const saved = await this.api.json('POST', '/presets', PresetSchema, body);
      this.#presetName.value = '';
      await this.#loadPresets();
      this.#picker.value = saved.id;
      this.#live.textContent = `Saved as preset "${saved.name}".`;
    } catch (err) {
      this.#error.show(`Could not save the preset: ${describeError(err)}`);
    }
  }
}

/** What a preset sets on an existing chat: its instructions, and each setting it does not leave to the default. */
export function presetSettings(p: Preset): Record<string, unknown> {
  return {
    instructions: p.instructions,
    ...(p.model !== null ? { model: p.model } : {}),
    ...(p.reasoning_effort !== null ? { reasoning_effort: p.reasoning_effort } : {}),
    ...(p.mcp_config !== null ? { mcp_config: p.mcp_config } : {}),
  };
}
