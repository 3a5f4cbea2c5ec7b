/* Borgerbot chat widget. Embed with:
 *   <script src="https://<server>/widget.js" data-municipality="0101" defer></script>
 * Plain JavaScript, no dependencies. Renders inside a shadow root so the host page's CSS cannot
 * break it (and it cannot break the host page). New messages arrive by short polling: every
 * 0.5 s while a person holds (or is about to take) the chat, every 3 s while the bot does (its
 * replies come back with the POST anyway). No connection is held open per citizen, it passes
 * any proxy, and an agent's reply shows within about half a second.
 *
 * Every request says the last sequence number the widget has (`after`), and the server answers
 * with everything after it, so no message is ever skipped. Messages are sent one at a time from
 * an outbox (typing on while a reply is pending queues the text, never drops it), each with a
 * random client id: a retried POST is stored once, and the widget recognises its own message
 * by that id (the stored text can differ: CPR numbers are masked). A message whose POST keeps
 * failing stays first in the outbox with its id (the server may have stored it and only the
 * answer was lost); "Prøv igen" sends it again, and the messages behind it wait.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__borgerbotWidget) return;
  window.__borgerbotWidget = true;

  var BASE = new URL(script.src, location.href).origin;
  var MUNICIPALITY = script.getAttribute("data-municipality") || "*";
  var TITLE = script.getAttribute("data-title") || "Spørg kommunen";
  var KEY = "borgerbot." + MUNICIPALITY + ".";
  var POLL_FAST_MS = 500, POLL_SLOW_MS = 3000;
  var URL_RE = /(https?:\/\/[^\s<>"')]+[^\s<>"').,;:!?])/g;

  var CALLBACK_INSTEAD = { title: "Bestil et opkald i stedet", payload: "/request_callback" };
  var RETRY_MS = [1000, 3000];  // after a network failure; the client id makes retries safe

  var state = {
    id: localStorage.getItem(KEY + "conversation"),
    lastSeq: 0, sending: false, open: sessionStorage.getItem(KEY + "open") === "1",
    agentName: null, convState: "bot", config: null, seen: {}, outbox: [],
    failed: null  // the outbox's first item, after its POST failed: waits for "Prøv igen"
  };

  function randomId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);  // also on plain-http municipal pages (randomUUID is not)
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var host = document.createElement("div");
  host.id = "borgerbot-widget";
  document.body.appendChild(host);
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    '<link rel="stylesheet" href="' + BASE + '/static/widget.css">' +
    '<button class="launcher" type="button" aria-expanded="false" aria-controls="bb-panel">' +
    '<span aria-hidden="true">💬</span> <span class="launcher-label"></span></button>' +
    '<section class="panel" id="bb-panel" role="region" aria-labelledby="bb-title" hidden>' +
    '  <header><h2 id="bb-title"></h2>' +
    '    <button class="close" type="button" aria-label="Luk chatten">✕</button></header>' +
    '  <p class="status" role="status" aria-live="polite"></p>' +
    '  <div class="log" role="log" aria-live="polite" aria-label="Samtale" tabindex="0"><ol class="messages"></ol></div>' +
    '  <p class="typing" hidden><span class="visually-hidden">Assistenten skriver</span>' +
    '    <span aria-hidden="true">●</span><span aria-hidden="true">●</span><span aria-hidden="true">●</span></p>' +
    '  <p class="error" role="alert"></p>' +
    '  <p class="queue-actions retry-actions" hidden><button type="button" class="retry">Prøv igen</button></p>' +
    '  <p class="queue-actions" hidden><button type="button" class="callback-instead"></button></p>' +
    '  <form class="composer">' +
    '    <label for="bb-input">Skriv din besked</label>' +
    '    <div class="row"><textarea id="bb-input" rows="2" maxlength="1000" autocomplete="off"></textarea>' +
    '    <button type="submit">Send</button></div>' +
    '    <p class="hint">Skriv ikke dit CPR-nummer.</p>' +
    '  </form>' +
    '</section>';

  var $ = function (sel) { return root.querySelector(sel); };
  var launcher = $(".launcher"), panel = $(".panel"), log = $(".messages"), input = $("#bb-input");
  var form = $(".composer"), typing = $(".typing"), status = $(".status"), errorBox = $(".error");
  var queueActions = $(".queue-actions:not(.retry-actions)"), callbackInstead = $(".callback-instead");
  var retryActions = $(".retry-actions"), retryButton = $(".retry");
  callbackInstead.textContent = CALLBACK_INSTEAD.title;
  $(".launcher-label").textContent = TITLE;
  $("#bb-title").textContent = TITLE;

  // Rejects with e.status set for an HTTP error, without it when the network failed.
  function api(path, options) {
    return fetch(BASE + path, options).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { var e = new Error(body.error || "Der opstod en fejl. Prøv igen."); e.status = r.status; throw e; }
        return body;
      });
    });
  }

  function linkify(el, text) {
    var last = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text))) {
      el.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = document.createElement("a");
      a.href = m[1]; a.textContent = m[1]; a.target = "_blank"; a.rel = "noopener noreferrer";
      el.appendChild(a);
      last = m.index + m[1].length;
    }
    el.appendChild(document.createTextNode(text.slice(last)));
  }

  var WHO = { citizen: "Dig", bot: "Assistent", agent: "Medarbejder", system: "" };

  function clearButtons() {
    root.querySelectorAll(".quick").forEach(function (q) { q.remove(); });
  }

  function renderButtons(li, buttons) {
    if (!buttons || !buttons.length) return;
    var group = document.createElement("div");
    group.className = "quick"; group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Svarmuligheder");
    buttons.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button"; btn.textContent = b.title;
      btn.addEventListener("click", function () {
        // The buttons go away on send: move focus first, or it falls to the page (WCAG 2.4.3).
        input.focus();
        send(b.title, b.payload || null);
      });
      group.appendChild(btn);
    });
    li.appendChild(group);
  }

  // The widget's own copy of a message it sent (pending, failed or already confirmed), if any.
  function ownCopy(clientId) {
    var found = null;
    log.querySelectorAll("li.citizen").forEach(function (li) { if (li.dataset.clientId === clientId) found = li; });
    return found;
  }

  function addMessage(m) {
    if (m.seq && state.seen[m.seq]) return;
    if (m.seq) { state.seen[m.seq] = true; state.lastSeq = Math.max(state.lastSeq, m.seq); }
    var mine = m.sender === "citizen" && m.client_id ? ownCopy(m.client_id) : null;
    if (mine) {
      // Our own message, stored (even if its POST seemed to fail): show it as stored; the text
      // is the server's, so a CPR number appears masked.
      mine.classList.remove("pending", "failed");
      mine.querySelector(".text").textContent = m.text;
      return;
    }
    var li = document.createElement("li");
    li.className = "msg " + m.sender;
    var who = m.sender === "agent" ? m.author || state.agentName || WHO.agent : WHO[m.sender];
    if (who) {
      var label = document.createElement("span");
      label.className = "who"; label.textContent = who + ": ";
      li.appendChild(label);
    }
    var body = document.createElement("span");
    body.className = "text";
    linkify(body, m.text);
    li.appendChild(body);
    if (m.buttons && m.buttons.length) { clearButtons(); renderButtons(li, m.buttons); }
    else if (m.sender !== "citizen") { clearButtons(); }
    log.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  function applyState(body) {
    if (body.conversation_id && body.conversation_id !== state.id) {
      state.id = body.conversation_id;
      localStorage.setItem(KEY + "conversation", state.id);
    }
    state.convState = body.state || state.convState;
    state.agentName = body.agent_name || null;
    if (state.convState === "agent" && state.agentName) {
      status.textContent = "Du skriver nu med " + state.agentName + " fra Borgerservice";
      panel.classList.add("human");
    } else if (state.convState === "waiting") {
      status.textContent = "Du er i kø til en medarbejder. Du kan skrive imens.";
      panel.classList.remove("human");
    } else {
      status.textContent = "";
      panel.classList.remove("human");
    }
    // While queued the citizen may give up waiting and be called back instead.
    var waiting = state.convState === "waiting";
    if (queueActions.hidden === waiting) {
      if (!waiting && root.activeElement === callbackInstead) input.focus();
      queueActions.hidden = !waiting;
    }
    (body.messages || []).forEach(addMessage);
  }

  function showError(text) { errorBox.textContent = text || ""; }

  function send(text, payload) {
    text = (text || "").trim();
    if (!text) return;
    if (!state.failed) showError("");  // a failed message's notice stays until it is sent
    clearButtons();
    if (!state.id) {
      // Chosen here, not by the server, so a retry of the very first message names the same
      // conversation.
      state.id = randomId();
      localStorage.setItem(KEY + "conversation", state.id);
    }
    var li = document.createElement("li");
    li.className = "msg citizen pending"; li.dataset.clientId = randomId();
    var label = document.createElement("span");
    label.className = "who"; label.textContent = "Dig: ";
    li.appendChild(label);
    var body = document.createElement("span"); body.className = "text"; body.textContent = text;
    li.appendChild(body);
    log.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
    state.outbox.push({ text: text, payload: payload, li: li, clientId: li.dataset.clientId });
    pump();
  }

  // Sends the outbox one message at a time, in order: the server routes each with the state the
  // one before left (bot, queue or person). An item leaves the outbox once the server has it.
  function pump() {
    if (state.sending || state.failed || !state.outbox.length) return;
    var item = state.outbox[0];
    state.sending = true;
    if (state.convState === "bot" || state.convState === "closed") typing.hidden = false;
    var attempt = 0;
    function post() {
      return api("/api/chat", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: item.text, payload: item.payload, conversation_id: state.id,
                               municipality: MUNICIPALITY, after: state.lastSeq,
                               client_id: item.clientId })
      }).catch(function (e) {
        if (e.status === undefined && attempt < RETRY_MS.length) {
          return new Promise(function (ok) { setTimeout(ok, RETRY_MS[attempt++]); }).then(post);
        }
        throw e;
      });
    }
    post().then(function (body) {
      state.outbox.shift();
      item.li.classList.remove("pending", "failed");  // also when a poll had shown it already
      applyState(body);
    }).catch(function (e) {
      if (e.status === 503) {
        state.outbox.shift();
        showError(e.message);  // stored; only the assistant's reply failed
        item.li.classList.remove("pending");
        return;
      }
      // Maybe stored, maybe not: only a resend with the same client id is safe, and nothing
      // behind it may overtake it.
      state.failed = item;
      item.li.classList.add("failed");
      item.li.classList.remove("pending");
      showError((e.status === undefined ? "Beskeden blev ikke sendt. Tjek din forbindelse." : e.message) +
                " Tryk på »Prøv igen« for at sende beskeden igen.");
      retryActions.hidden = false;
    }).then(function () {
      state.sending = false;
      typing.hidden = true;
      pump();
    });
  }

  retryButton.addEventListener("click", function () {
    input.focus();  // the button disappears now: keep focus in the chat (WCAG 2.4.3)
    retryActions.hidden = true;
    showError("");
    if (!state.failed) return;
    state.failed.li.classList.remove("failed");
    state.failed.li.classList.add("pending");
    state.failed = null;  // still first in the outbox, with its client id
    pump();
  });

  function poll() {
    if (!state.id || state.sending || document.hidden) return Promise.resolve();
    return api("/api/chat/" + encodeURIComponent(state.id) + "/messages?after=" + state.lastSeq)
      .then(applyState)
      .catch(function (e) {
        if (e.status === 404) { localStorage.removeItem(KEY + "conversation"); state.id = null; }
      });
  }

  // Ticks every 0.5 s; polls on every tick while a person holds or is about to take the chat,
  // otherwise every 3 s.
  var lastPoll = 0;
  function tick() {
    var fast = state.convState === "agent" || state.convState === "waiting";
    var due = fast || Date.now() - lastPoll >= POLL_SLOW_MS;
    var next = function () { setTimeout(tick, POLL_FAST_MS); };
    if (!due) return next();
    lastPoll = Date.now();
    poll().then(next, next);
  }

  function greet() {
    if (log.children.length) return;
    var cfg = state.config;
    if (!cfg) return;
    var li = document.createElement("li");
    li.className = "msg bot greeting";
    var label = document.createElement("span"); label.className = "who"; label.textContent = "Assistent: ";
    li.appendChild(label);
    var body = document.createElement("span"); body.className = "text"; body.textContent = cfg.greeting;
    li.appendChild(body);
    renderButtons(li, cfg.quick_replies);
    log.appendChild(li);
  }

  function setOpen(open, focus) {
    state.open = open;
    sessionStorage.setItem(KEY + "open", open ? "1" : "0");
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    launcher.hidden = open;
    if (open) {
      if (!state.config) {
        api("/api/widget/config?municipality=" + encodeURIComponent(MUNICIPALITY))
          .then(function (cfg) { state.config = cfg; if (!state.id) greet(); })
          .catch(function () {});
      } else if (!state.id) { greet(); }
      if (focus) input.focus();
    } else if (focus) {
      launcher.focus();
    }
  }

  callbackInstead.addEventListener("click", function () {
    input.focus();  // the button disappears once the bot has the chat again
    send(CALLBACK_INSTEAD.title, CALLBACK_INSTEAD.payload);
  });
  launcher.addEventListener("click", function () { setOpen(true, true); });
  $(".close").addEventListener("click", function () { setOpen(false, true); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false, true); });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    input.value = "";
    send(text, null);
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  // A reload keeps the conversation: the id is in localStorage, the messages on the server.
  if (state.id) poll();
  setOpen(state.open, false);
  tick();
})();
