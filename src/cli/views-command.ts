/**
 * `jobmeter views --profile P [--config FILE] [--otlp URL]`: prints the OpenTelemetry declarative configuration
 * file (profile-views.ts) a foreign SDK loads (`OTEL_CONFIG_FILE`) to record jobmeter's canonical
 * instruments with the profile's buckets and attribute allow-lists, pushing to `--otlp` (the
 * Collector that runs `jobmeter collector-config --profile P`).
 */
import { stringify } from 'yaml';

import { commandProfile, profileCommandFlags, storeUrl } from './collector-config-command.ts';
import { viewsConfigFile } from './profile-views.ts';
import { profileCatalog } from '../jobmeter-views.ts';

const DEFAULT_OTLP_URL = 'http://127.0.0.1:4318/v1/metrics';

export const VIEWS_USAGE = `       jobmeter views --profile NAME [--config FILE] [--otlp URL]`;

export const VIEWS_HELP = `views prints an OpenTelemetry configuration file (meter_provider: an OTLP/HTTP reader and the views)
for a Go, Rust, Java or Node SDK recording jobmeter's canonical instruments:
  --profile NAME         as collector-config's, or otel (the native names: the catalog's buckets and
                         attributes, for a Collector that renames nothing), or semconv (the same, the
                         semantic conventions' instruments in place of those they name)
  --config FILE          as collector-config's: the file's [[profile.rules]] get views too
  --otlp URL             where the SDK pushes (default ${DEFAULT_OTLP_URL})`;

/** The command's arguments → the text it prints (without a final newline). @throws ConfigError, or parseArgs' errors. */
export async function viewsCommand(args: readonly string[]): Promise<string> {
  const values = profileCommandFlags(args, {});
  if (values.help === true) return `Usage: ${VIEWS_USAGE.trimStart()}\n\n${VIEWS_HELP}`;
  // The native names need no compiling, but a sender still needs the catalog's buckets (semconv's:
  // the conventions' instruments it records in place of the canonical ones they name).
  const native =
    (values.profile === 'otel' || values.profile === 'semconv') && values.config === undefined
      ? values.profile
      : undefined;
  const profile =
    native === undefined
      ? await commandProfile(values.profile, values.config)
      : { name: native, native: profileCatalog(native).domain };
  const { name } = profile;
  const endpoint = storeUrl('--otlp', values.otlp) ?? DEFAULT_OTLP_URL;
  const header = `# OpenTelemetry configuration file for jobmeter's ${name} profile, from: jobmeter views --profile ${name}${values.config === undefined ? '' : ` --config ${values.config}`}`;
  const text = stringify(viewsConfigFile(profile, endpoint), { lineWidth: 0 });
  return `${header}\n${text}`.replace(/\n$/, '');
}
