// Progressive enhancement only: every feature of the page works with JavaScript off.
(function () {
  "use strict";

  // "/" focuses the search box (unless the user is already typing somewhere).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
    var box = document.getElementById("q");
    if (!box) {
      window.location.href = "/";
      return;
    }
    event.preventDefault();
    box.focus();
    box.select();
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Document page: bring the cited passage to the middle of the screen, not the top edge.
    var passage = document.getElementById("passage");
    if (passage) {
      passage.scrollIntoView({ block: "center" });
      passage.focus({ preventScroll: true });
    }
    // Job progress page: follow /api/jobs/{id} and reload (server-rendered lists) once the job ends.
    var job = document.querySelector("[data-poll]");
    if (job) followJob(job);
    // Narrow screens: fold the filter and outline panels so results come first.
    if (window.matchMedia && window.matchMedia("(max-width: 56rem)").matches) {
      var panels = document.querySelectorAll("details.facets, details.outline");
      for (var i = 0; i < panels.length; i++) panels[i].removeAttribute("open");
    }
  });

  var JOB_STATES = {
    queued: "Đang chờ", running: "Đang lập chỉ mục", done: "Đã xong", failed: "Thất bại",
    interrupted: "Tạm dừng (máy chủ dừng; sẽ tiếp tục khi khởi động lại)"
  };

  function eta(seconds) {
    if (seconds === null || seconds === undefined) return "đang ước tính";
    if (seconds < 60) return "khoảng " + Math.max(1, Math.round(seconds)) + " giây";
    return "khoảng " + Math.round(seconds / 60) + " phút";
  }

  function setText(id, value) {
    var node = document.getElementById(id);
    if (node) node.textContent = String(value);
  }

  function followJob(section) {
    var url = section.getAttribute("data-poll");
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (job) {
          if (!job) return setTimeout(poll, 3000);
          section.setAttribute("data-state", job.state);
          setText("job-state", JOB_STATES[job.state] || job.state);
          setText("job-done", job.done);
          setText("job-total", job.total);
          setText("job-indexed", job.indexed);
          setText("job-skipped", job.skipped.length);
          setText("job-eta", eta(job.eta_seconds));
          var bar = document.getElementById("job-progress");
          if (bar) { bar.max = Math.max(job.total, 1); bar.value = job.done; }
          if (job.state === "queued" || job.state === "running") setTimeout(poll, 1000);
          else window.location.reload();
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 500);
  }
})();
