/* Agent console: live queue and live conversation by polling (1–2 s), replies via fetch. */
window.BorgerbotAgent = (function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var SENDERS = { citizen: "Borger", bot: "Bot", agent: "Medarbejder", system: "System" };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw new Error(b.error || "Fejl"); return b; });
    });
  }

  // Calls poll() (which returns a promise) every `ms`, never while the previous call is still
  // running: a slow server would otherwise get ever more overlapping polls.
  function every(ms, poll) {
    var busy = false;
    function done() { busy = false; }
    setInterval(function () {
      if (busy) return;
      busy = true;
      poll().then(done, done);
    }, ms);
  }

  function watchQueue(url, pollMs) {
    var tbody = document.querySelector("#queue tbody");
    function render(items) {
      var rows = document.createDocumentFragment();
      if (!items.length) {
        var tr = el("tr", { "class": "empty" });
        tr.appendChild(el("td", { colspan: "6" }, "Ingen samtaler venter lige nu."));
        rows.appendChild(tr);
      }
      items.forEach(function (it) {
        var tr = el("tr", { "data-handoff": it.handoff_id, "class": it.status });
        [it.waited || it.held, it.municipality, it.department, it.reason].forEach(function (t) { tr.appendChild(el("td", {}, t)); });
        var td = el("td"); td.appendChild(el("pre", { "class": "summary" }, it.summary));
        if (it.guesses && it.guesses.length) {
          td.appendChild(el("p", { "class": "guesses-h" }, "Bottens gæt:"));
          var ol = el("ol", { "class": "guesses" });
          it.guesses.forEach(function (g) { ol.appendChild(el("li", {}, g.title)); });
          td.appendChild(ol);
        }
        tr.appendChild(td);
        var action = el("td");
        if (it.status === "waiting") {
          var form = el("form", { method: "post", action: it.claim_url });
          var hidden = el("input", { type: "hidden", name: "csrf_token", value: csrf });
          form.appendChild(hidden);
          form.appendChild(el("button", { type: "submit" }, "Tag samtalen"));
          action.appendChild(form);
        } else {
          action.appendChild(el("span", { "class": "badge claimed" }, "Taget"));
          action.appendChild(document.createTextNode(" "));
          action.appendChild(el("a", { href: it.url }, "Åbn"));
        }
        tr.appendChild(action);
        rows.appendChild(tr);
      });
      // Keep keyboard focus usable: only re-render when nothing inside the table has focus.
      if (!tbody.contains(document.activeElement)) { tbody.replaceChildren(rows); }
    }
    every(pollMs, function () { return getJSON(url).then(render).catch(function () {}); });
  }

  function watchConversation(url) {
    var list = document.getElementById("transcript");
    var last = 0;
    list.querySelectorAll("li[data-seq]").forEach(function (li) { last = Math.max(last, +li.dataset.seq); });
    list.scrollTop = list.scrollHeight;
    // Every answer (poll or reply) holds all messages after the `after` it was asked with, in
    // order, so skipping seqs already shown never skips one not yet shown.
    function add(m) {
      if (m.seq <= last) return;
      last = m.seq;
      var li = el("li", { "class": m.sender, "data-seq": m.seq });
      var who = (SENDERS[m.sender] || m.sender) + (m.author ? " (" + m.author + ")" : "");
      li.appendChild(el("span", { "class": "who" }, who));
      li.appendChild(document.createTextNode(m.text));
      list.appendChild(li);
      list.scrollTop = list.scrollHeight;
    }
    function poll() {
      return getJSON(url + "?after=" + last).then(function (b) { b.messages.forEach(add); }).catch(function () {});
    }
    every(1000, poll);  // more often than the queue: presence holds here too

    var form = document.getElementById("reply-form");
    if (form) {
      var box = document.getElementById("reply"), err = document.getElementById("reply-error");
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var text = box.value.trim();
        if (!text) { err.textContent = "Skriv et svar, før du sender."; return; }
        err.textContent = "";
        postJSON(form.getAttribute("action"), { text: text, after: last }).then(function (b) {
          box.value = ""; b.messages.forEach(add); box.focus();
        }).catch(function (x) { err.textContent = x.message; });
      });
      box.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
      });
    }
    var sform = document.getElementById("suggest-form");
    if (sform) {
      var out = document.getElementById("suggestions");
      sform.addEventListener("submit", function (e) {
        e.preventDefault();
        var q = document.getElementById("suggest-q").value;
        out.replaceChildren(el("li", {}, "Søger …"));
        getJSON(sform.getAttribute("action") + "?q=" + encodeURIComponent(q) + "&municipality=" +
                encodeURIComponent(sform.dataset.municipality)).then(function (items) {
          out.replaceChildren();
          if (!items.length) out.appendChild(el("li", {}, "Ingen forslag."));
          items.forEach(function (it) {
            var li = el("li");
            li.appendChild(el("strong", {}, it.title));
            var b = el("button", { type: "button", "class": "secondary" }, "Indsæt i svar");
            b.addEventListener("click", function () {
              var box = document.getElementById("reply");
              box.value = (box.value ? box.value + "\n\n" : "") + it.text; box.focus();
            });
            li.appendChild(document.createElement("br"));
            li.appendChild(b);
            out.appendChild(li);
          });
        }).catch(function () { out.replaceChildren(el("li", {}, "Søgningen fejlede. Prøv igen.")); });
      });
    }
  }

  return { watchQueue: watchQueue, watchConversation: watchConversation };
})();
