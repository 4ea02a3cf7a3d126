// Sentinel for OpenClaw: every tool call goes to a Sentinel server's
// POST /v1/check before it runs, and its outcome to POST /v1/outcome after.
//
// The plugin fails closed: when Sentinel cannot give an answer (timeout,
// unreachable, non-2xx, a body that is not a decision) the call is
// blocked, never silently allowed. It never decides anything itself.

const DEFAULT_URL = "http://127.0.0.1:3300";
const DEFAULT_TIMEOUT_MS = 3000;
const MAX_RESPONSE_BYTES = 1 << 20;
const MAX_TRACKED = 4096; // pending decisions and wrapper verdicts kept at once
const MAX_TEXT = 2048; // what /v1/outcome keeps of an error
const WRAPPER_TOOL = "tool_call";
const ACTIONS = new Set(["allow", "notify", "confirm", "deny"]);

/** Thrown when Sentinel gives no usable answer; its message says why. */
class CheckError extends Error {}

/**
 * Resolves the plugin config against the defaults, throwing on a value
 * that cannot work (a bad URL, a timeout out of range).
 */
export function resolveConfig(pluginConfig = {}, env = process.env) {
  const cfg = pluginConfig ?? {};
  if (typeof cfg !== "object" || Array.isArray(cfg)) {
    throw new TypeError("sentinel: plugin config must be an object (plugins.entries.sentinel.config)");
  }
  const url = cfg.url ?? DEFAULT_URL;
  let base;
  try {
    base = new URL(url);
  } catch {
    throw new TypeError(`sentinel: config url ${JSON.stringify(url)} is not a URL; set plugins.entries.sentinel.config.url to e.g. ${DEFAULT_URL}`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new TypeError(`sentinel: config url ${JSON.stringify(url)} must be http or https`);
  }
  const timeoutMs = cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60000) {
    throw new TypeError(`sentinel: config timeoutMs ${JSON.stringify(timeoutMs)} must be an integer from 100 to 60000`);
  }
  const sessionPrefix = cfg.sessionPrefix ?? "";
  if (typeof sessionPrefix !== "string" || sessionPrefix.length > 64) {
    throw new TypeError("sentinel: config sessionPrefix must be a string of at most 64 characters");
  }
  const token = cfg.token ?? env.SENTINEL_TOKEN ?? "";
  if (typeof token !== "string") {
    throw new TypeError("sentinel: config token must be a string");
  }
  return { url: base.href.replace(/\/+$/, ""), token, timeoutMs, sessionPrefix };
}

// Bounded insertion-ordered map: the oldest entry goes when it is full, so
// calls whose after_tool_call never comes cannot grow it without end.
class BoundedMap extends Map {
  set(key, value) {
    this.delete(key);
    super.set(key, value);
    while (this.size > MAX_TRACKED) this.delete(this.keys().next().value);
    return this;
  }
}

function clip(s) {
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) : s;
}

function reasonText(decision) {
  const r = Array.isArray(decision.reasons) ? decision.reasons[0] : undefined;
  if (!r || typeof r !== "object") return "sentinel.denied: refused by policy";
  return `${r.code ?? "sentinel.denied"}: ${r.message ?? "refused by policy"}`;
}

// The call Sentinel should judge: for the deferred-tool wrapper, the inner
// tool and its arguments; a wrapper that names no tool is refused.
function innerCall(toolName, params) {
  if (toolName !== WRAPPER_TOOL) return { tool: toolName, args: params ?? {} };
  const id = params?.id ?? params?.name;
  if (typeof id !== "string" || id === "") {
    throw new CheckError(`the ${WRAPPER_TOOL} wrapper names no tool (params.id)`);
  }
  const args = params.args ?? {};
  if (typeof args !== "object" || Array.isArray(args)) {
    throw new CheckError(`the ${WRAPPER_TOOL} wrapper's params.args is not an object`);
  }
  return { tool: id, args };
}

function wrapperKey(runId, tool, args) {
  return `${runId ?? ""}\u0000${tool}\u0000${JSON.stringify(args)}`;
}

/**
 * Builds the two hook handlers. deps.fetch replaces the global fetch (tests).
 */
export function createSentinel(pluginConfig, deps = {}) {
  const cfg = resolveConfig(pluginConfig, deps.env ?? process.env);
  const doFetch = deps.fetch ?? globalThis.fetch;
  const decisions = new BoundedMap(); // toolCallId -> decision_id
  const wrapped = new BoundedMap(); // wrapper-approved inner call -> decision_id, used once

  async function post(path, body) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), cfg.timeoutMs);
    try {
      const headers = { "content-type": "application/json", accept: "application/json" };
      if (cfg.token) headers.authorization = `Bearer ${cfg.token}`;
      let res;
      try {
        res = await doFetch(cfg.url + path, { method: "POST", headers, body: JSON.stringify(body), signal: ctl.signal });
      } catch (err) {
        if (ctl.signal.aborted) throw new CheckError(`no answer from ${cfg.url} within ${cfg.timeoutMs} ms`);
        throw new CheckError(`cannot reach ${cfg.url} (${err?.cause?.code ?? err?.message ?? err})`);
      }
      const text = await readBounded(res, ctl);
      if (res.status < 200 || res.status > 299) {
        let code = "";
        try {
          code = JSON.parse(text)?.error?.code ?? JSON.parse(text)?.code ?? "";
        } catch {
          // a non-JSON error body: the status says enough
        }
        const e = new CheckError(`${path} answered HTTP ${res.status}${code ? ` ${code}` : ""}`);
        e.code = code;
        throw e;
      }
      try {
        return JSON.parse(text);
      } catch {
        throw new CheckError(`${path} answered with a body that is not JSON`);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async function readBounded(res, ctl) {
    if (!res.body) return "";
    const chunks = [];
    let n = 0;
    try {
      for await (const chunk of res.body) {
        n += chunk.length;
        if (n > MAX_RESPONSE_BYTES) {
          ctl.abort();
          throw new CheckError(`answer larger than ${MAX_RESPONSE_BYTES} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof CheckError) throw err;
      if (ctl.signal.aborted) throw new CheckError(`no answer from ${cfg.url} within ${cfg.timeoutMs} ms`);
      throw new CheckError(`reading the answer failed (${err?.message ?? err})`);
    }
    return Buffer.concat(chunks.map((c) => Buffer.from(c))).toString("utf8");
  }

  function sessionOf(ctx) {
    const key = ctx?.sessionKey || ctx?.sessionId || "";
    return key ? cfg.sessionPrefix + key : "";
  }

  async function beforeToolCall(event, ctx) {
    try {
      const { tool, args } = innerCall(event?.toolName, event?.params);
      // The wrapper's inner call fires this hook again: reuse the verdict
      // given to the wrapper instead of deciding (and auditing) it twice.
      if (event.toolName !== WRAPPER_TOOL) {
        const key = wrapperKey(event.runId ?? ctx?.runId, tool, args);
        const id = wrapped.get(key);
        if (id !== undefined) {
          wrapped.delete(key);
          if (event.toolCallId) decisions.set(event.toolCallId, { id, tool });
          return undefined;
        }
      }
      // OpenClaw asks its user about a confirm (requireApproval): a
      // Sentinel approval would be a second prompt nobody answers.
      const body = { tool, args, host_confirms: true };
      const session = sessionOf(ctx);
      if (session) body.session = session;
      if (ctx?.agentId) body.agent = String(ctx.agentId);
      let d;
      try {
        d = await post("/v1/check", body);
      } catch (err) {
        // A server older than host_confirms refuses it: ask again
        // without it (a confirm then also opens an approval there).
        if (!(err instanceof CheckError) || err.code !== "request.unknown_field") throw err;
        delete body.host_confirms;
        d = await post("/v1/check", body);
      }
      if (!d || typeof d !== "object" || !ACTIONS.has(d.action)) {
        throw new CheckError("/v1/check answered without a valid action");
      }
      switch (d.action) {
        case "allow":
        case "notify":
          if (typeof d.decision_id === "string") {
            if (event.toolName === WRAPPER_TOOL) wrapped.set(wrapperKey(event.runId ?? ctx?.runId, tool, args), d.decision_id);
            if (event.toolCallId) decisions.set(event.toolCallId, { id: d.decision_id, tool });
          }
          return undefined;
        case "deny":
          return { block: true, blockReason: reasonText(d) };
        case "confirm": {
          if (typeof d.decision_id === "string" && event.toolCallId) decisions.set(event.toolCallId, { id: d.decision_id, tool });
          const approval = d.approval?.id ? ` (Sentinel approval ${d.approval.id})` : "";
          return {
            requireApproval: {
              title: `Sentinel: confirm ${tool}`.slice(0, 80),
              description: `${reasonText(d)}${approval}`.slice(0, 512),
              severity: (d.risk?.score ?? 0) >= 5 ? "critical" : "warning",
              timeoutMs: 120000,
              // Sentinel's approvals authorize one call; never persist trust.
              allowedDecisions: ["allow-once", "deny"],
            },
          };
        }
      }
    } catch (err) {
      const why = err instanceof CheckError ? err.message : `internal error (${err?.message ?? err})`;
      return { block: true, blockReason: `sentinel: ${why} (the call is refused)` };
    }
    return { block: true, blockReason: "sentinel: no decision (the call is refused)" };
  }

  async function afterToolCall(event, ctx) {
    try {
      const entry = event?.toolCallId ? decisions.get(event.toolCallId) : undefined;
      if (!entry) return;
      decisions.delete(event.toolCallId);
      const body = { decision_id: entry.id, tool: entry.tool, status: event.error ? "error" : "ok" };
      const session = sessionOf(ctx);
      if (session) body.session = session;
      if (ctx?.agentId) body.agent = String(ctx.agentId);
      if (Number.isFinite(event.durationMs) && event.durationMs >= 0) body.duration_ms = Math.round(event.durationMs);
      if (event.error) body.error = clip(typeof event.error === "string" ? event.error : (event.error?.message ?? String(event.error)));
      await post("/v1/outcome", body);
    } catch {
      // after_tool_call only observes: a lost outcome must not fail the run.
    }
  }

  return { beforeToolCall, afterToolCall, config: cfg, pending: () => decisions.size };
}

export default {
  id: "sentinel",
  name: "Sentinel",
  description: "Every tool call is decided by a Sentinel server before it runs (fail closed).",
  register(api) {
    const s = createSentinel(api.pluginConfig);
    // OpenClaw's own hook timeout blocks too; give ours room to answer first.
    api.on("before_tool_call", s.beforeToolCall, { priority: 1000, timeoutMs: s.config.timeoutMs + 2000 });
    api.on("after_tool_call", s.afterToolCall);
  },
};
