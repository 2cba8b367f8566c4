// The ui-voice Dashboard 2.0 widget, as a plain-JS Vue 3 component (render functions, no
// build step): Dashboard imports this file from /resources/node-red-contrib-voice-stream/
// and takes window["ui-voice"].UIVoice. Audio and microphone go over the widget's own
// WebSocket through VoiceStreamClient (assets/browser/voice-client.js, served by the node).
(function () {
  "use strict";
  var Vue = window.Vue;
  var h = Vue.h;
  var loading = {};

  function loadClient(base) {
    if (window.VoiceStreamClient) return Promise.resolve();
    if (!loading[base]) {
      loading[base] = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = base + "/player.js";
        script.onload = function () { resolve(); };
        script.onerror = function () { reject(new Error("could not load " + script.src)); };
        document.head.appendChild(script);
      });
    }
    return loading[base];
  }

  var BUTTON = "padding:4px 12px;border:1px solid rgba(0,0,0,.25);border-radius:4px;background:transparent;cursor:pointer";
  var STATE_LABELS = { idle: "ready", listening: "listening…", thinking: "thinking…", speaking: "speaking" };

  var UIVoice = {
    name: "UIVoice",
    props: { id: { type: String, required: true }, props: { type: Object, default: function () { return {}; } }, state: { type: Object, default: function () { return {}; } } },
    data: function () {
      return { s: { connected: false, audio: "off", capturing: false, phase: "idle", text: "", error: "" }, caption: "", captionFinal: false, answer: "", volume: 1, loadError: "" };
    },
    mounted: function () {
      var self = this;
      var base = this.props.channelBase;
      loadClient(base).then(function () {
        if (self.closed) return;
        self.client = new window.VoiceStreamClient({
          base: base,
          rate: self.props.sampleRate || 24000,
          onChange: function (s) { self.s = Object.assign({}, s); },
          onEvent: function (m) { self.onEvent(m); },
        });
        // For tests and curious users: the widget's client state by node id.
        window.__uiVoice = window.__uiVoice || {};
        window.__uiVoice[self.id] = self.client.state;
        self.client.connect();
      }, function (err) { self.loadError = err.message; });
    },
    unmounted: function () {
      this.closed = true;
      if (this.client) this.client.close();
    },
    methods: {
      onEvent: function (m) {
        if (m.type === "capture-start") {
          this.caption = "";
          this.captionFinal = false;
          this.answer = "";
        } else if (m.type === "caption") {
          this.caption = m.text;
          this.captionFinal = !!m.final;
        } else if (m.type === "answer") {
          if (m.final && typeof m.text === "string") this.answer = m.text;
          else this.answer += m.delta || "";
        } else if (m.type === "state" && this.client) {
          this.client.state.phase = m.state;
          this.s = Object.assign({}, this.client.state);
        }
      },
      press: function (e) {
        if (e) e.preventDefault();
        if (!this.client) return;
        this.client.enableAudio();
        this.client.talk(true);
      },
      release: function () {
        if (this.client && this.client.state.capturing) this.client.talk(false);
      },
      stop: function () {
        if (this.client) this.client.stopPlayback();
      },
      setVolume: function (e) {
        this.volume = Number(e.target.value);
        if (this.client) this.client.setVolume(this.volume);
      },
      enable: function () {
        if (this.client) this.client.enableAudio();
      },
    },
    render: function () {
      var s = this.s;
      var self = this;
      var phase = s.phase || "idle";
      var status = this.loadError ? this.loadError : !s.connected ? "connecting…" : STATE_LABELS[phase] || phase;
      return h("div", { class: "ui-voice", "data-phase": phase, style: "display:flex;flex-direction:column;gap:8px;width:100%" }, [
        h("div", { style: "display:flex;align-items:center;gap:8px" }, [
          h(
            "button",
            {
              class: "ui-voice-talk" + (s.capturing ? " on" : ""),
              type: "button",
              style: "flex:1;padding:10px;border-radius:6px;border:none;cursor:pointer;font-size:1.05em;color:#fff;background:" + (s.capturing ? "#c62828" : "rgb(var(--v-theme-primary, 0,148,206))"),
              onPointerdown: function (e) { self.press(e); },
              onPointerup: function () { self.release(); },
              onPointerleave: function () { self.release(); },
              onKeydown: function (e) { if ((e.key === " " || e.key === "Enter") && !e.repeat) self.press(e); },
              onKeyup: function (e) { if (e.key === " " || e.key === "Enter") self.release(); },
            },
            s.capturing ? "Listening… release to send" : this.props.label || "Hold to talk"
          ),
          h("span", { class: "ui-voice-state", style: "min-width:6em;text-align:right;opacity:.8" }, status),
        ]),
        h("div", { style: "display:flex;gap:8px;align-items:baseline" }, [
          h("span", { style: "min-width:4.5em;opacity:.6;font-size:.85em" }, "You"),
          h("div", { class: "ui-voice-caption", style: "min-height:1.4em;font-style:" + (this.captionFinal ? "normal" : "italic") }, this.caption),
        ]),
        h("div", { style: "display:flex;gap:8px;align-items:baseline" }, [
          h("span", { style: "min-width:4.5em;opacity:.6;font-size:.85em" }, "Answer"),
          h("div", { class: "ui-voice-answer", style: "min-height:1.4em;font-weight:500" }, this.answer),
        ]),
        h("div", { style: "display:flex;align-items:center;gap:8px" }, [
          s.audio !== "on" ? h("button", { class: "ui-voice-enable", type: "button", style: BUTTON, onClick: function () { self.enable(); } }, "Enable audio") : null,
          h("button", { class: "ui-voice-stop", type: "button", style: BUTTON, onClick: function () { self.stop(); } }, "Stop"),
          h("label", { style: "display:flex;align-items:center;gap:4px" }, ["Volume", h("input", { class: "ui-voice-volume", type: "range", min: 0, max: 1.5, step: 0.05, value: this.volume, onInput: function (e) { self.setVolume(e); } })]),
        ]),
        s.error ? h("div", { class: "ui-voice-error", style: "color:#c62828" }, s.error) : null,
      ]);
    },
  };

  window["ui-voice"] = { UIVoice: UIVoice };
})();
