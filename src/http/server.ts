/**
 * The Fastify instance with everything that is not a feature: request ids in every log line and
 * response, the error envelope for every failure (404, 405, validation, crashes), body limits,
 * zod validation, OpenAPI, and request metrics. Feature modules add their routes to it.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { AppError } from '../errors/app-error.js';
import type { Metrics } from '../observability/metrics.js';
import { answerClientError, sendError } from './error-envelope.js';
import { refuseUnstorableText } from './storable-text.js';
import { terminateStuckSocketsOnClose } from './closing-sockets.js';
import { createHostCheck, type HostCheckOptions } from './host-check.js';
import { RouteTable } from './method-not-allowed.js';
import { genReqId } from './request-id.js';
import '../auth/request-user.js';

export const JSON_BODY_LIMIT = 1024 * 1024;
export const API_PREFIX = '/api/v1';

export interface HttpServerOptions {
  logger: Logger;
  metrics: Metrics;
  debug: boolean;
  version: string;
  /** Which Host and Origin values are this server's own (see host-check.ts); loopback only when unset. */
  network?: HostCheckOptions;
}

export type PulpFastify = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  import('fastify').FastifyBaseLogger,
  ZodTypeProvider
>;

export async function createHttpServer(options: HttpServerOptions): Promise<PulpFastify> {
  // Typed as Fastify's logger so the instance's type is PulpFastify, not one specialised to pino.
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance,
    genReqId,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    bodyLimit: JSON_BODY_LIMIT,
    return503OnClosing: true,
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // Errors raised before routing (a bad URL, an overlong parameter) get the envelope too.
    frameworkErrors: (err, request, reply) => {
      void sendError(err, request, reply, options.debug);
    },
    clientErrorHandler: answerClientError,
  }).withTypeProvider<ZodTypeProvider>();

  app.decorateRequest('user', null);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body on a JSON route is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');

  const routes = new RouteTable();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onRequest', createHostCheck(options.network ?? {}));
  app.addHook('preValidation', refuseUnstorableText);
  terminateStuckSocketsOnClose(app);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    options.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    options.metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request done');
  });

  app.setErrorHandler((err, request, reply) => sendError(err, request, reply, options.debug));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const allowed = routes.allowedMethods(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', allowed.join(', '));
      return sendError(new AppError('RES_3005', `Method ${request.method} is not allowed here; use ${allowed.join(', ')}.`), request, reply, options.debug);
    }
    return sendError(new AppError('RES_3001', `No route for ${request.method} ${path}.`), request, reply, options.debug);
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Pulp API', description: 'Self-hosted AI agent chat server', version: options.version },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: `${API_PREFIX}/docs` });
  app.get(`${API_PREFIX}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());

  return app;
}
