// The web chat: posts to the Rasa-compatible REST webhook and shows replies with buttons.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const senderSelect = document.getElementById("sender");

  function visitorId() {
    let id = localStorage.getItem("kefu-visitor");
    if (!id) {
      id = "visitor-" + crypto.getRandomValues(new Uint32Array(2)).join("");
      localStorage.setItem("kefu-visitor", id);
    }
    return id;
  }

  function sender() { return senderSelect.value || visitorId(); }

  function add(kind, text, buttons) {
    const item = document.createElement("li");
    item.className = kind;
    item.textContent = text; // never innerHTML: replies may quote customer text
    if (buttons && buttons.length) {
      const row = document.createElement("div");
      row.className = "buttons";
      for (const b of buttons) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", () => send(b.payload, b.title));
        row.appendChild(button);
      }
      item.appendChild(row);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  // Each message carries an id of its own, so the server stores it once however often it
  // arrives. A message whose answer never came keeps its id: sent again (or retyped word for
  // word) it is the same message, and the server answers with the replies it stored.
  const SEND_TIMEOUT_MS = 15000;
  let unanswered = null;

  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(16)).join("-");
  }

  function idFor(message) {
    if (unanswered && unanswered.message === message && unanswered.sender === sender()) {
      return unanswered.id;
    }
    return newId();
  }

  async function send(message, shown) {
    add("user", shown || message);
    const id = idFor(message);
    unanswered = { message: message, sender: sender(), id: id };
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), SEND_TIMEOUT_MS);
    try {
      const response = await fetch("/webhooks/rest/webhook", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: sender(), message: message, message_id: id }),
        signal: abort.signal,
      });
      if (!response.ok) {
        add("error", "发送失败，请再发一次 / Could not send, please send it again ("
            + response.status + ")");
        return;
      }
      unanswered = null;
      for (const reply of await response.json()) add("bot", reply.text, reply.buttons);
    } catch (err) {
      add("error", "网络错误，请再发一次 / Network error, please send it again");
    } finally {
      clearTimeout(timer);
    }
  }

  // Messages that answer no request of ours (an agent's reply, the satisfaction question)
  // arrive on a Server-Sent Events stream of this sender's outbox.
  let stream = null;
  function listen() {
    if (stream) stream.close();
    stream = new EventSource("/webchat/stream?sender=" + encodeURIComponent(sender()));
    stream.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      add(message.purpose === "agent" ? "agent" : "bot", message.text, message.buttons);
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  senderSelect.addEventListener("change", () => {
    log.replaceChildren(); listen(); send("/start", "/start");
  });
  listen();
  send("/start", "/start");
})();
