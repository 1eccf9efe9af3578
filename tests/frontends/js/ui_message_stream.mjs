// Read a UI message stream with the AI SDK's own client code: DefaultChatTransport (what
// useChat uses: POST, parseJsonEventStream with uiMessageChunkSchema) and
// readUIMessageStream (the message state machine). Prints one JSON line per message state
// the client shows, per chunk type, per error it reports, and "end" when the stream ends.
//
// usage: node ui_message_stream.mjs URL [ABORT_AFTER_STATES]
//        node ui_message_stream.mjs URL --resume CHAT_ID   (useChat's resume: GET URL/CHAT_ID/stream)
import { DefaultChatTransport, readUIMessageStream } from 'ai';

const args = process.argv.slice(2);
const url = args[0];
const resume = args[1] === '--resume' ? args[2] : undefined;
const abortAfter = resume === undefined ? args[1] : undefined;
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const controller = new AbortController();
const transport = new DefaultChatTransport({ api: url });
const chunks =
  resume !== undefined
    ? await transport.reconnectToStream({ chatId: resume })
    : await transport.sendMessages({
        chatId: 'chat-1',
        messageId: undefined,
        trigger: 'submit-message',
        messages: [{ id: 'user-1', role: 'user', parts: [{ type: 'text', text: 'go' }] }],
        abortSignal: controller.signal,
      });
if (chunks === null) {
  print({ kind: 'no-stream' });
  process.exit(0);
}
// Every chunk as the transport parsed it (readUIMessageStream skips some, such as abort).
const stream = chunks.pipeThrough(
  new TransformStream({
    transform(chunk, controller) {
      print({ kind: 'chunk', type: chunk.type });
      controller.enqueue(chunk);
    },
  }),
);
let states = 0;
try {
  for await (const message of readUIMessageStream({
    stream,
    onError: (error) => print({ kind: 'error', error: String(error?.message ?? error) }),
  })) {
    print({ kind: 'message', message });
    states += 1;
    if (abortAfter !== undefined && states >= Number(abortAfter)) {
      print({ kind: 'aborting' });
      controller.abort();
      break;
    }
  }
} catch (error) {
  print({ kind: 'thrown', error: String(error?.message ?? error) });
}
print({ kind: 'end' });
