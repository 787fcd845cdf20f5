/* global require, process, console */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: plain `node` runs it, no loader */
"use strict";
/*
 * The inside of a local Lambda container: what Lambda's Node.js runtime does, in plain CommonJS so it needs nothing
 * but Node. Loads the handler module ONCE (the cold start: top-level code and Pulumi's factory run here), tells the
 * parent it is ready, then serves invocations one at a time over the IPC channel. The parent owns time: it kills
 * this process on a timeout, and reads an exit mid-invocation as a crash.
 *
 * argv: <handler, e.g. "__index.handler"> <account id for the function's ARN>. The task root is LAMBDA_TASK_ROOT.
 * Nothing else comes from the parent's environment: the container's environment is the function's.
 */
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");
const { pathToFileURL } = require("node:url");

const handlerSpec = process.argv[2] || "";
const taskRoot = fs.realpathSync(process.env.LAMBDA_TASK_ROOT || process.cwd());
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME || "";
const memoryLimitInMB = process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || "";
const region = process.env.AWS_REGION || "";
const accountId = process.argv[3] || "000000000000";

// In Lambda /var/task has no parent folder with node_modules. Locally the archive may sit inside a project whose
// node_modules would satisfy a require the archive forgot; stop the lookup at the task root so that bug shows here.
const nodeModulePaths = Module._nodeModulePaths;
Module._nodeModulePaths = function (from) {
  const paths = nodeModulePaths.call(this, from);
  const inside = (p) => p === taskRoot || p.startsWith(taskRoot + path.sep);
  return inside(path.resolve(from)) ? paths.filter(inside) : paths;
};

const send = (message, then) => {
  if (process.connected) process.send(message, then);
  else if (then) then();
};

/** Lambda's { errorType, errorMessage } for anything thrown, including non-errors (`throw "x"`). */
function describe(error) {
  if (error instanceof Error || (error && typeof error === "object" && "message" in error)) {
    return {
      errorType: String(error.name || error.constructor?.name || "Error"),
      errorMessage: String(error.message),
      trace: typeof error.stack === "string" ? error.stack.split("\n") : [],
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

async function loadHandler() {
  const dot = handlerSpec.lastIndexOf(".");
  const moduleName = dot > 0 ? handlerSpec.slice(0, dot) : "";
  const exportPath = dot > 0 ? handlerSpec.slice(dot + 1) : "";
  if (!moduleName || !exportPath) {
    throw Object.assign(new Error(`Bad handler ${handlerSpec}: expected <module>.<export>`), {
      name: "Runtime.MalformedHandlerName",
    });
  }
  const file = path.resolve(taskRoot, moduleName);
  let loaded;
  try {
    loaded = require(file);
  } catch (error) {
    if (error && error.code === "ERR_REQUIRE_ESM") loaded = await import(pathToFileURL(require.resolve(file)).href);
    else if (error && error.code === "MODULE_NOT_FOUND" && String(error.message).includes(`'${file}'`)) {
      throw Object.assign(new Error(`Error: Cannot find module '${moduleName}'`), {
        name: "Runtime.ImportModuleError",
      });
    } else throw error;
  }
  const handler = exportPath.split(".").reduce((value, key) => (value == null ? undefined : value[key]), loaded);
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${handlerSpec} is undefined or not exported`), { name: "Runtime.HandlerNotFound" });
  }
  return handler;
}

/** Promise handlers are awaited; a callback handler (three parameters) answers through the callback. */
function callHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (error, value) => (error != null ? reject(error) : resolve(value));
    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (error) {
      reject(error);
      return;
    }
    if (returned && typeof returned.then === "function") returned.then(resolve, reject);
    else if (handler.length < 3) resolve(returned);
  });
}

async function invoke(handler, { requestId, payload, timeoutMs }) {
  const deadline = Date.now() + timeoutMs;
  const context = {
    awsRequestId: requestId,
    functionName,
    functionVersion: "$LATEST",
    memoryLimitInMB,
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let result;
  try {
    result = await callHandler(handler, JSON.parse(payload), context);
  } catch (error) {
    const described = describe(error);
    // Lambda's runtime logs the error too, so it is in the function's log and not only in the caller's answer.
    console.error(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(described)}`);
    send({
      type: "result",
      requestId,
      ok: false,
      errorType: described.errorType,
      errorMessage: described.errorMessage,
    });
    return;
  }
  let text;
  try {
    text = JSON.stringify(result === undefined ? null : result);
  } catch (error) {
    send({
      type: "result",
      requestId,
      ok: false,
      errorType: "Runtime.MarshalError",
      errorMessage: describe(error).errorMessage,
    });
    return;
  }
  send({ type: "result", requestId, ok: true, payload: text });
}

// The parent going away (killed, crashed) closes the channel: leave with it rather than linger as an orphan.
process.on("disconnect", () => process.exit(0));

loadHandler().then(
  (handler) => {
    process.on("message", (message) => {
      if (message && message.type === "invoke") {
        // Received: the parent hears so before the handler runs (the callback fires once the message is written), so
        // a sandbox that dies without saying it never ran the invocation, which may then go to a fresh one.
        send({ type: "started", requestId: message.requestId }, () => void invoke(handler, message));
      }
    });
    send({ type: "ready" });
  },
  (error) => {
    const described = describe(error);
    console.error(`${new Date().toISOString()}\tINIT\tERROR\tInit Error \t${JSON.stringify(described)}`);
    // Lambda discards a sandbox whose init failed; the parent starts a fresh one for the next invocation.
    send({ type: "initError", errorType: described.errorType, errorMessage: described.errorMessage }, () =>
      process.exit(1),
    );
  },
);
