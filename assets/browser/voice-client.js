// Browser side of voice-stream's pages and dashboard widget: one WebSocket to a
// VoiceChannel (src/core/browser/voice-channel.ts) that plays the audio the flow sends
// (float32 PCM through an AudioWorklet, text shown as its audio plays) and, when the flow
// opens a capture, sends this page's microphone (getUserMedia with echo cancellation, noise
// suppression and auto gain; resampled to 16 kHz mono in an AudioWorklet).
// Browsers start audio only after a user gesture, hence enableAudio() behind a button.
(function () {
  "use strict";
  var MAX_HELD_SECONDS = 600;

  function VoiceStreamClient(options) {
    this.base = options.base;
    this.rate = Number(options.rate) || 24000;
    this.onChange = options.onChange || function () {};
    this.onEvent = options.onEvent || function () {};
    // Exposed for tests and curious users (window.__voiceStream on the pages).
    this.state = {
      connected: false,
      session: null,
      title: "",
      audio: "off",
      chunks: 0,
      receivedSamples: 0,
      droppedSamples: 0,
      playedSamples: 0,
      bufferedSamples: 0,
      heldSamples: 0,
      volume: 1,
      stream: null,
      text: "",
      capturing: false,
      capture: null,
      mic: "off",
      micFrames: 0,
      sentSamples: 0,
      error: "",
      phase: "idle",
      // The last phases, oldest first (listening → thinking → speaking → idle), for tests and status.
      phases: ["idle"],
      // What the browser granted for the microphone (echo cancellation etc. are requests).
      micSettings: null,
    };
    this.context = null;
    this.worklet = null;
    this.gain = null;
    this.starting = null;
    this.held = [];
    this.texts = [];
    this.streamStart = {};
    // Streams begun and not yet finished: while one is open, a gap in its audio is still "speaking".
    this.openStreams = {};
    // Samples handed to the player worklet (it reports how many it has received).
    this.posted = 0;
    this.skipStream = null;
    this.socket = null;
    this.micContext = null;
    this.micStream = null;
    this.micNode = null;
    this.closed = false;
  }

  VoiceStreamClient.prototype.changed = function () {
    var s = this.state;
    var open = Object.keys(this.openStreams).length > 0;
    if (s.capturing) s.phase = "listening";
    else if (s.bufferedSamples > 0) s.phase = "speaking";
    else if (s.phase === "listening") s.phase = "thinking";
    else if (s.phase === "speaking" && !open) s.phase = "idle";
    if (s.phases[s.phases.length - 1] !== s.phase) {
      s.phases.push(s.phase);
      if (s.phases.length > 20) s.phases.shift();
    }
    this.onChange(s);
  };

  // ---- playback ----------------------------------------------------------------------

  VoiceStreamClient.prototype.enableAudio = function () {
    var self = this;
    if (this.starting) return this.starting;
    this.starting = (async function () {
      self.context = new AudioContext({ sampleRate: self.rate });
      await self.context.audioWorklet.addModule(self.base + "/worklet.js");
      self.worklet = new AudioWorkletNode(self.context, "voice-stream-player", { outputChannelCount: [1] });
      self.worklet.port.onmessage = function (e) {
        self.state.playedSamples = e.data.played;
        // Still to play: what the worklet holds plus what is on its way to it.
        self.state.bufferedSamples = e.data.buffered + (self.posted - e.data.received);
        self.showText();
        self.changed();
      };
      self.gain = self.context.createGain();
      self.gain.gain.value = self.state.volume;
      self.worklet.connect(self.gain).connect(self.context.destination);
      await self.context.resume();
      self.state.audio = self.context.state === "running" ? "on" : self.context.state;
      // What arrived before audio was on (a late page's replay) plays now, from its start.
      var held = self.held;
      self.held = [];
      self.state.heldSamples = 0;
      for (var i = 0; i < held.length; i++) self.queue(held[i]);
      self.changed();
    })().catch(function (err) {
      self.starting = null;
      self.state.audio = "failed: " + err.message;
      self.changed();
    });
    return this.starting;
  };

  VoiceStreamClient.prototype.queue = function (samples) {
    this.posted += samples.length;
    this.state.bufferedSamples += samples.length;
    this.worklet.port.postMessage({ type: "audio", samples: samples }, [samples.buffer]);
  };

  VoiceStreamClient.prototype.setVolume = function (v) {
    this.state.volume = Math.max(0, Math.min(2, Number(v)));
    if (this.gain) this.gain.gain.value = this.state.volume;
    this.changed();
  };

  // Stops this page's playback (other pages and the flow go on); the rest of the stream is skipped.
  VoiceStreamClient.prototype.stopPlayback = function () {
    this.skipStream = this.state.stream;
    this.dropAll();
  };

  VoiceStreamClient.prototype.dropAll = function () {
    for (var i = 0; i < this.held.length; i++) this.state.droppedSamples += this.held[i].length;
    this.held = [];
    this.state.heldSamples = 0;
    if (this.worklet) this.worklet.port.postMessage({ type: "stop" });
    this.state.droppedSamples += this.state.bufferedSamples;
    this.texts = [];
    this.state.text = "";
    this.changed();
  };

  // The text whose audio is playing now: texts sit at received-sample positions.
  VoiceStreamClient.prototype.showText = function () {
    var at = this.state.playedSamples + this.state.droppedSamples;
    while (this.texts.length > 0 && this.texts[0].pos <= at) this.state.text = this.texts.shift().text;
  };

  VoiceStreamClient.prototype.onAudio = function (buffer) {
    var samples = new Float32Array(buffer);
    var s = this.state;
    s.chunks += 1;
    s.receivedSamples += samples.length;
    if (s.stream !== null && s.stream === this.skipStream) {
      s.droppedSamples += samples.length;
      return;
    }
    if (s.phase !== "listening") s.phase = "speaking";
    if (this.worklet && s.audio === "on") return this.queue(samples);
    this.held.push(samples);
    s.heldSamples += samples.length;
    while (s.heldSamples > MAX_HELD_SECONDS * this.rate && this.held.length > 1) {
      var old = this.held.shift();
      s.heldSamples -= old.length;
      s.droppedSamples += old.length;
    }
    this.changed();
  };

  VoiceStreamClient.prototype.onControl = function (m) {
    var s = this.state;
    switch (m.type) {
      case "hello":
        s.session = m.session;
        this.savedSession(m.session);
        s.title = m.title || "";
        break;
      case "stream":
        s.stream = m.stream;
        this.openStreams[m.stream] = true;
        this.streamStart[m.stream] = s.receivedSamples;
        if (this.skipStream !== m.stream) this.skipStream = null;
        break;
      case "text":
        if (m.stream === this.skipStream) break;
        var start = this.streamStart[m.stream] !== undefined ? this.streamStart[m.stream] : s.receivedSamples;
        this.texts.push({ pos: start + Math.round(m.at * this.rate), text: m.text });
        this.texts.sort(function (a, b) { return a.pos - b.pos; });
        this.showText();
        break;
      case "final":
        delete this.openStreams[m.stream];
        break;
      case "end":
        delete this.streamStart[m.stream];
        delete this.openStreams[m.stream];
        break;
      case "stop":
        if (m.stream === undefined) this.openStreams = {};
        else delete this.openStreams[m.stream];
        this.dropAll();
        break;
      case "pause":
      case "resume":
        if (this.worklet) this.worklet.port.postMessage({ type: m.type });
        break;
      case "capture-start":
        this.startMic(m.capture, m.mode);
        break;
      case "capture-stop":
        this.stopMic(m.capture);
        break;
      case "error":
        s.error = m.message;
        break;
    }
    this.onEvent(m);
    this.changed();
  };

  // ---- microphone --------------------------------------------------------------------

  VoiceStreamClient.prototype.startMic = async function (capture, mode) {
    var self = this;
    var s = this.state;
    s.capture = capture;
    s.capturing = true;
    s.mode = mode;
    s.phase = "listening";
    this.changed();
    try {
      if (!this.micStream) {
        // The worklet is ready before the microphone opens, so its first samples are not lost.
        this.micContext = new AudioContext();
        await this.micContext.audioWorklet.addModule(this.base + "/mic-worklet.js");
        this.micStream = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
        });
        var track = this.micStream.getAudioTracks()[0];
        var got = track && track.getSettings ? track.getSettings() : {};
        s.micSettings = { echoCancellation: got.echoCancellation, noiseSuppression: got.noiseSuppression, autoGainControl: got.autoGainControl, sampleRate: got.sampleRate, contextRate: this.micContext.sampleRate };
        var source = this.micContext.createMediaStreamSource(this.micStream);
        this.micNode = new AudioWorkletNode(this.micContext, "voice-stream-mic", { numberOfOutputs: 0 });
        this.micNode.port.onmessage = function (e) {
          var frame = e.data;
          s.micFrames += 1;
          if (!s.capturing || !self.socket || self.socket.readyState !== 1) return;
          s.sentSamples += frame.length;
          self.socket.send(frame.buffer);
        };
        source.connect(this.micNode);
      }
      await this.micContext.resume();
      // Without a click on the page yet (always-on), the browser may hold the context suspended.
      s.mic = this.micContext.state === "running" ? "on" : "waiting for a click";
    } catch (err) {
      if (this.micContext) this.micContext.close();
      this.micContext = null;
      this.micStream = null;
      s.mic = "failed: " + err.message;
      s.error = "microphone: " + err.message;
      s.capturing = false;
      if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify({ type: "talk-stop", reason: s.error }));
    }
    this.changed();
  };

  VoiceStreamClient.prototype.stopMic = function (capture) {
    var s = this.state;
    if (capture && s.capture !== capture) return;
    s.capturing = false;
    s.capture = null;
    s.phase = "thinking";
    // Between turns the microphone is released (the browser's indicator goes off).
    if (this.micStream) this.micStream.getTracks().forEach(function (t) { t.stop(); });
    if (this.micNode) this.micNode.port.postMessage({ type: "stop" });
    if (this.micContext) this.micContext.close();
    this.micStream = null;
    this.micNode = null;
    this.micContext = null;
    s.mic = "off";
    this.changed();
  };

  // Push-to-talk from the page: the flow's node decides and opens the capture.
  VoiceStreamClient.prototype.talk = function (on) {
    var self = this;
    if (this.micContext && this.micContext.state !== "running") {
      this.micContext.resume().then(function () {
        if (self.micContext && self.micContext.state === "running") self.state.mic = "on";
        self.changed();
      });
    }
    if (!this.socket || this.socket.readyState !== 1) return;
    if (on && this.state.audio !== "on") this.enableAudio();
    this.socket.send(JSON.stringify({ type: on ? "talk-start" : "talk-stop" }));
  };

  // ---- connection --------------------------------------------------------------------

  // The session survives a reconnect or a reload of this tab (sessionStorage is per tab).
  VoiceStreamClient.prototype.savedSession = function (id) {
    var key = "voice-stream:" + this.base;
    try {
      if (id) sessionStorage.setItem(key, id);
      return sessionStorage.getItem(key);
    } catch (e) {
      return id || this.state.session;
    }
  };

  VoiceStreamClient.prototype.connect = function () {
    var self = this;
    var resume = this.savedSession();
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + this.base + "/ws" + (resume ? "?resume=" + encodeURIComponent(resume) : "");
    var socket = new WebSocket(url);
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onopen = function () {
      self.state.connected = true;
      self.changed();
    };
    socket.onmessage = function (e) {
      if (typeof e.data === "string") return self.onControl(JSON.parse(e.data));
      self.onAudio(e.data);
    };
    socket.onclose = function () {
      self.state.connected = false;
      if (self.state.capturing) self.stopMic();
      self.changed();
      if (!self.closed) setTimeout(function () { self.connect(); }, 1000);
    };
  };

  VoiceStreamClient.prototype.close = function () {
    this.closed = true;
    if (this.socket) this.socket.close();
    if (this.state.capturing) this.stopMic();
    if (this.context) this.context.close();
  };

  window.VoiceStreamClient = VoiceStreamClient;
})();
