/**
 * REST for clients without a socket: `GET /api/v1/sessions/{id}/approvals` (the calls waiting for a
 * person) and `POST /api/v1/sessions/{id}/approvals/{tool_call_id}` (decide one). Another user's
 * session is 404; a call already decided is 409 RES_3061.
 */
import { z } from 'zod';
import { requireUser, userOf } from '../auth/request-user.js';
import type { Authenticate } from '../auth/types.js';
import { AppError } from '../errors/app-error.js';
import { API_PREFIX, type PulpFastify } from '../http/server.js';
import type { FindOwnedSession } from '../sessions/types.js';
import type { ApprovalService } from './approval-service.js';
import type { ApprovalRow } from './store.js';

export const ApprovalSchema = z.object({
  tool_call_id: z.string(),
  turn_id: z.string(),
  tool_name: z.string(),
  tool_arguments: z.record(z.string(), z.unknown()),
  status: z.enum(['pending', 'approved', 'denied', 'expired', 'interrupted']),
  decided_by: z.string().nullable(),
  decided_at: z.string().nullable(),
  reason: z.string().nullable(),
  created_at: z.string(),
  expires_at: z.string(),
});

export const DecisionBodySchema = z.strictObject({
  decision: z.enum(['approve', 'deny']),
  reason: z.string().max(2000).optional(),
  always: z.boolean().optional(),
});

const ParamsSchema = z.object({ session_id: z.string().max(100) });
const CallParamsSchema = ParamsSchema.extend({ tool_call_id: z.string().min(1).max(200) });

export function toApproval(row: ApprovalRow): z.infer<typeof ApprovalSchema> {
  return {
    tool_call_id: row.tool_call_id,
    turn_id: row.turn_id,
    tool_name: row.tool_name,
    tool_arguments: row.arguments,
    status: row.status,
    decided_by: row.decided_by,
    decided_at: row.decided_at === null ? null : new Date(row.decided_at).toISOString(),
    reason: row.reason,
    created_at: new Date(row.created_at).toISOString(),
    expires_at: new Date(row.expires_at).toISOString(),
  };
}

export interface ApprovalRouteDeps {
  authenticate: Authenticate;
  findOwnedSession: FindOwnedSession;
  approvals: ApprovalService;
}

export function registerApprovalRoutes(app: PulpFastify, deps: ApprovalRouteDeps): void {
  const tags = ['sessions'];
  const security = [{ bearer: [] }];
  const onRequest = requireUser(deps.authenticate);
  const owned = async (userId: string, id: string) => {
    const session = await deps.findOwnedSession(userId, id);
    if (!session) throw new AppError('SES_4001', 'Session not found.');
    return session;
  };

  app.get(
    `${API_PREFIX}/sessions/:session_id/approvals`,
    { onRequest, schema: { tags, security, params: ParamsSchema, response: { 200: z.object({ approvals: z.array(ApprovalSchema) }) } } },
    async (request) => {
      const session = await owned(userOf(request).id, request.params.session_id);
      return { approvals: (await deps.approvals.pending(session.id)).map(toApproval) };
    },
  );

  app.post(
    `${API_PREFIX}/sessions/:session_id/approvals/:tool_call_id`,
    { onRequest, schema: { tags, security, params: CallParamsSchema, body: DecisionBodySchema, response: { 200: ApprovalSchema } } },
    async (request) => {
      const user = userOf(request);
      const session = await owned(user.id, request.params.session_id);
      const { decision, reason, always } = request.body;
      return toApproval(await deps.approvals.decide(session, request.params.tool_call_id, { decision, by: user.email, reason, always }));
    },
  );
}
