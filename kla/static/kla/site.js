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

/* Evidence upload: files dropped on the zone join those chosen, and each file gets its own
   kind (kind_0, kind_1, ... in the order the files are sent) before the one upload. Without
   this script the same form takes several chosen files with one kind for them all. The words
   come from the page (data-label-*), in the person's language. */
function fileKey(file) {
  return [file.name, file.size, file.lastModified].join("/");
}

function setFiles(input, files) {
  if (typeof DataTransfer === "undefined") { return false; }
  var all = new DataTransfer();
  files.forEach(function (file) { all.items.add(file); });
  input.files = all.files;
  return true;
}

function listFiles(zone) {
  var input = zone.querySelector('input[type="file"]');
  var list = zone.querySelector("[data-file-list]");
  var form = zone.closest("form");
  var batch = form && form.querySelector("[data-batch-kind]");
  var batchSelect = batch && batch.querySelector("select");
  if (!input || !list) { return; }
  var kept = {};
  list.querySelectorAll("select[data-file-key]").forEach(function (select) {
    kept[select.getAttribute("data-file-key")] = select.value;
  });
  list.textContent = "";
  Array.prototype.forEach.call(input.files || [], function (file, index) {
    var key = fileKey(file);
    var item = document.createElement("li");
    var name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.name;
    var select = document.createElement("select");
    select.name = "kind_" + index;
    select.id = input.id + "_kind_" + index;
    select.setAttribute("data-file-key", key);
    if (batchSelect) {
      Array.prototype.forEach.call(batchSelect.options, function (option) {
        select.add(new Option(option.text, option.value));
      });
      select.value = kept[key] || batchSelect.value;
    }
    var label = document.createElement("label");
    label.htmlFor = select.id;
    label.textContent = zone.getAttribute("data-label-kind") || "";
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "small secondary";
    remove.setAttribute("data-remove-file", String(index));
    remove.textContent = zone.getAttribute("data-label-remove") || "×";
    remove.setAttribute("aria-label", remove.textContent + ": " + file.name);
    var row = document.createElement("div");
    row.className = "file-kind";
    row.append(label, select, remove);
    item.append(name, row);
    list.appendChild(item);
  });
  var count = input.files ? input.files.length : 0;
  list.hidden = count === 0;
  list.setAttribute("aria-label", zone.getAttribute("data-label-chosen") || "");
  /* Each listed file carries its own kind: the one for the whole batch would only confuse. */
  if (batch) { batch.hidden = count > 0; }
}

function enhanceDropzones(root) {
  root.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    if (zone.classList.contains("enhanced")) { return; }
    zone.classList.add("enhanced");
    var hint = zone.querySelector("[data-dropzone-hint]");
    if (hint) { hint.hidden = false; }
    listFiles(zone);  /* a browser may keep the files chosen across a reload */
  });
}

/* After a refused form, move to its list of errors (each links to its field). */
function focusErrorSummary() {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
}

document.addEventListener("DOMContentLoaded", function () {
  enhanceDropzones(document);
  focusErrorSummary();
});
document.addEventListener("htmx:load", function (event) {
  if (event.target && event.target.querySelectorAll) { enhanceDropzones(event.target); }
});

function dropzoneOf(event) {
  var target = event.target;
  return target && target.closest ? target.closest("[data-dropzone].enhanced") : null;
}

document.addEventListener("change", function (event) {
  var input = event.target;
  if (input.matches && input.matches('[data-dropzone] input[type="file"]')) {
    listFiles(input.closest("[data-dropzone]"));
  }
});

document.addEventListener("dragover", function (event) {
  var zone = dropzoneOf(event);
  if (!zone) { return; }
  event.preventDefault();
  if (event.dataTransfer) { event.dataTransfer.dropEffect = "copy"; }
  zone.classList.add("dragging");
});

document.addEventListener("dragleave", function (event) {
  var zone = dropzoneOf(event);
  if (zone && !zone.contains(event.relatedTarget)) { zone.classList.remove("dragging"); }
});

document.addEventListener("drop", function (event) {
  var zone = dropzoneOf(event);
  if (!zone) { return; }
  event.preventDefault();
  zone.classList.remove("dragging");
  var input = zone.querySelector('input[type="file"]');
  var dropped = event.dataTransfer ? Array.prototype.slice.call(event.dataTransfer.files) : [];
  if (!input || dropped.length === 0) { return; }
  var files = Array.prototype.slice.call(input.files || []);
  var seen = {};
  files.forEach(function (file) { seen[fileKey(file)] = true; });
  dropped.forEach(function (file) {
    if (!seen[fileKey(file)]) { files.push(file); seen[fileKey(file)] = true; }
  });
  if (!setFiles(input, files)) { input.files = event.dataTransfer.files; }
  listFiles(zone);
});

document.addEventListener("click", function (event) {
  var remove = event.target.closest && event.target.closest("[data-remove-file]");
  if (!remove) { return; }
  var zone = remove.closest("[data-dropzone]");
  var input = zone && zone.querySelector('input[type="file"]');
  if (!input) { return; }
  var index = Number(remove.getAttribute("data-remove-file"));
  var files = Array.prototype.slice.call(input.files || []).filter(function (_file, n) {
    return n !== index;
  });
  if (setFiles(input, files)) {
    listFiles(zone);
    input.focus();
  }
});
