// A useChat page (the Vercel AI SDK's React hook, unchanged) that renders the streamdantic
// data part `data-trip` as it grows. Bundled by build_page.mjs; served by
// tests/frontends/test_browser.py.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { useChat } from '@ai-sdk/react';
import { DefaultChatTransport } from 'ai';

function Trip({ trip }) {
  if (!trip) return <p id="empty">No trip yet.</p>;
  return (
    <section id="trip">
      <h1>{trip.title ?? '…'}</h1>
      <ol id="stops">
        {(trip.stops ?? []).map((stop, i) => (
          <li key={i} className="stop">
            <strong>{stop.city ?? '…'}</strong>
            {stop.nights !== undefined && <span> · {stop.nights} nights</span>}
            {stop.note !== undefined && <p>{stop.note}</p>}
          </li>
        ))}
      </ol>
    </section>
  );
}

function App() {
  const { messages, sendMessage, status, error } = useChat({
    transport: new DefaultChatTransport({ api: '/api/chat' }),
  });
  const parts = messages.filter((m) => m.role === 'assistant').flatMap((m) => m.parts);
  const data = parts.filter((p) => p.type === 'data-trip');
  const trip = data.at(-1)?.data;
  window.chatState = { status, dataParts: data.length, trip, error: error?.message ?? null };
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '2em auto' }}>
      <header style={{ display: 'flex', gap: '1em', alignItems: 'center' }}>
        <button id="plan" onClick={() => sendMessage({ text: 'Plan a trip through Japan' })}>
          Plan a trip
        </button>
        <code id="status">{status}</code>
        <span style={{ color: '#888' }}>useChat · data-trip part · streamdantic server</span>
      </header>
      <Trip trip={trip} />
    </main>
  );
}

createRoot(document.getElementById('root')).render(<App />);
