// A training run's page follows the run live: each notice about this run re-fetches the page's live
// part (state, progress, message, result), so a reload or a reconnect shows the same thing.
import { connectLive } from "./live.js";

const live = document.getElementById("run-live");
const runId = Number(live.dataset.run);

async function refresh() {
  const response = await fetch(location.href, { credentials: "same-origin" });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.getElementById("run-live");
  if (fresh) live.replaceChildren(...fresh.childNodes);
}

window.liveTraining = connectLive("/ws/training/", {
  onChange: (message) => { if (message.job === runId) refresh().catch(() => {}); },
  resync: () => refresh().catch(() => {}),
});
