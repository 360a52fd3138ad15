/**
 * The main server's own route: `GET /health`. A metrics route mounted on the main server may not
 * take its path (config/metrics-section.ts refuses it, naming the key that asked for it).
 */
export const HEALTH_PATH = '/health';
