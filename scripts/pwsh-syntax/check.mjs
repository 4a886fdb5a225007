// PowerShell syntax check for CI, where no PowerShell is installed.
//
//   node check.mjs FILE...
//
// Parses each FILE with the tree-sitter PowerShell grammar (npm package
// tree-sitter-powershell, its prebuilt .wasm run by web-tree-sitter, so no
// compiler or native build is needed). For each ERROR or MISSING node it
// prints `FILE:LINE:COL: syntax error near '<text>'` and the exit status is 1;
// a file without any prints `FILE: ok`. This checks syntax only: it does not
// know cmdlets, types or variables, and a grammar is not the real parser, so a
// pass is not a proof. Usually called as scripts/check-powershell.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import { Language, Parser } from 'web-tree-sitter';

// Run the grammar's WebAssembly with V8's baseline compiler only: otherwise
// V8 optimises the grammar's huge parse function in the background, and node
// waits ~10 s for that before it exits.
v8.setFlagsFromString('--liftoff-only');

const require = createRequire(import.meta.url);
await Parser.init();
const parser = new Parser();
parser.setLanguage(await Language.load(
  require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm')));

// An ERROR made of nothing but a line break: the parser's leftovers of an
// error next to it, not worth a line of its own.
const blank = (n) => n.isError && n.childCount === 0 && !n.text.trim();

// The innermost ERROR nodes and every MISSING node. An ERROR that wraps other
// errors is left out: its start is usually far from the mistake.
function* errors(node) {
  if (node.isMissing) { yield node; return; }
  const inner = node.children.filter((c) => (c.hasError || c.isMissing) && !blank(c));
  if (node.isError && inner.length === 0) yield node;
  for (const child of inner) yield* errors(child);
}

// Where to point and what to quote. An ERROR often starts with a well-formed
// part (a whole statement, say) and then the token that did not fit: point at
// its first single token. A MISSING node is empty: quote the source where the
// token was expected, and give the line of the bracket it would close.
const OPENER = { '}': '{', ')': '(', ']': '[' };
function describe(node, source) {
  const at = (node.isError && node.children.find((c) => c.childCount === 0)) || node;
  const { row, column } = at.startPosition;
  const rest = source.slice(at.startIndex);
  const text = (at.isMissing ? rest.split('\n')[0] : at.text).trim().split('\n')[0].trim();
  let near = !rest.trim() ? '<end of file>' : !text ? '<end of line>'
    : text.length > 40 ? text.slice(0, 40) + '...' : text;
  near = `'${near}'`;
  if (at.isMissing && OPENER[at.type]) {
    const before = at.parent.children.filter((c) => c.endIndex <= at.startIndex);
    const open = before.reverse().find((c) => c.type === OPENER[at.type]) ?? at.parent;
    near += ` (missing '${at.type}' for line ${open.startPosition.row + 1})`;
  } else if (at.isMissing) near += ` (missing '${at.type}')`;
  return `${row + 1}:${column + 1}: syntax error near ${near}`;
}

if (process.argv.length < 3) {
  console.error('usage: node check.mjs FILE...');
  process.exit(2);
}
let failed = false;
for (const file of process.argv.slice(2)) {
  let source;
  try {
    source = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    console.log(`${file}: cannot read: ${err.message}`);
    failed = true;
    continue;
  }
  const tree = parser.parse(source);
  const found = [...errors(tree.rootNode)];
  // Should the filters above leave nothing of a tree with errors, still fail.
  if (found.length === 0 && tree.rootNode.hasError) found.push(tree.rootNode);
  for (const node of found) console.log(`${file}:${describe(node, source)}`);
  if (found.length === 0) console.log(`${file}: ok`);
  failed ||= found.length > 0;
  tree.delete();
}
process.exit(failed ? 1 : 0);
