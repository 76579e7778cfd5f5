/* The pipeline board: drag cards between stages (SortableJS), move them from the keyboard, report refusals. */
(() => {
  "use strict";

  const board = document.querySelector("[data-board]");
  if (!board) return;
  const alerts = document.getElementById("board-alerts");
  const status = document.getElementById("board-status");
  const dialog = document.getElementById("move-dialog");
  const text = JSON.parse(document.getElementById("board-text").textContent);
  const csrf = board.dataset.csrf;

  function toast(message) {
    const item = document.createElement("div");
    item.className = "toast error";
    const words = document.createElement("span");
    words.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", text.dismiss);
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.append(words, close);
    alerts.append(item);
    window.setTimeout(() => item.remove(), 10000);
  }

  function announce(message) {
    status.textContent = "";
    window.setTimeout(() => { status.textContent = message; }, 50);
  }

  const listFor = (stageId) => board.querySelector(`.board-cards[data-stage="${stageId}"]`);

  function updateColumns(columns) {
    for (const column of columns) {
      const section = board.querySelector(`[data-column="${column.stage}"]`);
      if (!section) continue;
      section.querySelector("[data-count]").textContent = column.count;
      section.querySelector("[data-total]").textContent = column.total;
    }
  }

  /* POST the move; on success put the fresh card at the top of its new column (newest first),
     otherwise call `restore` (to snap a dragged card back) and show the reason. */
  async function move(card, stageId, restore, { focus = false } = {}) {
    card.classList.add("is-moving");
    card.setAttribute("aria-busy", "true");
    let data = null;
    let ok = false;
    try {
      const body = new FormData();
      body.append("stage", stageId);
      const response = await fetch(card.dataset.moveUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, Accept: "application/json" },
      });
      data = await response.json().catch(() => null);
      ok = response.ok && data !== null && data.ok === true;
    } catch (error) {
      ok = false;
    }
    card.classList.remove("is-moving");
    card.removeAttribute("aria-busy");
    if (!ok) {
      restore();
      toast((data && data.reason) || text.failed);
      if (focus) card.focus();
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = data.card.trim();
    const fresh = template.content.firstElementChild;
    const list = listFor(data.stage);
    card.remove();
    if (list) {
      list.prepend(fresh);
      fresh.classList.add("is-arrived");
      window.setTimeout(() => fresh.classList.remove("is-arrived"), 1200);
      if (focus) fresh.focus();
    }
    updateColumns(data.columns);
    announce(data.message);
  }

  /* Drag and drop: one Sortable per column, all in one group. Order within a column is by time
     entered, so dropping only changes the stage. */
  for (const list of board.querySelectorAll(".board-cards")) {
    window.Sortable.create(list, {
      group: "board-cards",
      sort: false,
      draggable: ".board-card",
      animation: 150,
      delay: 150,
      delayOnTouchOnly: true,
      ghostClass: "is-ghost",
      chosenClass: "is-chosen",
      onStart(event) {
        event.item.originNext = event.item.nextElementSibling;
      },
      onEnd(event) {
        const card = event.item;
        const from = event.from;
        const next = card.originNext;
        if (event.to === from) return;
        const restore = () => {
          const before = next && next.parentNode === from ? next : from.querySelector(".board-empty");
          from.insertBefore(card, before);
        };
        move(card, event.to.dataset.stage, restore);
      },
    });
  }

  /* Keyboard: arrows walk between cards and columns, Enter opens the order, M opens "Move to…". */
  let dialogCard = null;

  function openMoveDialog(card) {
    dialogCard = card;
    dialog.querySelector("[data-move-reference]").textContent = card.dataset.reference;
    let first = null;
    for (const option of dialog.querySelectorAll(".move-option")) {
      const current = option.dataset.stage === card.closest(".board-cards").dataset.stage;
      option.disabled = current;
      option.classList.toggle("is-current", current);
      if (!current && !first) first = option;
    }
    dialog.showModal();
    if (first) first.focus();
  }

  dialog.addEventListener("close", () => {
    const card = dialogCard;
    dialogCard = null;
    if (!card) return;
    const stageId = dialog.returnValue;
    dialog.returnValue = "";
    if (stageId) move(card, stageId, () => {}, { focus: true });
    else card.focus();
  });

  board.addEventListener("click", (event) => {
    const button = event.target.closest("[data-move-open]");
    if (button) openMoveDialog(button.closest(".board-card"));
  });

  function neighbour(card, key) {
    const list = card.closest(".board-cards");
    const cards = [...list.querySelectorAll(".board-card")];
    const index = cards.indexOf(card);
    if (key === "ArrowDown") return cards[index + 1];
    if (key === "ArrowUp") return cards[index - 1];
    const lists = [...board.querySelectorAll(".board-cards")];
    const step = key === "ArrowRight" ? 1 : -1;
    for (let i = lists.indexOf(list) + step; i >= 0 && i < lists.length; i += step) {
      const others = lists[i].querySelectorAll(".board-card");
      if (others.length) return others[Math.min(index, others.length - 1)];
    }
    return null;
  }

  board.addEventListener("keydown", (event) => {
    const card = event.target;
    if (!(card instanceof HTMLElement) || !card.classList.contains("board-card")) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Enter") {
      event.preventDefault();
      card.querySelector(".board-card-title").click();
    } else if (event.key === "m" || event.key === "M") {
      event.preventDefault();
      openMoveDialog(card);
    } else if (["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].includes(event.key)) {
      const target = neighbour(card, event.key);
      if (target) {
        event.preventDefault();
        target.focus();
        target.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    }
  });
})();
