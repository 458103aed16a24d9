import test from "ava";

/**
 * The unit tier (`npm run test:unit`) runs with a stand-in fio (test/stand-in) and without the other real tools;
 * a test that needs one of them (shellcheck, QEMU, Pulumi's runner, an OpenSSH server) is declared with this
 * and runs in the integration tier (`npm test`, `npm run test:integration`) only.
 */
export const integrationTest = process.env.LAYERBENCH_TEST_TIER === "unit" ? test.skip : test;
