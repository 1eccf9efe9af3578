// The live page of `streamdantic serve`: pick an example, watch the object render.
// Everything shown comes from streamdantic.js; this file only draws it.

import { connect, isRawNumber, toPointer } from "/streamdantic.js";

const $ = (id) => document.getElementById(id);
const MARKS = { pending: "○", streaming: "◐", complete: "✓" };

let examples = [];
let live = false;
let stream = null;
let current = null; // the example picked in the selector
let generating = null; // the example of the stream on screen (fixed while it runs)
let sourceText = ""; // the line under the title, restored at each start
let started = 0;
let firstField = null;
let frame = 0;

function resolve(schema, defs) {
  let node = schema || {};
  for (let i = 0; i < 20 && node.$ref; i++) node = defs[node.$ref.split("/").pop()] || {};
  if (node.anyOf) {
    const options = node.anyOf.map((o) => resolve(o, defs)).filter((o) => o.type !== "null");
    if (options.length === 1) return options[0];
  }
  return node;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function scalar(value) {
  const kind = value === null ? "null" : isRawNumber(value) ? "number" : typeof value;
  return el("span", `value ${kind}`, JSON.stringify(value));
}

// One row: mark, key, and the value (or its children).
function row(name, schema, defs, pointer, value) {
  const state = stream ? stream.state(pointer) : "pending";
  const li = el("li");
  li.dataset.state = state;
  li.dataset.pointer = pointer;
  const mark = el("span", "mark", MARKS[state]);
  mark.dataset.state = state;
  li.append(mark, el("span", "key", name));
  if (state === "pending") return li;
  const node = resolve(schema, defs);
  if (Array.isArray(value)) {
    li.append(el("span", "count", ` [${value.length}]`));
    const ul = el("ul");
    value.forEach((item, i) => ul.append(row(`[${i}]`, node.items, defs, `${pointer}/${i}`, item)));
    li.append(ul);
  } else if (value !== null && typeof value === "object" && !isRawNumber(value)) {
    li.append(children(node, defs, pointer, value));
  } else if (typeof value === "string" && state === "streaming") {
    li.append(document.createTextNode(": "), el("span", "value string", JSON.stringify(value).slice(0, -1)));
  } else {
    li.append(document.createTextNode(": "), scalar(value));
  }
  return li;
}

// The fields of an object: the schema's properties in order (pending ones too), then any
// keys the schema does not name (dicts).
function children(schema, defs, pointer, value) {
  const ul = el("ul");
  const properties = (schema && schema.properties) || {};
  const names = Object.keys(properties);
  for (const key of Object.keys(value || {})) if (!names.includes(key)) names.push(key);
  const itemSchema = schema && typeof schema.additionalProperties === "object" ? schema.additionalProperties : {};
  for (const key of names) {
    const child = pointer + toPointer([key]);
    ul.append(row(key, properties[key] || itemSchema, defs, child, value ? value[key] : undefined));
  }
  return ul;
}

function render() {
  frame = 0;
  if (!generating || !stream) return;
  const schema = generating.schema;
  const defs = schema.$defs || {};
  const tree = $("tree");
  const value = stream.value;
  const root = children(resolve(schema, defs), defs, "", value && typeof value === "object" ? value : {});
  root.dataset.state = stream.state("");
  tree.replaceChildren(root);
  const seconds = (performance.now() - started) / 1000;
  $("stat-updates").textContent = String(stream.updates);
  $("stat-elapsed").textContent = `${seconds.toFixed(2)} s`;
  $("stat-reconnects").textContent = String(stream.reconnects);
  $("stat-last-id").textContent = stream.lastEventId || "—";
  if (firstField === null && value && typeof value === "object") {
    if (Object.keys(value).some((k) => stream.state(toPointer([k])) === "complete")) {
      firstField = seconds;
      $("stat-first").textContent = `${seconds.toFixed(2)} s`;
    }
  }
}

function schedule() {
  if (!frame) frame = requestAnimationFrame(render);
}

function setStatus(status) {
  const node = $("status");
  node.textContent = status;
  node.dataset.status = status;
  const running = ["connecting", "open", "reconnecting"].includes(status);
  $("stop").disabled = !running;
  $("start").disabled = running;
  // The stream renders under its own example's schema: no switching until it ends.
  $("example").disabled = running;
  $("prompt").disabled = running;
}

function choose() {
  current = examples.find((e) => e.name === $("example").value) || examples[0];
  $("description").textContent = current.description;
  $("model-name").textContent = current.model;
  if (live) $("prompt").value = current.prompt;
}

async function start() {
  if (stream) stream.close();
  choose();
  generating = current;
  $("source").textContent = sourceText;
  $("final").textContent = "—";
  $("frames").replaceChildren();
  $("error").hidden = true;
  $("stat-first").textContent = "—";
  firstField = null;
  setStatus("connecting");
  const body = { example: current.name };
  if (live) body.prompt = $("prompt").value;
  const response = await fetch("/api/streams", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    setStatus("failed");
    showError(`the server answered ${response.status}`);
    return;
  }
  const info = await response.json();
  started = performance.now();
  const transport = new URLSearchParams(location.search).get("transport") || undefined;
  stream = connect(info.events, { stopUrl: info.stop, transport });
  window.streamdanticPage.stream = stream;
  window.streamdanticPage.id = info.id;
  stream.addEventListener("status", (e) => setStatus(e.detail.status));
  stream.addEventListener("update", schedule);
  stream.addEventListener("frame", (e) => logFrame(e.detail));
  stream.addEventListener("final", (e) => {
    render();
    $("final").textContent = JSON.stringify(e.detail.value, null, 2);
    window.streamdanticPage.final = e.detail.value;
  });
  stream.addEventListener("error", (e) => {
    if (e.detail.fatal) showError(e.detail.error.message);
    render();
  });
  setStatus(stream.status);
}

const FRAMES_SHOWN = 8;

function logFrame({ type, id, data }) {
  const list = $("frames");
  const item = el("li");
  item.append(el("b", "", `${id} ${type}`), document.createTextNode(data));
  list.prepend(item);
  while (list.children.length > FRAMES_SHOWN) list.lastChild.remove();
}

function showError(message) {
  const node = $("error");
  node.textContent = message;
  node.hidden = false;
}

async function stop() {
  if (!stream) return;
  const result = await stream.stop();
  window.streamdanticPage.stopped = result;
  render();
  $("source").textContent = result && result.cancelled
    ? "Stopped: the server cancelled the generation (the model stopped too)."
    : "Stopped (the generation had already ended).";
}

async function init() {
  window.streamdanticPage = { stream: null, final: undefined, ready: false };
  const info = await (await fetch("/api/examples")).json();
  examples = info.examples;
  live = info.live;
  for (const e of examples) {
    const option = el("option", "", e.title);
    option.value = e.name;
    $("example").append(option);
  }
  $("prompt").hidden = !live;
  $("prompt-label").hidden = !live;
  sourceText = live
    ? `Live: ${info.model}. Edit the prompt and press Generate.`
    : `Replaying ${info.model} at ${info.speed} tokens/s from a local OpenAI-compatible server (no network).`;
  $("source").textContent = sourceText;
  $("example").addEventListener("change", choose);
  $("start").addEventListener("click", start);
  $("stop").addEventListener("click", stop);
  choose();
  window.streamdanticPage.ready = true;
}

init();
