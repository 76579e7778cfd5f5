/* Pipeline settings: drag-and-drop ordering of stages and fields (SortableJS), saved with htmx.
   A list marked data-sortable posts its ids in the new order to data-reorder-url and swaps the
   answer into data-target. The arrow buttons in each row do the same without a mouse. */
(function () {
  "use strict";

  function rowIds(list) {
    return Array.prototype.map.call(list.querySelectorAll(":scope > [data-id]"), function (row) {
      return row.dataset.id;
    });
  }

  function makeSortable(list) {
    if (list.dataset.sortableReady) return;
    list.dataset.sortableReady = "true";
    var before = rowIds(list).join(",");
    window.Sortable.create(list, {
      handle: ".drag-handle",
      draggable: "[data-id]",
      animation: 150,
      ghostClass: "sort-ghost",
      chosenClass: "sort-chosen",
      onEnd: function () {
        var order = rowIds(list).join(",");
        if (order === before) return;
        list.setAttribute("aria-busy", "true");
        window.htmx.ajax("POST", list.dataset.reorderUrl, {
          source: list,
          target: list.dataset.target,
          swap: "innerHTML",
          values: { order: order },
        });
      },
    });
  }

  // An arrow button at the end of the list stays focusable (so focus is not lost) but does nothing.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest('button[aria-disabled="true"]');
    if (button) event.preventDefault();
  });

  window.htmx.onLoad(function (root) {
    if (root.matches && root.matches("[data-sortable]")) makeSortable(root);
    root.querySelectorAll("[data-sortable]").forEach(makeSortable);
  });
})();
