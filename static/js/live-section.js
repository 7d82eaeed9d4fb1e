// Parts of an admin page that follow background jobs live (a training run, evaluations): each notice
// about a job a part shows re-fetches the page and swaps that part in, so a reload or a reconnect
// shows the same thing. A part says what it follows: data-live-kind ("training" or "evaluation") and,
// for one job only, data-live-job.
import { connectLive, refreshFetch } from "./live.js";

const parts = [...document.querySelectorAll("[data-live-kind]")];

function follows(part, message) {
  const kind = message.kind || "training";
  return part.dataset.liveKind === kind && (!part.dataset.liveJob || Number(part.dataset.liveJob) === message.job);
}

async function refresh() {
  const response = await refreshFetch(location.href, { credentials: "same-origin" });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const part of parts) {
    const fresh = page.getElementById(part.id);
    if (fresh) part.replaceChildren(...fresh.childNodes);
  }
}

window.liveJobs = connectLive("/ws/training/", {
  onChange: (message) => { if (parts.some((part) => follows(part, message))) refresh().catch(() => {}); },
  resync: () => refresh().catch(() => {}),
});
