// The results page: live progress (polls the job API until the job ends), the completion
// announcement, and a keyboard-accessible lightbox to compare the portraits at full size.
// Downloads use session-authorised links that do not expire while the portraits exist.
(function () {
  "use strict";
  var root = document.getElementById("job");
  if (!root) return;
  var url = root.getAttribute("data-status-url");
  var status = root.getAttribute("data-status");
  var portraitUrl = root.getAttribute("data-portrait-url");
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("status-text");
  var announcer = document.getElementById("job-announcer");
  var stageNames = { starting: "Starting", decode: "Reading your photo", analyse: "Finding your face", render: "Creating your portraits", finish: "Finishing" };
  var lastStatus = status;

  function show(id, visible) { document.getElementById(id).classList.toggle("hidden", !visible); }
  function announce(message) { if (announcer.textContent !== message) announcer.textContent = message; }
  function linkFor(number, kind) { return portraitUrl.replace("/0/KIND/", "/" + number + "/" + kind + "/"); }

  function renderResults(job) {
    var note = document.getElementById("size-note");
    if (note && job.size_note) { note.textContent = job.size_note; note.classList.remove("hidden"); }
    var gallery = document.getElementById("gallery");
    gallery.textContent = "";
    job.portraits.forEach(function (p, i) {
      var n = i + 1;
      var item = document.createElement("li"); item.className = "portrait-card";
      var open = document.createElement("a"); open.className = "lightbox-open";
      open.href = linkFor(n, "preview"); open.setAttribute("data-number", String(n));
      open.setAttribute("data-full-url", linkFor(n, "full"));
      open.setAttribute("data-size", p.width + " × " + p.height + " px");
      var img = document.createElement("img");
      img.src = linkFor(n, "preview"); img.alt = "Portrait " + n + ", watermarked preview";
      var hint = document.createElement("span"); hint.className = "visually-hidden"; hint.textContent = ": view larger";
      open.appendChild(img); open.appendChild(hint);
      var caption = document.createElement("div"); caption.className = "portrait-caption";
      var label = document.createElement("span"); label.textContent = "Portrait " + n + " ";
      var size = document.createElement("span"); size.className = "small muted"; size.textContent = p.width + " × " + p.height + " px";
      label.appendChild(size);
      var link;
      if (p.download_url) {
        link = document.createElement("a"); link.href = linkFor(n, "full"); link.setAttribute("download", "");
        link.textContent = "Download";
        var more = document.createElement("span"); more.className = "visually-hidden"; more.textContent = " portrait " + n + " in full resolution";
        link.appendChild(more);
      } else {
        // Payments are on and full resolution is not bought: the purchase panel offers it.
        open.setAttribute("data-full-url", linkFor(n, "preview"));
        open.setAttribute("data-locked", "true");
        link = document.createElement("span"); link.className = "muted"; link.textContent = "Preview";
      }
      caption.appendChild(label); caption.appendChild(link);
      item.appendChild(open); item.appendChild(caption);
      gallery.appendChild(item);
    });
  }

  function formatDestroyed(iso) {
    var when = new Date(iso);
    var months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    return "Your original photo was destroyed at " + when.toISOString().slice(11, 19) + " UTC on " +
      when.getUTCDate() + " " + months[when.getUTCMonth()] + " " + when.getUTCFullYear() + ".";
  }

  function update(job) {
    bar.value = job.progress;
    bar.textContent = job.progress + "%";
    if (job.status === "queued") { text.textContent = "Waiting for the generator…"; announce("Waiting for the generator…"); }
    if (job.status === "retrying") {
      text.textContent = "A service was briefly unavailable. Trying again shortly…";
      announce("A service was briefly unavailable. Trying again shortly…");
    }
    if (job.status === "processing") {
      text.textContent = (stageNames[job.stage] || "Working") + "… " + job.progress + "%";
      announce("Creating your portraits…");
    }
    if (job.original_deleted_at) document.getElementById("original-state").textContent = formatDestroyed(job.original_deleted_at);
    var changed = job.status !== lastStatus;
    lastStatus = job.status;
    if (job.status === "done" && changed) {
      show("progress-panel", false);
      renderResults(job);
      show("results-panel", true);
      announce("Done: your " + job.portraits.length + " portraits are ready.");
      var keep = document.getElementById("keep-longer");
      if (keep) keep.classList.remove("hidden");
      document.getElementById("results-heading").focus();
    }
    if (job.status === "failed" && changed) {
      show("progress-panel", false);
      document.getElementById("error-message").textContent = job.error ? job.error.message : "Something went wrong.";
      document.getElementById("error-code").textContent = job.error ? job.error.code : "";
      show("error-panel", true);
      var keepFailed = document.getElementById("keep-longer");
      if (keepFailed) keepFailed.parentNode.removeChild(keepFailed);
      announce("We could not make your portraits. " + (job.error ? job.error.message : ""));
      document.getElementById("error-heading").focus();
    }
    if (job.status === "deleted" && changed) {
      show("progress-panel", false); show("results-panel", false); show("deleted-panel", true);
      announce("These portraits have been deleted.");
    }
    return job.status === "queued" || job.status === "processing" || job.status === "retrying";
  }

  function poll(delay) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (job && update(job)) setTimeout(function () { poll(Math.min(delay * 1.3, 2000)); }, delay);
        else if (job && job.original_deleted_at === null) setTimeout(function () { poll(500); }, 500);
      })
      .catch(function () { setTimeout(function () { poll(2000); }, 2000); });
  }

  if (status === "queued" || status === "processing" || status === "retrying") poll(400);
  else if (status !== "deleted" && !document.getElementById("original-state").textContent.match(/destroyed at/)) poll(500);

  // --- Lightbox: a native modal <dialog> (focus stays inside, Escape closes), arrows to compare.
  var dialog = document.getElementById("lightbox");
  if (!dialog || typeof dialog.showModal !== "function") return; // without it, links open the preview
  var image = document.getElementById("lightbox-image");
  var title = document.getElementById("lightbox-title");
  var download = document.getElementById("lightbox-download");
  var current = 1;
  var opener = null;

  function openers() { return Array.prototype.slice.call(document.querySelectorAll("#gallery .lightbox-open")); }

  function showPortrait(number) {
    var links = openers();
    if (!links.length) return;
    current = ((number - 1 + links.length) % links.length) + 1;
    var link = links[current - 1];
    image.src = link.getAttribute("data-full-url");
    image.alt = "Portrait " + current + " at full resolution";
    title.textContent = "Portrait " + current + " of " + links.length + " (" + link.getAttribute("data-size") + ")";
    download.href = link.getAttribute("data-full-url");
    download.textContent = "Download portrait " + current;
    // Not bought yet (payments on): the lightbox shows the watermarked preview, with no download.
    download.hidden = link.getAttribute("data-locked") === "true";
  }

  document.getElementById("gallery").addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".lightbox-open") : null;
    if (!link) return;
    event.preventDefault();
    opener = link;
    showPortrait(parseInt(link.getAttribute("data-number"), 10));
    dialog.showModal();
    document.getElementById("lightbox-close").focus();
  });
  document.getElementById("lightbox-close").addEventListener("click", function () { dialog.close(); });
  document.getElementById("lightbox-previous").addEventListener("click", function () { showPortrait(current - 1); });
  document.getElementById("lightbox-next").addEventListener("click", function () { showPortrait(current + 1); });
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "ArrowLeft") { event.preventDefault(); showPortrait(current - 1); }
    if (event.key === "ArrowRight") { event.preventDefault(); showPortrait(current + 1); }
    if (event.key === "Tab") {
      // Keep Tab inside the dialog: from the last control back to the first, and the reverse.
      var controls = Array.prototype.slice.call(dialog.querySelectorAll("button, a[href]"));
      var first = controls[0], last = controls[controls.length - 1];
      if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
      else if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
    }
  });
  dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });
  dialog.addEventListener("close", function () {
    var links = openers();
    var back = links[current - 1] || opener;
    if (back) back.focus();
  });
})();
