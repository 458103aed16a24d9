// The real Debian 13 guest's tier (npm run test:guest): its own files, one at a time, with the boots' time.
import base from "./ava.config.js";

export default {
  ...base,
  files: ["test/guest/**/*.test.ts"],
  timeout: "20m",
  concurrency: 1,
};
