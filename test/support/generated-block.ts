/**
 * A generated block in a document, between a start and an end marker: replaced whole by the
 * scripts that generate it, compared whole by the tests that keep it current.
 */
export function replaceBlock(
  doc: string,
  start: string,
  end: string,
  content: string,
  where: string,
): string {
  const s = doc.indexOf(start);
  const e = doc.indexOf(end);
  if (s === -1 || e === -1 || e < s) throw new Error(`${where}: markers ${start} … ${end} missing`);
  return doc.slice(0, s) + start + '\n' + content + '\n' + doc.slice(e);
}
