/* Scale answer forms (the patient's fill page, the portal and staff entry): a question asked only under a
 * condition (data-ask-if="item_2" data-ask-if-equals="1") is hidden while its condition does not hold, and
 * shown as soon as it does, following chains of conditions. The "N of M answered" note counts the questions
 * shown.
 *
 * Hiding never clears or disables an answer: a hidden question that was answered is still sent, and the
 * server keeps and scores it (a patient's "yes" is never dropped). Without this script every question shows.
 * A static file, because the content security policy allows no inline script. */
(function () {
  "use strict";

  function checkedValue(form, name) {
    const checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : null;
  }

  function setUp(form) {
    const questions = Array.from(form.querySelectorAll("fieldset[data-item]"));
    // Every form counts its answers as they are given, with or without conditional questions (a PHQ-9's
    // progress bar used to stay at "0 of 10").
    const byName = new Map(
      questions.map(function (question) {
        return [question.dataset.item, question];
      })
    );
    const page = form.closest(".fill") || document;
    const note = page.querySelector("[data-progress-note]");
    const bar = page.querySelector("[data-progress-bar]");

    function isAsked(question, depth) {
      const condition = question.dataset.askIf;
      if (!condition) {
        return true;
      }
      const parent = byName.get(condition);
      return (
        depth < questions.length &&
        checkedValue(form, condition) === question.dataset.askIfEquals &&
        (!parent || isAsked(parent, depth + 1))
      );
    }

    function update() {
      let shown = 0;
      let answered = 0;
      questions.forEach(function (question) {
        const asked = isAsked(question, 0);
        question.hidden = !asked;
        if (asked) {
          shown += 1;
          if (checkedValue(form, question.dataset.item) !== null) {
            answered += 1;
          }
        }
      });
      if (note) {
        note.textContent = answered + " of " + shown + " answered";
      }
      if (bar) {
        bar.max = shown;
        bar.value = answered;
      }
    }

    form.addEventListener("change", update);
    update();
  }

  document.querySelectorAll("form.answers-form").forEach(setUp);
})();
