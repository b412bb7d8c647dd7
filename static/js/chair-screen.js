/* The chair screen's small behaviours (no inline script: the CSP forbids it).
 *  - The vital-signs sheet: [data-sheet-open="id"] opens it, [data-sheet-close="id"] and Escape close it;
 *    after an htmx save the sheet's new body carries data-saved="true" and the sheet closes itself.
 *  - Ages: every <time class="strip-age" datetime="..."> shows how long ago ("12 s ago", "4 min ago") in
 *    place of the clock time the server wrote (kept in its title), refreshed every few seconds and after
 *    every swap.
 *  - Countdowns: [data-countdown-to="ISO time"] shows the minutes and seconds left ("in 12:30"), then its
 *    data-done-label.
 */
(function () {
  "use strict";

  function sheet(id) {
    return document.getElementById(id);
  }

  function setOpen(id, open) {
    const element = sheet(id);
    if (!element) {
      return;
    }
    element.dataset.open = open ? "true" : "false";
    document.querySelectorAll(`[data-sheet-open="${id}"]`).forEach((button) => {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    if (open) {
      const first = element.querySelector("input:not([type=hidden]), select, textarea");
      if (first) {
        first.focus({ preventScroll: true });
      }
    } else {
      const opener = document.querySelector(`[data-sheet-open="${id}"]`);
      if (opener) {
        opener.focus({ preventScroll: true });
      }
    }
  }

  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-sheet-open]");
    if (opener) {
      setOpen(opener.dataset.sheetOpen, true);
      return;
    }
    const closer = event.target.closest("[data-sheet-close]");
    if (closer) {
      setOpen(closer.dataset.sheetClose, false);
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      document.querySelectorAll('.sheet[data-open="true"]').forEach((element) => setOpen(element.id, false));
    }
  });

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  function ageText(seconds) {
    if (seconds < 60) {
      return `${Math.max(0, Math.round(seconds))} s ago`;
    }
    if (seconds < 3600) {
      return `${Math.floor(seconds / 60)} min ago`;
    }
    return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min ago`;
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("time.strip-age[datetime]").forEach((element) => {
      const at = Date.parse(element.getAttribute("datetime"));
      if (Number.isNaN(at)) {
        return;
      }
      element.textContent = ageText((now - at) / 1000);
    });
    document.querySelectorAll("[data-countdown-to]").forEach((element) => {
      const until = Date.parse(element.dataset.countdownTo);
      if (Number.isNaN(until)) {
        return;
      }
      const left = Math.ceil((until - now) / 1000);
      element.textContent =
        left > 0 ? `(in ${Math.floor(left / 60)}:${pad(left % 60)})` : `(${element.dataset.doneLabel || ""})`;
    });
  }

  document.body.addEventListener("htmx:afterSwap", () => {
    const saved = document.querySelector('.sheet-body[data-saved="true"]');
    if (saved) {
      saved.removeAttribute("data-saved");
      setOpen(saved.closest(".sheet").id, false);
    } else {
      // A form that came back with errors keeps its sheet open on them.
      const refused = document.querySelector(".sheet .has-error, .sheet .callout.danger");
      if (refused) {
        setOpen(refused.closest(".sheet").id, true);
      }
    }
    tick();
  });
  document.body.addEventListener("htmx:sseMessage", tick);

  document.querySelectorAll('.sheet[data-open="true"]').forEach((element) => setOpen(element.id, true));
  tick();
  window.setInterval(tick, 5000);
})();
