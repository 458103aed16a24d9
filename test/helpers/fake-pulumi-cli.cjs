#!/usr/bin/env node
// A stand-in for the Pulumi CLI, for driving the real Automation API in tests: it logs its arguments,
// streams engine events to the Automation API's gRPC events server as the real CLI (> 3.205) does, and
// answers `stack output` from a file. Behaviour comes from environment variables set by the test.
const fs = require("node:fs");
const path = require("node:path");

const args = process.argv.slice(2);
const env = process.env;
fs.appendFileSync(env.FAKE_PULUMI_LOG, `${JSON.stringify(args)}\n`);

function streamEvents(address, events, done) {
  const services = require("@pulumi/pulumi/proto/events_grpc_pb.js");
  const messages = require("@pulumi/pulumi/proto/events_pb.js");
  // The generated client is made by @pulumi/pulumi's own copy of grpc-js: use its credentials.
  const grpc = require(
    require.resolve("@grpc/grpc-js", {
      paths: [path.dirname(require.resolve("@pulumi/pulumi/proto/events_grpc_pb.js"))],
    }),
  );
  const client = new services.EventsClient(address, grpc.credentials.createInsecure());
  const call = client.streamEvents((error) => done(error));
  for (const event of events) {
    const request = new messages.EventRequest();
    request.setEvent(JSON.stringify(event));
    call.write(request);
  }
  call.end();
}

function finish(code, stdout, stderr) {
  if (stdout) process.stdout.write(stdout);
  if (stderr) process.stderr.write(stderr);
  process.exitCode = code;
}

// The outputs file may hold __RUN_ID__: it becomes the run id last set, as the program would report it.
const runIdFile = `${env.FAKE_PULUMI_LOG}.run-id`;

const [command, subcommand] = args;
if (command === "version") {
  finish(0, "v3.248.0\n");
} else if (command === "up" || command === "destroy") {
  const events = env.FAKE_PULUMI_EVENTS ? JSON.parse(fs.readFileSync(env.FAKE_PULUMI_EVENTS, "utf8")) : [];
  const failure = command === "up" ? env.FAKE_PULUMI_UP_ERROR : env.FAKE_PULUMI_DESTROY_ERROR;
  const target = args[args.indexOf("--event-log") + 1];
  const end = () =>
    failure
      ? finish(255, `Updating (${args[args.indexOf("--stack") + 1]})\n`, `${failure}\n`)
      : finish(0, "Resources:\n    3 created\n");
  if (args.includes("--event-log")) {
    streamEvents(target.replace(/^tcp:\/\//, ""), events, (error) =>
      error ? finish(1, "", `fake pulumi: ${error.message}\n`) : end(),
    );
  } else {
    end();
  }
} else if (command === "config" && subcommand === "set" && args[2] === "layerbench:runId") {
  fs.writeFileSync(runIdFile, args[args.indexOf("--") + 1]);
  finish(0);
} else if (command === "stack" && subcommand === "output") {
  const runId = fs.existsSync(runIdFile) ? fs.readFileSync(runIdFile, "utf8") : "1";
  finish(0, fs.readFileSync(env.FAKE_PULUMI_OUTPUTS, "utf8").replaceAll("__RUN_ID__", runId));
} else if (command === "stack" && subcommand === "history") {
  finish(0, "[]\n");
} else {
  finish(0);
}
