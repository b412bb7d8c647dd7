/* The board of chairs: shows whether the live stream is connected, and counts open alerts in the tab's
 * title so a board left in a background tab still says when a chair needs someone. The table itself is
 * swapped in by htmx's SSE extension (sse-swap="board"); labels come from data attributes. */
(function () {
  "use strict";

  const board = document.getElementById("board");
  const status = document.getElementById("board-status");
  if (!board || !status) {
    return;
  }
  const baseTitle = document.title;

  function setStatus(live) {
    status.textContent = live ? status.dataset.liveLabel : status.dataset.lostLabel;
    status.classList.toggle("is-live", live);
    status.classList.toggle("is-lost", !live);
  }

  function countAlerts() {
    const open = board.querySelectorAll(".board-alert").length;
    document.title = open ? `(${open}) ${baseTitle}` : baseTitle;
  }

  board.addEventListener("htmx:sseOpen", () => setStatus(true));
  board.addEventListener("htmx:sseError", () => setStatus(false));
  board.addEventListener("htmx:afterSettle", countAlerts);
  countAlerts();
})();
