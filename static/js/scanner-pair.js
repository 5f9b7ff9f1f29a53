/* The pairing page: trade the one-time code from the organiser's QR for a device token,
   keep the token on the device (never in a URL) and open the scanner. */
(function () {
  "use strict";
  const S = JSON.parse(document.getElementById("strings").textContent);
  const config = JSON.parse(document.getElementById("pair-config").textContent);
  const status = document.getElementById("pair-status");
  const retry = document.getElementById("pair-retry");
  const next = document.getElementById("pair-next");
  const deviceLine = document.getElementById("pair-device");

  function say(text, state) {
    status.textContent = text;
    status.dataset.state = state;
  }

  async function pair() {
    retry.hidden = true;
    say(S.pair_working, "working");
    let res;
    try {
      res = await CheckinStore.api("POST", "/api/v1/pair", {code: config.code}, 10000);
    } catch (e) {
      say(S.pair_offline, "error");
      retry.hidden = false;
      return;
    }
    if (res.status === 200 && res.data && res.data.token) {
      CheckinStore.setDevice({token: res.data.token, device: res.data.device,
                              paired_at: new Date().toISOString()});
      // A new pairing may bind another checkpoint: forget the old choice.
      localStorage.removeItem("checkin.choice");
      localStorage.removeItem("checkin.me");
      localStorage.removeItem("checkin.checkpoints");
      say(S.pair_done, "done");
      deviceLine.textContent = res.data.device ? res.data.device.name : "";
      deviceLine.hidden = !deviceLine.textContent;
      next.hidden = false;
      // Replace this history entry: the used code should not stay one "back" away.
      // A guide's phone opens its excursion's page, a marshal's the roll call, a display the
      // room dashboard; every other device the scanner.
      const role = res.data.device && res.data.device.role;
      const target = role === "guide" && config.guide ? config.guide
        : role === "marshal" && config.marshal ? config.marshal
        : role === "display" && config.dashboard ? config.dashboard
        : role === "kiosk" && config.kiosk ? config.kiosk : config.scan;
      next.href = target;
      setTimeout(() => location.replace(target), 600);
      return;
    }
    const error = (res.data && res.data.error) || {};
    if (res.status === 404) say(S.pair_unknown, "error");
    else if (res.status === 400 && /expir/i.test(error.code || "")) say(S.pair_expired, "error");
    else if (res.status === 400 || res.status === 410) say(S.pair_unknown, "error");
    else {
      say(S.pair_failed.replace("{message}", error.message || String(res.status)), "error");
      retry.hidden = false;
    }
  }

  retry.addEventListener("click", pair);
  pair();
})();
