/**
 * `jobmeter/http`: the metrics route on a host's own server — the fastify plugin, the node:http
 * handler, the Express / connect middleware — and the auth postures they mount it behind.
 * Importing it loads no fastify (an optional peer): the plugin uses fastify's types only.
 */
import { refuseUnsupportedNode } from './common/node-support.ts';

refuseUnsupportedNode();
export { jobmeterMetrics } from './http/plugin.ts';
export type { JobmeterMetricsPlugin } from './http/plugin.ts';
export { createMetricsHandler, createMetricsMiddleware } from './http/node-handler.ts';
export type { MetricsHandler, MetricsMiddleware } from './http/node-handler.ts';
export { describeMetricsRoute } from './http/route-options.ts';
export type {
  ApiKey,
  JobmeterMetricsOptions,
  MetricsRouteInfo,
  MetricsSource,
} from './http/route-options.ts';
export { setAccessLogTenant } from './http/access-log.ts';
export type { AccessLogOptions, LineSink } from './http/access-log.ts';
export { POSTURES, POSTURE_NAMES } from './common/postures.ts';
export type { DenyStatus, GateKind, Posture, PostureName } from './common/postures.ts';
