// Long organiser work (lists and badge PDFs, the Excel export, an import) as jobs in the
// server's pool: a link or form marked data-job starts the job (POST), the page shows its
// progress and a Cancel button, then downloads the file, or goes where the job says (an
// import's result). Without JavaScript the link downloads and the form imports directly.
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

  async function run(element, request, fallback) {
    const headers = { "X-CSRFToken": csrfToken(), Accept: "application/json" };
    let answer;
    try {
      answer = await fetch(request.url, { method: "POST", headers, body: request.body,
                                          credentials: "same-origin" });
    } catch (error) {
      fallback();  // no job: the plain way still works
      return;
    }
    if (answer.status !== 202) {
      // Nothing to make (no participants, a filter matching nobody): the page says why.
      fallback();
      return;
    }
    let state = await answer.json();
    const ui = progressBox(element);
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
    if (state.after) window.location.href = state.after;
    else if (state.status === "done" && state.file) window.location.href = state.file;
  }

  function once(element, work) {
    if (element.dataset.jobRunning) return;  // one job per link or form at a time
    element.dataset.jobRunning = "1";
    work().finally(() => { delete element.dataset.jobRunning; });
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[data-job]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey ||
        event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    once(link, () => run(link, { url: link.href },
                         () => { window.location.href = link.href; }));
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches || !form.matches("form[data-job]") || event.defaultPrevented) return;
    event.preventDefault();
    once(form, () => run(form, { url: form.action, body: new FormData(form) },
                         () => { form.submit(); }));
  });
})();
