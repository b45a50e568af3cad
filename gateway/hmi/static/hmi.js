// The live values: one EventSource per page; stale values are greyed while it is down.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const lost = document.getElementById("connection-lost");
  const latencies = [];
  window.hmiLatencies = latencies;
  let lastEvent = null;
  let shownAlarms = null;

  function setText(name, value) {
    for (const element of document.querySelectorAll('[data-live="' + name + '"]')) {
      element.textContent = value === null || value === undefined ? "—" : String(value);
    }
  }

  function hidden(name, value) {
    const input = document.createElement("input");
    input.type = "hidden"; input.name = name; input.value = value;
    return input;
  }

  function alarmRow(alarm, ackLabel, shelveLabel) {
    const row = document.createElement("tr");
    row.className = "priority-" + alarm.priority + (alarm.unacknowledged ? " unacknowledged" : "");
    const detail = alarm.detail ? " (" + alarm.detail + ")" : "";
    for (const text of ["▲ " + alarm.priority_text, alarm.id, alarm.source, alarm.state_text,
                        alarm.message + detail]) {
      const cell = document.createElement("td"); cell.textContent = text; row.appendChild(cell);
    }
    const action = document.createElement("td");
    if (alarm.unacknowledged) {
      const form = document.createElement("form");
      form.method = "post"; form.action = "/alarms/ack";
      form.append(hidden("csrf_token", csrf), hidden("alarm", alarm.id), hidden("source", alarm.source));
      const button = document.createElement("button");
      button.type = "submit"; button.textContent = ackLabel;
      button.setAttribute("aria-label", ackLabel + " " + alarm.id + " " + alarm.source);
      form.appendChild(button); action.appendChild(form);
    }
    if (alarm.shelvable) {
      const link = document.createElement("a");
      link.className = "button small"; link.textContent = shelveLabel;
      link.href = "/alarms/shelve/" + encodeURIComponent(alarm.id) + "/" + encodeURIComponent(alarm.source);
      link.setAttribute("aria-label", shelveLabel + " " + alarm.id + " " + alarm.source);
      action.appendChild(link);
    }
    if (!alarm.unacknowledged && !alarm.shelvable) { action.textContent = "—"; }
    row.appendChild(action);
    return row;
  }

  function showAlarms(alarms) {
    const banner = document.getElementById("alarm-banner");
    const top = alarms[0];
    setText("alarm-count", alarms.length);
    if (banner) {
      banner.classList.toggle("quiet", !top);
      setText("alarm-top", top ? "▲ " + top.priority_text + " · " + top.id + " · " + top.source + " · " + top.state_text : banner.dataset.none);
    }
    const rows = document.querySelector('[data-live="alarm-rows"]');
    const shown = JSON.stringify(alarms);
    // Rebuilt only when the alarms change: a row replaced under a finger loses the tap.
    if (rows && shown !== shownAlarms) {
      shownAlarms = shown;
      const built = alarms.map((alarm) => alarmRow(alarm, rows.dataset.ackLabel, rows.dataset.shelveLabel));
      if (!built.length) {
        const row = document.createElement("tr"); const cell = document.createElement("td");
        cell.colSpan = 6; cell.textContent = rows.dataset.none; row.appendChild(cell); built.push(row);
      }
      rows.replaceChildren(...built);
    }
  }

  function show(values) {
    const received = Date.now();
    if (values.event_at_ms && values.event_at_ms !== lastEvent) {
      lastEvent = values.event_at_ms;
      latencies.push(received - values.event_at_ms);
      if (latencies.length > 1000) latencies.shift();
    }
    for (const name of ["batch", "phase_text", "packml", "good", "rejected", "total", "speed",
                        "target", "serials_left", "codes_ready"]) {
      if (name in values) setText(name, values[name]);
    }
    const reasons = document.querySelector('[data-live="reasons"]');
    if (reasons && values.reasons) {
      const items = values.reasons.map(([reason, count]) => {
        const item = document.createElement("li"); item.textContent = reason + ": " + count; return item;
      });
      if (!items.length) { const item = document.createElement("li"); item.textContent = "—"; items.push(item); }
      reasons.replaceChildren(...items);
    }
    setText("updated", new Date(values.sent_at_ms).toLocaleTimeString(document.documentElement.lang));
    showAlarms(values.alarms || []);
  }

  function connect() {
    const source = new EventSource("/line/stream");
    source.onopen = () => { lost.hidden = true; document.body.classList.remove("stale"); };
    source.onmessage = (message) => { lost.hidden = true; document.body.classList.remove("stale"); show(JSON.parse(message.data)); };
    source.addEventListener("expired", () => { source.close(); window.location.assign("/login?expired=1"); });
    source.onerror = () => { lost.hidden = false; document.body.classList.add("stale"); };
  }
  connect();
})();
