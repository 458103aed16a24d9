import { chromium } from "playwright-core";
const b = await chromium.launch({ executablePath: "/usr/bin/chromium" });
const p = await b.newPage({ viewport: { width: 1400, height: 1200 } });
await p.goto("file://" + process.argv[2]);
await p.screenshot({ path: process.argv[3], clip: { x: 0, y: 0, width: 1400, height: 1200 } });
await b.close();
