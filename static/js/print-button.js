// A "Print" button (data-print) opens the browser's print dialog; the print stylesheet hides navigation
// and filters. A static file because the content security policy forbids inline script.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) {
    window.print();
  }
});
