// "Take a live call": the headset's microphone → AudioContext → the desk-capture AudioWorklet (20 ms
// frames of 16 kHz L16) → /ws/live/desk/, one binary message a frame, between the portal's start and
// stop messages (live/protocol.py). The server answers {"event": "started", "case": N}: the case is
// in the queue, claimed by this operator, and the page links to it.
//
// A dropped connection is not a hang-up: the page keeps capturing, holds the frames, reconnects with
// the same call id within the server's reconnect window and sends what it held, so no word is lost.
const NORMAL_CLOSURE = 1000;
const CLOSE_CONFLICT = 4409; // live/protocol.py: the call id is streaming already
const SESSION_ENDED = 4401; // calls/ws_security.py CLOSE_SESSION_ENDED
const FRAMES_PER_SECOND = 50;

const root = document.getElementById("desk");
const form = document.getElementById("desk-form");
const startButton = form.querySelector('[data-action="start"]');
const hangupButton = form.querySelector('[data-action="hangup"]');
const badge = document.getElementById("desk-state");
const statusLine = document.getElementById("desk-status");
const clock = document.getElementById("desk-clock");
const meter = document.getElementById("desk-level");
const meterBar = meter.querySelector(".progress-bar");
const caseLine = document.getElementById("desk-case");
const caseLink = document.getElementById("desk-case-link");
const fields = [...form.querySelectorAll("input, select")];

const sampleRate = Number(root.dataset.sampleRate);
const reconnectMs = Number(root.dataset.reconnectSeconds) * 1000;
const maxHeldFrames = (Number(root.dataset.reconnectSeconds) + 5) * FRAMES_PER_SECOND;

const BADGES = {
  idle: ["text-bg-secondary", "Not on a call"],
  starting: ["text-bg-warning", "Connecting…"],
  listening: ["text-bg-danger", "● Listening"],
  reconnecting: ["text-bg-warning", "Reconnecting…"],
  ended: ["text-bg-secondary", "Hung up"],
  failed: ["text-bg-dark", "Not streaming"],
};

let call = null; // the call on the line: its capture, its socket and what it holds back

function show(state, text = "") {
  root.dataset.state = state;
  const [style, label] = BADGES[state];
  badge.className = `badge ${style}`;
  badge.textContent = label;
  if (text) statusLine.textContent = text;
  const busy = !["idle", "ended", "failed"].includes(state);
  startButton.disabled = busy;
  hangupButton.disabled = !busy;
  fields.forEach((field) => { field.disabled = busy; });
}

function showLevel(rms) {
  // -60 dBFS (room noise) to 0 dBFS across the bar.
  const percent = rms > 0 ? Math.max(0, Math.min(100, (20 * Math.log10(rms) + 60) * (100 / 60))) : 0;
  meterBar.style.width = `${percent.toFixed(0)}%`;
  meter.setAttribute("aria-valuenow", percent.toFixed(0));
}

async function openMicrophone() {
  const media = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1 } });
  let context;
  try {
    context = new AudioContext({ sampleRate }); // the browser resamples the microphone itself
  } catch {
    context = new AudioContext(); // the worklet downsamples from the device's rate instead
  }
  await context.audioWorklet.addModule(root.dataset.worklet);
  const source = context.createMediaStreamSource(media);
  const capture = new AudioWorkletNode(context, "desk-capture", { numberOfInputs: 1, numberOfOutputs: 1 });
  source.connect(capture);
  capture.connect(context.destination); // pulls the graph; the processor writes only silence
  await context.resume();
  return { media, context, source, capture };
}

function closeMicrophone(microphone) {
  if (!microphone) return;
  microphone.capture.port.onmessage = null; // frames still in flight are not sent after the stop
  microphone.capture.port.postMessage("stop");
  microphone.source.disconnect();
  microphone.capture.disconnect();
  microphone.media.getTracks().forEach((track) => track.stop());
  microphone.context.close().catch(() => {});
}

// The call's details as the operator typed them at Start (the fields are locked during the call; a
// reconnect announces the same call again).
function callDetails() {
  const data = new FormData(form);
  return {
    caller_number: String(data.get("caller_number") || "").trim(),
    language: data.get("language"), location: String(data.get("location") || "").trim(),
  };
}

function startMessage() {
  return JSON.stringify({ event: "start", call_id: call.id, encoding: "l16", sample_rate: sampleRate, ...call.details });
}

function onFrame({ data }) {
  if (!call || call.hangingUp) return;
  showLevel(data.level);
  if (call.streaming && call.socket.readyState === WebSocket.OPEN) {
    call.socket.send(data.pcm);
    return;
  }
  call.held.push(data.pcm); // before "started", or while reconnecting
  if (call.held.length > maxHeldFrames) call.held.shift();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${root.dataset.socketPath}`);
  socket.binaryType = "arraybuffer";
  call.socket = socket;
  call.streaming = false;
  socket.addEventListener("open", () => {
    call.opened = true;
    socket.send(startMessage());
  });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch { return; }
    if (message.event === "refused") { call.refusal = message.reason; return; } // the close that follows says no more
    if (message.event !== "started") return;
    call.caseId = message.case;
    call.droppedAt = null;
    call.attempt = 0;
    caseLink.href = `/cases/${message.case}/`;
    caseLink.textContent = `case #${message.case}`;
    caseLine.hidden = false;
    for (const frame of call.held.splice(0)) socket.send(frame);
    call.streaming = true;
    show("listening", `On the line: case #${message.case} is claimed by you; its words appear on the case page.`);
  });
  socket.addEventListener("close", (event) => onClose(socket, event));
}

function onClose(socket, event) {
  if (!call || call.socket !== socket) return;
  if (call.hangingUp || event.code === NORMAL_CLOSURE) {
    finish("ended", call.caseId ? `Hung up: the call's audio is now case #${call.caseId}'s recording.` : "Hung up.");
    return;
  }
  if (event.code === CLOSE_CONFLICT && call.caseId && withinWindow()) {
    // A reconnect that came before the portal noticed the old connection drop: try again.
    retry();
    return;
  }
  if (event.code === SESSION_ENDED) { // logged out elsewhere, or the account was switched off
    finish("failed", "Your session has ended: log in again. The audio heard so far is kept"
      + `${call.caseId ? ` in case #${call.caseId}` : ""}.`);
    return;
  }
  if (event.code >= 4000) { // refused by the portal, with its reason (live/protocol.py)
    finish("failed", `The portal ended the stream: ${event.reason || call.refusal || `code ${event.code}`}`);
    return;
  }
  if (!call.opened) { // the handshake failed: a login that ended, or a role that may not stream
    finish("failed", "The portal refused the connection. Reload the page (your login may have ended).");
    return;
  }
  // The line to the portal dropped (1006): keep listening and holding the audio, and come back.
  call.droppedAt = call.droppedAt || Date.now();
  if (!withinWindow()) {
    finish("failed", `The connection did not come back within ${reconnectMs / 1000} s: the audio heard `
      + `until the drop is kept${call.caseId ? ` in case #${call.caseId}` : ""}.`);
    return;
  }
  show("reconnecting", "The connection dropped: the call's audio is held and sent when it is back.");
  retry();
}

function withinWindow() {
  return Date.now() - (call.droppedAt || Date.now()) <= reconnectMs;
}

function retry() {
  call.droppedAt = call.droppedAt || Date.now();
  call.attempt += 1;
  call.retry = setTimeout(connect, Math.min(4000, 250 * 2 ** call.attempt));
}

function finish(state, text) {
  if (!call) return;
  clearTimeout(call.retry);
  clearInterval(call.ticker);
  closeMicrophone(call.microphone);
  call = null;
  showLevel(0);
  show(state, text);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (call) return;
  call = {
    id: crypto.randomUUID(), details: callDetails(), microphone: null, socket: null, held: [], opened: false,
    streaming: false, hangingUp: false, caseId: null, attempt: 0, droppedAt: null, retry: null, ticker: null,
    refusal: "",
  };
  caseLine.hidden = true;
  show("starting", "Opening the microphone…");
  try {
    call.microphone = await openMicrophone();
  } catch (error) {
    finish("failed", `The microphone is not available: ${error.message}`);
    return;
  }
  call.microphone.capture.port.onmessage = onFrame;
  const startedAt = Date.now();
  call.ticker = setInterval(() => {
    const seconds = Math.floor((Date.now() - startedAt) / 1000);
    clock.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }, 500);
  statusLine.textContent = "Connecting to the portal…";
  connect();
});

hangupButton.addEventListener("click", () => {
  if (!call) return;
  call.hangingUp = true;
  hangupButton.disabled = true;
  statusLine.textContent = "Hanging up…";
  closeMicrophone(call.microphone);
  call.microphone = null;
  if (call.socket?.readyState === WebSocket.OPEN && call.streaming) {
    call.socket.send(JSON.stringify({ event: "stop" })); // the server hangs up, then closes (1000)
  } else {
    call.socket?.close(NORMAL_CLOSURE);
    finish("ended", "Hung up.");
  }
});

// Leaving the page mid-call would drop the line: ask first.
window.addEventListener("beforeunload", (event) => {
  if (!call) return;
  event.preventDefault();
  event.returnValue = ""; // what older Chromium still asks for
});

show("idle");
// The microphone needs a secure page (https, or this machine) and a browser with AudioWorklet.
if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia || !window.AudioWorkletNode) {
  startButton.disabled = true;
  statusLine.textContent = "This browser cannot stream the microphone here (it needs https and a current "
    + "browser): record the call on the New call page instead.";
}
