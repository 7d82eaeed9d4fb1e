// The live queue: on any change notice, fetch the window (counts, one page of rows, pager) for the
// current filters and page, patch changed rows in place, put them in the server's order, highlight
// what changed, and alert on new critical calls, in the window or not.
import { alertBanner, askNotificationPermission, beep, connectLive, refreshFetch } from "./live.js";

const body = document.getElementById("queue-rows");
const rowsUrl = document.getElementById("queue-window").dataset.rowsUrl;
const closedView = new URLSearchParams(location.search).get("view") === "closed";
let criticalCount = criticalIn(document);
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
  copy.querySelectorAll(".wait, .due, input[name=csrfmiddlewaretoken]").forEach((node) => node.remove());
  return copy.innerHTML.replace(/\s+/g, " ");
}

function flash(row) {
  row.classList.remove("changed");
  void row.offsetWidth; // restart the animation
  row.classList.add("changed");
}

function criticalIn(root) {
  return Number(root.getElementById("queue-summary")?.dataset.critical ?? 0);
}

async function fetchWindow() {
  const response = await refreshFetch(`${rowsUrl}${location.search}`, {
    credentials: "same-origin",
    headers: { "X-Requested-With": "fetch" },
  });
  if (!response.ok) throw new Error(`queue rows: HTTP ${response.status}`);
  return new DOMParser().parseFromString(await response.text(), "text/html");
}

// Returns whether a row newly critical was announced.
function applyRows(fresh) {
  const before = rowsById(body);
  const ordered = [];
  let announced = false;
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
      announced = true;
    }
    flash(row);
    ordered.push(row);
  }
  const empty = fresh.querySelector("#queue-empty");
  body.replaceChildren(...(ordered.length ? ordered : empty ? [empty] : []));
  return announced;
}

function apply(fresh) {
  const announced = applyRows(fresh.getElementById("queue-rows"));
  for (const id of ["queue-summary", "queue-pager"]) {
    const part = fresh.getElementById(id);
    if (part) document.getElementById(id)?.replaceWith(document.adoptNode(part));
  }
  // A critical call outside this window (a later page, or more critical calls than a page holds)
  // must not go unnoticed: the counts cover the whole queue, so a rise there is announced too.
  const critical = criticalIn(document);
  if (critical > criticalCount && !announced && !closedView) {
    beep();
    const top = document.getElementById("queue-summary").dataset.topUrl || "?";
    alertBanner(`Critical call waiting (${critical} critical): see the top of the queue`, top);
  }
  criticalCount = critical;
  if (!closedView) tick(); // new rows come with the server's coarse "waiting" text
  body.dataset.synced = String(Date.now());
}

async function resync() {
  if (syncing) { again = true; return syncing; }
  syncing = (async () => {
    do {
      again = false;
      try { apply(await fetchWindow()); } catch (error) { console.warn(error); }
    } while (again);
    syncing = null;
  })();
  return syncing;
}

// Notices that change nothing a row shows: a long analysis step's progress, a note.
function changesRows(message) {
  const progressOnly = message.progress !== undefined && message.state === undefined;
  return !progressOnly && message.kind !== "note_added";
}

// Several notices often arrive together (created, then scored), and with calls arriving every second
// they never stop: fetch once per burst and at most once per MIN_GAP_MS. A plain debounce would never
// fire in a steady stream, and fetching on every notice would multiply the server's load by the
// number of open pages: with 30 pages at 2 calls a second, a 500 ms gap made the pages' refreshes
// alone take more than a core of a 2-core server (benchmarks/evening.py). A call scored critical
// skips the gap: it shows within the burst.
const BURST_MS = 80;
const MIN_GAP_MS = 2000;
let pending = null;
let lastFetch = 0;
function onChange(message) {
  if (!changesRows(message)) return;
  if (message.band === "critical" && pending) {
    clearTimeout(pending);
    pending = null;
  }
  if (pending) return;
  const gap = message.band === "critical" ? 0 : MIN_GAP_MS;
  const wait = Math.max(BURST_MS, lastFetch + gap - Date.now());
  pending = setTimeout(() => {
    pending = null;
    lastFetch = Date.now();
    resync();
  }, wait);
}

askNotificationPermission(document.getElementById("notify-permission"));
window.liveQueue = connectLive("/ws/queue/", { onChange, resync });

// Waiting time counts up every second, and the time left to each call's bound counts down. The order
// needs no re-sort as time passes: the server orders by band tier and due time, which do not move.
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
  body.querySelectorAll(".due[data-due]").forEach((cell) => {
    const left = (Date.parse(cell.dataset.due) - now) / 1000;
    cell.textContent = left >= 0 ? `answer within ${formatWait(left)}` : `past its bound by ${formatWait(-left)}`;
    cell.classList.toggle("overdue", left < 0);
  });
}
if (!closedView) {
  tick();
  setInterval(tick, 1000);
}
