/* Drag a booked visit on the calendar to an open slot to move it. A drop opens the visit's Move form filled
 * with the slot's date, time and chair, so the person confirms (and may give a reason) and the server checks
 * the move exactly as it checks "Move": the same form, the same service. Keyboard and touch users open the
 * visit and choose "Move"; dragging is a shortcut, never the only way.
 *
 * Markup (scheduling/_grid.html): a visit carries data-move-url; an open cell carries data-drop-query, the
 * slot's "date=…&time=…&chair=…" query. */
(function () {
  "use strict";

  let moveUrl = null;

  function dropCell(event) {
    const target = event.target instanceof Element ? event.target : null;
    return target ? target.closest("[data-drop-query]") : null;
  }

  document.addEventListener("dragstart", (event) => {
    const target = event.target instanceof Element ? event.target.closest("[data-move-url]") : null;
    if (!target) {
      return;
    }
    moveUrl = target.dataset.moveUrl;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", moveUrl);
    document.body.classList.add("is-dragging-visit");
    target.classList.add("is-dragged");
  });

  document.addEventListener("dragend", (event) => {
    moveUrl = null;
    document.body.classList.remove("is-dragging-visit");
    if (event.target instanceof Element) {
      event.target.classList.remove("is-dragged");
    }
    for (const cell of document.querySelectorAll(".is-drop-target")) {
      cell.classList.remove("is-drop-target");
    }
  });

  document.addEventListener("dragover", (event) => {
    const cell = dropCell(event);
    if (moveUrl && cell) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });

  document.addEventListener("dragenter", (event) => {
    const cell = dropCell(event);
    if (moveUrl && cell) {
      cell.classList.add("is-drop-target");
    }
  });

  document.addEventListener("dragleave", (event) => {
    const cell = dropCell(event);
    if (cell && !(event.relatedTarget instanceof Node && cell.contains(event.relatedTarget))) {
      cell.classList.remove("is-drop-target");
    }
  });

  document.addEventListener("drop", (event) => {
    const cell = dropCell(event);
    if (!moveUrl || !cell) {
      return;
    }
    event.preventDefault();
    window.location.assign(`${moveUrl}?${cell.dataset.dropQuery}`);
  });
})();
