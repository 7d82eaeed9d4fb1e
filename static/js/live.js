// One live websocket: reconnects with backoff, shows live / reconnecting in the navbar, and calls
// resync() after every (re)connect so nothing missed while offline stays missed.
const MAX_DELAY_MS = 15000;
const PING_EVERY_MS = 20000;
const SILENT_LIMIT_MS = 45000;
const SESSION_ENDED = 4401; // calls/ws_security.py CLOSE_SESSION_ENDED

// A page's own background refresh: marked so that it does not count as the person's activity (the
// session still ends after SESSION_IDLE_MINUTES without a click); a 401 means the session has ended,
// and the reload turns into the login page.
export async function refreshFetch(url, options = {}) {
  const headers = { ...(options.headers || {}), "X-Background-Refresh": "1" };
  const response = await fetch(url, { credentials: "same-origin", ...options, headers });
  if (response.status === 401) location.reload();
  return response;
}

export function connectLive(path, { onChange, resync }) {
  const indicator = document.getElementById("live-indicator");
  let attempt = 0;
  let socket = null;
  let lastHeard = Date.now();

  function show(state) {
    if (!indicator) return;
    indicator.hidden = false;
    indicator.dataset.state = state;
    indicator.className = `badge me-3 ${state === "live" ? "text-bg-success" : "text-bg-warning"}`;
    indicator.textContent = state === "live" ? "● Live" : "● Reconnecting…";
    indicator.title = state === "live" ? "Updates arrive as they happen" : "Connection lost; retrying";
  }

  function open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}${path}`);
    socket.addEventListener("open", () => {
      attempt = 0;
      lastHeard = Date.now();
      show("live");
      resync();
    });
    socket.addEventListener("message", (event) => {
      lastHeard = Date.now();
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      if (message.v === 1 && message.type !== "hello" && message.type !== "pong") onChange(message);
    });
    socket.addEventListener("close", (event) => {
      if (event.code === SESSION_ENDED) { location.reload(); return; } // the reload shows the login
      show("reconnecting");
      const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
      attempt += 1;
      setTimeout(open, delay);
    });
  }

  // A dead network may not close the socket: ping, and give up on a socket that stays silent.
  setInterval(() => {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastHeard > SILENT_LIMIT_MS) socket.close();
    else socket.send(JSON.stringify({ type: "ping" }));
  }, PING_EVERY_MS);

  show("reconnecting");
  open();
  return { get socket() { return socket; } };
}

// Short two-tone beep with WebAudio; silently does nothing where audio is not allowed yet.
let audioContext = null;
export function beep() {
  try {
    audioContext = audioContext || new AudioContext();
    const now = audioContext.currentTime;
    [880, 1320].forEach((frequency, i) => {
      const oscillator = audioContext.createOscillator();
      const gain = audioContext.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.2, now + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.001, now + i * 0.18 + 0.16);
      oscillator.connect(gain).connect(audioContext.destination);
      oscillator.start(now + i * 0.18);
      oscillator.stop(now + i * 0.18 + 0.17);
    });
  } catch { /* no audio: the banner still shows */ }
}

// A desktop notification when allowed, and always an in-page banner (the page may be in front).
export function alertBanner(text, href) {
  if ("Notification" in window && Notification.permission === "granted") {
    try {
      const notification = new Notification("112 Triage", { body: text, tag: href });
      notification.onclick = () => { window.focus(); location.href = href; };
    } catch { /* some browsers only allow notifications from a service worker */ }
  }
  let area = document.getElementById("live-alerts");
  if (!area) {
    area = document.createElement("div");
    area.id = "live-alerts";
    area.style.cssText = "position:fixed;top:4.5rem;right:1rem;z-index:1080;max-width:24rem;";
    area.setAttribute("aria-live", "assertive");
    document.body.append(area);
  }
  const banner = document.createElement("div");
  banner.className = "alert alert-danger alert-dismissible shadow live-alert";
  banner.setAttribute("role", "alert");
  const link = document.createElement("a");
  link.href = href;
  link.className = "alert-link";
  link.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "btn-close";
  close.setAttribute("aria-label", "Dismiss");
  close.addEventListener("click", () => banner.remove());
  banner.append(link, close);
  area.prepend(banner);
  setTimeout(() => banner.remove(), 30000);
}

export function askNotificationPermission(button) {
  if (!button) return;
  if (!("Notification" in window) || Notification.permission !== "default") {
    button.hidden = true;
    return;
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.hidden = true;
  });
}
