// The encounter page saves each section in place. A refused save answers 422 with the section again (its
// field errors and the typed input): swap it in like a success instead of dropping it as an error.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr && event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
