// Shared by the browser tests: the environment they are run with and
// Debian's chromium, launched the way this machine allows (headless, no
// sandbox as root, no background networking: the network is closed).
import { chromium } from "playwright-core";

export function env(k) {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run through app/stack (make test)`);
  return v;
}

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-quic",
      "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
}
