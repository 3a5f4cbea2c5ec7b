/* Editor console: live preview (server-rendered, sanitised Markdown), slug suggestion from the
   title, "publishing…" state on submit and confirmations. Works without it: the forms post. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : "";

  function byId(id) { return document.getElementById(id); }

  function setList(listId, boxId, items, text) {
    var list = byId(listId);
    if (!list) return;
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = text(item);
      list.appendChild(li);
    });
    var box = boxId && byId(boxId);
    if (box) box.hidden = items.length === 0;
  }

  // Danish letters the way the starter guides spell them in addresses (ø → oe).
  function slugify(text) {
    return text.toLowerCase()
      .replace(/æ/g, "ae").replace(/ø/g, "oe").replace(/å/g, "aa")
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80).replace(/-+$/, "");
  }

  var form = byId("guide-form");
  if (form) {
    var fields = ["title", "slug", "category", "owner", "keywords", "url", "municipality", "updated", "body"];
    var timer = null;
    var seq = 0;

    var preview = function () {
      var body = { fixed_key: form.dataset.fixedKey || "" };
      fields.forEach(function (name) {
        var input = form.elements[name];
        body[name] = input ? input.value : "";
      });
      var mine = ++seq;
      fetch(form.dataset.previewUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body)
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data || mine !== seq) return; // an older answer arriving late
        byId("pv-html").innerHTML = data.html; // sanitised on the server: raw HTML is escaped
        byId("pv-title").textContent = data.answer.title;
        byId("pv-summary").textContent = data.answer.summary;
        byId("pv-url").textContent = data.answer.url;
        setList("pv-problems", "pv-problems-box", data.problems, function (p) { return p.label + ": " + p.message; });
        setList("pv-advice", "pv-advice-box", data.advice, function (a) { return a; });
        setList("pv-sections", null, data.sections, function (s) { return s; });
      }).catch(function () { /* the preview is a help; saving still validates */ });
    };

    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(preview, 300);
    });

    var slug = form.elements.slug;
    var title = form.elements.title;
    if (slug && !slug.readOnly && title) {
      var touched = slug.value !== "" && slug.value !== slugify(title.value);
      if (!slug.value && title.value) slug.value = slugify(title.value);
      slug.addEventListener("input", function () { touched = slug.value !== ""; });
      title.addEventListener("input", function () {
        if (!touched) slug.value = slugify(title.value);
      });
    }

    // Enter in a field submits with the hidden default button (see edit.html): "kontrol" for a
    // published guide, "kladde" otherwise. Without a submitter (old browsers, requestSubmit())
    // the safe choice is the same: never "udgiv", which only a click on «Udgiv» may send.
    var implicit = form.querySelector(".implicit-submit");
    var safe = implicit ? implicit.value : "kontrol";

    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      var action = submitter && submitter.name === "handling" ? submitter.value : safe;
      if (action === "kontrol") {
        event.preventDefault(); // nothing to save: show the checks where the editor is
        byId("save-status").textContent = "Intet er gemt. Tryk på «Udgiv ændringer», når du vil udgive.";
        preview();
        return;
      }
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "handling";
      hidden.value = action;
      form.appendChild(hidden);
      form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.disabled = true; });
      byId("save-status").textContent = action === "udgiv"
        ? "Udgiver og opdaterer søgeindekset … det tager et par sekunder."
        : "Gemmer kladden …";
    });

    preview();
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (event) {
      if (!window.confirm(f.dataset.confirm)) event.preventDefault();
    });
  });

  var summary = byId("error-summary");
  if (summary) summary.focus();
})();
