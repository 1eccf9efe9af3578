// Run an AG-UI agent with @ag-ui/client's own HttpAgent (what CopilotKit uses: POST of a
// RunAgentInput, its SSE parser, event verification, and fast-json-patch's applyPatch for
// STATE_DELTA). Prints one JSON line per state the agent holds after each change, per event
// type, the run's end, and the final messages.
//
// usage: node agui_run.mjs URL [ABORT_AFTER_STATES]
import { HttpAgent } from '@ag-ui/client';

const [url, abortAfter] = process.argv.slice(2);
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const agent = new HttpAgent({ url, threadId: 'thread-1' });
let states = 0;
agent.subscribe({
  onEvent: ({ event }) => print({ kind: 'event', type: event.type }),
  onStateChanged: ({ state }) => {
    print({ kind: 'state', state });
    states += 1;
    if (abortAfter !== undefined && states === Number(abortAfter)) {
      print({ kind: 'aborting' });
      agent.abortRun();
    }
  },
  onRunErrorEvent: ({ event }) =>
    print({ kind: 'run-error', message: event.message, code: event.code ?? null }),
  onRunFinishedEvent: ({ event }) =>
    print({ kind: 'run-finished', outcome: event.outcome ?? null, usage: event.usage ?? null }),
});
try {
  await agent.runAgent({ runId: 'run-1' });
} catch (error) {
  print({ kind: 'thrown', error: String(error?.message ?? error) });
}
print({ kind: 'messages', messages: agent.messages });
print({ kind: 'end', state: agent.state });
