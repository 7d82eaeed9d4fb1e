// The case page: when the case changes, refresh the header from the API and the live panels (the
// analysis) from their fragments; say what happened when it is something the page cannot refresh.
import { connectLive, refreshFetch } from "./live.js";

const root = document.getElementById("case-live");
const caseId = root.dataset.case;
const notice = document.getElementById("case-changed");
const WORDS = {
  claimed: "claimed", released: "released", reassigned: "reassigned", closed: "closed",
  note_added: "given a note", audio_added: "given new audio", priority_overridden: "given a new priority",
};
// Changes the live panels show by themselves: no notice needed.
const SELF_REFRESHING = new Set(["analysis", "score_changed", "live_words"]);
let lastSeen = null;

async function refreshHeader() {
  const response = await refreshFetch(`/api/v1/cases/${caseId}/`, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) return null;
  const data = await response.json();
  const status = document.getElementById("case-status");
  const band = document.getElementById("case-band");
  if (status && data.status) {
    const label = data.status.charAt(0).toUpperCase() + data.status.slice(1);
    status.textContent = data.claimed_by ? `${label} · ${data.claimed_by}` : label;
  }
  if (band && data.priority_band) {
    band.className = `badge band band-${data.priority_band}`;
    band.textContent = data.priority_band.charAt(0).toUpperCase() + data.priority_band.slice(1);
  }
  return data;
}

async function refreshPanels() {
  const panels = [...document.querySelectorAll(".case-panel[data-live-url]")];
  await Promise.all(panels.map(async (panel) => {
    const response = await refreshFetch(panel.dataset.liveUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    if (!response.ok) return;
    panel.innerHTML = await response.text();
    panel.dataset.refreshed = String(Date.now());
  }));
  highlightFindings();
}

// Several notices often arrive together (a step finished, then the case was re-scored): one
// refresh for the burst.
let pending = null;
function refreshSoon() {
  clearTimeout(pending);
  pending = setTimeout(() => {
    refreshHeader().then((data) => { if (data) lastSeen = stampOf(data); }).catch(() => {});
    refreshPanels().catch(() => {});
  }, 80);
}

// What the header shows; the live panels catch up with the analysis by themselves.
const stampOf = (data) => JSON.stringify([data.status, data.claimed_by, data.priority_band]);

function onChange(message) {
  if (String(message.case) !== caseId) return;
  if (message.kind === "live_words") {  // words heard but not settled yet: shown as they are, no refresh
    const tentative = document.getElementById("live-tentative");
    if (tentative) tentative.textContent = message.tentative || "";
    return;
  }
  // A vague "changed" (seen after a reconnect) never hides a notice that said what happened.
  if (!SELF_REFRESHING.has(message.kind) && (message.kind !== "changed" || notice.hidden)) {
    const what = WORDS[message.kind] || "changed";
    notice.querySelector(".what").textContent = `This case was just ${what}.`;
    notice.hidden = false;
  }
  refreshSoon();
}

async function resync() {
  // After a reconnect, catch up with whatever happened while the page was offline.
  const data = await refreshHeader().catch(() => null);
  const stamp = data ? stampOf(data) : null;
  if (lastSeen !== null && stamp !== null && stamp !== lastSeen) onChange({ case: caseId, kind: "changed" });
  else if (lastSeen !== null) refreshPanels().catch(() => {});
  lastSeen = stamp;
}

window.liveCase = connectLive(`/ws/cases/${caseId}/`, { onChange, resync });

// Transcript: words inside a finding's time span are highlighted; clicking a word or a finding
// plays the call from that moment.
function highlightFindings() {
  const spans = [...document.querySelectorAll("#findings .seek[data-start]")]
    .map((button) => [parseFloat(button.dataset.start), parseFloat(button.dataset.end)])
    .filter(([start]) => !Number.isNaN(start));
  document.querySelectorAll("#transcript .word[data-start]").forEach((word) => {
    const start = parseFloat(word.dataset.start);
    const end = parseFloat(word.dataset.end);
    if (spans.some(([from, to]) => start < (Number.isNaN(to) ? from + 0.5 : to) + 0.01 && end > from - 0.01)) {
      word.classList.add("matched");
    }
  });
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("#transcript .word[data-start], #findings .seek[data-start]");
  const players = document.querySelectorAll("audio.case-audio");
  const player = players[players.length - 1];  // the latest recording is the one analysed
  if (!target || !player || target.dataset.start === "") return;
  player.currentTime = Math.max(0, parseFloat(target.dataset.start) - 0.2);
  player.play().catch(() => {});
});
highlightFindings();
