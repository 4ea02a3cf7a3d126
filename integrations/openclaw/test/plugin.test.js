import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { createSentinel, resolveConfig } from "../index.js";
import plugin from "../index.js";

// A stand-in Sentinel server: each test sets how /v1/check answers and reads
// what the plugin sent.
async function fakeSentinel(answer) {
  const seen = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const parsed = body ? JSON.parse(body) : undefined;
      seen.push({ path: req.url, auth: req.headers.authorization, body: parsed });
      answer(req, res, parsed);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, seen, close: () => new Promise((r) => server.close(r)) };
}

function json(res, status, v) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(typeof v === "string" ? v : JSON.stringify(v));
}

const decision = (action, extra = {}) => ({
  action, decision_id: "d_1", policy_revision: "r1", risk: { score: 0 }, reasons: [], ...extra,
});

const ctx = { agentId: "main", sessionKey: "agent:main:s1", sessionId: "uuid-1", runId: "run-1" };

function execEvent(command, id = "call-1") {
  return { toolName: "exec", params: { command }, runId: "run-1", toolCallId: id };
}

async function withServer(answer, fn) {
  const srv = await fakeSentinel(answer);
  try {
    await fn(srv);
  } finally {
    await srv.close();
  }
}

test("allow and notify let the call run and send the call as /v1/check wants it", async () => {
  for (const action of ["allow", "notify"]) {
    await withServer((req, res) => json(res, 200, decision(action)), async (srv) => {
      const s = createSentinel({ url: srv.url, token: "t0k", sessionPrefix: "oc:" }, { env: {} });
      const got = await s.beforeToolCall(execEvent("ls"), ctx);
      assert.equal(got, undefined);
      assert.deepEqual(srv.seen, [{
        path: "/v1/check", auth: "Bearer t0k",
        body: { tool: "exec", args: { command: "ls" }, host_confirms: true, session: "oc:agent:main:s1", agent: "main" },
      }]);
    });
  }
});

test("a server older than host_confirms is asked again without it", async () => {
  await withServer((req, res, body) => {
    if (body.host_confirms !== undefined) {
      return json(res, 400, { error: { code: "request.unknown_field", message: "the body has the unknown field \"host_confirms\"" } });
    }
    json(res, 200, decision("deny", { reasons: [{ code: "command.recursive_delete_root", message: "deletes /" }] }));
  }, async (srv) => {
    const s = createSentinel({ url: srv.url }, { env: {} });
    const got = await s.beforeToolCall(execEvent("rm -rf /"), ctx);
    assert.deepEqual(got, { block: true, blockReason: "command.recursive_delete_root: deletes /" });
    assert.equal(srv.seen.length, 2);
    assert.equal(srv.seen[1].body.host_confirms, undefined);
  });
  // Another refusal is not retried: the call is blocked.
  await withServer((req, res) => json(res, 400, { error: { code: "request.invalid_field", message: "bad" } }), async (srv) => {
    const s = createSentinel({ url: srv.url }, { env: {} });
    const got = await s.beforeToolCall(execEvent("ls"), ctx);
    assert.equal(got.block, true);
    assert.equal(srv.seen.length, 1);
  });
});

test("deny blocks with the first reason's code and message", async () => {
  await withServer((req, res) => json(res, 200, decision("deny", {
    reasons: [{ gate: "command", code: "command.recursive_delete_home", message: "deletes the home directory" }],
  })), async (srv) => {
    const s = createSentinel({ url: srv.url }, { env: {} });
    const got = await s.beforeToolCall(execEvent("rm -rf ~"), ctx);
    assert.deepEqual(got, { block: true, blockReason: "command.recursive_delete_home: deletes the home directory" });
    assert.equal(srv.seen[0].auth, undefined, "no token configured, no Authorization header");
  });
});

test("confirm asks a human with the reason and the approval id, allow-once only", async () => {
  await withServer((req, res) => json(res, 200, decision("confirm", {
    risk: { score: 6 },
    reasons: [{ gate: "command", code: "command.force_push", message: "rewrites shared history" }],
    approval: { id: "ap_0123456789abcdef0123", status: "pending" },
  })), async (srv) => {
    const s = createSentinel({ url: srv.url }, { env: {} });
    const got = await s.beforeToolCall(execEvent("git push --force"), ctx);
    assert.ok(got.requireApproval, "a confirm must ask for approval");
    const ra = got.requireApproval;
    assert.equal(ra.title, "Sentinel: confirm exec");
    assert.match(ra.description, /command\.force_push: rewrites shared history/);
    assert.match(ra.description, /ap_0123456789abcdef0123/);
    assert.equal(ra.severity, "critical");
    assert.deepEqual(ra.allowedDecisions, ["allow-once", "deny"]);
    assert.ok(ra.timeoutMs > 0);
  });
});

test("the tool_call wrapper is judged as its inner call, and the inner hook reuses that verdict", async () => {
  await withServer((req, res, body) => json(res, 200, decision(body.tool === "exec" ? "allow" : "deny")), async (srv) => {
    const s = createSentinel({ url: srv.url }, { env: {} });
    const wrapper = { toolName: "tool_call", params: { id: "exec", args: { command: "ls" } }, runId: "run-1", toolCallId: "w1" };
    assert.equal(await s.beforeToolCall(wrapper, ctx), undefined);
    assert.deepEqual(srv.seen[0].body.tool, "exec");
    assert.deepEqual(srv.seen[0].body.args, { command: "ls" });
    // The same inner call fires the hook again: no second decision.
    assert.equal(await s.beforeToolCall(execEvent("ls", "inner-1"), ctx), undefined);
    assert.equal(srv.seen.length, 1);
    // A different inner call is judged on its own.
    await s.beforeToolCall(execEvent("pwd", "inner-2"), ctx);
    assert.equal(srv.seen.length, 2);
  });
});

test("a wrapper that names no tool is refused without asking", async () => {
  const s = createSentinel({ url: "http://127.0.0.1:9" }, { env: {} });
  const got = await s.beforeToolCall({ toolName: "tool_call", params: { args: {} }, toolCallId: "w" }, ctx);
  assert.equal(got.block, true);
  assert.match(got.blockReason, /^sentinel: the tool_call wrapper names no tool.*\(the call is refused\)$/);
});

const failures = [
  ["timeout", (req, res) => setTimeout(() => json(res, 200, decision("allow")), 1500), /within 200 ms/],
  ["HTTP 500", (req, res) => json(res, 500, { error: { code: "internal", message: "boom" } }), /HTTP 500 internal/],
  ["HTTP 401", (req, res) => json(res, 401, { error: { code: "auth.invalid_token" } }), /HTTP 401 auth\.invalid_token/],
  ["garbage", (req, res) => json(res, 200, "<html>not json"), /not JSON/],
  ["no action", (req, res) => json(res, 200, { decision_id: "d_1" }), /without a valid action/],
  ["unknown action", (req, res) => json(res, 200, decision("maybe")), /without a valid action/],
  ["too large", (req, res) => json(res, 200, JSON.stringify(decision("allow", { pad: "x".repeat(2 << 20) }))), /larger than/],
];

for (const [name, answer, want] of failures) {
  test(`fails closed: ${name}`, async () => {
    await withServer(answer, async (srv) => {
      const s = createSentinel({ url: srv.url, timeoutMs: 200 }, { env: {} });
      const got = await s.beforeToolCall(execEvent("ls"), ctx);
      assert.equal(got?.block, true, `${name} must block`);
      assert.match(got.blockReason, want);
      assert.match(got.blockReason, /^sentinel: .*\(the call is refused\)$/);
    });
  });
}

test("fails closed: unreachable server", async () => {
  const srv = await fakeSentinel((req, res) => json(res, 200, decision("allow")));
  await srv.close(); // the port is now closed
  const s = createSentinel({ url: srv.url }, { env: {} });
  const got = await s.beforeToolCall(execEvent("ls"), ctx);
  assert.equal(got?.block, true);
  assert.match(got.blockReason, /^sentinel: cannot reach .*\(the call is refused\)$/);
});

test("after_tool_call posts the outcome for the decision and forgets it", async () => {
  await withServer((req, res) => json(res, 200, req.url === "/v1/check" ? decision("allow", { decision_id: "d_42" }) : { recorded: true }),
    async (srv) => {
      const s = createSentinel({ url: srv.url, token: "t" }, { env: {} });
      await s.beforeToolCall(execEvent("false", "c9"), ctx);
      assert.equal(s.pending(), 1);
      await s.afterToolCall({ toolName: "exec", params: { command: "false" }, toolCallId: "c9", error: "exit status 1", durationMs: 12.4 }, ctx);
      assert.equal(s.pending(), 0);
      assert.deepEqual(srv.seen[1], {
        path: "/v1/outcome", auth: "Bearer t",
        body: { decision_id: "d_42", tool: "exec", status: "error", session: "agent:main:s1", agent: "main", duration_ms: 12, error: "exit status 1" },
      });
      // No decision for the call: nothing to record.
      await s.afterToolCall({ toolName: "exec", toolCallId: "unknown" }, ctx);
      assert.equal(srv.seen.length, 2);
    });
});

test("after_tool_call never throws, even when the server is gone", async () => {
  const srv = await fakeSentinel((req, res) => json(res, 200, decision("allow")));
  const s = createSentinel({ url: srv.url }, { env: {} });
  await s.beforeToolCall(execEvent("ls", "c1"), ctx);
  await srv.close();
  await assert.doesNotReject(s.afterToolCall({ toolName: "exec", toolCallId: "c1", durationMs: 1 }, ctx));
});

test("config: defaults, the token from the environment, and bad values rejected", () => {
  assert.deepEqual(resolveConfig(undefined, { SENTINEL_TOKEN: "envtok" }),
    { url: "http://127.0.0.1:3300", token: "envtok", timeoutMs: 3000, sessionPrefix: "" });
  assert.equal(resolveConfig({ token: "cfg" }, { SENTINEL_TOKEN: "env" }).token, "cfg");
  assert.equal(resolveConfig({ url: "http://h:1/" }, {}).url, "http://h:1");
  for (const bad of [{ url: "not a url" }, { url: "file:///x" }, { timeoutMs: 5 }, { timeoutMs: "3000" }, { sessionPrefix: 7 }, { token: 1 }]) {
    assert.throws(() => resolveConfig(bad, {}), /sentinel: config/, JSON.stringify(bad));
  }
});

test("register hooks before_tool_call and after_tool_call", () => {
  const hooks = {};
  plugin.register({ pluginConfig: { url: "http://127.0.0.1:1" }, on: (name, fn, opts) => (hooks[name] = { fn, opts }) });
  assert.equal(plugin.id, "sentinel");
  assert.equal(typeof hooks.before_tool_call.fn, "function");
  assert.equal(typeof hooks.after_tool_call.fn, "function");
  assert.ok(hooks.before_tool_call.opts.timeoutMs > 3000, "OpenClaw's hook timeout must outlast the plugin's own");
});
