import test from "ava";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { baselineScript, datasetsDeleteScript, datasetsScript } from "../components/node-zfs.js";
import { scratchDir } from "./helpers/fio.js";
import { shellcheck } from "./helpers/scripts.js";
import { execFile } from "node:child_process";

// A stand-in for zfs and udevadm on the node: datasets are files in a state directory, every call is logged.
const FAKE_ZFS = `#!/bin/sh
state="$FAKE_ZFS_STATE"
echo "zfs $*" >> "$state/calls"
for name; do :; done
file="$state/$(printf '%s' "$name" | tr '/' '_')"
case "$1" in
  list) [ -e "$file" ] ;;
  create)
    parent="$state/$(printf '%s' "\${name%/*}" | tr '/' '_')"
    if [ "$2" != "-p" ] && [ ! -e "$parent" ]; then echo "cannot create '$name': parent does not exist" >&2; exit 1; fi
    touch "$file" ;;
  set) ;;
  get) echo "/$name" ;;
  destroy) [ -e "$file" ] && rm "$file" ;;
esac
`;

async function fakeNode(t: { teardown: (fn: () => Promise<void>) => void }) {
  const dir = await scratchDir("layerbench-node-");
  t.teardown(dir.cleanup);
  const bin = join(dir.path, "bin");
  const state = join(dir.path, "state");
  await fs.mkdir(bin);
  await fs.mkdir(state);
  await fs.writeFile(join(bin, "zfs"), FAKE_ZFS, { mode: 0o755 });
  await fs.writeFile(join(bin, "udevadm"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  await fs.writeFile(join(state, "rpool"), "");
  const run = (script: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile("sh", ["-c", script], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_ZFS_STATE: state } }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      ),
    );
  const datasets = async () => (await fs.readdir(state)).filter((name) => name !== "calls").sort();
  const calls = async () => (await fs.readFile(join(state, "calls"), "utf8")).trim().split("\n");
  return { run, datasets, calls, state };
}

const groups = [
  { volblocksize: 16384, compression: "lz4" as const, sync: "standard" as const },
  { volblocksize: 65536, compression: "off" as const, sync: "always" as const },
];

test("datasets: created once, re-running converges, destroy removes what layerbench made", async (t) => {
  const node = await fakeNode(t);
  const create = datasetsScript("rpool/layerbench", groups);
  t.is((await node.run(create)).code, 0);
  t.deepEqual(await node.datasets(), ["rpool", "rpool_layerbench", "rpool_layerbench_16k-lz4-standard", "rpool_layerbench_64k-off-always"]);
  t.true((await node.calls()).includes("zfs set compression=off sync=always rpool/layerbench/64k-off-always"));
  t.is((await node.run(create)).code, 0, "idempotent: a second run after a partial failure works");
  t.is((await node.run(datasetsDeleteScript("rpool/layerbench", groups))).code, 0);
  t.deepEqual(await node.datasets(), ["rpool"]);
});

test("datasets: a missing pool is one clear error", async (t) => {
  const node = await fakeNode(t);
  const result = await node.run(datasetsScript("tank/layerbench", groups));
  t.is(result.code, 2);
  t.regex(result.stderr, /^layerbench: no ZFS pool 'tank' on .*: set layerbench:dataset to a dataset of an existing pool$/m);
});

test("baseline: a sparse zvol of the given volblocksize prints its device; a dataset prints its mountpoint", async (t) => {
  const node = await fakeNode(t);
  await node.run(datasetsScript("rpool/layerbench", groups));
  const zvol = baselineScript("rpool/layerbench", { kind: "zvol", sizeGb: 32, volblocksize: 16384, compression: "lz4", sync: "standard" });
  // The device node does not exist here: the script must say so rather than hand fio a missing path.
  const missing = await node.run(zvol);
  t.is(missing.code, 2, missing.stderr);
  t.regex(missing.stderr, /\/dev\/zvol\/rpool\/layerbench\/baseline-zvol did not appear/);
  t.true((await node.calls()).includes("zfs create -s -V 32G -b 16k -o compression=lz4 -o sync=standard rpool/layerbench/baseline-zvol"));
  const dataset = baselineScript("rpool/layerbench", { kind: "dataset", recordsize: "128k", compression: "zstd", sync: "disabled" });
  const made = await node.run(dataset);
  t.is(made.code, 0, made.stderr);
  t.is(made.stdout.trim(), "/rpool/layerbench/baseline-dataset");
  t.true((await node.calls()).includes("zfs create -o recordsize=128k -o compression=zstd -o sync=disabled rpool/layerbench/baseline-dataset"));
  t.is(await shellcheck(dataset), "");
  t.is(await shellcheck(zvol), "");
});
