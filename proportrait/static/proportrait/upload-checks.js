// The upload page: checks type, size, the tick and the name before sending (same words as the
// server), puts each error next to its field and moves focus there, and sends the form in the
// background so that, if the server refuses it, the chosen photo stays chosen in the page.
// Without JavaScript the server does the same checks and keeps the tick, the name and the style.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) return;
  var summary = document.getElementById("upload-summary");
  var photo = document.getElementById("id_photo");
  var consent = document.getElementById("id_consent");
  var signature = document.getElementById("id_signature");
  var button = document.getElementById("submit-upload");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
  var types = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"];
  var extensions = /\.(jpe?g|png|webp|heic|heif)$/i;
  var fields = { photo: photo, consent: consent, signature: signature };

  function message(name) { return form.getAttribute("data-message-" + name); }

  function describedBy(input, id, on) {
    var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (x) { return x && x !== id; });
    if (on) ids.push(id);
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  function setError(name, text) {
    var input = fields[name];
    var box = document.getElementById("id_" + name + "_error");
    box.textContent = text || "";
    box.classList.toggle("hidden", !text);
    if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    describedBy(input, box.id, !!text);
  }

  function photoProblem() {
    var file = photo.files && photo.files[0];
    if (!file) return message("missing");
    var typeOk = types.indexOf((file.type || "").toLowerCase()) !== -1 || extensions.test(file.name);
    if (!typeOk) return message("type");
    if (file.size > maxBytes) return message("size");
    return "";
  }

  function checkAll() {
    var problems = {
      photo: photoProblem(),
      consent: consent.checked ? "" : message("consent"),
      signature: signature.value.trim().length >= 2 ? "" : message("signature")
    };
    var first = null;
    ["photo", "consent", "signature"].forEach(function (name) {
      setError(name, problems[name]);
      if (problems[name] && !first) first = name;
    });
    return first;
  }

  function showSummary(text, detail) {
    summary.textContent = "";
    if (!text) { summary.classList.add("hidden"); return; }
    var p = document.createElement("p"); var strong = document.createElement("strong");
    strong.textContent = text; p.appendChild(strong); summary.appendChild(p);
    if (detail) { var d = document.createElement("p"); d.className = "small"; d.textContent = detail; summary.appendChild(d); }
    summary.classList.remove("hidden");
  }

  function keptNote() {
    var file = photo.files && photo.files[0];
    var note = document.getElementById("photo-kept");
    if (!file) { note.classList.add("hidden"); return; }
    // After the in-browser crop the field holds "photo.jpg": name the photo the person chose.
    var crop = document.getElementById("crop-panel");
    document.getElementById("photo-kept-name").textContent = (crop && crop.dataset.chosenName) || file.name;
    note.classList.remove("hidden");
  }

  photo.addEventListener("change", function () {
    setError("photo", photoProblem() === message("missing") ? "" : photoProblem());
    document.getElementById("photo-kept").classList.add("hidden");
  });
  consent.addEventListener("change", function () { if (consent.checked) setError("consent", ""); });
  signature.addEventListener("input", function () { if (signature.value.trim().length >= 2) setError("signature", ""); });

  // A page the server refused: focus the field its error belongs to.
  var invalid = form.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
  else if (document.getElementById("id_style_error")) document.getElementById("id_style-legend").focus();

  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return;
    event.preventDefault();
    var first = checkAll();
    if (first) {
      showSummary("");
      fields[first].focus();
      return;
    }
    button.disabled = true;
    var label = button.textContent;
    button.textContent = "Uploading…";
    fetch(form.action || window.location.href, { method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "follow" })
      .then(function (response) {
        if (response.redirected && response.ok) {
          // Accepted: go to the job page (the body is read first so no request is left cut off).
          return response.text().then(function () { window.location.assign(response.url); return null; });
        }
        return response.text().then(function (html) { return { status: response.status, html: html }; });
      })
      .then(function (answer) {
        if (!answer) return;
        button.disabled = false; button.textContent = label;
        var page = new DOMParser().parseFromString(answer.html, "text/html");
        var found = null;
        ["photo", "consent", "signature"].forEach(function (name) {
          var box = page.getElementById("id_" + name + "_error");
          if (!found && box && !box.classList.contains("hidden") && box.textContent.trim()) found = { name: name, text: box.textContent.trim() };
        });
        var pageSummary = page.getElementById("upload-summary");
        var text = found ? found.text : (pageSummary && pageSummary.textContent.trim()) || "Something went wrong. Please try again.";
        if (found) {
          setError(found.name, found.text);
          showSummary(found.text, "Nothing was stored. " + (found.name === "photo" ? "Please choose another photo." : "Your photo is still chosen: correct this and send again."));
          if (found.name !== "photo") keptNote();
          fields[found.name].focus();
        } else {
          showSummary(text.split("\n")[0], "Nothing was stored. Your photo is still chosen.");
          keptNote();
          summary.setAttribute("tabindex", "-1");
          summary.focus();
        }
      })
      .catch(function () {
        button.disabled = false; button.textContent = label;
        showSummary("We could not reach ProPortrait. Check your connection and try again.", "Your photo is still chosen.");
        keptNote();
        summary.setAttribute("tabindex", "-1");
        summary.focus();
      });
  });
})();
