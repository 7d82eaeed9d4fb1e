// The operations panel follows the queue live: any change to a case refreshes the figures and the
// charts (at most every few seconds: a busy evening sends many notices).
import { connectLive, refreshFetch } from "./live.js";

const live = document.getElementById("operations-live");
const EVERY_MS = 5000;
let last = 0;
let pending = null;

async function refresh() {
  last = Date.now();
  const response = await refreshFetch(location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.getElementById("operations-live");
  if (!fresh) return;
  fresh.querySelectorAll("img.live-chart").forEach((img) => { img.src = `${img.dataset.src}?t=${last}`; });
  live.replaceChildren(...fresh.childNodes);
  live.dataset.refreshed = String(last);
}

function onChange() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refresh().catch(() => {}); }, Math.max(0, last + EVERY_MS - Date.now()));
}

window.liveOperations = connectLive("/ws/queue/", { onChange, resync: () => refresh().catch(() => {}) });
