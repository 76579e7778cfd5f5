/* The order list: "/" focuses search, select-all and the selected count of the bulk move, stage filter summary. */
(() => {
  "use strict";
  if (window.orderflowOrderList) return; // boosted page swaps run this script again
  window.orderflowOrderList = true;

  function refreshSelection() {
    const form = document.getElementById("bulk-form");
    if (!form) return;
    const boxes = [...form.querySelectorAll('input[name="order"]')];
    const chosen = boxes.filter((box) => box.checked).length;
    const all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = chosen > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    }
    const count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = chosen;
    const submit = form.querySelector("[data-bulk-submit]");
    if (submit) submit.disabled = chosen === 0;
    for (const box of boxes) box.closest("tr").classList.toggle("is-selected", box.checked);
  }

  function refreshStageSummary() {
    const summary = document.getElementById("stage-filter-summary");
    if (!summary) return;
    const chosen = document.querySelectorAll('.multi-select input[name="stage"]:checked').length;
    summary.textContent = chosen ? summary.dataset.some.replace("%(count)s", chosen) : summary.dataset.any;
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.matches("[data-select-all]")) {
      for (const box of document.querySelectorAll('#bulk-form input[name="order"]')) box.checked = target.checked;
    }
    if (target.closest("#bulk-form")) refreshSelection();
    if (target.name === "stage" && target.closest(".multi-select")) refreshStageSummary();
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const active = document.activeElement;
    if (active && (active.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(active.tagName))) return;
    const search = document.getElementById("id_q");
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
  });

  /* Close the stage picker when focus or a click leaves it. */
  document.addEventListener("click", (event) => {
    for (const picker of document.querySelectorAll("[data-multi-select][open]")) {
      if (!picker.contains(event.target)) picker.removeAttribute("open");
    }
  });

  document.addEventListener("DOMContentLoaded", refreshSelection);
  document.body.addEventListener("htmx:afterSettle", refreshSelection);
  refreshSelection();
})();
