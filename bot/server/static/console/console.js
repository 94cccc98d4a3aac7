// The agent console: live updates over Server-Sent Events, SLA countdowns, canned replies.
// Hand-written, no build step. Fragments come from the server already escaped; customer
// text is never turned into markup here.
(function () {
  "use strict";
  const body = document.body;

  // -- SLA countdowns in business time: the server says how many business minutes are left
  // and whether the desk is open; while it is, the countdown runs down here until the next
  // refresh brings fresh numbers (and colours).
  function remaining(ms) {
    const minutes = Math.floor(Math.abs(ms) / 60000);
    const hours = Math.floor(minutes / 60);
    const days = Math.floor(hours / 24);
    let text;
    if (hours >= 48) text = days + "d " + (hours % 24) + "h";
    else if (hours >= 1) text = hours + "h " + String(minutes % 60).padStart(2, "0") + "m";
    else text = minutes + "m";
    return ms < 0 ? "超时 overdue " + text : text;
  }
  function tick() {
    const now = performance.now();
    for (const el of document.querySelectorAll("time.countdown[data-left]")) {
      if (!el.dataset.t0) el.dataset.t0 = String(now);
      let ms = Number(el.dataset.left) * 60000;
      if (el.dataset.running === "1") ms -= now - Number(el.dataset.t0);
      if (!Number.isNaN(ms)) el.textContent = remaining(ms);
    }
  }

  // -- Fragments: elements with data-src are re-fetched when something changed.
  async function refresh() {
    for (const el of document.querySelectorAll("[data-src]")) {
      try {
        const response = await fetch(el.dataset.src, {
          credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store",
        });
        if (response.redirected || response.status === 401) { location.assign("/console/login"); return; }
        if (!response.ok) continue;
        el.innerHTML = await response.text();
        if (el.id === "timeline") el.scrollTop = el.scrollHeight;
      } catch (err) { /* offline for a moment: the next event refreshes again */ }
    }
    tick();
  }

  function toast(text) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast";
    item.textContent = text;
    box.appendChild(item);
    setTimeout(() => item.remove(), 12000);
  }

  function live() {
    const badge = document.getElementById("live");
    const stream = new EventSource("/console/events");
    let first = true;
    stream.addEventListener("open", () => { if (badge) { badge.hidden = false; badge.classList.remove("off"); } });
    stream.addEventListener("error", () => { if (badge) badge.classList.add("off"); });
    stream.addEventListener("changed", () => { if (first) { first = false; return; } refresh(); });
    stream.addEventListener("notify", (event) => {
      const data = JSON.parse(event.data);
      const what = data.kind === "sla_breach" ? "SLA 已超时 breached" : "SLA 即将超时 due soon";
      toast(data.case + " · " + what + (data.text ? " — " + data.text : ""));
    });
    stream.addEventListener("signed_out", () => { stream.close(); location.assign("/console/login"); });
  }

  // -- Canned replies fill the reply box (the server already filled their variables).
  const canned = document.getElementById("canned");
  const replyText = document.getElementById("reply-text");
  if (canned && replyText) {
    canned.addEventListener("change", () => {
      const option = canned.selectedOptions[0];
      if (option && option.dataset.body) {
        replyText.value = replyText.value ? replyText.value + "\n" + option.dataset.body : option.dataset.body;
        replyText.focus();
      }
      canned.value = "";
    });
  }

  // Submitting twice (a double click) would send the reply twice.
  for (const form of document.querySelectorAll("form[method=post]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button")) button.disabled = true;
    });
  }

  const timeline = document.getElementById("timeline");
  if (timeline) timeline.scrollTop = timeline.scrollHeight;
  tick();
  setInterval(tick, 1000);
  if (body.dataset.live) {
    live();
    setInterval(refresh, 60000); // colours move with business time even when nothing happens
  }
})();
