/** `/api/v1/admin/users`: list and search accounts, change role, `disabled` or budgets, delete. Administrators only. */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { requireUser, userOf } from '../auth/request-user.js';
import type { Authenticate } from '../auth/types.js';
import { AppError } from '../errors/app-error.js';
import type { Budgets } from '../config/config.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import { EffectiveBudgetsSchema, effectiveBudgets, QuotaOverrideSchema } from '../usage/budgets.js';
import type { AdminUser, UserAdmin } from './user-admin.js';

export const AdminUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  display_name: z.string().nullable(),
  role: z.enum(['admin', 'user']),
  disabled: z.boolean(),
  created_at: z.string(),
  session_count: z.number().int(),
  /** The budget overrides an administrator set; absent keys take the defaults. */
  quota: QuotaOverrideSchema,
  /** The budgets that apply: the defaults with the overrides on top (null: none). */
  budgets: EffectiveBudgetsSchema,
});
const ListQuerySchema = z.object({
  q: z.string().trim().max(200).optional(),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
const ParamsSchema = z.object({ id: z.string().min(1).max(100) });
const PatchBodySchema = z
  .object({ role: z.enum(['admin', 'user']).optional(), disabled: z.boolean().optional(), quota: QuotaOverrideSchema.optional() })
  .strict()
  .refine((b) => b.role !== undefined || b.disabled !== undefined || b.quota !== undefined, { message: 'give role, disabled or quota' });
const PaginationSchema = z.object({ total_count: z.number().int(), offset: z.number().int(), limit: z.number().int(), has_more: z.boolean() });


/** An onRequest hook, after `requireUser`: 403 AUTH_1004 unless the caller is an administrator. */
export async function requireAdmin(request: FastifyRequest): Promise<void> {
  if (userOf(request).role !== 'admin') throw new AppError('AUTH_1004', 'Administrators only.');
}

export function registerAdminRoutes(app: PulpFastify, deps: { authenticate: Authenticate; users: UserAdmin; budgets: Budgets }): void {
  const wire = (u: AdminUser) => ({ ...u, created_at: u.created_at.toISOString(), budgets: effectiveBudgets(deps.budgets, u.quota) });
  const tags = ['admin'];
  const security = [{ bearer: [] }];
  const onRequest = [requireUser(deps.authenticate), requireAdmin];
  const base = `${API_PREFIX}/admin/users`;

  app.get(
    base,
    {
      onRequest,
      schema: { tags, security, querystring: ListQuerySchema, response: { 200: z.object({ users: z.array(AdminUserSchema), pagination: PaginationSchema }) } },
    },
    async (request) => {
      const { q, offset, limit } = request.query;
      const { users, total } = await deps.users.list({ q: q === '' ? undefined : q, offset, limit });
      return { users: users.map(wire), pagination: { total_count: total, offset, limit, has_more: offset + users.length < total } };
    },
  );
  app.get(
    `${base}/:id`,
    { onRequest, schema: { tags, security, params: ParamsSchema, response: { 200: AdminUserSchema } } },
    async (request) => wire(await deps.users.get(request.params.id)),
  );
  app.patch(
    `${base}/:id`,
    { onRequest, schema: { tags, security, params: ParamsSchema, body: PatchBodySchema, response: { 200: AdminUserSchema } } },
    async (request) => wire(await deps.users.update(request.params.id, request.body)),
  );
  app.delete(
    `${base}/:id`,
    { onRequest, schema: { tags, security, params: ParamsSchema, response: { 204: z.null() } } },
    async (request, reply) => {
      await deps.users.remove(request.params.id);
      return reply.code(204).send(null);
    },
  );
}
