// The test files that take longest start first, so that both cores are busy until the end: the guest boots
// (test/qemu-guest.test.ts, 72 s one after the other) started last in alphabetical order and ran alone for most
// of their time. The rest keep their alphabetical order.
const LONGEST_FIRST = [
  "qemu-guest",
  "cli-interrupts",
  "fio-script",
  "cli",
  "matrix-cli",
  "plan",
  "import",
  "effects-coverage",
];

const rank = (file) => {
  const index = LONGEST_FIRST.findIndex(
    (name) => file.endsWith(`/test/${name}.test.ts`) || file.endsWith(`/test/${name}.unit.test.ts`),
  );
  return index === -1 ? LONGEST_FIRST.length : index;
};

export default {
  extensions: { ts: "module" },
  nodeArguments: ["--import=tsx/esm"],
  workerThreads: false,
  // test/guest/ is a tier of its own (npm run test:guest): it boots a real Debian 13 guest for minutes.
  files: ["test/*.test.ts"],
  timeout: "2m",
  require: ["./test/helpers/setup.ts"],
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
};
