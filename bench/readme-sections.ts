/**
 * The generated sections of bench/README.md: a scenario's tables sit between
 * `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`. run.ts rewrites them;
 * scripts/bench-pictures/ reads them back.
 */

/** The section's markers, and where its body lies (after the start marker, up to the end one); undefined when they are missing or out of order. */
export function sectionOf(
  readme: string,
  name: string,
):
  | { readonly start: string; readonly end: string; readonly from: number; readonly to: number }
  | undefined {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i === -1 || j === -1 || j < i) return undefined;
  return { start, end, from: i + start.length, to: j };
}
