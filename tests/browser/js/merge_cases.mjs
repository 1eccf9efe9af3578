// Run the browser client's merger on cases from tests/browser/test_js_client.py (stdin, JSON)
// and print what it built (stdout, JSON). Node only: no DOM, no network.
import { pathToFileURL } from "node:url";

const [clientPath] = process.argv.slice(2);
const { DeltaMerger, DeltaError, snapshotDone, parseJSON, pointerTokens } = await import(pathToFileURL(clientPath).href);

let input = "";
for await (const chunk of process.stdin) input += chunk;
const cases = JSON.parse(input);

function openList(merger) {
  return [...merger.open].sort();
}

const results = {};
for (const [name, spec] of Object.entries(cases)) {
  const merger = new DeltaMerger();
  const out = { steps: [], error: null };
  try {
    if (spec.snapshot) {
      const { value, open, at } = parseJSON(spec.snapshot);
      merger.apply({ delta: { json: { "": value }, done: snapshotDone(value, new Set(open)) } });
      merger.previous = typeof at === "string" ? pointerTokens(at) : null; // version 3
      out.steps.push({ value: JSON.stringify(merger.value), open: openList(merger), complete: merger.complete });
    }
    for (const text of spec.chunks) {
      merger.apply(text); // the JSON text of the chunk, parsed by the client
      out.steps.push({ value: JSON.stringify(merger.value), open: openList(merger), complete: merger.complete });
    }
    if (spec.bad !== undefined) {
      const before = JSON.stringify(merger.value);
      const openBefore = openList(merger);
      try {
        merger.apply(spec.bad);
        out.error = "no error";
      } catch (error) {
        out.error = error instanceof DeltaError ? "DeltaError" : String(error);
        out.message = error.message;
        out.unchanged = JSON.stringify(merger.value) === before && JSON.stringify(openList(merger)) === JSON.stringify(openBefore);
      }
    }
  } catch (error) {
    out.error = `${error.name}: ${error.message}`;
  }
  results[name] = out;
}
process.stdout.write(JSON.stringify(results));
