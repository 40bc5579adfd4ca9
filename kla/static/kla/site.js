/* KLA: the little the pages do with JavaScript; every page works without it.
   Loaded in <head> (not deferred) so the "js" class is set before the first paint. Handlers
   are delegated from the document, so they keep working after htmx swaps a page in place. */
"use strict";
document.documentElement.classList.add("js");

/* The phone's menu button is shown only where this script runs: without it the menu stays
   open below the brand, never out of reach. */
function revealMenuButtons() {
  document.querySelectorAll(".menu-toggle[hidden]").forEach(function (button) {
    button.hidden = false;
  });
}

document.addEventListener("DOMContentLoaded", revealMenuButtons);
document.addEventListener("htmx:load", revealMenuButtons);

document.addEventListener("click", function (event) {
  var toggle = event.target.closest && event.target.closest(".menu-toggle");
  if (toggle) {
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    if (menu) { menu.classList.toggle("open", open); }
  }
  /* A dropdown closes when the person clicks elsewhere. */
  document.querySelectorAll("details[data-dropdown][open]").forEach(function (details) {
    if (!details.contains(event.target)) { details.removeAttribute("open"); }
  });
});

/* ... or presses Escape. */
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") { return; }
  document.querySelectorAll("details[data-dropdown][open]").forEach(function (details) {
    details.removeAttribute("open");
    details.querySelector("summary").focus();
  });
});
