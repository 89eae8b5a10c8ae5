/** Debian's Chromium for the page tests, headless, with the background traffic this closed network refuses turned off. */
import { chromium, type Browser } from 'playwright-core';
import { locate } from './prereqs.mjs';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches it; `extra` adds flags (e.g. a certificate to trust). */
export function launchChromium(extra: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: locate('chromium')!, args: [...ARGS, ...extra] });
}
