// The searchable time zone field (templates/components/_zone_picker.html): offers or fills in the
// device's zone, completes a city typed alone ("Tokyo" -> "Asia/Tokyo") and fires "zone-chosen" on the
// field whenever it holds a zone from the list, so a page can apply it without a button.
(function () {
  "use strict";

  function names(input) {
    var list = document.getElementById(input.getAttribute("list"));
    return list ? Array.prototype.map.call(list.options, function (option) { return option.value; }) : [];
  }

  // The one zone whose name or city matches what was typed, ignoring case, spaces and underscores.
  function complete(typed, zones) {
    var wanted = typed.trim().toLowerCase().replace(/[\s_]+/g, " ");
    if (!wanted) { return ""; }
    var found = zones.filter(function (zone) {
      var name = zone.toLowerCase().replace(/_/g, " ");
      return name === wanted || name.split("/").pop() === wanted;
    });
    return found.length === 1 ? found[0] : "";
  }

  function chosen(input) {
    if (input.dataset.chosen === input.value) { return; }
    input.dataset.chosen = input.value;
    input.dispatchEvent(new CustomEvent("zone-chosen", { bubbles: true }));
  }

  function setUp(button) {
    var input = document.getElementById(button.dataset.zoneFor);
    if (!input || input.dataset.zonePickerReady) { return; }
    input.dataset.zonePickerReady = "1";
    input.dataset.chosen = input.value;
    var zones = names(input);
    // A page that applies a chosen zone itself (htmx on the form) needs no button for it; Enter in the
    // field still sends the form (a form with one text field and no button sends itself).
    var apply = input.form && input.form.querySelector("[data-zone-apply]");
    if (apply && window.htmx && input.form.hasAttribute("hx-get")) { apply.remove(); }
    input.addEventListener("input", function () {
      if (zones.indexOf(input.value) >= 0) { chosen(input); }
    });
    input.addEventListener("change", function () {
      if (zones.indexOf(input.value) < 0) {
        var match = complete(input.value, zones);
        if (match) { input.value = match; }
      }
      if (zones.indexOf(input.value) >= 0) { chosen(input); }
    });

    var device = "";
    try { device = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    if (!device || device === input.value || zones.indexOf(device) < 0) { return; }
    if (button.hasAttribute("data-fill-in")) {
      input.value = device;
      input.dataset.chosen = device;
      var note = document.getElementById(input.id + "-detected");
      if (note) { note.hidden = false; }
      return;
    }
    button.querySelector("span").textContent = device;
    button.hidden = false;
    button.addEventListener("click", function () {
      input.value = device;
      button.hidden = true;
      input.focus();
      chosen(input);
    });
  }

  function setUpAll() {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-zone-for]"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
