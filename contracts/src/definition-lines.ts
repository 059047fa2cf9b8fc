/**
 * Where in the definition file a problem is: the line of the deepest key of a path that exists
 * (the key itself, not its value, so `env:` names its own line even when its map starts below).
 * Pure: works on a parsed yaml Document and its LineCounter.
 */
import { type Document, LineCounter, isMap, isScalar, type Node, parseDocument } from 'yaml';

type PathSegment = string | number;

function lineAt(lc: LineCounter, node: Node | null | undefined): number | undefined {
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : lc.linePos(offset).line;
}

/**
 * 1-based line of the deepest existing key along `segments` (e.g. ['functions', 'hello', 'env',
 * 'X']); undefined when not even the first key exists.
 */
export function lineOfPath(doc: Document, lc: LineCounter, segments: readonly PathSegment[]): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined;
  for (const seg of segments) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
    if (!pair) break;
    line = lineAt(lc, pair.key as Node) ?? line;
    node = pair.value;
  }
  return line;
}

/** Line lookups over a definition file's text (for problems found after parsing, e.g. on disk). */
export function lineFinder(text: string): (segments: readonly PathSegment[]) => number | undefined {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  return (segments) => lineOfPath(doc, lc, segments);
}
