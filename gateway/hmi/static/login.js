// Badge log-in: a keyboard-wedge scanner types the badge and Enter into the focused field;
// Enter moves on to the PIN instead of submitting a form without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const badge = document.getElementById("badge");
  const pin = document.getElementById("pin");
  if (!badge || !pin) return;
  badge.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    if (badge.value) pin.focus();
  });
});
