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
    // Narrow screens: fold the filter and outline panels so results come first.
    if (window.matchMedia && window.matchMedia("(max-width: 56rem)").matches) {
      var panels = document.querySelectorAll("details.facets, details.outline");
      for (var i = 0; i < panels.length; i++) panels[i].removeAttribute("open");
    }
  });
})();
