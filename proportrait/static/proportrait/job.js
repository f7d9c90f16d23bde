// Live progress for the job page: polls the job API (same origin, session cookie) until it ends.
(function () {
  "use strict";
  var root = document.getElementById("job");
  if (!root) return;
  var url = root.getAttribute("data-status-url");
  var status = root.getAttribute("data-status");
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("status-text");
  var stageNames = { starting: "Starting", decode: "Reading your photo", analyse: "Finding your face", render: "Creating your portraits", finish: "Finishing" };

  function show(id, visible) { document.getElementById(id).classList.toggle("hidden", !visible); }

  function renderResults(job) {
    var gallery = document.getElementById("gallery");
    gallery.textContent = "";
    job.portraits.forEach(function (p, i) {
      var figure = document.createElement("figure");
      var img = document.createElement("img");
      img.src = p.preview_url; img.alt = "Portrait " + (i + 1) + ", preview";
      img.width = p.width; img.height = p.height;
      var caption = document.createElement("figcaption");
      var label = document.createElement("span"); label.textContent = "Portrait " + (i + 1);
      var link;
      if (p.download_url) {
        link = document.createElement("a"); link.href = p.download_url; link.setAttribute("download", "");
        link.textContent = "Download";
        link.setAttribute("aria-label", "Download portrait " + (i + 1) + " in full resolution");
      } else {
        // Payments are on and full resolution is not bought: the purchase panel offers it.
        link = document.createElement("span"); link.className = "muted"; link.textContent = "Preview";
      }
      caption.appendChild(label); caption.appendChild(link);
      figure.appendChild(img); figure.appendChild(caption);
      gallery.appendChild(figure);
    });
  }

  function update(job) {
    bar.value = job.progress;
    bar.textContent = job.progress + "%";
    if (job.status === "queued") text.textContent = "Waiting for the generator…";
    if (job.status === "retrying") text.textContent = "A service was briefly unavailable. Trying again shortly…";
    if (job.status === "processing") text.textContent = (stageNames[job.stage] || "Working") + "… " + job.progress + "%";
    if (job.original_deleted_at) {
      var when = new Date(job.original_deleted_at);
      var months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
      document.getElementById("original-state").textContent = "Your original photo was destroyed at " +
        when.toISOString().slice(11, 19) + " UTC on " + when.getUTCDate() + " " + months[when.getUTCMonth()] + " " + when.getUTCFullYear() + ".";
    }
    if (job.status === "done") { show("progress-panel", false); renderResults(job); show("results-panel", true); text.textContent = "Done"; }
    if (job.status === "failed") {
      show("progress-panel", false);
      document.getElementById("error-message").textContent = job.error ? job.error.message : "Something went wrong.";
      document.getElementById("error-code").textContent = job.error ? job.error.code : "";
      show("error-panel", true);
    }
    if (job.status === "deleted") { show("progress-panel", false); show("deleted-panel", true); }
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
})();
