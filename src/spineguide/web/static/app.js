/* SpineGuide web app: print buttons and pre-filling the assessment form from a free-text note.
   Vanilla JS, no external code; the page works without it (server round trip). */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (btn) {
    btn.addEventListener("click", function () { window.print(); });
  });

  var prefill = document.getElementById("prefill");
  var form = document.getElementById("assess-form");
  if (!prefill || !form || !window.fetch) { return; }
  var status = document.getElementById("prefill-status");
  prefill.addEventListener("click", function (event) {
    var note = document.getElementById("note").value;
    if (!note.trim()) { return; } /* let the server explain */
    event.preventDefault();
    status.textContent = "Reading the note…";
    fetch("/web/api/extract", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ text: note }),
      credentials: "same-origin"
    }).then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (res) {
        if (!res[0]) { status.textContent = res[1].error || "The note could not be read."; return; }
        var fields = res[1].fields || {};
        var filled = 0;
        Object.keys(fields).forEach(function (name) {
          var el = form.elements.namedItem(name);
          if (!el) { return; }
          if (el.type === "checkbox") { el.checked = true; } else { el.value = fields[name]; }
          el.classList.add("prefilled");
          filled += 1;
        });
        var rec = res[1].recognised || [];
        status.textContent = filled
          ? "Filled " + filled + " fields from the note: " + rec.join("; ") + ". Please check them."
          : "Nothing in the note matched a form field.";
      })
      .catch(function () { status.textContent = "The note could not be read. Try again, or fill the form by hand."; });
  });
})();
/* Print every collapsed section too (the handout should be complete on paper). */
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details:not([open]):not(.print-skip)").forEach(function (d) {
    d.setAttribute("open", ""); d.setAttribute("data-print-opened", "");
  });
});
window.addEventListener("afterprint", function () {
  document.querySelectorAll("details[data-print-opened]").forEach(function (d) {
    d.removeAttribute("open"); d.removeAttribute("data-print-opened");
  });
});
/* Assessment form: focus the field an error is about, and keep an unsent draft in this tab
   (sessionStorage: this tab only, gone when the tab closes) so signing in or following a link
   does not lose what was typed. A result page clears the draft. */
(function () {
  "use strict";
  var KEY = "sg-assess-draft";
  if (document.getElementById("triage")) {
    try { window.sessionStorage.removeItem(KEY); } catch (e) { /* storage blocked */ }
  }
  var form = document.getElementById("assess-form");
  if (!form) { return; }
  var errorBox = document.getElementById("form-error");
  var name = form.getAttribute("data-error-field");
  var bad = name ? form.elements.namedItem(name) : null;
  if (bad && bad.focus) {
    var section = bad.closest("details");
    if (section) { section.open = true; }
    var msg = document.createElement("p");
    msg.className = "field-error";
    msg.id = "err-" + name;
    msg.textContent = errorBox ? errorBox.textContent : "Check this field.";
    bad.insertAdjacentElement("afterend", msg);
    bad.setAttribute("aria-invalid", "true");
    bad.setAttribute("aria-describedby", msg.id);
    bad.focus();
  } else if (errorBox) {
    errorBox.setAttribute("tabindex", "-1");
    errorBox.focus();
  }
  function current() {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "submit" || el.type === "hidden" || el.type === "button") { return; }
      if (el.type === "checkbox") { if (el.checked) { out[el.name] = "on"; } }
      else if (el.value && !(el.name === "setting" && el.value === "primary")) { out[el.name] = el.value; }
    });
    return out;
  }
  var store;
  try { store = window.sessionStorage; } catch (e) { return; }
  if (Object.keys(current()).length === 0 && !errorBox) {
    var saved = null;
    try { saved = JSON.parse(store.getItem(KEY) || "null"); } catch (e) { saved = null; }
    if (saved && Object.keys(saved).length) {
      Object.keys(saved).forEach(function (k) {
        var el = form.elements.namedItem(k);
        if (!el) { return; }
        if (el.type === "checkbox") { el.checked = true; } else { el.value = saved[k]; }
        var d = el.closest && el.closest("details");
        if (d) { d.open = true; }
      });
      var note = document.createElement("p");
      note.className = "alert alert-info";
      note.id = "draft-restored";
      note.setAttribute("role", "status");
      note.textContent = "What you typed earlier in this tab is back in the form. ";
      var clear = document.createElement("button");
      clear.type = "button";
      clear.className = "link-button";
      clear.style.color = "inherit";
      clear.textContent = "Clear the form";
      clear.addEventListener("click", function () {
        store.removeItem(KEY);
        window.location.assign("/assess");
      });
      note.appendChild(clear);
      form.parentNode.insertBefore(note, form);
    }
  }
  function save() { try { store.setItem(KEY, JSON.stringify(current())); } catch (e) { /* full */ } }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
})();
/* Folded sections: following a link to one (#types) opens it. */
(function () {
  "use strict";
  function openTarget() {
    if (!location.hash) { return; }
    var el = document.getElementById(location.hash.slice(1));
    if (el && el.tagName === "DETAILS") { el.open = true; }
    else if (el && el.closest) { var d = el.closest("details"); if (d) { d.open = true; } }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
