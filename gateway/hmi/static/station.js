// The scanner station: a keyboard-wedge scanner types the code and Enter into the focused
// field; Enter moves to the next empty field and submits the form when none is left
// (a reason list always has a value: it is chosen before the scan).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("station-form");
  if (!form) return;
  const fields = Array.from(form.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), select, textarea"));
  const first = fields.find((field) => !field.value) || fields[0];
  if (first) first.focus();
  form.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.target.tagName === "TEXTAREA") return;
    const at = fields.indexOf(event.target);
    const next = fields.slice(at + 1).find((field) => !field.value);
    if (at >= 0 && next) { event.preventDefault(); next.focus(); }
  });
});
