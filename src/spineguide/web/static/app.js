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
  document.querySelectorAll("details:not([open])").forEach(function (d) {
    d.setAttribute("open", ""); d.setAttribute("data-print-opened", "");
  });
});
window.addEventListener("afterprint", function () {
  document.querySelectorAll("details[data-print-opened]").forEach(function (d) {
    d.removeAttribute("open"); d.removeAttribute("data-print-opened");
  });
});
