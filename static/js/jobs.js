// Long organiser outputs (lists and badge PDFs, the Excel export) as jobs in the server's
// pool: the link starts the job (POST), the page shows its progress and a Cancel button,
// and downloads the file when it is done. Without JavaScript the link downloads directly.
(function () {
  "use strict";

  const POLL_MS = 500;

  function csrfToken() {
    const field = document.querySelector('input[name="csrf_token"]');
    return field ? field.value : "";
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function progressBox(link) {
    const box = document.createElement("div");
    box.className = "job";
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    const bar = document.createElement("progress");
    const text = document.createElement("span");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "link-button";
    box.append(bar, text, cancel);
    link.insertAdjacentElement("afterend", box);
    return { box, bar, text, cancel };
  }

  function show(ui, state) {
    ui.text.textContent = state.text;
    ui.cancel.textContent = state.cancel;
    ui.cancel.hidden = state.status !== "running";
    if (state.total) {
      ui.bar.max = state.total;
      ui.bar.value = state.done;
    } else if (state.status === "running") {
      ui.bar.removeAttribute("value");  // indeterminate until the job knows its size
    } else {
      ui.bar.max = 1;
      ui.bar.value = state.status === "done" ? 1 : 0;
    }
  }

  async function run(link) {
    const headers = { "X-CSRFToken": csrfToken(), Accept: "application/json" };
    let answer;
    try {
      answer = await fetch(link.href, { method: "POST", headers, credentials: "same-origin" });
    } catch (error) {
      window.location.href = link.href;  // no job: the plain download still works
      return;
    }
    if (answer.status !== 202) {
      // Nothing to make (no participants, a filter matching nobody): the page says why.
      window.location.href = link.href;
      return;
    }
    let state = await answer.json();
    const ui = progressBox(link);
    ui.cancel.addEventListener("click", async () => {
      ui.cancel.disabled = true;
      const cancelled = await fetch(state.url, { method: "DELETE", headers });
      if (cancelled.ok) show(ui, await cancelled.json());
    });
    show(ui, state);
    while (state.status === "running") {
      await sleep(POLL_MS);
      const polled = await fetch(state.url, { headers, credentials: "same-origin" });
      if (!polled.ok) break;
      state = await polled.json();
      show(ui, state);
    }
    if (state.status === "done" && state.file) window.location.href = state.file;
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[data-job]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey ||
        event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (link.dataset.jobRunning) return;  // one job per link at a time
    link.dataset.jobRunning = "1";
    run(link).finally(() => { delete link.dataset.jobRunning; });
  });
})();
