// Parses LogQL with Grafana's own grammar (@grafana/lezer-logql), for
// tests/logql_grammar.rs. Reads a JSON array of query strings on stdin and
// writes, per query: the positions of error nodes, the decoded contents of
// every String node, the leaf tokens outside String nodes, and the names of
// comment nodes. The Rust test decides what is acceptable.
import { parser } from '@grafana/lezer-logql';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const queries = JSON.parse(Buffer.concat(chunks).toString('utf8'));

function decode(text) {
  if (text.startsWith('`')) return text.slice(1, -1);
  return JSON.parse(text); // the dialect writes JSON escapes, a subset of Go's
}

const results = queries.map((query) => {
  const tree = parser.parse(query);
  const errors = [];
  const strings = [];
  const tokens = [];
  const comments = [];
  const covered = [];
  let inString = 0;
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      if (node.name === 'LineComment') comments.push(query.slice(node.from, node.to));
      if (node.name === 'String') {
        inString++;
        const text = query.slice(node.from, node.to);
        covered.push([node.from, node.to]);
        try {
          strings.push(decode(text));
        } catch (e) {
          errors.push(node.from);
        }
        return false;
      }
      if (!node.node.firstChild && node.to > node.from) {
        tokens.push([node.name, query.slice(node.from, node.to)]);
        covered.push([node.from, node.to]);
      }
      return undefined;
    },
    leave(node) {
      if (node.name === 'String') inString--;
    },
  });
  // Text that no token or string covers (punctuation is anonymous in the
  // grammar), so nothing escapes the check unseen.
  let gaps = '';
  let at = 0;
  for (const [from, to] of covered.sort((a, b) => a[0] - b[0])) {
    if (from > at) gaps += query.slice(at, from);
    at = Math.max(at, to);
  }
  gaps += query.slice(at);
  return { errors, strings, tokens, comments, gaps, top: tree.topNode.name };
});
process.stdout.write(JSON.stringify(results));
