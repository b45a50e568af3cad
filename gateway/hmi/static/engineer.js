// The device table refreshes itself every few seconds, without renewing the session.
(function () {
  "use strict";
  var body = document.querySelector("tbody[data-refresh]");
  if (!body) { return; }
  var PERIOD_MS = 5000;
  function refresh() {
    fetch(body.getAttribute("data-refresh"), { credentials: "same-origin", headers: { "X-Refresh": "1" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (rows) { body.innerHTML = rows; document.body.classList.remove("stale"); })
      .catch(function () { document.body.classList.add("stale"); })
      .finally(function () { window.setTimeout(refresh, PERIOD_MS); });
  }
  window.setTimeout(refresh, PERIOD_MS);
})();
