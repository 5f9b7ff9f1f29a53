/* Reading badge QR codes from the camera: the native BarcodeDetector where the browser has
   one, else the vendored jsQR on a frame of at most 640 pixels across. The same decoding
   as the scanner page, as a module for every page that scans (the guide's page first).
   Exposes window.CheckinCamera.create({video, canvas, onCode, onState}). */
(function () {
  "use strict";

  const SAME_CODE_MS = 3000;  // the same code read again within this time is the same scan
  // The pause between two decodes. A QR waits for the next decode about half of it on
  // average: 50 ms keeps the answer within the 150 ms a volunteer reads as instant, at about
  // a quarter of one core of a tablet while the camera is on.
  const FRAME_MS = 50;

  function create(options) {
    const video = options.video;
    const canvas = options.canvas;
    const onCode = options.onCode;
    const onState = options.onState || (() => {});
    let stream = null;
    let timer = null;
    let detector = null;
    let last = {code: null, at: 0};

    function isRepeat(text) {
      const now = performance.now();
      const repeat = last.code === text && now - last.at < SAME_CODE_MS;
      last = {code: text, at: now};
      return repeat;
    }

    async function decode() {
      if (video.readyState < 2 || !video.videoWidth) return null;
      if (detector) {
        try {
          const codes = await detector.detect(video);
          return codes.length ? codes[0].rawValue : null;
        } catch (e) {
          detector = null;  // fall back to jsQR for good
        }
      }
      const scale = Math.min(1, 640 / video.videoWidth);
      const w = Math.round(video.videoWidth * scale);
      const h = Math.round(video.videoHeight * scale);
      if (canvas.width !== w) canvas.width = w;
      if (canvas.height !== h) canvas.height = h;
      const ctx = canvas.getContext("2d", {willReadFrequently: true});
      ctx.drawImage(video, 0, 0, w, h);
      const image = ctx.getImageData(0, 0, w, h);
      const found = window.jsQR(image.data, w, h, {inversionAttempts: "dontInvert"});
      return found && found.data ? found.data : null;
    }

    function loop() {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        if (!stream) return;
        try {
          const text = await decode();
          if (text !== null && !isRepeat(text)) onCode(text);
        } catch (e) { console.error(e); }
        loop();
      }, FRAME_MS);
    }

    /** Start the camera; resolves with "on", "insecure" or "unavailable". */
    async function start() {
      if (stream) return "on";
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        const why = window.isSecureContext ? "unavailable" : "insecure";
        onState(why);
        return why;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({audio: false, video: {
          facingMode: {ideal: "environment"}, width: {ideal: 1280}, height: {ideal: 720}}});
      } catch (e) {
        stream = null;
        onState("unavailable");
        return "unavailable";
      }
      video.srcObject = stream;
      try { await video.play(); } catch (e) { /* a muted video may autoplay */ }
      if (!detector && "BarcodeDetector" in window) {
        try {
          const formats = await window.BarcodeDetector.getSupportedFormats();
          if (formats.includes("qr_code")) detector = new window.BarcodeDetector({formats: ["qr_code"]});
        } catch (e) { detector = null; }
      }
      onState("on");
      loop();
      return "on";
    }

    function stop() {
      clearTimeout(timer);
      timer = null;
      if (stream) for (const track of stream.getTracks()) track.stop();
      stream = null;
      video.srcObject = null;
      onState("off");
    }

    return {start, stop, isRepeat, running: () => stream !== null};
  }

  window.CheckinCamera = {create};
})();
