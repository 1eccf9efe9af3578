// Read a text stream the way useObject does: the response's text, decoded as it arrives,
// parsed with the AI SDK's parsePartialJson after each chunk. Prints one JSON line per
// partial object the hook would show, then the whole text.
//
// usage: node text_stream.mjs URL
import { parsePartialJson } from 'ai';

const [url] = process.argv.slice(2);
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const response = await fetch(url, { method: 'POST', body: '{}' });
print({ kind: 'headers', contentType: response.headers.get('content-type') });
const decoder = new TextDecoder();
let text = '';
for await (const bytes of response.body) {
  text += decoder.decode(bytes, { stream: true });
  const { value, state } = await parsePartialJson(text);
  if (value !== undefined) print({ kind: 'partial', value, state });
}
print({ kind: 'text', text });
