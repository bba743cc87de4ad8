/** `GET /api/v1/config`: what a client needs to build its pickers. No auth, no secrets. */
import { z } from 'zod';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import type { Config } from './config.js';

export interface ConfigRouteDeps {
  config: Config;
  version: string;
  contextWindow: (model: string) => number;
  mcpServers: () => Array<{ id: string; name: string; description: string; enabled: boolean }>;
  codeInterpreterAvailable: () => boolean;
  /** Whether password registration accepts an account now (the first account always may). */
  registrationOpen: () => Promise<boolean>;
}

const REASONING_MODEL = /(^|[^a-z])(o1|o3|o4|gpt-5)/i;

export const REASONING_LEVELS = [
  { value: 'none', label: 'None', isDefault: false },
  { value: 'low', label: 'Low', isDefault: false },
  { value: 'medium', label: 'Medium', isDefault: true },
  { value: 'high', label: 'High', isDefault: false },
];

export function supportsReasoning(model: string): boolean {
  return REASONING_MODEL.test(model);
}

const PublicConfigSchema = z.object({
  models: z.array(
    z.object({ value: z.string(), label: z.string(), isDefault: z.boolean(), supportsReasoning: z.boolean(), context_window: z.number().int() }),
  ),
  reasoning_levels: z.array(z.object({ value: z.string(), label: z.string(), isDefault: z.boolean() })),
  mcp_servers: z.array(z.object({ id: z.string(), name: z.string(), description: z.string(), enabled: z.boolean() })),
  max_file_size: z.number().int(),
  /** `IMPORT_MAX_BYTES` and `ALLOW_SHARING`, so a client can say what import and sharing allow. */
  max_import_size: z.number().int(),
  sharing: z.boolean(),
  code_interpreter: z.boolean(),
  auth_mode: z.enum(['none', 'jwt']),
  allow_registration: z.boolean(),
  password_login: z.boolean(),
  oidc: z.object({ enabled: z.boolean(), name: z.string().optional() }),
  version: z.string(),
});

export function registerConfigRoute(app: PulpFastify, deps: ConfigRouteDeps): void {
  const { config } = deps;
  app.get(`${API_PREFIX}/config`, { schema: { tags: ['config'], response: { 200: PublicConfigSchema } } }, async () => ({
    models: config.llm.models.map((m) => ({
      value: m,
      label: m,
      isDefault: m === config.llm.defaultModel,
      supportsReasoning: supportsReasoning(m),
      context_window: deps.contextWindow(m),
    })),
    reasoning_levels: REASONING_LEVELS,
    mcp_servers: deps.mcpServers(),
    max_file_size: config.maxUploadBytes,
    max_import_size: config.importMaxBytes,
    sharing: config.allowSharing,
    code_interpreter: deps.codeInterpreterAvailable(),
    auth_mode: config.auth.mode,
    allow_registration: await deps.registrationOpen(),
    password_login: config.auth.mode === 'jwt' && config.auth.passwordLogin,
    oidc: config.auth.oidc
      ? { enabled: true, ...(config.auth.oidc.name ? { name: config.auth.oidc.name } : {}) }
      : { enabled: false },
    version: deps.version,
  }));
}
