// The member's page while their portraits are being made: poll the job, reload when it ends.
(function () {
  "use strict";
  var box = document.getElementById("member-generating");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  function poll(delay) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (job && (job.status === "queued" || job.status === "processing")) {
          setTimeout(function () { poll(Math.min(delay * 1.3, 3000)); }, delay);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { setTimeout(function () { poll(3000); }, 3000); });
  }
  setTimeout(function () { poll(800); }, 800);
})();
