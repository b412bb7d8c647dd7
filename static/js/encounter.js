// The encounter page saves each section in place. A refused save answers 422 with the section again (its
// field errors and the typed input): swap it in like a success instead of dropping it as an error.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr && event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// The history's "asked every question" button: every question still at "Not asked" becomes the answer
// "no" (No, not pregnant, none, never), for the clinician who asked them all and heard "no". Answers
// already chosen are kept; the form is saved only when the clinician presses "Save history".
const NO_ANSWERS = ["false", "not_pregnant", "none"];
const KEEP_AS_ASKED = new Set(["prior_ketamine_response"]);

document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-answer-rest-no]");
  if (!button) return;
  const form = button.closest("form");
  for (const select of form.querySelectorAll("select")) {
    if (KEEP_AS_ASKED.has(select.name) || !["unknown", ""].includes(select.value)) continue;
    const values = Array.from(select.options).map((option) => option.value);
    const answer = NO_ANSWERS.find((value) => values.includes(value));
    if (answer) select.value = answer;
  }
  button.textContent = "Set to No: check them, then save";
});
