/** The model picker and the MCP server checkboxes of the open session, filled from `/config`. */
import { h } from './dom.js';
import type { PublicConfig, Session } from './protocol.js';

export interface PickerActions {
  setModel(model: string): void;
  setMcp(names: string[]): void;
}

export class Pickers {
  constructor(
    private readonly model: HTMLSelectElement,
    private readonly mcp: HTMLFieldSetElement,
    private readonly mcpList: HTMLElement,
    private readonly actions: PickerActions,
  ) {
    model.addEventListener('change', () => actions.setModel(model.value));
  }

  /** Fills both pickers from the server's config (once, at startup). */
  configure(config: PublicConfig): void {
    this.model.replaceChildren(...config.models.map((m) => h('option', { value: m.value }, `${m.label} (${Math.round(m.context_window / 1000)}k)`)));
    this.mcpList.replaceChildren(
      ...config.mcp_servers.map((server) => {
        const box = h('input', { type: 'checkbox', value: server.name, 'data-testid': 'mcp-option', disabled: !server.enabled });
        box.addEventListener('change', () => this.actions.setMcp(this.#checked()));
        return h('label', { class: 'check', title: server.description }, box, ` ${server.name}`);
      }),
    );
    if (config.mcp_servers.length === 0) this.mcpList.append(h('span', { class: 'empty' }, 'No MCP servers configured.'));
  }

  /** Shows the session's choices; disabled when no session is open. */
  show(session: Session | null): void {
    this.model.disabled = session === null;
    this.mcp.disabled = session === null;
    if (!session) return;
    if (![...this.model.options].some((o) => o.value === session.model)) {
      // A session may use a model the server no longer lists; show it rather than pretend.
      this.model.append(h('option', { value: session.model }, `${session.model} (not offered)`));
    }
    this.model.value = session.model;
    const enabled = new Set(session.mcp_config ?? []);
    for (const box of this.mcpList.querySelectorAll<HTMLInputElement>('input[type=checkbox]')) box.checked = enabled.has(box.value);
  }

  #checked(): string[] {
    return [...this.mcpList.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')].map((b) => b.value);
  }
}
