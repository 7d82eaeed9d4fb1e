// The live queue: on any change notice, fetch the rows for the current filters, patch changed rows
// in place, put them in the server's order, highlight what changed, and alert on new critical calls.
import { alertBanner, askNotificationPermission, beep, connectLive } from "./live.js";

const body = document.getElementById("queue-rows");
const rowsUrl = body.dataset.rowsUrl;
const closedView = new URLSearchParams(location.search).get("view") === "closed";
let syncing = null;
let again = false;

function rowsById(container) {
  const map = new Map();
  container.querySelectorAll("tr.queue-row").forEach((row) => map.set(row.dataset.case, row));
  return map;
}

function bandOf(row) {
  return row?.querySelector(".band")?.className.match(/band-(\w+)/)?.[1] ?? "";
}

// Ignore the ticking "waiting" cell and per-response CSRF tokens when deciding what changed.
function fingerprint(row) {
  const copy = row.cloneNode(true);
  copy.querySelectorAll(".wait, input[name=csrfmiddlewaretoken]").forEach((node) => node.remove());
  return copy.innerHTML.replace(/\s+/g, " ");
}

function flash(row) {
  row.classList.remove("changed");
  void row.offsetWidth; // restart the animation
  row.classList.add("changed");
}

async function fetchRows() {
  const response = await fetch(`${rowsUrl}${location.search}`, {
    credentials: "same-origin",
    headers: { "X-Requested-With": "fetch" },
  });
  if (!response.ok) throw new Error(`queue rows: HTTP ${response.status}`);
  const template = document.createElement("template");
  template.innerHTML = `<table><tbody>${await response.text()}</tbody></table>`;
  return template.content.querySelector("tbody");
}

function apply(fresh) {
  const before = rowsById(body);
  const ordered = [];
  for (const row of fresh.querySelectorAll("tr.queue-row")) {
    const old = before.get(row.dataset.case);
    if (old && fingerprint(old) === fingerprint(row)) {
      ordered.push(old);
      continue;
    }
    if (bandOf(row) === "critical" && bandOf(old) !== "critical" && !closedView) {
      const caller = row.cells[2]?.firstChild?.textContent.trim() || "";
      beep();
      alertBanner(`Critical call #${row.dataset.case} ${caller}`.trim(), row.querySelector("a")?.href || "#");
    }
    flash(row);
    ordered.push(row);
  }
  const empty = fresh.querySelector("#queue-empty");
  body.replaceChildren(...(ordered.length ? ordered : empty ? [empty] : []));
  body.dataset.synced = String(Date.now());
}

async function resync() {
  if (syncing) { again = true; return syncing; }
  syncing = (async () => {
    do {
      again = false;
      try { apply(await fetchRows()); } catch (error) { console.warn(error); }
    } while (again);
    syncing = null;
  })();
  return syncing;
}

// Several notices often arrive together (created, then scored): fetch once for the burst.
let pending = null;
function onChange() {
  clearTimeout(pending);
  pending = setTimeout(resync, 80);
}

askNotificationPermission(document.getElementById("notify-permission"));
window.liveQueue = connectLive("/ws/queue/", { onChange, resync });

// Waiting time counts up every second. The order needs no re-sort as time passes: every call's
// wait grows at the same rate, so the server's order (base score + rate x wait) stays right.
function formatWait(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mmss = `${String(m).padStart(h ? 2 : 1, "0")}:${String(r).padStart(2, "0")}`;
  return h ? `${h}:${mmss}` : mmss;
}

function tick() {
  const now = Date.now();
  body.querySelectorAll(".wait[data-since]").forEach((cell) => {
    cell.textContent = formatWait((now - Date.parse(cell.dataset.since)) / 1000);
  });
}
if (!closedView) {
  tick();
  setInterval(tick, 1000);
}
