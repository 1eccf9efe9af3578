// streamdantic.js: a dependency-free browser client for the streamdantic SSE profile.
//
//   import { connect } from "/streamdantic.js";
//   const stream = connect("/api/streams/abc/events", { stopUrl: "/api/streams/abc/stop" });
//   stream.addEventListener("update", () => render(stream.value, stream.state));
//   stream.addEventListener("final", (e) => console.log(e.detail.value));
//
// It merges delta frames (unnamed `message` events in version 3, `delta` events in version
// 2: nested-profile chunks, docs/deltas.md) into the same object
// Python's ChunkMerger builds: within a chunk, every `delta.json` set in key order, then
// every `delta.text` append, then every `delta.done` entry; `-` as the last token of a set
// appends to an array. A `snapshot` event resets the object and applies its chunk. Nothing
// re-parses the model's JSON text: each event's data is parsed once, and values only grow.
//
// Strategy / invariants
// - `open` holds the JSON Pointers of the strings, arrays and objects not complete yet. The
//   ancestors of an open value are open, so a value's state is: absent -> "pending", open ->
//   "streaming", present and not open -> "complete".
// - A chunk is atomic: every change is recorded in an undo log while it is applied, and a
//   chunk that contradicts the object is rolled back before the error is reported.
// - Reconnects resume: EventSource sends Last-Event-ID itself; the fetch transport sends the
//   header on its own retries. Events already applied (same or older id) are skipped.
// - Generations: every response opens with an unnumbered `stream` frame naming its
//   generation (docs/sse.md). The first token is kept; a response with another token (or
//   none) after frames were applied is another generation: a StreamIntegrityError, unless
//   it declares a restart, which resets the object ("restart" event).
// - Version 3 (docs/sse.md): the `final` frame carries `digest`, a CRC-32 running over the
//   exact data text (UTF-8, each followed by LF) of every delta frame applied; a snapshot
//   carries the digest after its frame, so a resumed client continues it. A pointer in a
//   delta after the first may be relative to the one before it (json, text, done order):
//   "2/name" climbs two levels, then appends /name. A version-2 `final` (no digest) is
//   checked by its object (`raw`, else `value`), as before.

const MISSING = Symbol("missing");

// Integers beyond 2^53 (IDs, big counters) lose digits as JavaScript numbers. Where the
// browser has JSON.rawJSON and JSON.parse's source text (Chrome 114+, Firefox 135+, Safari
// 18.4+), they are kept as raw JSON numbers: JSON.stringify writes their exact digits.
const RAW_JSON = typeof JSON.rawJSON === "function" && typeof JSON.isRawJSON === "function";

/** True for an exact big integer kept as raw JSON (see parseJSON). */
export function isRawNumber(value) {
  return RAW_JSON && value !== null && typeof value === "object" && JSON.isRawJSON(value);
}

function keepBigIntegers(key, value, context) {
  if (typeof value === "number" && !Number.isSafeInteger(value) && context && /^-?[0-9]+$/.test(context.source)) {
    return JSON.rawJSON(context.source);
  }
  return value;
}

/** JSON.parse, keeping integers beyond 2^53 exact where the browser can. */
export function parseJSON(text) {
  return RAW_JSON ? JSON.parse(text, keepBigIntegers) : JSON.parse(text);
}

/** An error a chunk raises when it contradicts the merged object (like Python's DeltaError). */
export class DeltaError extends Error {
  constructor(message, pointer) {
    super(pointer === undefined ? message : `${message} at ${pointer === "" ? "the root" : pointer}`);
    this.name = "DeltaError";
    this.pointer = pointer;
  }
}

/**
 * The frames applied do not make one stream (like Python's StreamIntegrityError): a
 * response of another generation, or a merged object that is not the final frame's.
 * `pointer` is the JSON Pointer of the first difference, when known.
 */
export class StreamIntegrityError extends Error {
  constructor(message, pointer) {
    super(message);
    this.name = "StreamIntegrityError";
    this.type = "integrity_error";
    this.pointer = pointer;
  }
}

/** The server refused to resume the stream (HTTP 409): its endpoint cannot resume it. */
export class StreamNotResumableError extends Error {
  constructor(message, detail) {
    super(message);
    this.name = "StreamNotResumableError";
    this.type = "not_resumable";
    this.detail = detail;
  }
}

/**
 * The JSON Pointer of the first place where two JSON values differ ("" for the root), or
 * null when they are the same (object key order does not count).
 */
export function firstDifference(a, b, pointer = "") {
  const type = jsonType(a);
  if (type !== jsonType(b)) return pointer;
  if (type === "array") {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const found = firstDifference(a[i], b[i], `${pointer}/${i}`);
      if (found !== null) return found;
    }
    return a.length === b.length ? null : `${pointer}/${n}`;
  }
  if (type === "object") {
    for (const key of Object.keys(a)) {
      const child = pointer + toPointer([key]);
      if (!Object.prototype.hasOwnProperty.call(b, key)) return child;
      const found = firstDifference(a[key], b[key], child);
      if (found !== null) return found;
    }
    for (const key of Object.keys(b)) {
      if (!Object.prototype.hasOwnProperty.call(a, key)) return pointer + toPointer([key]);
    }
    return null;
  }
  if (isRawNumber(a) || isRawNumber(b)) {
    const digits = (v) => (isRawNumber(v) ? v.rawJSON : String(v));
    return digits(a) === digits(b) ? null : pointer;
  }
  return a === b ? null : pointer;
}

/** Split an RFC 6901 JSON Pointer into its reference tokens. */
export function parsePointer(pointer) {
  if (pointer === "") return [];
  if (typeof pointer !== "string" || pointer[0] !== "/") {
    throw new DeltaError(`invalid JSON Pointer ${JSON.stringify(pointer)} (it must be empty or start with '/')`);
  }
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Join reference tokens (strings or array indices) into a JSON Pointer. */
export function toPointer(tokens) {
  return tokens.map((t) => "/" + String(t).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

// CRC-32 (ISO-HDLC, zlib's crc32) of UTF-8 bytes, continuing from `crc`.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();
const UTF8 = new TextEncoder();

/** The version-3 digest after one more delta frame whose data text is `data` (docs/sse.md). */
export function digestStep(crc, data) {
  const bytes = UTF8.encode(data + "\n");
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A digest as the frames write it: 8 lowercase hex digits. */
export function digestHex(crc) {
  return crc.toString(16).padStart(8, "0");
}

/** The escaped reference tokens of a JSON Pointer (no unescaping: relative pointers relate them). */
export function pointerTokens(pointer) {
  return pointer === "" ? [] : pointer.slice(1).split("/");
}

/**
 * A delta frame's chunk with every relative pointer made absolute, and the tokens of its
 * last pointer: `{chunk, previous}`. Version 3 (docs/sse.md) sends the delta alone (no
 * `delta` wrapper, members `j`, `t`, `d`), or text appended at the previous pointer as a
 * bare string, and writes a pointer relative to the one before it (json, text, done; the
 * first to the previous frame's last, `previous`). Throws DeltaError for a malformed
 * relative pointer.
 */
const LONG_NAMES = { j: "json", t: "text", d: "done" };

export function expandChunk(chunk, previous = null) {
  if (typeof chunk === "string") {
    // Version 3: text appended at the previous frame's last pointer, as a bare JSON string.
    if (previous === null) throw new DeltaError("a delta of text alone (a JSON string) has no pointer before it");
    const pointer = previous.length ? "/" + previous.join("/") : "";
    return { chunk: { delta: { text: { [pointer]: chunk } } }, previous };
  }
  if (chunk && typeof chunk === "object" && !Array.isArray(chunk) && !("delta" in chunk)) {
    // Version 3: the delta alone, its members named j, t, d (json, text, done).
    const delta = {};
    for (const [name, value] of Object.entries(chunk)) {
      const long = LONG_NAMES[name] || name;
      if (long in delta) throw new DeltaError(`malformed delta: a member named twice (${name})`);
      delta[long] = value;
    }
    chunk = { delta };
  }
  const delta = (chunk && chunk.delta) || {};
  const full = (key, many) => {
    if (typeof key !== "string") throw new DeltaError(`invalid JSON Pointer ${JSON.stringify(key)}`);
    if (key === "" || key[0] === "/") {
      previous = pointerTokens(key);
      return key;
    }
    const slash = key.indexOf("/");
    const up = slash < 0 ? key : key.slice(0, slash);
    if (!/^[0-9]{1,6}$/.test(up) || (many && slash < 0)) {
      throw new DeltaError(`invalid pointer ${JSON.stringify(key)}: a JSON Pointer, or (version 3) an up-count and a pointer relative to the previous one`);
    }
    if (previous === null) throw new DeltaError(`relative pointer ${JSON.stringify(key)} has no pointer before it`);
    const keep = previous.length - Number(up);
    if (keep < 0) throw new DeltaError(`relative pointer ${JSON.stringify(key)} climbs ${up} levels from a pointer of ${previous.length}`);
    const tokens = previous.slice(0, keep);
    if (slash >= 0) tokens.push(...key.slice(slash + 1).split("/"));
    previous = tokens;
    return tokens.length ? "/" + tokens.join("/") : "";
  };
  const map = (object) => {
    if (object === undefined) return undefined;
    const out = {};
    const entries = Object.entries(object);
    for (const [key, value] of entries) out[full(key, entries.length > 1)] = value;
    if (Object.keys(out).length !== entries.length) throw new DeltaError("two keys of one map name the same value");
    return out;
  };
  const json = map(delta.json);
  const text = map(delta.text);
  const done = delta.done === undefined ? undefined : delta.done.map((k) => full(k, false));
  const out = {};
  if (json !== undefined) out.json = json;
  if (text !== undefined) out.text = text;
  if (done !== undefined) out.done = done;
  return { chunk: { ...chunk, delta: out }, previous };
}

function jsonType(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (isRawNumber(value)) return "number";
  return typeof value; // "string", "number", "boolean", "object"
}

function isOpenable(value) {
  const t = jsonType(value);
  return t === "string" || t === "array" || t === "object";
}

function arrayIndex(token) {
  return /^(0|[1-9][0-9]*)$/.test(token) ? Number(token) : null;
}

/** Merge nested-profile delta chunks into a value, tracking which parts are complete. */
export class DeltaMerger {
  constructor() {
    this.reset();
  }

  /** Forget everything (a snapshot follows). */
  reset() {
    this.value = undefined;
    this.hasRoot = false;
    this.complete = false;
    this.open = new Set();
    this.applied = 0;
    this.previous = null; // version 3: the tokens of the last pointer applied
  }

  /** The value at a JSON Pointer, or `undefined` when it has not arrived. */
  get(pointer) {
    const found = this._resolve(parsePointer(pointer));
    return found === MISSING ? undefined : found;
  }

  /** "pending" (not arrived), "streaming" (arriving) or "complete". */
  state(pointer = "") {
    if (this._resolve(parsePointer(pointer)) === MISSING) return "pending";
    return this.open.has(pointer) ? "streaming" : "complete";
  }

  _resolve(tokens) {
    if (!this.hasRoot) return MISSING;
    let current = this.value;
    for (const token of tokens) {
      if (Array.isArray(current)) {
        const index = arrayIndex(token);
        if (index === null || index >= current.length) return MISSING;
        current = current[index];
      } else if (current !== null && typeof current === "object" && !isRawNumber(current)) {
        if (!Object.prototype.hasOwnProperty.call(current, token)) return MISSING;
        current = current[token];
      } else {
        return MISSING;
      }
    }
    return current;
  }

  /**
   * Apply one chunk (`{delta: {json, text, done}, ...}`, a version-3 delta frame's value,
   * or its JSON text: a string is always JSON text to parse).
   * Returns the pointers it touched. Throws DeltaError (and changes nothing) when the
   * chunk contradicts the object.
   */
  apply(chunk) {
    if (typeof chunk === "string") chunk = parseJSON(chunk);
    const expanded = expandChunk(chunk, this.previous);
    chunk = expanded.chunk;
    const delta = (chunk && chunk.delta) || {};
    const sets = delta.json || {};
    const texts = delta.text || {};
    const done = delta.done || [];
    const undo = [];
    const touched = [];
    try {
      if (this.complete && (Object.keys(sets).length || Object.keys(texts).length || done.length)) {
        throw new DeltaError("the document is already complete; a chunk cannot change it");
      }
      for (const [pointer, value] of Object.entries(sets)) touched.push(this._set(pointer, value, undo));
      for (const [pointer, text] of Object.entries(texts)) {
        this._append(pointer, text, undo);
        touched.push(pointer);
      }
      for (const pointer of done) {
        this._done(pointer, undo);
        touched.push(pointer);
      }
    } catch (error) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]();
      throw error;
    }
    this.applied += 1;
    this.previous = expanded.previous;
    return touched;
  }

  _parent(tokens, pointer) {
    const parentTokens = tokens.slice(0, -1);
    const parent = this._resolve(parentTokens);
    const parentPointer = toPointer(parentTokens);
    if (parent === MISSING || parent === null || typeof parent !== "object" || isRawNumber(parent)) {
      const what = parent === MISSING ? "nothing" : `a ${jsonType(parent)}`;
      throw new DeltaError(`no parent (${what} at ${parentPointer || "the root"}) for the value`, pointer);
    }
    if (!this.open.has(parentPointer)) {
      throw new DeltaError(`the parent (${parentPointer || "the root"}) is already complete; cannot set the value`, pointer);
    }
    return parent;
  }

  _set(pointer, value, undo) {
    const tokens = parsePointer(pointer);
    if (tokens.length === 0) {
      if (this.hasRoot && jsonType(this.value) !== jsonType(value)) {
        throw new DeltaError(`type change: cannot replace ${jsonType(this.value)} with ${jsonType(value)}`, "");
      }
      const { value: before, hasRoot } = this;
      this._forget("", undo);
      this.value = value;
      this.hasRoot = true;
      undo.push(() => {
        this.value = before;
        this.hasRoot = hasRoot;
      });
      this._install("", value, undo);
      return "";
    }
    const parent = this._parent(tokens, pointer);
    const last = tokens[tokens.length - 1];
    if (Array.isArray(parent)) {
      const index = last === "-" ? parent.length : arrayIndex(last);
      if (index === null) throw new DeltaError(`invalid array index ${JSON.stringify(last)}`, pointer);
      if (index > parent.length) {
        throw new DeltaError(`index gap: the array's length is ${parent.length}, so the next index is ${parent.length}`, pointer);
      }
      const where = toPointer([...tokens.slice(0, -1), index]);
      if (index === parent.length) {
        parent.push(value);
        undo.push(() => parent.pop());
      } else {
        this._replace(parent, index, value, where, undo);
      }
      this._install(where, value, undo);
      return where;
    }
    const where = toPointer(tokens);
    if (Object.prototype.hasOwnProperty.call(parent, last)) {
      this._replace(parent, last, value, where, undo);
    } else {
      parent[last] = value;
      undo.push(() => delete parent[last]);
    }
    this._install(where, value, undo);
    return where;
  }

  _replace(container, slot, value, pointer, undo) {
    const before = container[slot];
    if (jsonType(before) !== jsonType(value)) {
      throw new DeltaError(`type change: cannot replace ${jsonType(before)} with ${jsonType(value)}`, pointer);
    }
    this._forget(pointer, undo);
    container[slot] = value;
    undo.push(() => {
      container[slot] = before;
    });
  }

  // Whatever was open at or below `pointer` is replaced: it will never complete.
  _forget(pointer, undo) {
    for (const p of [...this.open]) {
      if (p === pointer || p.startsWith(pointer + "/")) {
        this.open.delete(p);
        undo.push(() => this.open.add(p));
      }
    }
  }

  // A value just set: it and every string, array and object inside it are open.
  _install(pointer, value, undo) {
    const stack = [[pointer, value]];
    while (stack.length) {
      const [p, v] = stack.pop();
      if (!isOpenable(v)) continue;
      if (!this.open.has(p)) {
        this.open.add(p);
        undo.push(() => this.open.delete(p));
      }
      if (Array.isArray(v)) v.forEach((item, i) => stack.push([`${p}/${i}`, item]));
      else if (typeof v === "object" && !isRawNumber(v)) {
        for (const [k, item] of Object.entries(v)) stack.push([p + toPointer([k]), item]);
      }
    }
    if (pointer === "" && !isOpenable(value)) {
      this.complete = true;
      undo.push(() => {
        this.complete = false;
      });
    }
  }

  _append(pointer, text, undo) {
    if (typeof text !== "string") throw new DeltaError(`text values are strings, not ${jsonType(text)}`, pointer);
    const tokens = parsePointer(pointer);
    const current = this._resolve(tokens);
    if (current === MISSING) throw new DeltaError("text appended to a missing value", pointer);
    if (typeof current !== "string") throw new DeltaError(`text appended to a ${jsonType(current)}`, pointer);
    const canonical = toPointer(tokens);
    if (!this.open.has(canonical)) throw new DeltaError("text appended to a complete string", pointer);
    if (!text) return;
    if (tokens.length === 0) {
      this.value = current + text;
      undo.push(() => {
        this.value = current;
      });
      return;
    }
    const container = this._resolve(tokens.slice(0, -1));
    const slot = Array.isArray(container) ? arrayIndex(tokens[tokens.length - 1]) : tokens[tokens.length - 1];
    container[slot] = current + text;
    undo.push(() => {
      container[slot] = current;
    });
  }

  _done(pointer, undo) {
    const tokens = parsePointer(pointer);
    const current = this._resolve(tokens);
    if (current === MISSING) throw new DeltaError("done names a missing value", pointer);
    if (!isOpenable(current)) {
      throw new DeltaError(`done names a ${jsonType(current)}; numbers, booleans and null are complete on arrival`, pointer);
    }
    const canonical = toPointer(tokens);
    if (!this.open.has(canonical)) throw new DeltaError("done names a value that is already complete", pointer);
    this._forget(canonical, undo);
    if (canonical === "") {
      this.complete = true;
      undo.push(() => {
        this.complete = false;
      });
    }
  }
}

/** Incremental SSE parser (WHATWG HTML 9.2.6) for the fetch transport. */
export class SSEParser {
  constructor() {
    this.buffer = "";
    this.data = [];
    this.event = "";
    this.id = null;
    this.lastEventId = "";
    this.retry = null;
  }

  /** Feed decoded text; returns the events it completed ({event, data, id}). */
  feed(text) {
    this.buffer += text;
    const out = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf("\r", start);
      const lf = this.buffer.indexOf("\n", start);
      let end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (end === -1) break;
      let next = end + 1;
      if (this.buffer[end] === "\r") {
        if (end + 1 >= this.buffer.length) break; // a CR at the end: wait to see if LF follows
        if (this.buffer[end + 1] === "\n") next = end + 2;
      }
      this._line(this.buffer.slice(start, end), out);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  _line(line, out) {
    if (line === "") {
      if (this.data.length) {
        out.push({ event: this.event || "message", data: this.data.join("\n"), id: this.lastEventId });
      }
      this.data = [];
      this.event = "";
      return;
    }
    if (line[0] === ":") return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    else if (field === "retry" && /^[0-9]+$/.test(value)) this.retry = Number(value);
  }
}

const PART_EVENTS = ["reasoning", "refusal", "tool_call", "tool_result", "usage"];
const PROFILE_EVENTS = new Set(["delta", "snapshot", "final", "error", ...PART_EVENTS]);
const ERROR_TYPES = new Set([
  "provider_error", "validation_error", "truncated", "cancelled", "internal_error", "generation_lost", "store_unavailable",
]);

// The pointers to complete so that exactly `open` stays open after setting the root to
// `value`: the complete children of open containers (each completes its subtree), or the
// root itself when it is not open.
export function snapshotDone(value, open) {
  if (!open.has("")) return isOpenable(value) ? [""] : [];
  const done = [];
  for (const pointer of open) {
    let node = value;
    for (const token of parsePointer(pointer)) node = Array.isArray(node) ? node[Number(token)] : node[token];
    if (node === null || typeof node !== "object" || isRawNumber(node)) continue;
    const entries = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
    for (const [key, child] of entries) {
      const childPointer = pointer + toPointer([key]);
      if (isOpenable(child) && !open.has(childPointer)) done.push(childPointer);
    }
  }
  return done;
}

/**
 * A live stream of one object over the streamdantic SSE profile.
 *
 * Events (it is an EventTarget): "frame" ({type, id, data}: each frame applied, before
 * it is), "update" ({touched, snapshot?, restart?}), "final" ({value,
 * finishReason, usage}), "part" ({type, data}: reasoning, refusal, tool_call, tool_result,
 * usage frames), "restart" ({token}: the server replaced the stream with a new generation;
 * the object starts again from nothing, an "update" with restart: true follows), "error"
 * ({error, fatal}; error.type is the error frame's type, or "integrity_error" for a
 * StreamIntegrityError, "not_resumable" for a StreamNotResumableError), "status"
 * ({status}: connecting, open, reconnecting, done, failed, stopped, closed), "end".
 * Properties: value, final, finishReason, usage, done, error, status, lastEventId, token,
 * updates, reconnects, restarts.
 */
export class StreamdanticStream extends EventTarget {
  /**
   * @param {string} url the SSE endpoint.
   * @param {object} [options]
   * @param {"eventsource"|"fetch"} [options.transport] default "eventsource" when available.
   * @param {string} [options.stopUrl] POSTed to by stop(), to cancel the generation.
   * @param {object} [options.fetchOptions] extra fetch() options (headers, credentials).
   * @param {number} [options.retryDelay] ms before a fetch reconnect (default 500; the
   *   server's `retry:` field wins).
   * @param {number} [options.maxRetries] reconnects in a row without progress before giving up (default 5).
   * @param {boolean} [options.withCredentials] for EventSource.
   */
  constructor(url, options = {}) {
    super();
    this.url = url;
    this.options = options;
    this.merger = new DeltaMerger();
    this.final = undefined;
    this.finishReason = null;
    this.usage = null;
    this.done = false;
    this.error = null;
    this.status = "idle";
    this.lastEventId = options.lastEventId || "";
    this.updates = 0;
    this.reconnects = 0;
    this.restarts = 0;
    this.token = null; // the generation's token, from the first stream frame
    this.digest = 0; // version 3: the digest of the delta frames applied (null: unknown)
    this._responseStarted = false; // a response opened and no frame came yet
    this._failures = 0;
    this._reconnecting = false;
    this._source = null;
    this._abort = null;
    const hasEventSource = typeof EventSource !== "undefined";
    this.transport = options.transport || (hasEventSource ? "eventsource" : "fetch");
  }

  /** The object so far (undefined before the first delta). */
  get value() {
    return this.merger.value;
  }

  /** The state of the value at a JSON Pointer: "pending", "streaming" or "complete". */
  state(pointer = "") {
    return this.merger.state(pointer);
  }

  /** Open the connection (called by connect()). */
  start() {
    if (this.status !== "idle") return this;
    if (this.transport === "fetch") this._runFetch();
    else this._openEventSource();
    return this;
  }

  _setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: { status } }));
  }

  _openEventSource() {
    this._setStatus(this.reconnects ? "reconnecting" : "connecting");
    let url = this.url;
    if (this.lastEventId) {
      // A new EventSource cannot send Last-Event-ID: the query parameter says it instead
      // (the browser's own reconnects send the header, which servers read first).
      url += (url.includes("?") ? "&" : "?") + "last_event_id=" + encodeURIComponent(this.lastEventId);
    }
    const source = new EventSource(url, { withCredentials: !!this.options.withCredentials });
    this._source = source;
    source.onopen = () => {
      this._responseStarted = true;
      this._setStatus("open");
    };
    const handle = (event) => this._handle(event.type, event.data, event.lastEventId);
    for (const name of PROFILE_EVENTS) if (name !== "error") source.addEventListener(name, handle);
    source.addEventListener("message", handle); // version 3's delta frames
    source.addEventListener("stream", handle);
    // Named "error" events carry data; the connection's own errors do not.
    source.addEventListener("error", (event) => {
      if (event.data !== undefined) {
        this._handle("error", event.data, event.lastEventId);
        return;
      }
      if (this.done || this.status === "closed") return;
      this.reconnects += 1;
      if (source.readyState === EventSource.CLOSED) {
        // EventSource does not say why; after frames, the likely cause is a server that
        // cannot resume (409 from a source-backed endpoint).
        const why = this.lastEventId
          ? `the connection was lost after frame ${this.lastEventId} and the server did not resume ` +
            "the stream (an endpoint that cannot resume answers 409: serve it with ResumableStreams)"
          : "the connection closed and the browser gave up reconnecting";
        this._fail(new Error(why), true);
      } else {
        this._setStatus("reconnecting"); // the browser retries with Last-Event-ID
      }
    });
  }

  async _runFetch() {
    const decoder = new TextDecoder();
    const retryDefault = this.options.retryDelay ?? 500;
    const maxRetries = this.options.maxRetries ?? 5;
    let retry = retryDefault;
    while (!this.done && this.status !== "closed") {
      this._setStatus(this.reconnects ? "reconnecting" : "connecting");
      const controller = new AbortController();
      this._abort = controller;
      const parser = new SSEParser();
      parser.lastEventId = this.lastEventId;
      const before = this.lastEventId;
      try {
        const headers = { Accept: "text/event-stream", ...(this.options.fetchOptions?.headers || {}) };
        if (this.lastEventId) headers["Last-Event-ID"] = this.lastEventId;
        const response = await fetch(this.url, {
          ...(this.options.fetchOptions || {}),
          headers,
          signal: controller.signal,
          cache: "no-store",
        });
        if (response.status === 204) {
          this._close("closed"); // the server says there is nothing more to read
          return;
        }
        if (response.status >= 500) throw new Error(`the server answered ${response.status}`);
        if (response.status === 409 && this.lastEventId) {
          let detail = "";
          try {
            detail = (await response.json()).detail || "";
          } catch {
            // not our JSON answer: the status says enough
          }
          this._fail(
            new StreamNotResumableError(
              `the connection was lost after frame ${this.lastEventId} and the server refused to resume the stream (409): ` +
                (detail || "the endpoint cannot resume it; serve it with ResumableStreams"),
              detail,
            ),
            true,
          );
          return;
        }
        if (!response.ok) {
          this._fail(new Error(`the server answered ${response.status}`), true);
          return;
        }
        if (!(response.headers.get("content-type") || "").startsWith("text/event-stream")) {
          throw new Error("the response is not an event stream");
        }
        this._responseStarted = true;
        this._setStatus("open");
        const reader = response.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
            this._handle(event.event, event.data, event.id);
          }
          if (parser.retry !== null) retry = parser.retry;
          if (this.done || this.status === "closed") {
            controller.abort();
            return;
          }
        }
      } catch (error) {
        if (this.status === "closed" || this.done) return;
        if (error && error.name === "AbortError" && !this._reconnecting) return;
        if (String(error.message).startsWith("the response is not")) {
          this._fail(error, true);
          return;
        }
      }
      this._reconnecting = false;
      if (this.done || this.status === "closed") return;
      this._failures = this.lastEventId === before ? this._failures + 1 : 0;
      if (this._failures > maxRetries) {
        this._fail(new Error(`gave up after ${maxRetries} reconnects without progress`), true);
        return;
      }
      this.reconnects += 1;
      this._setStatus("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, retry));
    }
  }

  // One frame of the profile (docs/sse.md): ids are 1, 2, 3, ...; a frame is applied only
  // right after the one before it, and older ids are replays (skipped). A snapshot carries
  // the id of the last frame it includes: one beyond our position replaces the state.
  // Frames of unknown names are skipped, but their ids count. EventSource delivers only
  // the names we listen to, so there a jump in ids may just be unknown frames: tolerated
  // (the browser itself resumes from the last id it received, whatever its name).
  _handle(type, data, id) {
    // Nothing is applied once the stream ended, even from the rest of a chunk already read.
    if (this.done || ["failed", "closed", "stopped"].includes(this.status)) return;
    if (type === "message") {
      if (!id) return; // unnamed and unnumbered: not a frame of the profile
      type = "delta"; // version 3: delta frames are unnamed (version 2: "delta")
    }
    if (type === "stream") {
      this._stream(data);
      return;
    }
    if (this._responseStarted) {
      this._responseStarted = false;
      if (this.token !== null && this.lastEventId) {
        this._fail(
          new StreamIntegrityError(
            `a response of this stream began without its stream frame after frame ${this.lastEventId}: ` +
              "it cannot be the same generation; it is not applied",
          ),
          true,
        );
        return;
      }
    }
    if (!/^[0-9]+$/.test(id || "")) {
      this._fail(new Error(`a ${type} frame without a valid id (${JSON.stringify(id)})`), true);
      return;
    }
    const n = Number(id);
    const last = this.lastEventId ? Number(this.lastEventId) : 0;
    if (n <= last) return; // a replay after a reconnect, or a snapshot of a state we are past
    if (n !== last + 1 && type !== "snapshot" && this.transport === "fetch") {
      this._fail(new Error(`frame ${n} follows frame ${last}: frames ${last + 1}..${n - 1} are missing`), true);
      return;
    }
    if (!PROFILE_EVENTS.has(type)) {
      this.lastEventId = id; // a frame this client does not know
      return;
    }
    this.dispatchEvent(new CustomEvent("frame", { detail: { type, id, data } }));
    try {
      if (type === "delta") {
        const touched = this.merger.apply(data); // its JSON text: a bare string is a delta too
        if (this.digest !== null) this.digest = digestStep(this.digest, data);
        this.lastEventId = id;
        this.updates += 1;
        this.dispatchEvent(new CustomEvent("update", { detail: { touched } }));
      } else if (type === "snapshot") {
        this._reset(parseJSON(data));
        this.lastEventId = id;
        this.updates += 1;
        this.dispatchEvent(new CustomEvent("update", { detail: { touched: [""], snapshot: true } }));
      } else if (type === "final") {
        const payload = parseJSON(data);
        if ("digest" in payload) {
          // Version 3: the delta frames applied must be the server's, byte for byte.
          const ours = this.digest === null ? null : digestHex(this.digest);
          if (ours !== payload.digest) {
            this.done = true;
            this._fail(
              new StreamIntegrityError(
                ours === null
                  ? "the final frame carries a digest, but the snapshot this client resumed from carried none: the object cannot be checked; it is not delivered"
                  : `the delta frames applied do not match the final frame's digest (${ours}, expected ${payload.digest}): ` +
                    "frames were lost, duplicated, altered or spliced from another generation; the object is not delivered",
              ),
              true,
            );
            return;
          }
        } else if (this.merger.hasRoot) {
          const expected = "raw" in payload ? payload.raw : payload.value;
          const pointer = firstDifference(this.merger.value, expected);
          if (pointer !== null) {
            this.done = true;
            this._fail(
              new StreamIntegrityError(
                `the object the frames built differs from the final frame's at ${pointer || "the root"}: ` +
                  "frames were lost or spliced from another generation; the object is not delivered",
                pointer,
              ),
              true,
            );
            return;
          }
        }
        this.lastEventId = id;
        // Version 3 sends `value` only where validation changed the object the frames built.
        this.final = "value" in payload ? payload.value : this.merger.hasRoot ? this.merger.value : null;
        this.finishReason = payload.finish_reason ?? null;
        if (payload.usage) this.usage = payload.usage;
        this.done = true;
        this.dispatchEvent(new CustomEvent("final", { detail: { value: this.final, finishReason: this.finishReason, usage: this.usage } }));
        this._close("done");
      } else if (type === "error") {
        let detail;
        try {
          detail = parseJSON(data);
        } catch {
          detail = { type: "internal_error", message: data };
        }
        this.lastEventId = id;
        const error = new Error(detail.message || "the stream failed");
        error.type = ERROR_TYPES.has(detail.type) ? detail.type : "internal_error";
        error.detail = detail;
        this.done = true;
        this._fail(error, true);
      } else {
        const part = parseJSON(data);
        this.lastEventId = id;
        if (type === "usage") this.usage = part;
        this.dispatchEvent(new CustomEvent("part", { detail: { type, data: part } }));
      }
    } catch (error) {
      this._fail(error, true);
    }
  }

  // The stream frame ({token, restart}) that opens every response: see the strategy above.
  _stream(data) {
    this._responseStarted = false;
    let info = null;
    try {
      info = parseJSON(data);
    } catch {
      // malformed: reported below
    }
    if (!info || typeof info.token !== "string" || !info.token) {
      this._fail(new Error(`malformed stream frame: ${data}`), true);
      return;
    }
    const known = this.token;
    this.token = info.token;
    if (!this.lastEventId) return; // nothing applied yet: this is the stream
    if (info.restart === true) {
      this.merger.reset();
      this.digest = 0;
      this.lastEventId = "";
      this.final = undefined;
      this.finishReason = null;
      this.usage = null;
      this.restarts += 1;
      this.dispatchEvent(new CustomEvent("restart", { detail: { token: info.token } }));
      this.dispatchEvent(new CustomEvent("update", { detail: { touched: [""], restart: true } }));
      return;
    }
    if (info.token !== known) {
      this.done = true;
      this._fail(
        new StreamIntegrityError(
          `the server answered with another stream (its stream token changed, without a restart) after frame ${this.lastEventId}: ` +
            "a new generation, not a continuation of this one; it is not applied",
        ),
        true,
      );
    }
  }

  // A snapshot ({value, open} or {}): the value, with every part not listed in `open`
  // complete, exactly the state a client that saw every frame has.
  _reset(snapshot) {
    this.merger.reset();
    // A version-3 snapshot carries the digest after its frame; "{}" (nothing started) means
    // no delta frame yet; a version-2 snapshot has none, so the digest is unknown.
    const started = snapshot && "value" in snapshot;
    if (!started) this.digest = 0;
    else this.digest = typeof snapshot.digest === "string" && /^[0-9a-f]{8}$/.test(snapshot.digest) ? parseInt(snapshot.digest, 16) : null;
    if (!started) return;
    const open = new Set(snapshot.open || []);
    this.merger.apply({ delta: { json: { "": snapshot.value }, done: snapshotDone(snapshot.value, open) } });
    // Version 3: the next frame's first pointer may be relative to the snapshot's `at`.
    this.merger.previous = typeof snapshot.at === "string" ? pointerTokens(snapshot.at) : null;
  }

  _fail(error, fatal) {
    this.error = error;
    this.dispatchEvent(new CustomEvent("error", { detail: { error, fatal } }));
    if (fatal) this._close("failed");
  }

  _close(status) {
    if (this._source) this._source.close();
    if (this._abort) this._abort.abort();
    this._source = null;
    this._abort = null;
    const wasOpen = this.status !== "closed" && this.status !== "done" && this.status !== "failed" && this.status !== "stopped";
    this._setStatus(status);
    if (wasOpen) this.dispatchEvent(new CustomEvent("end", { detail: { status } }));
  }

  /** Drop the connection and resume from `lastEventId` (say, after a network change). */
  reconnect() {
    if (this.done || !["connecting", "open", "reconnecting"].includes(this.status)) return;
    if (this.transport === "fetch") {
      this._reconnecting = true; // the fetch loop counts the reconnect and resumes
      if (this._abort) this._abort.abort();
    } else {
      this.reconnects += 1;
      if (this._source) this._source.close();
      this._openEventSource();
    }
  }

  /** Close the connection without cancelling the generation (it may be resumed). */
  close() {
    this._close("closed");
  }

  /** Cancel the generation on the server (POST stopUrl) and close the connection. */
  async stop() {
    const { stopUrl } = this.options;
    this._close("stopped");
    if (!stopUrl) return null;
    const response = await fetch(stopUrl, { method: "POST", ...(this.options.fetchOptions || {}) });
    return response.ok ? response.json().catch(() => null) : null;
  }
}

/** Connect to a streamdantic SSE endpoint; returns a started StreamdanticStream. */
export function connect(url, options = {}) {
  return new StreamdanticStream(url, options).start();
}
