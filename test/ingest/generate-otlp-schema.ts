/**
 * Generates src/otlp/otlp-metrics.json — the OTLP metrics service and google.rpc.Status as a
 * protobufjs JSON descriptor — from the .proto files under src/otlp/proto/, with protobufjs's own
 * API (`Root.loadSync` + `toJSON`). The runtime then needs neither the .proto files (tsc does not
 * copy them to dist/) nor protobufjs's parser.
 *
 *   node test/ingest/generate-otlp-schema.ts          # rewrites src/otlp/otlp-metrics.json
 *
 * test/ingest/otlp-codec.test.ts regenerates the text and compares it with the committed file, so
 * the two cannot drift.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PROTO_DIR = path.join(ROOT, 'src/otlp/proto');
export const SCHEMA_FILE = path.join(ROOT, 'src/otlp/otlp-metrics.json');

/** The entry files; everything they import comes along. */
export const PROTO_ENTRIES = [
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'google/rpc/status.proto',
] as const;

/** The descriptor of every type the entries define or import, as protobufjs serialises it. */
export function buildDescriptor(): protobuf.INamespace {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
  root.loadSync([...PROTO_ENTRIES], { keepCase: false });
  root.resolveAll();
  return root.toJSON({ keepComments: false });
}

/** The text of src/otlp/otlp-metrics.json. */
export function renderSchemaFile(): string {
  return `${JSON.stringify(buildDescriptor(), null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, renderSchemaFile());
  process.stdout.write(`wrote ${path.relative(ROOT, SCHEMA_FILE)}\n`);
}
