// Record a call in the browser (MediaRecorder), play it back, and attach it to the form's `audio`
// file input, so it uploads like any other file (webm/opus) with recorded_in_browser=1.
import { formatWhen } from "./when.js";

const TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus"];

function setUp(root) {
  const form = root.closest("form");
  const fileInput = form?.querySelector('input[type="file"][name="audio"]');
  const flag = root.querySelector('input[name="recorded_in_browser"]');
  const [recordButton, stopButton, discardButton] = ["record", "stop", "discard"].map(
    (name) => root.querySelector(`[data-action="${name}"]`),
  );
  const player = root.querySelector("audio");
  const status = root.querySelector("[data-status]");
  const maxSeconds = Number(root.dataset.maxSeconds || 600);
  if (!fileInput || !navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
    status.textContent = "Recording is not available in this browser; upload a file instead.";
    recordButton.disabled = true;
    return;
  }

  let recorder = null;
  let stream = null;
  let chunks = [];
  let startedAt = 0;
  let ticker = null;
  let limit = null;

  const say = (text) => { status.textContent = text; };
  const seconds = () => ((Date.now() - startedAt) / 1000).toFixed(1);

  function reset() {
    fileInput.value = "";
    flag.disabled = true;
    if (player.src) URL.revokeObjectURL(player.src);
    player.removeAttribute("src");
    player.hidden = true;
    discardButton.hidden = true;
  }

  recordButton.addEventListener("click", async () => {
    reset();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      say(`The microphone is not available: ${error.message}`);
      return;
    }
    const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
    chunks = [];
    recorder.addEventListener("dataavailable", (event) => { if (event.data.size) chunks.push(event.data); });
    recorder.addEventListener("stop", finish);
    recorder.start(250);
    startedAt = Date.now();
    root.dataset.state = "recording";
    recordButton.disabled = true;
    stopButton.disabled = false;
    say("Recording… 0.0 s");
    ticker = setInterval(() => say(`Recording… ${seconds()} s`), 250);
    limit = setTimeout(() => recorder.state === "recording" && recorder.stop(), maxSeconds * 1000);
  });

  stopButton.addEventListener("click", () => { if (recorder?.state === "recording") recorder.stop(); });

  discardButton.addEventListener("click", () => { reset(); say("Recording discarded."); });

  // Choosing a file by hand replaces the recording.
  fileInput.addEventListener("change", () => {
    flag.disabled = true;
    player.hidden = true;
    discardButton.hidden = true;
  });

  function finish() {
    clearInterval(ticker);
    clearTimeout(limit);
    stream.getTracks().forEach((track) => track.stop());
    const type = recorder.mimeType || "audio/webm";
    const blob = new Blob(chunks, { type });
    const extension = type.includes("ogg") ? "ogg" : "webm";
    // Named by the portal's clock (its time zone), as every time on the case page is.
    const stamp = formatWhen(new Date(), root.dataset.timeZone).replace(" ", "_").replace(/:/g, "-");
    const name = `browser-recording-${stamp}.${extension}`;
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], name, { type }));
    fileInput.files = transfer.files;
    flag.disabled = false;
    player.src = URL.createObjectURL(blob);
    player.hidden = false;
    discardButton.hidden = false;
    recordButton.disabled = false;
    stopButton.disabled = true;
    root.dataset.state = "recorded";
    say(`Recorded ${seconds()} s (${Math.round(blob.size / 1024)} KB): play it back, then submit to attach it.`);
  }
}

document.querySelectorAll("[data-recorder]").forEach(setUp);
