// Minimal chat page: the full embeddable widget replaces it. Text is inserted with textContent only.
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  let conversationId = sessionStorage.getItem("borgerbot-conversation") || null;

  function add(text, who) {
    const li = document.createElement("li");
    li.className = who;
    li.textContent = text;
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  async function send(text) {
    add(text, "user");
    try {
      const res = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: text, conversation_id: conversationId }),
      });
      const data = await res.json();
      if (!res.ok) { add(data.error || "Der skete en fejl. Prøv igen.", "bot error"); return; }
      conversationId = data.conversation_id;
      sessionStorage.setItem("borgerbot-conversation", conversationId);
      for (const m of data.messages) add(m.text, "bot");
    } catch (e) {
      add("Der er ingen forbindelse lige nu. Prøv igen om lidt.", "bot error");
    }
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
})();
