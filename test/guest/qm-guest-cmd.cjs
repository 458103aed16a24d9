// `qm guest cmd VMID COMMAND` of a Proxmox node, for the real guest of test/guest/: sends guest-COMMAND to the
// agent's socket and prints what the agent returns as JSON, as PVE::API2::Qemu::Agent does.
// Usage: node qm-guest-cmd.cjs SOCKET COMMAND
const { createConnection } = require("node:net");

const [socket, command] = process.argv.slice(2);
const connection = createConnection(socket);
let answer = "";
connection.on("connect", () => connection.write(`${JSON.stringify({ execute: `guest-${command}` })}\n`));
connection.on("data", (chunk) => {
  answer += chunk;
  if (!answer.includes("\n")) return;
  const reply = JSON.parse(answer);
  connection.end();
  if (reply.error) {
    console.error(reply.error.desc);
    process.exit(255);
  }
  console.log(JSON.stringify(reply.return, null, 4));
});
connection.on("error", (error) => {
  console.error(error.message);
  process.exit(255);
});
