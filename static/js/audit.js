// The audit page: keyboard shortcuts for the common answers, and the transcript's words play the
// call from where they were said.
const form = document.getElementById("audit-form");
const CATEGORY_KEYS = { 1: "angry", 2: "stressful", 3: "painful", 4: "drunk", 5: "abusive", 6: "prank", 7: "calm" };

function choose(name, value) {
  const input = form.querySelector(`input[name="${name}"][value="${value}"]`);
  if (input) { input.checked = true; input.dispatchEvent(new Event("change", { bubbles: true })); }
}

document.addEventListener("keydown", (event) => {
  if (!form) return;
  // Ctrl+Enter saves from anywhere, the comment and transcript boxes included: that is where a
  // supervisor finishes. Only the single-key answers must not fire while typing.
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit(form.querySelector('button[type="submit"]:not([name])'));
    return;
  }
  if (event.target.closest("textarea, select, input[type=text]")) return;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (CATEGORY_KEYS[event.key]) {
    choose("category", CATEGORY_KEYS[event.key]);
    if (event.key === "6") choose("genuine", "no");
  } else if (event.key === "g" || event.key === "G") {
    choose("genuine", "yes");
  } else if (event.key === "p" || event.key === "P") {
    choose("genuine", "no");
  }
});

document.addEventListener("click", (event) => {
  const word = event.target.closest("#transcript .word[data-start]");
  const player = document.getElementById("audit-audio");
  if (!word || !player) return;
  player.currentTime = Math.max(0, parseFloat(word.dataset.start) - 0.2);
  player.play().catch(() => {});
});
