import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { nodeNames } from "../bench/config/node-names.js";
import {
  baselineScript,
  groupDatasetDeleteScript,
  groupDatasetScript,
  stackDatasetDeleteScript,
  stackDatasetScript,
  ZVOL_DEVICE_TIMEOUT_SEC,
} from "../bench/remote/zfs-scripts.js";
import { scratchDir } from "./helpers/fio.js";
import { shellcheck } from "./helpers/scripts.js";

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
    if [ "$2" = "-p" ]; then
      path=""
      for part in $(printf '%s' "$name" | tr '/' ' '); do path="\${path:+\${path}_}$part"; touch "$state/$path"; done
    elif [ ! -e "$parent" ]; then echo "cannot create '$name': parent does not exist" >&2; exit 1; fi
    touch "$file" ;;
  set) ;;
  get) echo "/$name" ;;
  destroy)
    [ -e "$file" ] || exit 1
    if [ "$2" = "-r" ]; then rm -f "$file" "$file"_*
    elif ls "$file"_* >/dev/null 2>&1; then echo "cannot destroy '$name': filesystem has children" >&2; exit 1
    else rm "$file"; fi ;;
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
  // The zvol poll's sleeps are logged and return at once.
  await fs.writeFile(join(bin, "sleep"), `#!/bin/sh\necho "sleep $*" >> "${state}/calls"\n`, { mode: 0o755 });
  await fs.writeFile(join(state, "rpool"), "");
  const run = (script: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        "sh",
        ["-c", script],
        { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_ZFS_STATE: state } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
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

const names = nodeNames("rpool/layerbench", "quick");
const other = nodeNames("rpool/layerbench", "homelab");

async function createStack(node: Awaited<ReturnType<typeof fakeNode>>, stackNames: typeof names) {
  t_ok(await node.run(stackDatasetScript("rpool/layerbench", stackNames.stackDataset)));
  for (const group of groups) t_ok(await node.run(groupDatasetScript(stackNames.groupDataset(group), group)));
}

function t_ok(result: { code: number; stderr: string }) {
  if (result.code !== 0) throw new Error(result.stderr);
}

test("datasets: one per stack under the shared parent, one per ZFS group; re-running converges", async (t) => {
  const node = await fakeNode(t);
  await createStack(node, names);
  t.deepEqual(await node.datasets(), [
    "rpool",
    "rpool_layerbench",
    "rpool_layerbench_quick",
    "rpool_layerbench_quick_16k-lz4-standard",
    "rpool_layerbench_quick_64k-off-always",
  ]);
  t.true((await node.calls()).includes("zfs set compression=off sync=always rpool/layerbench/quick/64k-off-always"));
  await createStack(node, names);
  t.is((await node.datasets()).length, 5, "idempotent: a second run after a partial failure works");
});

test("datasets: removing one ZFS group leaves the others, and another stack's, in place", async (t) => {
  const node = await fakeNode(t);
  await createStack(node, names);
  await createStack(node, other);
  t.is((await node.run(groupDatasetDeleteScript(names.groupDataset(groups[1])))).code, 0);
  t.deepEqual(await node.datasets(), [
    "rpool",
    "rpool_layerbench",
    "rpool_layerbench_homelab",
    "rpool_layerbench_homelab_16k-lz4-standard",
    "rpool_layerbench_homelab_64k-off-always",
    "rpool_layerbench_quick",
    "rpool_layerbench_quick_16k-lz4-standard",
  ]);
  // Destroying the quick stack: its datasets go; the shared parent stays while homelab lives in it.
  t.is((await node.run(groupDatasetDeleteScript(names.groupDataset(groups[0])))).code, 0);
  t.is((await node.run(stackDatasetDeleteScript("rpool/layerbench", names.stackDataset))).code, 0);
  t.deepEqual(await node.datasets(), [
    "rpool",
    "rpool_layerbench",
    "rpool_layerbench_homelab",
    "rpool_layerbench_homelab_16k-lz4-standard",
    "rpool_layerbench_homelab_64k-off-always",
  ]);
});

test("datasets: a missing pool is one clear error", async (t) => {
  const node = await fakeNode(t);
  const result = await node.run(stackDatasetScript("tank/layerbench", "tank/layerbench/quick"));
  t.is(result.code, 2);
  t.regex(
    result.stderr,
    /^layerbench: no ZFS pool 'tank' on .*: set layerbench:dataset to a dataset of an existing pool$/m,
  );
});

test("baseline: a sparse zvol of the given volblocksize prints its device; a dataset prints its mountpoint", async (t) => {
  const node = await fakeNode(t);
  await createStack(node, names);
  const zvol = baselineScript(names.baseline("zvol"), {
    kind: "zvol",
    sizeGb: 32,
    volblocksize: 16384,
    compression: "lz4",
    sync: "standard",
  });
  // The device node never appears here: the script polls as long as Proxmox does, then says so rather than
  // hand fio a missing path.
  const missing = await node.run(zvol);
  t.is(missing.code, 2, missing.stderr);
  t.regex(
    missing.stderr,
    /\/dev\/zvol\/rpool\/layerbench\/quick\/baseline-zvol did not appear within 10 s of zfs create/,
  );
  t.is((await node.calls()).filter((call) => call === "sleep 1").length, ZVOL_DEVICE_TIMEOUT_SEC);
  t.true(
    (await node.calls()).includes(
      "zfs create -s -V 32G -b 16k -o compression=lz4 -o sync=standard rpool/layerbench/quick/baseline-zvol",
    ),
  );
  const dataset = baselineScript(names.baseline("dataset"), {
    kind: "dataset",
    recordsize: "128k",
    compression: "zstd",
    sync: "disabled",
  });
  const made = await node.run(dataset);
  t.is(made.code, 0, made.stderr);
  t.is(made.stdout.trim(), "/rpool/layerbench/quick/baseline-dataset");
  t.true(
    (await node.calls()).includes(
      "zfs create -o recordsize=128k -o compression=zstd -o sync=disabled rpool/layerbench/quick/baseline-dataset",
    ),
  );
  t.is(await shellcheck(dataset), "");
  t.is(await shellcheck(zvol), "");
});
