/**
 * The endpoint's text scrape as the A/B drivers time it (scrape-changed-ab.ts, ingest-scrape-ab.ts):
 * the families of one scrape, then `buildMetricsResponse` with the endpoint's render memos into its
 * `BodyStore`, each from the checkout being timed (`root`), so one driver times an older tree.
 */
import { pathToFileURL } from 'node:url';

/** What one timed scrape took, ms: [whole, families, body]. */
export type ScrapeTimes = [number, number, number];

/** A timer of `families` (e.g. `jm.scrape`) served as a text scrape by `root`'s endpoint. */
export async function endpointScrape(
  root: string,
  families: () => Promise<unknown>,
): Promise<() => Promise<ScrapeTimes>> {
  const load = (p: string) => import(pathToFileURL(`${root}/${p}`).href);
  const { BodyStore } = await load('src/http/body-store.ts');
  const { buildMetricsResponse, RenderMemos, variantOf } = await load(
    'src/http/metrics-response.ts',
  );
  const store = new BodyStore();
  const memos = new RenderMemos();
  const request = { accept: 'text/plain;version=0.0.4', acceptEncoding: undefined };
  return async () => {
    const t0 = performance.now();
    const made = await families();
    const t1 = performance.now();
    // A tree without `variantOf` takes the request and the format and negotiates itself.
    const variant =
      variantOf === undefined ? [request, 'negotiate'] : [variantOf(request, 'negotiate')];
    const r = await buildMetricsResponse(store, made, ...variant, undefined, 1, memos);
    const t2 = performance.now();
    r.done?.();
    return [t2 - t0, t1 - t0, t2 - t1];
  };
}

/** `xs`' median (min–max), ms. */
export function medianRange(xs: readonly number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[s.length >> 1]!.toFixed(2)} (${s[0]!.toFixed(2)}–${s[s.length - 1]!.toFixed(2)})`;
}
