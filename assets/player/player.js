// Browser side of audio-out's "browser" sink: PCM (float32 little-endian) arrives over a
// WebSocket and is handed to an AudioWorklet, which plays the chunks back to back.
// Browsers start audio only after a user gesture, hence the "click to enable" button.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script.getAttribute("data-base");
  var rate = Number(script.getAttribute("data-rate"));
  var button = document.getElementById("enable");
  var statusLine = document.getElementById("status");
  // Exposed for tests and curious users.
  var state = (window.__voiceStream = {
    connected: false,
    audio: "off",
    chunks: 0,
    receivedSamples: 0,
    droppedSamples: 0,
    playedSamples: 0,
    bufferedSamples: 0,
  });
  var context = null;
  var worklet = null;
  var starting = null;

  function show() {
    var parts = [state.connected ? "connected" : "disconnected", "audio " + state.audio];
    if (state.playedSamples > 0) parts.push((state.playedSamples / rate).toFixed(1) + " s played");
    statusLine.textContent = parts.join(" · ");
    button.style.display = state.audio === "on" ? "none" : "";
  }

  function enableAudio() {
    if (starting) return starting;
    starting = (async function () {
      context = new AudioContext({ sampleRate: rate });
      await context.audioWorklet.addModule(base + "/worklet.js");
      worklet = new AudioWorkletNode(context, "voice-stream-player", { outputChannelCount: [1] });
      worklet.port.onmessage = function (e) {
        state.playedSamples = e.data.played;
        state.bufferedSamples = e.data.buffered;
        show();
      };
      worklet.connect(context.destination);
      await context.resume();
      state.audio = context.state === "running" ? "on" : context.state;
      show();
    })().catch(function (err) {
      starting = null;
      state.audio = "failed: " + err.message;
      show();
    });
    return starting;
  }
  button.addEventListener("click", enableAudio);
  state.enableAudio = enableAudio;

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + base + "/ws";
    var socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    socket.onopen = function () {
      state.connected = true;
      show();
    };
    socket.onmessage = function (e) {
      if (typeof e.data === "string") {
        var control = JSON.parse(e.data);
        if (worklet && control.type !== "hello") worklet.port.postMessage({ type: control.type });
        return;
      }
      var samples = new Float32Array(e.data);
      state.chunks += 1;
      state.receivedSamples += samples.length;
      // Live audio: what arrives before audio is enabled is not kept for later.
      if (!worklet || state.audio !== "on") {
        state.droppedSamples += samples.length;
        return;
      }
      worklet.port.postMessage({ type: "audio", samples: samples }, [samples.buffer]);
    };
    socket.onclose = function () {
      state.connected = false;
      show();
      setTimeout(connect, 1000);
    };
  }
  connect();
  show();
})();
