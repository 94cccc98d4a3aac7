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

  async function send(message, shown) {
    add("user", shown || message);
    try {
      const response = await fetch("/webhooks/rest/webhook", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: sender(), message: message }),
      });
      if (!response.ok) {
        add("error", "发送失败 / Could not send (" + response.status + ")");
        return;
      }
      for (const reply of await response.json()) add("bot", reply.text, reply.buttons);
    } catch (err) {
      add("error", "网络错误 / Network error");
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
