/**
 * The `[ingest]` gate keys beyond the file's shape (file-layer.ts): merged across layers as
 * `[metrics]`' are — a value and the file holding it (`token` / `token_file`, `api_keys` /
 * `api_keys_file`) are one setting, a higher layer setting either replaces both — and the files
 * read, once merged, into the library's `ingest.token` / `ingest.apiKeys` (http/ingest-gate.ts
 * checks them). The same readers as `[metrics]`' (metrics-section.ts): the same file formats, and
 * errors that name the key and the file, never a secret.
 */
import { readApiKeysFile, readTokenFile } from './metrics-section.ts';
import type { IngestConfig } from './service-config.ts';

/**
 * `ingest` with its secret files read into `token` and `apiKeys` (the file keys removed).
 * @throws ConfigError naming `ingest.token_file` / `ingest.api_keys_file` and the path.
 */
export async function readIngestSecrets(ingest: Readonly<IngestConfig>): Promise<IngestConfig> {
  const { tokenFile, apiKeysFile, ...out } = ingest;
  if (tokenFile !== undefined) out.token = await readTokenFile(tokenFile, 'ingest.token_file');
  if (apiKeysFile !== undefined)
    out.apiKeys = await readApiKeysFile(apiKeysFile, 'ingest.api_keys_file');
  return out;
}
