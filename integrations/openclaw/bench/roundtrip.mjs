// Round trip of the plugin's before_tool_call against a running sentinel server:
//   node bench/roundtrip.mjs http://127.0.0.1:3300   (from integrations/openclaw)
import { createSentinel } from "../index.js";
const s = createSentinel({ url: process.argv[2] }, { env: {} });
const ctx = { agentId: "main", sessionKey: "bench" };
const cmds = ["ls -la", "git status", "touch ran.txt", "rm -rf ~/important"];
for (let i = 0; i < 20; i++) await s.beforeToolCall({ toolName: "exec", params: { command: cmds[i % 4] }, toolCallId: "w" + i }, ctx);
const ts = [];
let blocked = 0;
for (let i = 0; i < 400; i++) {
  const t0 = process.hrtime.bigint();
  const r = await s.beforeToolCall({ toolName: "exec", params: { command: cmds[i % 4] }, toolCallId: "c" + i }, ctx);
  ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (r?.block) blocked++;
}
ts.sort((a, b) => a - b);
const q = (p) => ts[Math.min(ts.length - 1, Math.floor(p * ts.length))].toFixed(2);
console.log(`n=${ts.length} blocked=${blocked} p50=${q(0.5)}ms p90=${q(0.9)}ms p99=${q(0.99)}ms max=${ts.at(-1).toFixed(2)}ms`);
